"""The bundled sample site: a fictitious French shop and two competitors.

"Maison Lumière" (the demo's own brand, home & lighting) and its fictitious competitors
"Déco Express" and "Luminéo": review pages (schema.org JSON-LD and microdata), a
phpBB-like forum thread, a WordPress-like blog post with comments, an RSS feed, a
Mastodon hashtag timeline (``api/v1/timelines/tag/maisonlumiere``, the documented statuses
array) and a survey CSV — 73 invented verbatims in French and some English, every page labelled as
sample data. :func:`listening.demo_site.server.serve_demo_site` serves it over HTTP and
:func:`sources_yaml` writes the sources file pointing at the served copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SITE_DIR = Path(__file__).resolve().parent / "site"
SURVEY_FILE = SITE_DIR / "enquete-satisfaction-exemple.csv"
OWN_BRAND = "Maison Lumière"
COMPETITORS = ("Déco Express", "Luminéo")
SOURCES_FILE_NAME = "demo-sources.yaml"


def demo_sources(base_url: str) -> dict[str, Any]:
    """The sources of the sample site served at ``base_url`` (format: ``SourcesFile``)."""
    base = base_url.rstrip("/")
    return {
        "brands": [
            {"name": OWN_BRAND, "own": True, "aliases": ["Maison Lumiere", "MaisonLumiere"]},
            {"name": "Déco Express", "aliases": ["Deco Express"]},
            {"name": "Luminéo", "aliases": ["Lumineo"]},
        ],
        "sources": [
            {
                "name": "demo-avis-maison-lumiere",
                "kind": "review_site",
                "url": f"{base}/avis/maison-lumiere.html",
                "brand": OWN_BRAND,
                "schedule_minutes": 60,
            },
            {
                "name": "demo-avis-deco-express",
                "kind": "review_site",
                "url": f"{base}/avis/deco-express.html",
                "brand": "Déco Express",
                "schedule_minutes": 240,
            },
            {
                "name": "demo-avis-lumineo",
                "kind": "review_site",
                "url": f"{base}/avis/lumineo.html",
                "brand": "Luminéo",
                "schedule_minutes": 240,
            },
            {
                "name": "demo-forum-maison-deco",
                "kind": "forum",
                "url": f"{base}/forum/viewtopic-t-42.html",
                "brand": OWN_BRAND,
                "schedule_minutes": 120,
                "settings": {"forum_engine": "phpbb"},
            },
            {
                "name": "demo-blog-emilie",
                "kind": "blog",
                "url": f"{base}/blog/2026/11/trois-boutiques-de-luminaires.html",
                "brand": OWN_BRAND,
                "schedule_minutes": 720,
                "settings": {"include_article": False},
            },
            {
                "name": "demo-flux-conso-avis",
                "kind": "feed",
                "url": f"{base}/feed.xml",
                "brand": OWN_BRAND,
                "schedule_minutes": 30,
            },
            {
                "name": "demo-mastodon-maison-lumiere",
                "kind": "mastodon",
                "url": f"{base}/tags/maisonlumiere",  # the served site plays the instance
                "brand": OWN_BRAND,
                "schedule_minutes": 30,
                "settings": {"hashtags": ["maisonlumiere"]},
            },
            {
                "name": "demo-enquete-satisfaction",
                "kind": "survey",
                "url": str(SURVEY_FILE),
                "brand": OWN_BRAND,
                "schedule_minutes": 1440,
                "settings": {
                    "text_columns": ["commentaire"],
                    "score_column": "nps",
                    "date_column": "date_reponse",
                    "respondent_column": "id_repondant",
                },
            },
        ],
    }


def sources_yaml(base_url: str, folder: Path) -> Path:
    """Write the demo sources YAML for the site served at ``base_url``; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SOURCES_FILE_NAME
    text = yaml.safe_dump(demo_sources(base_url), allow_unicode=True, sort_keys=False)
    path.write_text(
        "# Sources of the bundled sample site (fictitious shop; sample data).\n" + text,
        encoding="utf-8",
    )
    return path
