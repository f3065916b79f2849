"""Feed polling benchmark: N feeds served locally with conditional GET, polled twice.

Pass 1 fetches and stores every feed; between the passes a few feeds change (new
entry, new ETag); pass 2 should be mostly ``304 Not Modified``. Prints wall time per
pass, feeds/s, the HTTP statuses seen by the server, the verbatims stored and the
collector's peak memory (max RSS; the feed server runs in another process).

    .venv/bin/python bench/collect.py --feeds 1000      # via the collection benchmark
    .venv/bin/python bench/collect_feeds.py --feeds 1000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import resource
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# the bench serves its targets on 127.0.0.1: allow private targets (SSRF guard) explicitly
os.environ.setdefault("LISTENING_SECURITY__ALLOW_PRIVATE_TARGETS", "true")

ITEMS_PER_FEED = 10
VOCABULARY = [
    "livraison",
    "rapide",
    "lente",
    "colis",
    "abîmé",
    "cassé",
    "intact",
    "carton",
    "emballage",
    "soigné",
    "transporteur",
    "relais",
    "domicile",
    "retard",
    "semaine",
    "jours",
    "heure",
    "service",
    "client",
    "conseiller",
    "téléphone",
    "mail",
    "réponse",
    "remboursement",
    "avoir",
    "retour",
    "échange",
    "étiquette",
    "formulaire",
    "délai",
    "prix",
    "cher",
    "abordable",
    "promotion",
    "réduction",
    "code",
    "frais",
    "port",
    "gratuit",
    "qualité",
    "finition",
    "solide",
    "fragile",
    "lampe",
    "suspension",
    "applique",
    "abat-jour",
    "ampoule",
    "led",
    "variateur",
    "lumière",
    "chaude",
    "froide",
    "douce",
    "salon",
    "chambre",
    "cuisine",
    "couloir",
    "bureau",
    "montage",
    "notice",
    "vis",
    "câble",
    "interrupteur",
    "stock",
    "rupture",
    "disponible",
    "commande",
    "annulée",
    "paiement",
    "carte",
    "refusé",
    "débité",
    "deux",
    "fois",
    "site",
    "bug",
    "panier",
    "compte",
    "mot",
    "passe",
    "application",
    "recommande",
    "déçu",
    "ravi",
    "satisfait",
    "content",
    "furieux",
    "jamais",
    "encore",
    "toujours",
    "vraiment",
    "très",
    "trop",
    "peu",
    "assez",
    "bien",
    "mal",
    "parfait",
    "correct",
    "moyen",
    "nul",
    "superbe",
    "magnifique",
    "joli",
    "élégant",
    "moderne",
    "vintage",
    "laiton",
    "verre",
    "tissu",
    "bois",
    "métal",
    "noir",
    "blanc",
    "doré",
    "taille",
    "grande",
    "petite",
    "conforme",
    "photo",
    "description",
    "couleur",
    "différente",
    "marque",
    "merci",
    "équipe",
    "vendeur",
    "boutique",
    "magasin",
    "avis",
    "note",
]


def _review(n: int, i: int) -> str:
    rng = random.Random(n * 1000 + i)
    words = [rng.choice(VOCABULARY) for _ in range(rng.randint(15, 45))]
    return " ".join(words).capitalize() + "."


def _feed(n: int, version: int) -> bytes:
    items = []
    for i in range(ITEMS_PER_FEED + version):
        items.append(
            f"<item><title>Avis {n}-{i}</title><link>http://bench.example/{n}/{i}</link>"
            f'<guid isPermaLink="false">feed{n}-item{i}</guid><dc:creator>Client {n}-{i}</dc:creator>'
            f"<description>{_review(n, i)}</description>"
            f"<pubDate>Mon, 03 Mar 2025 {i % 24:02d}:00:00 +0100</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Feed '
        f"{n}</title><language>fr</language>{''.join(items)}</channel></rss>"
    ).encode()


def _serve(port_queue: Any, versions: Any, counts: Any) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:  # noqa: N802
            try:
                n = int(self.path.strip("/").split("/")[1].split(".")[0])
            except (IndexError, ValueError):
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            version = versions[n]
            etag = f'"{n}-{version}"'
            if self.headers.get("If-None-Match") == etag:
                counts[304] += 1
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            counts[200] += 1
            body = _feed(n, version)
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    port_queue.put(httpd.server_address[1])
    httpd.serve_forever()


def bench_feed_polling(
    feeds: int = 1000, changed_fraction: float = 0.05, database_url: str = ""
) -> dict[str, Any]:
    """Poll ``feeds`` local feeds twice through ``collect()``; returns the figures."""
    from listening.collection.runner import collect
    from listening.settings import load_settings
    from listening.store import Store
    from listening.store.sources import SourceSpec, add_source

    manager = mp.Manager()
    versions = manager.list([0] * feeds)
    counts = manager.dict({200: 0, 304: 0})
    port_queue: Any = mp.Queue()
    server = mp.Process(target=_serve, args=(port_queue, versions, counts), daemon=True)
    server.start()
    port = port_queue.get(timeout=30)
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = load_settings(database_url=url, data_dir=tmp)
        store = Store(url)
        store.init()
        with store.session() as session:
            for n in range(feeds):
                add_source(
                    session,
                    SourceSpec(
                        name=f"bench-feed-{n}",
                        kind="feed",
                        url=f"http://127.0.0.1:{port}/feed/{n}.xml",
                        brand=f"Brand {n % 10}",
                    ),
                    replace=True,
                )
        figures: dict[str, Any] = {"feeds": feeds, "items_per_feed": ITEMS_PER_FEED}
        for pass_no in (1, 2):
            if pass_no == 2:
                for n in range(0, feeds, max(1, int(1 / changed_fraction))):
                    versions[n] = versions[n] + 1
            before = dict(counts)
            start = time.perf_counter()
            summary = collect(store, settings)
            wall = time.perf_counter() - start
            after = dict(counts)
            figures[f"pass{pass_no}"] = {
                "wall_s": round(wall, 2),
                "feeds_per_s": round(feeds / wall, 1),
                "http_200": after[200] - before[200],
                "http_304": after[304] - before[304],
                "new": summary["new"],
                "duplicate": summary["duplicate"],
                "failed_sources": summary["failed_sources"],
            }
        figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        second = figures["pass2"]
        figures["pass2_304_ratio"] = round(second["http_304"] / max(1, feeds), 3)
        figures["database"] = store.dialect
        store.dispose()
    server.terminate()
    manager.shutdown()
    return figures


def print_figures(figures: dict[str, Any]) -> None:
    for pass_no in (1, 2):
        p = figures[f"pass{pass_no}"]
        print(
            f"feed polling pass {pass_no}: {figures['feeds']} feeds in {p['wall_s']} s "
            f"({p['feeds_per_s']} feeds/s), HTTP 200: {p['http_200']}, 304: {p['http_304']}, "
            f"new verbatims: {p['new']}, failed sources: {p['failed_sources']}"
        )
    print(
        f"pass 2 answered 304: {figures['pass2_304_ratio']:.1%}; peak RSS {figures['peak_rss_mb']} MB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000, help="number of local feeds")
    parser.add_argument(
        "--database-url", default="", help="store URL (default: a temporary SQLite file)"
    )
    args = parser.parse_args(argv)
    figures = bench_feed_polling(args.feeds, database_url=args.database_url)
    print_figures(figures)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
