"""The feed reader against a real local HTTP server: formats, conditional GET, faults."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from collection_helpers import Resource, documents, feed_server, make_source, rss

from listening.collection import SourceBlockedError
from listening.collection import ingest as ingest_mod
from listening.collection.feeds import collect_feed, parse_feed, parse_feed_bytes, parse_opml
from listening.collection.ingest import reset_near_duplicate_indexes
from listening.errors import CollectionError
from listening.settings import load_settings
from listening.store import Source, Store

RSS_ITEMS = [
    ("a1", "Livraison très rapide, la lampe est magnifique.", "Mon, 03 Mar 2025 10:00:00 +0100"),
    ("a2", "<p>Colis arrivé <b>abîmé</b>, le service client ne répond pas.</p>", "il y a 3 jours"),
    ("a3", "Great lamp but the shipping cost is too high for me.", "2025-03-01T08:00:00Z"),
]

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">
  <title>Blog Maison Lumiere</title>
  <entry><id>urn:1</id><title>Premier</title><link href="http://blog.example/1"/>
    <author><name>Sophie</name></author><updated>2025-02-01T09:30:00+01:00</updated>
    <content type="html">&lt;p&gt;Un article sur les ampoules LED.&lt;/p&gt;</content></entry>
  <entry><id>urn:2</id><title>Second</title><link href="http://blog.example/2"/>
    <published>2025-02-02T10:00:00Z</published><summary>Resume du second article.</summary></entry>
</feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
 <channel rdf:about="http://forum.example/"><title>Forum</title><link>http://forum.example/</link>
  <description>x</description></channel>
 <item rdf:about="http://forum.example/t/1"><title>Retour produit</title>
  <link>http://forum.example/t/1</link><description>Comment retourner un produit ?</description>
  <dc:date>2025-01-10T12:00:00+01:00</dc:date><dc:creator>Paul</dc:creator></item>
</rdf:RDF>"""

RSS091 = b"""<?xml version="1.0"?><rss version="0.91"><channel><title>Old</title>
<link>http://old.example/</link><description>d</description><language>en</language>
<item><title>Old item</title><link>http://old.example/1</link>
<description>The parcel never arrived and nobody answers.</description></item></channel></rss>"""

