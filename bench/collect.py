"""Collection benchmarks: extraction speed on local pages, crawl and feed polling.

    .venv/bin/python bench/collect.py                 # every part (1,000 local feeds)
    .venv/bin/python bench/collect.py --feeds 0       # extraction (+ --crawl) only
    .venv/bin/python bench/collect.py --feeds 0 --crawl --repeat 1

Parts (each a function returning its figures, printed then dumped as one JSON line):

- ``bench_extraction``: ``listening.collection.extract.extract`` on every saved page of
  ``../shared/data/pages`` and the bundled demo site, in memory, on 1 process and on 2
  processes (the reference machine has 2 cores): pages/s, items/s, MB/s, peak RSS;
- ``bench_crawl`` (``--crawl``): ``collect()`` with the real spiders (one ``scrapy crawl``
  subprocess per source) over the demo site served locally, with ``parallel_crawls`` 1
  then 2: wall time of a first collection and of a rerun that finds nothing new;
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


def bench_crawl(parallel_crawls: int = 1) -> dict[str, Any]:
    """``collect()`` over the demo site's review, forum and blog sources (real spiders).

    Figures: wall time of a first collection (everything new), then of a second one
    (nothing new: conditional requests, the cost is mostly each subprocess's start-up).
    """
    from sqlalchemy import select

    from listening.collection.runner import CRAWLED_KINDS, collect
    from listening.demo_site import sources_yaml
    from listening.demo_site.server import serve_demo_site
    from listening.settings import load_settings
    from listening.store import Source, Store
    from listening.store.sources import import_sources, load_sources_file

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            database_url=f"sqlite:///{tmp}/bench.db",
            data_dir=tmp,
            collection={"crawl_download_delay_s": 0, "parallel_crawls": parallel_crawls},
        )
        store = Store.from_settings(settings)
        store.init()
        with serve_demo_site() as base:
            with store.session() as session:
                import_sources(session, load_sources_file(sources_yaml(base, Path(tmp))))
            with store.session() as session:
                names = list(
                    session.scalars(select(Source.name).where(Source.kind.in_(CRAWLED_KINDS)))
                )
            start = time.perf_counter()
            first = collect(store, settings, source_names=names)
            wall = time.perf_counter() - start
            start = time.perf_counter()
            second = collect(store, settings, source_names=names)
            rerun = time.perf_counter() - start
        store.dispose()
    return {
        "parallel_crawls": parallel_crawls,
        "sources": len(names),
        "new": first["new"],
        "failed_sources": first["failed_sources"] + second["failed_sources"],
        "rerun_new": second["new"],
        "wall_s": round(wall, 2),
        "seconds_per_source": round(wall / max(1, len(names)), 2),
        "items_per_s": round(first["new"] / wall, 2),
        "rerun_wall_s": round(rerun, 2),
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
        figures["crawl"] = []
        for parallel in (1, 2):
            crawl = bench_crawl(parallel)
            figures["crawl"].append(crawl)
            print(
                f"crawl (parallel_crawls={parallel}): {crawl['sources']} demo sources, "
                f"{crawl['new']} items in {crawl['wall_s']} s ({crawl['seconds_per_source']} s "
                f"per source incl. subprocess start); rerun (nothing new) {crawl['rerun_wall_s']} s"
            )
    if args.feeds:
        from collect_feeds import bench_feed_polling, print_figures

        figures["feed_polling"] = bench_feed_polling(args.feeds)
        print_figures(figures["feed_polling"])
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
