"""Dashboard benchmark: seed N synthetic verbatims (+ analyses, tickets) and time each page's queries.

    .venv/bin/python bench/dashboard.py --rows 1000000 --backends sqlite,postgresql

Seeds SQLite (executemany, triggers off during the load, then the migration's own
backfill: FTS5 rebuild and analysis_topics) and PostgreSQL (COPY, same idea) with
verbatims spread over 365 days, then runs the queries each page issues with a COLD
cache (``st.cache_data.clear()`` before every repetition) and prints p50 / p95 per page.
Target: p95 < 1 s per page. The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
logging.disable(logging.WARNING)  # streamlit's "no runtime" warnings outside `streamlit run`

import streamlit as st  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from dashboards import queries  # noqa: E402
from listening.queries.sql import Filters  # noqa: E402
from listening.store import Store  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "bench_dashboard"
TOPICS = ("delivery", "stock", "customer_service", "price", "product", "returns", "payment", "website")
SENTIMENTS = ("negative", "neutral", "positive")
KINDS = ("review_site", "forum", "blog", "feed", "survey", "email")
PHRASES = {
    "delivery": ("livraison en retard", "colis abîmé", "livré rapidement", "delivery was late"),
    "stock": ("rupture de stock", "produit indisponible", "back in stock"),
    "customer_service": ("service client injoignable", "conseillère très aimable", "no answer from support"),
    "price": ("prix trop élevé", "bon rapport qualité prix", "great price"),
    "product": ("lampe magnifique", "abat-jour fragile", "the lamp stopped working"),
    "returns": ("retour refusé", "remboursement rapide", "return label missing"),
    "payment": ("paiement refusé", "double débit", "payment failed"),
    "website": ("site très lent", "commande facile", "checkout bug"),
}
FILLER = ("vraiment", "franchement", "encore une fois", "honnêtement", "bref", "comme d'habitude")


def _rows(n: int, brands: list[int], sources: list[tuple[int, int]], seed: int = 7) -> Iterator[
        tuple[tuple[Any, ...], tuple[Any, ...], list[dict[str, Any]]]]:
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(tzinfo=None)
    for i in range(1, n + 1):
        topics = rng.sample(TOPICS, rng.choice((1, 1, 2)))
        parts, items, pos = [], [], 0
        for topic in topics:
            phrase = rng.choice(PHRASES[topic])
            sentiment = rng.choices(SENTIMENTS, (0.45, 0.15, 0.40))[0]
            start = pos
            parts.append(phrase)
            pos += len(phrase)
            items.append({"topic": topic, "sentiment": sentiment, "confidence": 0.9,
                          "evidence": [{"start": start, "end": pos, "text": phrase}]})
            filler = f", {rng.choice(FILLER)}, "
            parts.append(filler)
            pos += len(filler)
        body = "".join(parts) + f"commande {i}."
        source_id, brand_id = sources[i % len(sources)]
        published = now - timedelta(seconds=rng.randrange(365 * 86400))
        overall = items[0]["sentiment"]
        doc = (i, source_id, brand_id, f"x{i}", f"https://example.test/{i}",
               f"th{i // 5}" if i % 3 == 0 else None, body, published, now, now,
               "fr" if i % 4 else "en", f"h{i}")
        analysis = (i, i, "bench", "fr", overall, 0.5 if overall == "positive" else -0.5,
                    json.dumps(items), "complaint" if overall == "negative" else "praise", "[]",
                    overall == "negative", now)
        yield doc, analysis, items


def _reference_rows(n_sources: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    now = datetime.now(UTC).replace(tzinfo=None)
    brands = [(1, "Maison Lumière", True, "[]", now), (2, "Déco Express", False, "[]", now),
              (3, "Luminéo", False, "[]", now)]
    sources = [(s, f"source-{s}", KINDS[s % len(KINDS)], f"https://example.test/s{s}", 1 + s % 3,
                "{}", 60, True, "{}", now, False) for s in range(1, n_sources + 1)]
    return brands, sources


DOC_COLS = ("id, source_id, brand_id, external_id, url, thread_id, text, published_at, "
            "collected_at, updated_at, language, content_hash, raw")
AN_COLS = ("id, document_id, model_version, language, sentiment, sentiment_score, topics, intent, "
           "urgency, actionable, created_at")
TICKET_COLS = "id, document_id, team, priority, status, tags, sla_due_at, created_at, updated_at"


def _tickets(n: int) -> list[tuple[Any, ...]]:
    rng = random.Random(3)
    now = datetime.now(UTC).replace(tzinfo=None)
    out = []
    for t, doc in enumerate(range(1, n + 1, 50), start=1):
        status = rng.choice(("new", "new", "assigned", "answered", "closed", "ignored"))
        out.append((t, doc, rng.choice(("support", "logistics", "legal")), rng.choice(
            ("P1", "P2", "P3", "P4")), status, "[]", now + timedelta(hours=rng.randint(-48, 48)),
            now, now))
    return out


def seed_sqlite(path: Path, n: int) -> Store:
    url = f"sqlite:///{path}"
    Store(url).init()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for name, _sql in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    brands, sources = _reference_rows(12)
    conn.executemany("INSERT INTO brands (id, name, is_own, aliases, created_at) VALUES (?,?,?,?,?)", brands)
    conn.executemany(
        "INSERT INTO sources (id, name, kind, url, brand_id, settings, schedule_minutes, enabled, "
        "state, created_at, blocked) VALUES (?,?,?,?,?,?,?,?,?,?,?)", sources)
    pairs = [(s[0], s[4]) for s in sources]
    docs, analyses = [], []
    for doc, analysis, _items in _rows(n, [1, 2, 3], pairs):
        docs.append((*doc[:7], *(v.isoformat(" ") for v in doc[7:10]), *doc[10:], "{}"))
        analyses.append((*analysis[:10], analysis[10].isoformat(" ")))
        if len(docs) == 50_000:
            conn.executemany(f"INSERT INTO documents ({DOC_COLS}) VALUES ({','.join('?' * 13)})", docs)
            conn.executemany(f"INSERT INTO analyses ({AN_COLS}) VALUES ({','.join('?' * 11)})", analyses)
            docs, analyses = [], []
    if docs:
        conn.executemany(f"INSERT INTO documents ({DOC_COLS}) VALUES ({','.join('?' * 13)})", docs)
        conn.executemany(f"INSERT INTO analyses ({AN_COLS}) VALUES ({','.join('?' * 11)})", analyses)
    tickets = [(*t[:6], *(v.isoformat(" ") for v in t[6:])) for t in _tickets(n)]
    conn.executemany(f"INSERT INTO tickets ({TICKET_COLS}) VALUES ({','.join('?' * 9)})", tickets)
    conn.commit()
    from importlib import import_module

    migration = import_module("listening.store.migrations.versions.0005_dashboard_fts")
    conn.execute(migration.SQLITE_BACKFILL)
    conn.execute(migration.SQLITE_FACTS_BACKFILL)
    for statement in migration.rollup_backfill("sqlite"):
        conn.execute(statement)
    conn.execute("INSERT INTO documents_fts (documents_fts) VALUES ('rebuild')")
    for _name, sql in triggers:
        conn.execute(sql)
    conn.commit()
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return Store(url)


def seed_postgresql(n: int) -> Store:
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    admin.dispose()
    url = f"{PG_URL}?options=-csearch_path%3D{PG_SCHEMA}"
    store = Store(url)
    store.init()
    import psycopg

    raw = psycopg.connect("host=127.0.0.1 user=postgres dbname=test",
                          options=f"-csearch_path={PG_SCHEMA}")
    with raw, raw.cursor() as cur:
        cur.execute("ALTER TABLE analyses DISABLE TRIGGER USER")
        for table in ("documents", "document_facts", "analysis_topics"):
            cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cur.execute("DROP INDEX IF EXISTS ix_documents_fts")
        brands, sources = _reference_rows(12)
        cur.executemany("INSERT INTO brands (id, name, is_own, aliases, created_at) "
                        "VALUES (%s,%s,%s,%s,%s)", brands)
        cur.executemany(
            "INSERT INTO sources (id, name, kind, url, brand_id, settings, schedule_minutes, "
            "enabled, state, created_at, blocked) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", sources)
        pairs = [(s[0], s[4]) for s in sources]
        with cur.copy(f"COPY documents ({DOC_COLS}) FROM STDIN") as copy_docs:
            analyses = []
            for doc, analysis, _items in _rows(n, [1, 2, 3], pairs):
                copy_docs.write_row((*doc, "{}"))
                analyses.append(analysis)
        with cur.copy(f"COPY analyses ({AN_COLS}) FROM STDIN") as copy_an:
            for row in analyses:
                copy_an.write_row(row)
        with cur.copy(f"COPY tickets ({TICKET_COLS}) FROM STDIN") as copy_t:
            for row in _tickets(n):
                copy_t.write_row(row)
        from importlib import import_module

        migration = import_module("listening.store.migrations.versions.0005_dashboard_fts")
        cur.execute(migration.PG_BACKFILL)
        cur.execute(migration.PG_FACTS_BACKFILL)
        for statement in migration.rollup_backfill("postgresql"):
            cur.execute(statement)
        cur.execute(f"CREATE INDEX ix_documents_fts ON documents USING gin ({migration.PG_FTS_EXPR})")
        cur.execute("ALTER TABLE analyses ENABLE TRIGGER USER")
        for table in ("documents", "document_facts", "analysis_topics"):
            cur.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        for table in ("documents", "analyses", "tickets", "sources", "brands"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))")
    raw.close()
    vac = psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True,
                          options=f"-csearch_path={PG_SCHEMA}")
    vac.execute("VACUUM ANALYZE")
    vac.close()
    return store


def page_workloads(url: str) -> dict[str, Callable[[], None]]:
    """What each page queries on first display with default filters (last 90 days)."""
    today = datetime.now(UTC).date()
    f = Filters(start=today - timedelta(days=89), end=today)
    own = Filters(start=f.start, end=f.end, brand_ids=(1,))
    now = queries.now_utc()

    def overview() -> None:
        queries.brands(url), queries.sources(url)
        queries.overview_kpis(url, f)
        queries.volume_by_day(url, f)
        queries.sentiment_by_day(url, f)
        queries.topic_sentiment(url, own)
        queries.open_alerts(url)
        queries.topic_spikes(url, f)
        queries.latest_verbatims(url, f, 30)

    def overview_filtered() -> None:
        g = Filters(start=f.start, end=f.end, brand_ids=(2,), topics=("delivery",),
                    sentiments=("negative",), languages=("fr",))
        queries.overview_kpis(url, g)
        queries.volume_by_day(url, g)
        queries.sentiment_by_day(url, g)
        queries.topic_spikes(url, g)
        queries.latest_verbatims(url, g, 30)

    def inbox() -> None:
        queries.ticket_teams(url)
        queries.ticket_summary(url, (), (), ("new", "assigned", "answered"), now, 4.0)
        listing = queries.ticket_list(url, (), (), ("new", "assigned", "answered"), now, 4.0, 50)
        queries.ticket_detail(url, int(listing["id"].iloc[0]))

    def competitors() -> None:
        queries.criterion_matrix(url, f)
        queries.criterion_trend(url, Filters(start=f.start, end=f.end, topics=("delivery",)))
        queries.topic_verbatims(url, Filters(start=f.start, end=f.end, brand_ids=(2,),
                                             topics=("delivery",)), 50)

    def explorer() -> None:
        queries.search(url, "colis abîmé", f, 50)
        queries.search(url, "remboursement", f, 50)

    def sources_page() -> None:
        queries.source_health(url)
        queries.brands(url)

    return {"overview": overview, "overview (filtered)": overview_filtered, "inbox": inbox,
            "competitors": competitors, "explorer": explorer, "sources": sources_page}


def measure(url: str, repeat: int) -> dict[str, dict[str, float]]:
    results = {}
    for name, work in page_workloads(url).items():
        times = []
        for _ in range(repeat):
            st.cache_data.clear()
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        results[name] = {"p50_s": round(statistics.median(times), 3), "p95_s": round(p95, 3)}
        print(f"  {name:22s} p50 {results[name]['p50_s']:.3f} s   p95 {p95:.3f} s", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None, help="where the SQLite file goes")
    parser.add_argument("--timezone", default="Europe/Paris",
                        help="count days in this zone (as `listening init` does with the setting)")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the stores seeded by a previous run (same --rows)")
    args = parser.parse_args()
    summary: dict[str, Any] = {"rows": args.rows, "repeat": args.repeat, "timezone": args.timezone,
                               "date": date.today().isoformat()}
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    workdir.mkdir(parents=True, exist_ok=True)
    for backend in args.backends.split(","):
        print(f"{backend}: seeding {args.rows:,} verbatims ...", flush=True)
        start = time.perf_counter()
        if args.reuse:
            store = Store(f"sqlite:///{workdir / 'bench.db'}" if backend == "sqlite"
                          else f"{PG_URL}?options=-csearch_path%3D{PG_SCHEMA}")
        elif backend == "sqlite":
            db = workdir / "bench.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            store = seed_sqlite(db, args.rows)
        elif backend == "postgresql":
            store = seed_postgresql(args.rows)
        else:
            parser.error(f"unknown backend {backend!r}; valid: sqlite, postgresql")
        store.set_time_zone(args.timezone)  # re-counts the rollups in local days
        seed_s = time.perf_counter() - start
        print(f"{backend}: seeded in {seed_s:.1f} s (days in {args.timezone}); page queries, cold cache, {args.repeat} runs:")
        pages = measure(store.url, args.repeat)
        worst = max(p["p95_s"] for p in pages.values())
        print(f"{backend}: worst page p95 {worst:.3f} s (target < 1 s): "
              f"{'OK' if worst < 1 else 'ABOVE TARGET'}")
        summary[backend] = {"seed_s": round(seed_s, 1), "pages": pages, "worst_p95_s": worst}
        store.dispose()
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