WP_COMMENTS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Commentaires sur : Nos nouvelles suspensions</title><language>fr-FR</language>
<item><title>Par : Claire</title><link>http://blog.example/suspensions/#comment-41</link>
<dc:creator><![CDATA[Claire]]></dc:creator><pubDate>Tue, 04 Mar 2025 18:12:00 +0000</pubDate>
<guid isPermaLink="false">http://blog.example/?p=7#comment-41</guid>
<description><![CDATA[Superbes, mais quel d\xc3\xa9lai de livraison ?]]></description></item>
<item><title>Par : Marc</title><link>http://blog.example/suspensions/#comment-42</link>
<dc:creator><![CDATA[Marc]]></dc:creator><pubDate>Tue, 04 Mar 2025 19:00:00 +0000</pubDate>
<guid isPermaLink="false">http://blog.example/?p=7#comment-42</guid>
<description><![CDATA[Trois semaines pour moi.]]></description></item></channel></rss>"""

BROKEN = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title>'
    b"<item><guid isPermaLink='false'>ok1</guid>"
    b"<description>Premier avis lisible sur la lampe.</description></item>"
    b"<item><guid isPermaLink='false'>ok2</guid>"
    b"<description>Second avis lisible &amp; correct.</description></item>"
    b"<item><guid>bad</guid><description>Coupe <b>net</description></item></channel>"
)

CP1252 = (
    '<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"><channel><title>Avis</title>'
    "<language>fr</language><item><guid>c1</guid>"
    "<description>L’abat-jour est très joli, livré en 48 h – parfait.</description>"
    "</item></channel></rss>"
).encode("cp1252")


@pytest.fixture(autouse=True)
def _fresh() -> None:
    reset_near_duplicate_indexes()


def test_feeds_parses_rss2_with_dates_and_html() -> None:
    items = parse_feed_bytes(rss(RSS_ITEMS), "http://shop.example/feed")
    assert [i.external_id for i in items] == ["a1", "a2", "a3"]
    assert items[0].published_at == datetime(2025, 3, 3, 9, tzinfo=UTC)
    assert items[0].author == "Client a1" and items[0].language == "fr"
    assert items[1].text == "Colis arrivé abîmé, le service client ne répond pas."
    assert items[1].raw["date_raw"] == "il y a 3 jours"
    assert items[1].published_at is not None  # French relative date read by dateparser
    assert abs((datetime.now(UTC) - items[1].published_at).days - 3) <= 1
    assert items[2].published_at == datetime(2025, 3, 1, 8, tzinfo=UTC)


def test_feeds_parses_atom_rss1_and_rss091() -> None:
    atom = parse_feed_bytes(ATOM, "http://blog.example/atom")
    assert [(i.external_id, i.text) for i in atom] == [
        ("urn:1", "Un article sur les ampoules LED."),
        ("urn:2", "Resume du second article."),
    ]
    assert atom[0].published_at == datetime(2025, 2, 1, 8, 30, tzinfo=UTC)
    assert atom[0].author == "Sophie"
    rdf = parse_feed_bytes(RDF, "http://forum.example/rss")
    assert len(rdf) == 1 and rdf[0].author == "Paul"
    assert rdf[0].published_at == datetime(2025, 1, 10, 11, tzinfo=UTC)
    old = parse_feed_bytes(RSS091, "http://old.example/rss")
    assert len(old) == 1 and old[0].published_at is None
    assert old[0].external_id == "http://old.example/1"


def test_feeds_wordpress_comment_feed_threads_comments() -> None:
    items = parse_feed_bytes(WP_COMMENTS, "http://blog.example/suspensions/feed/")
    assert [i.author for i in items] == ["Claire", "Marc"]
    assert {i.thread_id for i in items} == {"http://blog.example/suspensions/"}
    assert items[0].text == "Superbes, mais quel délai de livraison ?"


def test_feeds_malformed_feed_keeps_good_entries() -> None:
    parsed = parse_feed(BROKEN, "http://x.example/feed")
    assert parsed.fault
    assert [i.external_id for i in parsed.items][:2] == ["ok1", "ok2"]
    assert parsed.items[1].text == "Second avis lisible & correct."


def test_feeds_not_a_feed_is_a_clear_error() -> None:
    with pytest.raises(CollectionError, match="not a readable RSS or Atom feed"):
        parse_feed(b"<html><body><p>Hello<p></body>", "http://x.example/")


def test_feeds_cp1252_feed_is_decoded() -> None:
    (item,) = parse_feed_bytes(CP1252, "http://x.example/feed")
    assert item.text == "L’abat-jour est très joli, livré en 48 h – parfait."


def test_feeds_conditional_get_second_pass_is_304(store: Store) -> None:
    settings = load_settings()
    with feed_server(
        {
            "/etag.xml": Resource(rss(RSS_ITEMS), etag='"v1"'),
            "/lm.xml": Resource(
                rss([("b1", "Abat-jour reçu en parfait état.", "hier")], title="LM"),
                last_modified="Mon, 03 Mar 2025 10:00:00 GMT",
            ),
        }
    ) as server:
        by_etag = make_source(store, "etag", url=server.url("/etag.xml"))
        by_date = make_source(store, "lm", url=server.url("/lm.xml"))
        first = collect_feed(store, by_etag, settings)
        assert (first["http_status"], first["new"]) == (200, 3)
        second = collect_feed(store, by_etag, settings)
        assert second["http_status"] == 304 and second["new"] == 0
        assert server.requests[-1][1].get("If-None-Match") == '"v1"'
        assert collect_feed(store, by_date, settings)["new"] == 1
        assert collect_feed(store, by_date, settings)["http_status"] == 304
        # the feed changes: new ETag, one more entry, old ones are duplicates
        server.resources["/etag.xml"] = Resource(
            rss([*RSS_ITEMS, ("a4", "Nouvel avis : retour accepté sans souci.", "hier")]),
            etag='"v2"',
        )
        third = collect_feed(store, by_etag, settings)
        assert (third["new"], third["duplicate"]) == (1, 3)
    with store.session() as session:
        source = session.get(Source, by_etag)
        assert source is not None and source.state["etag"] == '"v2"'
    assert len(documents(store, by_etag)) == 4


def test_feeds_http_faults_give_clear_errors(store: Store) -> None:
    settings = load_settings(collection={"feed_timeout_s": 0.5})
    with feed_server(
        {
            "/500": Resource(b"boom", status=500, content_type="text/plain"),
            "/slow": Resource(rss(RSS_ITEMS), delay=2.0),
            "/403": Resource(b"no", status=403, content_type="text/plain"),
            "/loop": Resource(b"", status=302, location="/loop"),
            "/big": Resource(b"<rss>" + b" " * 5000 + b"</rss>"),
        }
    ) as server:
        tiny = load_settings(collection={"feed_max_bytes": 2048})
        sid = make_source(store, name="big", url=server.url("/big"))
        with pytest.raises(CollectionError, match="larger than 2048 bytes"):
            collect_feed(store, sid, tiny)
        cases = {
            "/500": "answered HTTP 500",
            "/slow": "timed out",
            "/missing": "answered HTTP 404",
            "/loop": "too many redirects",
        }
        for path, message in cases.items():
            sid = make_source(store, name=path, url=server.url(path))
            with pytest.raises(CollectionError, match=message):
                collect_feed(store, sid, settings)
        sid = make_source(store, name="forbidden", url=server.url("/403"))
        with pytest.raises(SourceBlockedError, match="HTTP 403"):
            collect_feed(store, sid, settings)
    sid = make_source(store, name="unreachable", url="http://127.0.0.1:1/feed")
    with pytest.raises(CollectionError, match="cannot connect to 127.0.0.1:1"):
        collect_feed(store, sid, settings)
    assert documents(store) == []


def test_feeds_malformed_feed_is_stored_and_reported(store: Store) -> None:
    with feed_server({"/broken": Resource(BROKEN)}) as server:
        sid = make_source(store, url=server.url("/broken"))
        counts = collect_feed(store, sid, load_settings())
    assert counts["new"] >= 2
    assert counts["errors"][0].startswith("malformed feed (bozo)")


def test_feeds_crash_mid_ingest_keeps_validators_unsaved(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(collection={"ingest_batch_size": 2})
    real = ingest_mod.upsert_documents
    calls = {"n": 0}

    def crash_on_second(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    with feed_server({"/f": Resource(rss(RSS_ITEMS), etag='"e"')}) as server:
        sid = make_source(store, url=server.url("/f"))
        monkeypatch.setattr(ingest_mod, "upsert_documents", crash_on_second)
        with pytest.raises(RuntimeError):
            collect_feed(store, sid, settings)
        assert len(documents(store, sid)) == 2
        with store.session() as session:
            src = session.get(Source, sid)
            assert src is not None and "etag" not in src.state
        monkeypatch.setattr(ingest_mod, "upsert_documents", real)
        resumed = collect_feed(store, sid, settings)  # not a 304: the feed is read again
    assert (resumed["http_status"], resumed["new"], resumed["duplicate"]) == (200, 1, 2)
    assert sorted(d.external_id for d in documents(store, sid)) == ["a1", "a2", "a3"]


def test_feeds_opml_lists_feeds() -> None:
    opml = """<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
      <outline text="Concurrents"><outline text="Blog Luminéo" type="rss"
        xmlUrl="https://lumineo.example/feed/"/><outline title="Avis" xmlUrl="https://a.example/rss"/>
      </outline><outline text="no feed"/></body></opml>""".encode()
    assert parse_opml(opml) == [
        ("Blog Luminéo", "https://lumineo.example/feed/"),
        ("Avis", "https://a.example/rss"),
    ]
    with pytest.raises(CollectionError, match="not a valid OPML"):
        parse_opml(b"<opml")


def test_feeds_atom_threading_gives_parent_ids() -> None:
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"
      xmlns:thr="http://purl.org/syndication/thread/1.0"><title>Comments on: Suspensions</title>
      <entry><id>c1</id><link href="http://b.example/p/#comment-1"/>
        <content>Quel est le delai de livraison ?</content></entry>
      <entry><id>c2</id><link href="http://b.example/p/#comment-2"/>
        <thr:in-reply-to ref="c1" href="http://b.example/p/#comment-1"/>
        <content>Trois semaines chez moi.</content></entry></feed>"""
    first, reply = parse_feed_bytes(atom, "http://b.example/p/feed/atom/")
    assert first.parent_id is None and reply.parent_id == "c1"
    assert first.thread_id == reply.thread_id == "http://b.example/p/"


