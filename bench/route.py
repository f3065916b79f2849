"""Routing throughput: route, deliver and alert on synthetic analysed verbatims.

Creates a fresh store (SQLite file, or a fresh PostgreSQL schema with
``--backend postgresql``), inserts ``--docs`` documents with analyses (a merchant's
mix: delivery complaints, questions, legal threats, competitors, praise; a fifth are
follow-ups in existing threads), then times ``route_pending`` (and a second, idempotent
run), ``deliver_pending`` to a local webhook receiver, and ``check_alerts``.

    .venv/bin/python bench/route.py [--docs 5000] [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

from listening.routing.alerts import check_alerts
from listening.routing.outbox import deliver_pending
from listening.routing.service import route_pending
from listening.settings import load_settings
from listening.store import Store
from listening.store.models import Analysis, Brand, Document, Source, utcnow

# the bench serves its targets on 127.0.0.1: allow private targets (SSRF guard) explicitly
os.environ.setdefault("LISTENING_SECURITY__ALLOW_PRIVATE_TARGETS", "true")

PG_URL = os.environ.get("LISTENING_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _receiver() -> tuple[str, list[int]]:
    count = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            count[0] += 1
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/hook", count


def _populate(store: Store, n: int, rng: random.Random) -> None:
    now = utcnow()
    with store.session() as s:
        own = Brand(name="Maison Lumière", is_own=True, aliases=[])
        rival = Brand(name="Luminéo", is_own=False, aliases=[])
        s.add_all([own, rival])
        s.flush()
        forum = Source(name="forum", kind="forum", url="https://f.example", brand_id=own.id, settings={}, state={})
        rivals = Source(name="rival", kind="review_site", url="https://r.example", brand_id=rival.id,
                        settings={}, state={})
        s.add_all([forum, rivals])
        s.flush()
        docs, analyses = [], []
        for i in range(n):
            kind = rng.random()
            competitor = kind < 0.1
            follow_up = rng.random() < 0.2 and i > 10
            thread = f"t{rng.randrange(i)}" if follow_up else f"t{i}"
            if kind < 0.45:
                topics, intent, urgency, sentiment = {"delivery": "negative"}, "complaint", [], "negative"
            elif kind < 0.5:
                topics, intent, urgency, sentiment = {"delivery": "negative"}, "complaint", ["legal_threat"], "negative"
            elif kind < 0.7:
                topics, intent, urgency, sentiment = {"product": "neutral"}, "question", [], "neutral"
            else:
                topics, intent, urgency, sentiment = {"product": "positive"}, "praise", [], "positive"
            docs.append({
                "id": i + 1, "source_id": rivals.id if competitor else forum.id,
                "brand_id": rival.id if competitor else own.id, "external_id": f"e{i}",
                "url": f"https://f.example/{i}", "thread_id": thread, "author": f"a_{thread}",
                # relevant, recent French verbatims: the relevance gates (brand named, supported
                # language, younger than routing.ticket_max_age_days) let them reach the rules
                "text": f"Commande {i} chez Maison Lumière : la livraison de la lampe n'est toujours "
                        "pas arrivée et personne ne répond au service client, merci de me rappeler.",
                "language": "fr", "content_hash": uuid.uuid4().hex,
                "raw": {}, "published_at": now - timedelta(hours=rng.uniform(0, 24 * 12)),
                "collected_at": now, "updated_at": now,
            })
            analyses.append({
                "document_id": i + 1, "model_version": "bench", "language": "fr", "sentiment": sentiment,
                "sentiment_score": -0.7 if sentiment == "negative" else 0.4, "intent": intent,
                "topics": [{"topic": t, "sentiment": v, "confidence": 0.9, "evidence": []} for t, v in topics.items()],
                "urgency": urgency, "actionable": intent != "praise", "created_at": now,
            })
        s.execute(insert(Document), docs)
        s.execute(insert(Analysis), analyses)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    schema = None
    if args.backend == "sqlite":
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='listening-route-')) / 'bench.db'}"
    else:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with create_engine(PG_URL).begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    hook, received = _receiver()
    teams = ["support", "logistics", "quality", "ecommerce", "marketing"]
    settings = load_settings(
        database_url=url,
        routing={"targets": {"bench": {"kind": "webhook", "url": hook, "secret": "s"}},
                 "team_targets": {t: ["bench"] for t in teams}},
    )
    store = Store(url)
    store.init()
    try:
        _populate(store, args.docs, random.Random(3))
        t0 = time.perf_counter()
        routed = route_pending(store, settings)
        t_route = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = route_pending(store, settings)
        t_again = time.perf_counter() - t0
        t0 = time.perf_counter()
        sent = 0
        while True:
            out = deliver_pending(store, settings)
            sent += out["sent"]
            if out["sent"] == 0:
                break
        t_deliver = time.perf_counter() - t0
        t0 = time.perf_counter()
        alerts = check_alerts(store, settings)
        t_alerts = time.perf_counter() - t0
    finally:
        store.dispose()
        if schema:
            with create_engine(PG_URL).begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    summary = {
        "backend": args.backend,
        "docs": args.docs,
        "route_s": round(t_route, 2),
        "route_docs_per_s": round(args.docs / t_route),
        "tickets": routed["ticketed"],
        "follow_ups": routed["attached"],
        "skipped": routed["skipped"],
        "second_run_routed": again["routed"],
        "second_run_s": round(t_again, 3),
        "notifications_sent": sent,
        "received": received[0],
        "deliver_s": round(t_deliver, 2),
        "notifications_per_s": round(sent / t_deliver) if t_deliver else None,
        "alerts_check_s": round(t_alerts, 2),
        "alerts_opened": len(alerts["opened"]),
    }
    print(f"route: {args.docs} docs in {t_route:.2f} s ({summary['route_docs_per_s']} docs/s); "
          f"deliver: {sent} webhooks in {t_deliver:.2f} s; alerts check {t_alerts:.2f} s")
    print(json.dumps(summary))
    return 0 if again["routed"] == 0 and sent == received[0] >= routed["ticketed"] else 1


if __name__ == "__main__":
    sys.exit(main())
