"""Collection benchmarks: extraction speed on local pages, crawl and feed polling.

    .venv/bin/python bench/collect.py                 # every part (1,000 local feeds)
    .venv/bin/python bench/collect.py --feeds 0       # extraction (+ --crawl) only

Parts (each a function returning its figures, printed then dumped as one JSON line):

- ``bench_extraction``: ``listening.collection.extract.extract`` on every saved page of
  ``../shared/data/pages`` and the bundled demo site, in memory, on 1 process and on 2
  processes (the reference machine has 2 cores): pages/s, items/s, MB/s, peak RSS;
- ``bench_crawl`` (``--crawl``): the real spiders (one ``scrapy crawl`` subprocess per
  source) over the demo site served locally: wall time, pages/s and items/s including
  the subprocess start-up;
- ``bench_feed_polling`` (``--feeds N``, in ``bench/collect_feeds.py``): N feeds served
  locally, polled twice with conditional GET.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _pages(data_dir: Path) -> list[tuple[str, bytes]]:
    from listening.demo_site import SITE_DIR

    files = sorted((data_dir / "pages").rglob("*.html")) if (data_dir / "pages").is_dir() else []
    files += sorted(SITE_DIR.rglob("*.html"))
    return [(f"https://example.org/{path.name}", path.read_bytes()) for path in files]


def _extract_all(pages: list[tuple[str, bytes]], repeat: int) -> int:
    from listening.collection.extract import extract

    items = 0
    for _ in range(repeat):
        for url, body in pages:
            items += len(extract(body, url).items)
    return items


def bench_extraction(data_dir: Path = DATA, repeat: int = 3) -> dict[str, Any]:
    """Extraction throughput on local files, 1 and 2 processes."""
    pages = _pages(data_dir)
    megabytes = sum(len(body) for _u, body in pages) / 1e6
    _extract_all(pages[:3], 1)  # warm imports and caches
    start = time.perf_counter()
    items = _extract_all(pages, repeat)
    wall = time.perf_counter() - start
    figures: dict[str, Any] = {
        "pages": len(pages),
        "megabytes": round(megabytes, 2),
        "repeat": repeat,
        "items_per_pass": items // repeat,
        "one_process": {
            "wall_s": round(wall, 2),
            "pages_per_s": round(len(pages) * repeat / wall, 1),
            "items_per_s": round(items / wall, 1),
            "mb_per_s": round(megabytes * repeat / wall, 2),
        },
    }
    half = len(pages) // 2
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_extract_all, [pages[:half], pages[half:]], [repeat, repeat]))
    wall2 = time.perf_counter() - start
    figures["two_processes"] = {
        "wall_s": round(wall2, 2),
        "pages_per_s": round(len(pages) * repeat / wall2, 1),
        "items_per_s": round(sum(results) / wall2, 1),
    }
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return figures


def bench_crawl() -> dict[str, Any]:
    """Crawl the demo site's review, forum and blog sources with the real spiders."""
    from sqlalchemy import select

    from listening.demo_site import sources_yaml
    from listening.demo_site.server import serve_demo_site
    from listening.settings import load_settings
    from listening.store import Source, Store
    from listening.store.sources import import_sources, load_sources_file
    from spiders.launch import run_crawl

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            database_url=f"sqlite:///{tmp}/bench.db",
            data_dir=tmp,
            collection={"crawl_download_delay_s": 0},
        )
        store = Store.from_settings(settings)
        store.init()
        totals = {"sources": 0, "pages": 0, "new": 0}
        with serve_demo_site() as base:
            with store.session() as session:
                import_sources(session, load_sources_file(sources_yaml(base, Path(tmp))))
            with store.session() as session:
                sources = [
                    s
                    for s in session.scalars(select(Source))
                    if s.kind in ("review_site", "forum", "blog")
                ]
                for source in sources:
                    session.expunge(source)
            start = time.perf_counter()
            for source in sources:
                result = run_crawl(settings, source)
                totals["sources"] += 1
                totals["pages"] += int(result.get("pages", 0))
                totals["new"] += int(result.get("new", 0))
            wall = time.perf_counter() - start
        store.dispose()
    return {
        **totals,
        "wall_s": round(wall, 2),
        "seconds_per_source": round(wall / max(1, totals["sources"]), 2),
        "pages_per_s": round(totals["pages"] / wall, 2),
        "items_per_s": round(totals["new"] / wall, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="extraction passes over the pages")
    parser.add_argument(
        "--crawl", action="store_true", help="also crawl the demo site with the spiders"
    )
    parser.add_argument("--feeds", type=int, default=1000, help="local feeds polled (0: skip)")
    args = parser.parse_args(argv)
    figures: dict[str, Any] = {}
    extraction = figures["extraction"] = bench_extraction(DATA, args.repeat)
    one, two = extraction["one_process"], extraction["two_processes"]
    print(
        f"extraction: {extraction['pages']} pages ({extraction['megabytes']} MB), "
        f"{extraction['items_per_pass']} items per pass; 1 process: {one['pages_per_s']} pages/s, "
        f"{one['items_per_s']} items/s, {one['mb_per_s']} MB/s; 2 processes: {two['pages_per_s']} "
        f"pages/s, {two['items_per_s']} items/s; peak RSS {extraction['peak_rss_mb']} MB"
    )
    if args.crawl:
        crawl = figures["crawl"] = bench_crawl()
        print(
            f"crawl: {crawl['sources']} demo sources, {crawl['pages']} pages, {crawl['new']} items in "
            f"{crawl['wall_s']} s ({crawl['seconds_per_source']} s per source incl. subprocess start)"
        )
    if args.feeds:
        from collect_feeds import bench_feed_polling, print_figures

        figures["feed_polling"] = bench_feed_polling(args.feeds)
        print_figures(figures["feed_polling"])
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
