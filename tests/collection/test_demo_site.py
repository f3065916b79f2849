"""The bundled sample site: served over HTTP, described by its sources file, extractable."""

from __future__ import annotations

import csv
from pathlib import Path

import httpx
from sqlalchemy import select

from listening.collection.extract import extract
from listening.demo_site import COMPETITORS, OWN_BRAND, SITE_DIR, SURVEY_FILE, sources_yaml
from listening.demo_site.server import serve_demo_site
from listening.store import Document, Source, Store
from listening.store.sources import load_sources_file

EXPECTED = {
    "avis/maison-lumiere.html": ("reviews", 8),
    "avis/maison-lumiere-page-2.html": ("reviews", 8),
    "avis/deco-express.html": ("reviews", 8),
    "avis/lumineo.html": ("reviews", 6),
    "forum/viewtopic-t-42.html": ("forum", 5),
    "forum/viewtopic-t-42-start-5.html": ("forum", 5),
    "blog/2026/11/trois-boutiques-de-luminaires.html": ("blog", 8),
}


def test_demo_site_serves_pages_robots_and_conditional_get() -> None:
    with serve_demo_site() as base:
        assert base.startswith("http://127.0.0.1:")
        page = httpx.get(f"{base}/avis/maison-lumiere.html")
        assert page.status_code == 200 and "Données d'exemple" in page.text
        robots = httpx.get(f"{base}/robots.txt").text
        assert f"Sitemap: {base}/sitemap.xml" in robots
        assert f"<loc>{base}/avis/deco-express.html</loc>" in httpx.get(f"{base}/sitemap.xml").text
        again = httpx.get(
            f"{base}/avis/maison-lumiere.html",
            headers={"If-Modified-Since": page.headers["Last-Modified"]},
        )
        assert again.status_code == 304
        assert httpx.get(f"{base}/nope.html").status_code == 404


def test_demo_site_sources_yaml_is_valid(tmp_path: Path) -> None:
    path = sources_yaml("http://127.0.0.1:8765", tmp_path)
    parsed = load_sources_file(path)
    assert {b.name for b in parsed.brands} == {OWN_BRAND, *COMPETITORS}
    assert [b.name for b in parsed.brands if b.own] == [OWN_BRAND]
    kinds = {s.kind for s in parsed.sources}
    assert kinds == {"review_site", "forum", "blog", "feed", "survey", "mastodon"}
    survey = next(s for s in parsed.sources if s.kind == "survey")
    assert Path(survey.url) == SURVEY_FILE and SURVEY_FILE.is_file()
    assert set(survey.settings) == {
        "text_columns",
        "score_column",
        "date_column",
        "respondent_column",
    }
    with SURVEY_FILE.open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert set(survey.settings["text_columns"]) | {
        survey.settings[k] for k in ("score_column", "date_column", "respondent_column")
    } <= set(header)
    for spec in parsed.sources:
        if spec.kind != "survey":
            assert spec.url.startswith("http://127.0.0.1:8765/")


def test_demo_site_pages_extract_every_sample_verbatim() -> None:
    from listening.collection.feeds import parse_feed_bytes

    total = 0
    texts: list[str] = []
    for rel, (kind, count) in EXPECTED.items():
        result = extract((SITE_DIR / rel).read_bytes(), f"http://127.0.0.1/{rel}")
        assert (result.kind, len(result.items)) == (kind, count), rel
        assert all(i.author and i.published_at and i.text for i in result.items), rel
        if kind == "reviews":
            assert all(i.rating is not None for i in result.items), rel
        total += count
        texts += [i.text for i in result.items]
    feed = parse_feed_bytes((SITE_DIR / "feed.xml").read_bytes(), "http://127.0.0.1/feed.xml")
    assert len(feed) == 6 and all(i.published_at for i in feed)
    with SURVEY_FILE.open(encoding="utf-8") as handle:
        survey_rows = list(csv.DictReader(handle))
    total += len(feed) + len(survey_rows)
    texts += [i.text for i in feed] + [r["commentaire"] for r in survey_rows]
    assert total >= 60
    joined = " ".join(texts).lower()
    for needle in (
        "avocat",
        "dgccrf",
        "je passe chez",
        "rupture",
        "livraison",
        "rembours",
        "paiement",
        "site",
        "service client",
        "prix",
        "?",
        "arrived",
    ):
        assert needle in joined, needle


def test_demo_site_every_page_is_labelled_as_sample_data() -> None:
    for page in SITE_DIR.rglob("*.html"):
        assert "Données d'exemple" in page.read_text(encoding="utf-8"), page
    assert "exemple" in (SITE_DIR / "feed.xml").read_text(encoding="utf-8").lower()


def test_demo_site_mastodon_source_is_collected_through_the_connector(sqlite_store: Store) -> None:
    from listening.collection.runner import run_source
    from listening.settings import load_settings
    from listening.store.sources import import_sources

    with serve_demo_site() as base:
        parsed = load_sources_file(sources_yaml(base, sqlite_store_folder(sqlite_store)))
        parsed.sources = [s for s in parsed.sources if s.kind == "mastodon"]
        with sqlite_store.session() as session:
            import_sources(session, parsed)
            source_id = session.scalars(select(Source.id)).one()
        result = run_source(sqlite_store, load_settings(), source_id, parsed.sources[0].name)
    assert result["status"] == "ok" and result["new"] == 5, result
    with sqlite_store.session() as session:
        docs = list(session.scalars(select(Document)))
    assert all(
        d.raw["platform"] == "mastodon" and d.url.startswith("https://social.example/@")
        for d in docs
    )
    assert all("<" not in d.text and "Exemple fictif" in d.text for d in docs)
    assert {d.parent_id for d in docs} == {None, "113500000000000006"}


def sqlite_store_folder(store: Store) -> Path:
    return Path(store.url.removeprefix("sqlite:///")).parent
