"""Extraction on pages written to mimic real markup (tests/collection/pages)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from listening.cli import app
from listening.collection.extract import detect_kind, extract, item_to_json
from listening.errors import CollectionError

PAGES = Path(__file__).parent / "pages"
BASE = "https://site.example/"


def _extract(name: str, kind: str | None = None, **options: object):
    return extract((PAGES / name).read_bytes(), BASE + name, kind=kind, options=dict(options))


def test_extract_trustpilot_jsonld_reviews_with_rating_and_merchant_reply() -> None:
    result = _extract("trustpilot_page1.html")
    assert result.kind == "reviews"
    assert [i.author for i in result.items] == ["Jeanne Martin", "Paul D."]
    first = result.items[0]
    assert first.title == "Colis arrivé écrasé"
    assert first.text.startswith("Le carton est arrivé écrasé")
    assert first.rating == 0.25 and first.raw["stars"] == 2 and first.raw["best_rating"] == 5
    assert (
        first.published_at is not None
        and first.published_at.isoformat() == "2026-10-02T09:15:00+00:00"
    )
    assert first.raw["merchant_reply"].startswith("Bonjour Jeanne")
    assert first.external_id.endswith("/65a1f0")
    assert result.items[1].rating == 1.0


def test_extract_microdata_rating_scale_and_aggregate_ignored() -> None:
    result = _extract("microdata_product.html")
    assert [(i.author, i.rating) for i in result.items] == [("Alice", 0.8), ("Bob", 0.6)]
    assert result.items[0].raw["product"] == "Brass desk lamp"
    assert result.items[0].title == "Bright and sturdy"


def test_extract_rdfa_review() -> None:
    (item,) = _extract("rdfa_review.html").items
    assert item.author == "Luc" and item.rating == 0.5
    assert "tige est arrivée pliée" in item.text
    assert item.published_at is not None and item.published_at.date().isoformat() in (
        "2026-07-13",
        "2026-07-14",
    )


def test_extract_phpbb_posts_without_quotes_and_signatures() -> None:
    result = _extract("phpbb_thread.html")
    assert result.kind == "forum" and result.engine == "phpbb"
    first, second = result.items
    assert (first.author, second.author) == ("gilles34", "Modo_Anne")
    assert "bricoleur" not in first.text  # signature dropped
    assert second.text == "Contactez le vendeur avec votre numéro de commande."  # quote dropped
    assert first.raw["post_id"] == "901" and first.raw["position"] == 1
    assert first.raw["thread_title"] == "Livraison en retard ?"
    assert first.published_at is not None and first.published_at.hour == 8
    assert (
        second.published_at is not None and second.published_at.date().isoformat() == "2026-10-05"
    )
    assert first.external_id == BASE + "phpbb_thread.html#901"


def test_extract_xenforo_posts() -> None:
    result = _extract("xenforo_thread.html")
    assert [i.author for i in result.items] == ["kate_w", "DaveP"]
    assert "sent from my phone" not in result.items[0].text
    assert result.items[1].text == "Same here, they answered after I posted on Twitter."
    assert result.items[1].raw["post_id"] == "5502"
    assert result.items[0].published_at is not None and result.items[0].published_at.hour == 13


def test_extract_vbulletin_latin1_page() -> None:
    result = _extract("vbulletin_thread.html")
    assert result.engine == "vbulletin"
    assert [i.author for i in result.items] == ["Predator", "mad-jo"]
    assert "Händler" in result.items[0].text  # ISO-8859-1 decoded
    assert "Gesendet" not in result.items[0].text
    assert result.items[1].text.startswith("Bei mir kam es")
    assert result.items[1].raw["position"] == 2
    assert result.items[0].published_at is not None and result.items[0].published_at.day == 3


def test_extract_discourse_json_and_missing_posts() -> None:
    from listening.collection.extract.forums import discourse_missing_post_ids

    data = (PAGES / "discourse_topic.json").read_bytes()
    result = extract(data, "https://forum.example/t/colis-jamais-recu/321.json")
    assert result.engine == "discourse"
    assert [i.author for i in result.items] == ["Claire Dupont", "marc_b"]
    assert "rien reçu" not in result.items[1].text  # quoted text dropped
    assert result.items[1].parent_id == "discourse:321:post-number-1"
    assert discourse_missing_post_ids(json.loads(data)) == [1003]


def test_extract_wordpress_comments_threaded_and_article_optional() -> None:
    result = _extract("wordpress_comments.html")
    assert result.kind == "blog"
    assert [i.author for i in result.items] == ["Nicolas", "Marie", "Anonyme"]
    assert result.items[0].text.endswith("ne répond plus.")
    assert "Désolée" not in result.items[0].text  # a reply is its own item
    assert result.items[1].parent_id == result.items[0].external_id
    assert result.items[0].parent_id is None
    with_article = _extract("wordpress_comments.html", include_article=True)
    assert len(with_article.items) == 4
    assert with_article.items[0].raw["kind"] == "article"
    assert "robot aspirateur" in with_article.items[0].text


def test_extract_javascript_comments_give_nothing_without_error() -> None:
    result = _extract("disqus_comments.html")
    assert result.items == []


def test_extract_custom_selectors_profile() -> None:
    selectors = {
        "item": "li.comment",
        "author": ".fn",
        "date": "time",
        "body": ".comment-content",
    }
    result = _extract("wordpress_comments.html", kind="blog", selectors=selectors)
    assert len(result.items) == 3
    assert result.items[2].text == "Trop cher pour ce que c'est."


def test_extract_detect_kind() -> None:
    assert detect_kind((PAGES / "trustpilot_page1.html").read_bytes()) == "reviews"
    assert detect_kind((PAGES / "phpbb_thread.html").read_bytes()) == "forum"
    assert detect_kind((PAGES / "wordpress_comments.html").read_bytes()) == "blog"
    assert detect_kind((PAGES / "discourse_topic.json").read_bytes()) == "forum"
    assert (
        detect_kind(b'<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>') == "feed"
    )


def test_extract_rejects_unknown_kind_and_empty_pages() -> None:
    with pytest.raises(CollectionError, match="valid kinds"):
        extract(b"<html></html>", BASE, kind="tweets")
    assert extract(b"", BASE).items == []
    assert extract(b"\x00\xff garbage", BASE).items == []


def test_extract_cli_json_last_line(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["extract", str(PAGES / "trustpilot_page1.html"), "--url", BASE, "--json"]
    )
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(items) == 2
    assert {"text", "author", "published_at", "rating"} <= set(items[0])
    assert items[0]["published_at"] == "2026-10-02T09:15:00+00:00"
    assert item_to_json(_extract("phpbb_thread.html").items[0])["author"] == "gilles34"


def test_extract_cli_errors_name_valid_options(tmp_path: Path) -> None:
    runner = CliRunner()
    bad_kind = runner.invoke(
        app, ["extract", str(PAGES / "phpbb_thread.html"), "--url", BASE, "--kind", "nope"]
    )
    assert bad_kind.exit_code != 0
    assert "valid kinds" in str(bad_kind.exception) or "valid kinds" in bad_kind.output
    missing = runner.invoke(app, ["extract", str(tmp_path / "nope.html"), "--url", BASE])
    assert missing.exit_code != 0
    assert "no such file" in str(missing.exception) or "no such file" in missing.output


def test_extract_review_site_without_markup_uses_source_selectors() -> None:
    html = (
        "<html><body><div class='avis'><span class='who'>Léa</span><span class='note'>4</span>"
        "<time datetime='2026-05-02'>2 mai</time><p class='txt'>Livraison rapide, produit conforme.</p></div>"
        "<div class='avis'><span class='who'>Marc</span><span class='note'>1</span>"
        "<p class='txt'>Jamais reçu ma commande.</p></div></body></html>"
    )
    selectors = {
        "item": "div.avis",
        "author": ".who",
        "date": "time",
        "body": ".txt",
        "rating": ".note",
    }
    result = extract(html, BASE, kind="reviews", options={"selectors": selectors})
    assert [(i.author, i.rating) for i in result.items] == [("Léa", 0.8), ("Marc", 0.2)]
    assert result.items[0].published_at is not None and result.items[1].published_at is None
    assert all(i.raw["kind"] == "review" for i in result.items)


def test_extract_cli_reads_feeds_with_the_feed_reader() -> None:
    from listening.demo_site import SITE_DIR

    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "extract",
            str(SITE_DIR / "feed.xml"),
            "--url",
            "https://conso-avis.example/feed",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(items) == 6 and all(i["published_at"] and i["author"] and i["text"] for i in items)
    assert detect_kind((SITE_DIR / "feed.xml").read_bytes()) == "feed"
    stylesheet = b'<?xml version="1.0"?>\n<?xml-stylesheet type="text/xsl" href="s.xsl"?><feed xmlns="http://www.w3.org/2005/Atom"/>'
    assert detect_kind(stylesheet) == "feed"


def test_extract_cli_custom_selectors_file(tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text(
        "item: li.comment\nauthor: .fn\ndate: time\nbody: .comment-content\n", encoding="utf-8"
    )
    runner = CliRunner()
    args = ["extract", str(PAGES / "wordpress_comments.html"), "--url", BASE, "--kind", "blog"]
    result = runner.invoke(app, [*args, "--selectors", str(profile), "--json"])
    assert result.exit_code == 0, result.output
    assert [i["author"] for i in json.loads(result.stdout.strip().splitlines()[-1])] == [
        "Nicolas",
        "Marie",
        "Anonyme",
    ]
    profile.write_text("author: .fn\n", encoding="utf-8")
    bad = runner.invoke(app, [*args, "--selectors", str(profile)])
    assert bad.exit_code != 0 and "'item' selector" in str(bad.exception)


def test_extract_invalid_item_selector_is_a_clear_error() -> None:
    with pytest.raises(CollectionError, match="invalid item selector"):
        _extract("wordpress_comments.html", kind="blog", selectors={"item": "li[[["})


def test_forum_engine_names_match_the_extractor_profiles() -> None:
    """The light list the CLI validates against must name only engines the extractor has."""
    from listening.collection.engines import FORUM_ENGINES, FORUM_PROFILES
    from listening.collection.extract.posts import PROFILES

    assert set(FORUM_PROFILES) <= set(PROFILES)
    assert set(FORUM_ENGINES) - {"auto", "discourse"} <= set(FORUM_PROFILES)
