"""Channel connectors benchmark: parsing speed of API bodies, and one paged source run.

1. parse: N items in each platform's documented shape (Reddit listing, Mastodon statuses,
   YouTube commentThreads, X recent search) parsed by the connectors' own code;
2. run: a Mastodon hashtag of PAGES pages x 40 statuses served by a local HTTP server
   (``Link`` pagination), collected through ``runner.run_source`` into a temporary SQLite
   store (fetch, parse, ingest with language detection and near-duplicates, cursors),
   then a second run that finds nothing new (one request, stops at the cursor).

    .venv/bin/python bench/channels.py --items 20000 --pages 20
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# the bench serves its targets on 127.0.0.1: allow private targets (SSRF guard) explicitly
os.environ.setdefault("LISTENING_SECURITY__ALLOW_PRIVATE_TARGETS", "true")

WORDS = [
    "livraison",
    "colis",
    "abîmé",
    "retard",
    "remboursement",
    "service",
    "client",
    "lampe",
    "superbe",
    "commande",
    "bloquée",
    "paiement",
    "refusé",
    "retour",
    "échange",
    "taille",
    "prix",
]


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30)))


def bodies(n: int, rng: random.Random) -> dict[str, Any]:
    reddit = {
        "kind": "Listing",
        "data": {
            "after": None,
            "children": [
                {
                    "kind": "t1",
                    "data": {
                        "name": f"t1_{i}",
                        "body": sentence(rng),
                        "author": f"u{i}",
                        "created_utc": 1735700000 + i,
                        "permalink": f"/r/a/c/{i}/",
                        "parent_id": "t3_p",
                        "link_id": "t3_p",
                        "score": 1,
                        "replies": "",
                    },
                }
                for i in range(n)
            ],
        },
    }
    mastodon = [
        {
            "id": str(i),
            "content": f"<p>{sentence(rng)}</p>",
            "created_at": "2025-01-01T10:00:00Z",
            "url": f"https://m.example/@u/{i}",
            "account": {"acct": f"u{i}"},
            "reblog": None,
        }
        for i in range(n)
    ]
    youtube = {
        "items": [
            {
                "kind": "youtube#commentThread",
                "id": f"T{i}",
                "snippet": {
                    "videoId": "v",
                    "topLevelComment": {
                        "id": f"T{i}",
                        "snippet": {
                            "textOriginal": sentence(rng),
                            "authorDisplayName": f"u{i}",
                            "publishedAt": "2025-01-01T10:00:00Z",
                        },
                    },
                },
            }
            for i in range(n)
        ]
    }
    x = {
        "data": [
            {
                "id": str(i),
                "text": sentence(rng),
                "author_id": str(i % 50),
                "created_at": "2025-01-01T10:00:00.000Z",
            }
            for i in range(n)
        ],
        "includes": {"users": [{"id": str(u), "username": f"u{u}"} for u in range(50)]},
    }
    return {"reddit": reddit, "mastodon": mastodon, "youtube": youtube, "x": x}


def serve_pages(pages: int, rng: random.Random) -> tuple[ThreadingHTTPServer, str]:
    per_page = 40
    data = [
        [
            {
                "id": str(10_000_000 - p * per_page - i),
                "content": f"<p>{sentence(rng)} {p}-{i}</p>",
                "created_at": f"2025-01-{28 - p % 27:02d}T{23 - i % 24:02d}:00:00Z",
                "url": f"https://m.example/@u/{p}-{i}",
                "account": {"acct": f"u{i}"},
                "reblog": None,
            }
            for i in range(per_page)
        ]
        for p in range(pages)
    ]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:  # noqa: N802
            page = int(self.path.rsplit("page=", 1)[1]) if "page=" in self.path else 0
            body = json.dumps(data[page] if page < pages else []).encode()
            self.send_response(200)
            if page + 1 < pages:
                host = self.headers["Host"]
                self.send_header(
                    "Link", f'<http://{host}/api/v1/timelines/tag/acme?page={page + 1}>; rel="next"'
                )
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--pages", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(13)
    from listening.collection.channels import get_channel

    out: dict[str, Any] = {"items": args.items, "parse_items_per_s": {}}
    for kind, body in bodies(args.items, rng).items():
        started = time.perf_counter()
        items = get_channel(kind).parse(body, "https://example.test/")
        elapsed = time.perf_counter() - started
        assert len(items) == args.items, kind
        out["parse_items_per_s"][kind] = round(args.items / elapsed)

    from listening.collection.runner import run_source
    from listening.settings import load_settings
    from listening.store import Store
    from listening.store.sources import SourceSpec, add_source

    httpd, base = serve_pages(args.pages, rng)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        store.init()
        settings = load_settings(collection={"channel_max_pages": args.pages + 1})
        with store.session() as session:
            source, _ = add_source(
                session,
                SourceSpec(
                    name="bench",
                    kind="mastodon",
                    url=f"{base}/tags/acme",
                    settings={"hashtags": ["acme"]},
                ),
            )
            sid = source.id
        runs = []
        for _ in range(2):
            started = time.perf_counter()
            result = run_source(store, settings, sid, "bench")
            runs.append(
                {
                    "seconds": round(time.perf_counter() - started, 2),
                    "new": result["new"],
                    "status": result["status"],
                }
            )
        store.dispose()
    httpd.shutdown()
    out["run"] = {
        "pages": args.pages,
        "statuses": args.pages * 40,
        "first": runs[0],
        "second": runs[1],
        "first_items_per_s": round(runs[0]["new"] / runs[0]["seconds"]),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