TITLE_ONLY = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
 <channel rdf:about="http://links.example/"><title>Liens</title><link>http://links.example/</link>
  <description>x</description></channel>
 <item rdf:about="http://links.example/1"><title>Livraison en retard, toujours pas de colis</title>
  <link>http://links.example/1</link><dc:date>2025-01-10T12:00:00+01:00</dc:date></item>
 <item rdf:about="http://links.example/2"><title>Avis</title><link>http://links.example/2</link>
  <description>Un vrai texte d'avis sur la lampe.</description></item>
 <item rdf:about="http://links.example/3"><link>http://links.example/3</link></item>
</rdf:RDF>"""


def test_feeds_title_only_entries_use_the_title_and_empty_ones_are_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("INFO", logger="listening.collection.feeds"):
        parsed = parse_feed(TITLE_ONLY, "http://links.example/rss")
    by_url = {item.url: item for item in parsed.items}
    assert set(by_url) == {"http://links.example/1", "http://links.example/2"}
    title_only = by_url["http://links.example/1"]
    assert title_only.text == "Livraison en retard, toujours pas de colis"
    assert title_only.raw["text_from"] == "title"
    assert title_only.published_at == datetime(2025, 1, 10, 11, 0, tzinfo=UTC)
    assert by_url["http://links.example/2"].text == "Un vrai texte d'avis sur la lampe."
    assert "text_from" not in by_url["http://links.example/2"].raw
    assert parsed.skipped == 1
    assert parsed.skipped_reasons == ["http://links.example/3: neither title nor text"]
    assert "neither title nor text" in caplog.text
