"""Scale-out benchmark: end-to-end verbatims/s (analysed + routed) on PostgreSQL.

    .venv/bin/python bench/scale.py                  # 400 verbatims, 1 and 2 workers
    .venv/bin/python bench/scale.py --docs 1000 --broker amqp://guest:guest@127.0.0.1:5672//

For each mode, a fresh PostgreSQL schema is seeded with the same N French verbatims, then:

- ``in_process``: ``analyze_pending`` then ``route_pending`` in this process (what
  ``listening analyze`` + ``listening route`` do), the model loaded beforehand;
- ``workers K`` (K = 1, 2): K ``listening worker --queues analyze`` processes (one Celery
  process each) and one ``route,notify`` worker on a real broker; the workers are warmed
  up (model loaded) before the documents are inserted; the clock runs from the
  scheduler's first tick to the last routing decision.

Then it checks that nothing was lost or duplicated (one analysis and one routing
decision per document). The last line is one JSON object:
``{"docs": N, "in_process_per_s": x, "workers": {"1": x, "2": x}, "lost": 0, "duplicates": 0}``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # bench/nlp.py must not shadow the nlp package
PG = os.environ.get("LISTENING_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

OPENINGS = [
    "Commande passée le lundi,",
    "Deuxième achat chez vous,",
    "Franchement,",
    "Bonjour,",
    "Après trois semaines d'attente,",
    "Je suis cliente depuis deux ans et",
]
MIDDLES = [
    "le colis est arrivé abîmé et la lampe ne s'allume pas.",
    "la livraison a été rapide et l'emballage soigné.",
    "le service client ne répond ni au téléphone ni aux mails.",
    "le remboursement promis n'est toujours pas arrivé.",
    "le site refuse ma carte bancaire au moment de payer.",
    "la suspension est magnifique, conforme aux photos.",
    "il manquait une pièce dans le carton, impossible de monter l'applique.",
    "le prix a changé entre le panier et le paiement.",
]
ENDINGS = [
    "Je ne recommande pas.",
    "Merci !",
    "Je vais porter plainte.",
    "Très déçue.",
    "Je recommande cette boutique.",
    "Que faire ?",
    "",
]


def verbatims(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [
        f"{rng.choice(OPENINGS)} {rng.choice(MIDDLES)} {rng.choice(ENDINGS)}".strip()
        for _ in range(n)
    ]


def fresh_schema() -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with create_engine(PG).begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG else "?"
    return schema, f"{PG}{sep}options=-csearch_path%3D{schema}"


def drop_schema(schema: str) -> None:
    with create_engine(PG).begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def seed(url: str, texts: list[str]) -> Any:
    from listening.store import Document, Source, Store

    store = Store(url)
    store.init()
    with store.session() as s:
        src = s.scalar(select(Source).where(Source.name == "bench"))
        if src is None:
            src = Source(name="bench", kind="review_site", url="https://shop.example/avis")
            s.add(src)
            s.flush()
        s.add_all(
            Document(
                source_id=src.id,
                external_id=f"b{i}",
                author=f"a_{i}",
                text=t,
                language="fr",
                content_hash=f"h{i}",
            )
            for i, t in enumerate(texts)
        )
    return store


def outcome(store: Any, n: int) -> dict[str, int]:
    from listening.routing.models import RoutingDecision
    from listening.store import Analysis

    with store.session() as s:
        analyses = int(s.scalar(select(func.count(Analysis.id))) or 0)
        analysed_docs = int(s.scalar(select(func.count(func.distinct(Analysis.document_id)))) or 0)
        decisions = int(s.scalar(select(func.count(RoutingDecision.id))) or 0)
    return {"lost": n - min(analysed_docs, decisions), "duplicates": analyses - analysed_docs}


def env_for(url: str, data_dir: Path, broker: str, prefix: str, concurrency: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTENING_")}
    env.update(
        LISTENING_CONFIG=str(data_dir / "absent.toml"),
        LISTENING_DATABASE_URL=url,
        LISTENING_DATA_DIR=str(data_dir),
        LISTENING_SECURITY__ALLOW_PRIVATE_TARGETS="true",  # local servers on 127.0.0.1
        LISTENING_LOG_LEVEL="WARNING",
        LISTENING_WORKERS__BROKER_URL=broker,
        LISTENING_WORKERS__QUEUE_PREFIX=prefix,
        LISTENING_WORKERS__CONCURRENCY=str(concurrency),
        LISTENING_WORKERS__ANALYZE_TASK_DOCS="64",
    )
    return env


def run_in_process(texts: list[str], data_dir: Path) -> float:
    from listening.routing.service import route_pending
    from listening.settings import load_settings
    from nlp.service import analyze_pending, get_analyzer

    schema, url = fresh_schema()
    try:
        store = seed(url, texts)
        settings = load_settings(database_url=url, data_dir=str(data_dir))
        get_analyzer(settings)  # model loaded before the clock starts, as in the workers
        start = time.perf_counter()
        analyze_pending(store, settings)
        analysed_at = time.perf_counter()
        route_pending(store, settings)
        elapsed = time.perf_counter() - start
        n = len(texts)
        print(
            f"in-process stages: analyse {n / (analysed_at - start):.1f}/s, "
            f"route {n / (start + elapsed - analysed_at):.1f}/s",
            flush=True,
        )
        result = outcome(store, len(texts))
        assert result == {"lost": 0, "duplicates": 0}, result
        store.dispose()
        return elapsed
    finally:
        drop_schema(schema)


def run_workers(
    texts: list[str], k: int, data_dir: Path, broker: str, timeout: float
) -> tuple[float, dict[str, int]]:
    schema, url = fresh_schema()
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    env = env_for(url, data_dir, broker, prefix, k)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        store = seed(url, [])
        from listening.settings import load_settings
        from listening.workers.app import make_app
        from listening.workers.beat import Beat
        from listening.workers.tasks import send

        settings = load_settings(
            database_url=url,
            data_dir=str(data_dir),
            workers={"broker_url": broker, "queue_prefix": prefix, "concurrency": k},
        )
        app = make_app(settings)
        log = (data_dir / f"workers-{k}.log").open("ab")  # keep the banners off our output
        cmd = [
            sys.executable,
            "-m",
            "listening.cli",
            "worker",
            "--pool",
            "solo",
            "--concurrency",
            "1",
        ]
        for i in range(k):
            procs.append(
                subprocess.Popen(
                    [*cmd, "--queues", "analyze", "--name", f"an{i}-{prefix}@%h"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        procs.append(
            subprocess.Popen(
                [*cmd, "--queues", "route,notify", "--name", f"rn-{prefix}@%h"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        # warm-up: every analysis worker loads the model on an empty store
        for _ in range(k):
            send(app, "analyze")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            replies = app.control.inspect(timeout=1.0).stats() or {}
            if len(replies) >= k + 1 and all(
                int(sum((r.get("total") or {}).values())) >= 1
                for w, r in replies.items()
                if w.startswith("an")
            ):
                break
            time.sleep(0.5)
        seed(url, texts)
        beat = Beat(app, store, settings)
        start = time.perf_counter()
        beat.tick()
        last_tick = time.monotonic()
        from listening.routing.models import RoutingDecision

        while True:
            with store.session() as s:
                decided = int(s.scalar(select(func.count(RoutingDecision.id))) or 0)
            if decided >= len(texts):
                break
            if time.perf_counter() - start > timeout:
                break
            if time.monotonic() - last_tick > settings.workers.schedule_seconds:
                beat.tick()
                last_tick = time.monotonic()
            time.sleep(0.1)
        elapsed = time.perf_counter() - start
        result = outcome(store, len(texts))
        store.dispose()
        return elapsed, result
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        drop_schema(schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=400)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    import tempfile

    texts = verbatims(args.docs)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        data_dir = Path(tmp)
        t_in = run_in_process(texts, data_dir)
        rate_in = args.docs / t_in
        print(
            f"in-process analyse + route: {args.docs} verbatims in {t_in:.1f} s = {rate_in:.1f}/s",
            flush=True,
        )
        rates: dict[str, float] = {}
        lost = duplicates = 0
        for k in (1, 2):
            elapsed, result = run_workers(texts, k, data_dir, args.broker, args.timeout)
            rates[str(k)] = round(args.docs / elapsed, 2)
            lost += result["lost"]
            duplicates += result["duplicates"]
            print(
                f"{k} analysis worker(s) + 1 router: {elapsed:.1f} s = {rates[str(k)]:.1f}/s "
                f"(x{rates[str(k)] / rate_in:.2f} in-process), lost {result['lost']}, "
                f"duplicates {result['duplicates']}",
                flush=True,
            )
        print(f"2 workers / 1 worker: x{rates['2'] / rates['1']:.2f}", flush=True)
    print(
        json.dumps(
            {
                "docs": args.docs,
                "in_process_per_s": round(rate_in, 2),
                "workers": rates,
                "lost": lost,
                "duplicates": duplicates,
            }
        )
    )


if __name__ == "__main__":
    main()
