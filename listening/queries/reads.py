"""The read side of the store: SQL aggregates and lists, shared by every reader.

The dashboard (cached per TTL in :mod:`dashboards.queries`), reports and any other
reader call these. Every function takes the database URL first and returns plain data
(DataFrames, dicts); the engine is one read-only :class:`Store` per URL. Filters are
bound parameters (see :mod:`listening.queries.sql`). No Streamlit here.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import event, inspect, text

from listening.queries.sql import (
    LATEST_ANALYSIS,
    OPEN_STATUSES,
    Filters,
    Where,
    day_expr,
    facts_where,
    fts5_query,
    rollup_where,
    text_match,
    topic_rollup_usable,
    topic_where,
)
from listening.settings import get_settings
from listening.store import Store
from listening.store.timezone import local_date


@functools.lru_cache(maxsize=8)
def read_store(database_url: str) -> Store:
    """The read-only store every read page uses (one engine per URL)."""
    settings = get_settings().model_copy(update={"database_url": database_url})
    store = Store.from_settings(settings, read_only=True)
    if store.dialect == "sqlite":
        event.listen(store.engine, "connect", _sqlite_read_tuning)
    return store


def _sqlite_read_tuning(dbapi_conn: Any, _record: Any) -> None:
    """Bigger page cache, memory-mapped reads and in-memory sorts for the aggregates."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA cache_size = -65536")  # 64 MiB
    cur.execute("PRAGMA mmap_size = 1073741824")  # 1 GiB of address space, not memory
    cur.execute("PRAGMA temp_store = MEMORY")
    cur.close()


@functools.lru_cache(maxsize=8)
def write_store(database_url: str) -> Store:
    """A read-write store, for the Inbox and Sources actions only."""
    settings = get_settings().model_copy(update={"database_url": database_url})
    return Store.from_settings(settings)


def _frame(url: str, stmt: Any, params: dict[str, Any]) -> pd.DataFrame:
    with read_store(url).engine.connect() as conn:
        result = conn.execute(stmt, params)
        # plain tuples: pandas probes each Row for namedtuple fields (20x slower on 25k rows)
        return pd.DataFrame([tuple(row) for row in result], columns=list(result.keys()))


def _dialect(url: str) -> str:
    return read_store(url).dialect


Counts = Callable[[str, Filters], pd.DataFrame]
"""Where a derived read gets its counts (``document_counts`` or ``topic_counts`` by default;
the dashboard passes its cached ones, so one page runs each aggregate once)."""


def time_zone(url: str) -> str:
    """The zone the store counts its days in (``listening init`` applies the setting)."""
    return read_store(url).time_zone()


def _zoned(url: str, f: Filters) -> Filters:
    """``f`` with its days in the store's zone (the rollups count days there)."""
    zone = time_zone(url)
    return f if f.zone == zone else dataclasses.replace(f, zone=zone)



# ----------------------------------------------------------------- reference lists
def schema_problem(url: str) -> str | None:
    """None when the store is ready, else a message saying what to do."""
    from listening.errors import ListeningError

    try:
        read_store(url).check_schema()
    except ListeningError as exc:
        return str(exc)
    return None


def brands(url: str) -> pd.DataFrame:
    return _frame(url, text("SELECT id, name, is_own FROM brands ORDER BY is_own DESC, name"), {})


def sources(url: str) -> pd.DataFrame:
    return _frame(url, text("SELECT id, name, kind FROM sources ORDER BY name"), {})


def has_documents(url: str) -> bool:
    """Whether the store holds any verbatim at all (to tell "empty store" from "no match")."""
    return not _frame(url, text("SELECT id FROM documents LIMIT 1"), {}).empty


def has_table(url: str, name: str) -> bool:
    with read_store(url).engine.connect() as conn:
        return bool(inspect(conn).has_table(name))


# ------------------------------------------------------------------------ overview
def document_counts(url: str, f: Filters) -> pd.DataFrame:
    """Verbatims per local day (the store's zone), source, brand and latest sentiment.

    Read from the ``daily_documents`` rollup (a few rows per day), or, with a topic
    filter, from one scan of ``document_facts``' index. Columns: day (``YYYY-MM-DD``),
    source_id, kind, brand, sentiment (None when not analysed), n. The KPIs, the volume
    chart and the sentiment trend all derive from it.
    """
    f = _zoned(url, f)
    if f.topics:
        day = day_expr(_dialect(url), "f.published_at")
        stmt, params = facts_where(f).statement(
            f"SELECT {day} AS day, f.source_id AS source_id, coalesce(f.brand_id, 0) AS brand_id, "
            "coalesce(f.sentiment, '') AS sentiment, count(*) AS n FROM document_facts AS f "
            "WHERE {where} GROUP BY 1, 2, 3, 4"
        )
    else:
        stmt, params = rollup_where(f, "r").statement(
            "SELECT r.day AS day, r.source_id AS source_id, r.brand_id AS brand_id, "
            "r.sentiment AS sentiment, sum(r.n) AS n FROM daily_documents AS r WHERE {where} "
            "GROUP BY 1, 2, 3, 4 HAVING sum(r.n) <> 0"
        )
    df = _frame(url, stmt, params)
    kinds = {int(r.id): str(r.kind) for r in sources(url).itertuples()}
    names = {int(r.id): str(r.name) for r in brands(url).itertuples()}
    df["day"] = [str(v)[:10] for v in df["day"]]
    df["kind"] = [kinds.get(int(v), "?") for v in df["source_id"]]
    df["brand"] = [names.get(int(v), "-") for v in df["brand_id"]]
    df["sentiment"] = [v or None for v in df["sentiment"]]
    df["n"] = df["n"].astype(int)
    return df


def coverage(url: str, f: Filters) -> dict[str, int]:
    """How many verbatims the store holds, how many the filters show, how many are undated."""
    f = _zoned(url, f)
    stmt, params = facts_where(f).statement(
        "SELECT (SELECT count(*) FROM document_facts) AS total, "
        "(SELECT count(*) FROM document_facts AS f WHERE {where}) AS shown, "
        "(SELECT count(*) FROM document_facts WHERE published_at IS NULL) AS undated, "
        "(SELECT min(published_at) FROM document_facts) AS first"
    )
    row = _frame(url, stmt, params).iloc[0]
    first = pd.to_datetime(row["first"], utc=True, format="ISO8601", errors="coerce")
    return {
        "total": int(row["total"]),
        "shown": int(row["shown"]),
        "undated": int(row["undated"]),
        "first_day": 0 if pd.isna(first) else local_date(first.to_pydatetime(), f.zone).toordinal(),
    }


def overview_kpis(url: str, f: Filters, counts: Counts | None = None) -> dict[str, int]:
    df = (counts or document_counts)(url, f)
    analysed = df[df["sentiment"].notna()]
    return {
        "documents": int(df["n"].sum()),
        "analysed": int(analysed["n"].sum()),
        "positive": int(analysed.loc[analysed["sentiment"] == "positive", "n"].sum()),
        "negative": int(analysed.loc[analysed["sentiment"] == "negative", "n"].sum()),
    }


def volume_by_day(url: str, f: Filters, counts: Counts | None = None) -> pd.DataFrame:
    """Verbatims per local day, source kind and brand."""
    df = (counts or document_counts)(url, f)
    return df.groupby(["day", "kind", "brand"], as_index=False)["n"].sum().sort_values("day")


def sentiment_by_day(url: str, f: Filters, counts: Counts | None = None) -> pd.DataFrame:
    """Positive / neutral / negative verbatims per local day and brand (latest analysis)."""
    df = (counts or document_counts)(url, f)
    df = df[df["sentiment"].isin(["positive", "neutral", "negative"])]
    out = df.pivot_table(index=["day", "brand"], columns="sentiment", values="n", aggfunc="sum",
                         fill_value=0).reset_index()
    for col in ("positive", "neutral", "negative"):
        if col not in out:
            out[col] = 0
    out["n"] = out["positive"] + out["neutral"] + out["negative"]
    return out[["day", "brand", "positive", "neutral", "negative", "n"]].sort_values("day")


def topic_counts(url: str, f: Filters) -> pd.DataFrame:
    """Topic mentions per local day, brand (0: none), topic and topic-level sentiment.

    From the ``daily_topics`` rollup, or from ``analysis_topics`` when a source, kind or
    language filter needs the documents. The heatmap, the competitor matrix and trend
    and the spikes all derive from it.
    """
    f = _zoned(url, f)
    if topic_rollup_usable(f):
        stmt, params = rollup_where(f, "r", topics=True).statement(
            "SELECT r.day AS day, r.brand_id AS brand_id, r.topic AS topic, "
            "r.sentiment AS sentiment, sum(r.n) AS n FROM daily_topics AS r WHERE {where} "
            "GROUP BY 1, 2, 3, 4 HAVING sum(r.n) <> 0"
        )
    else:
        day = day_expr(_dialect(url), "t.published_at")
        stmt, params = topic_where(f).statement(
            f"SELECT {day} AS day, coalesce(t.brand_id, 0) AS brand_id, t.topic AS topic, "
            "coalesce(t.sentiment, '') AS sentiment, count(*) AS n FROM analysis_topics AS t "
            "WHERE {where} GROUP BY 1, 2, 3, 4"
        )
    df = _frame(url, stmt, params)
    df["day"] = [str(v)[:10] for v in df["day"]]
    df["sentiment"] = [v if v in ("positive", "negative") else "neutral" for v in df["sentiment"]]
    df["brand_id"] = df["brand_id"].astype(int)
    df["n"] = df["n"].astype(int)
    return df


def topic_sentiment(url: str, f: Filters, counts: Counts | None = None) -> pd.DataFrame:
    """Topic × topic-level sentiment counts."""
    df = (counts or topic_counts)(url, f)
    return df.groupby(["topic", "sentiment"], as_index=False)["n"].sum()


def _by_sentiment(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = df.pivot_table(index=keys, columns="sentiment", values="n", aggfunc="sum",
                         fill_value=0).reset_index()
    for col in ("positive", "neutral", "negative"):
        if col not in out:
            out[col] = 0
    out["n"] = out["positive"] + out["neutral"] + out["negative"]
    return out


def open_alerts(url: str, limit: int = 20) -> pd.DataFrame:
    """Spike incidents written by the routing stage (empty when it has not run)."""
    if not has_table(url, "alerts"):
        return pd.DataFrame(columns=["brand", "topic", "kind", "opened_at", "recent_count",
                                     "baseline", "score"])
    stmt = text(
        "SELECT coalesce(b.name, '-') AS brand, al.topic, al.kind, al.opened_at, al.last_seen_at, "
        "al.recent_count, al.baseline, al.score FROM alerts AS al "
        "LEFT JOIN brands AS b ON b.id = al.brand_id WHERE al.status = 'open' "
        "ORDER BY al.score DESC LIMIT :lim"
    )
    return _frame(url, stmt, {"lim": limit})


def topic_spikes(
    url: str, f: Filters, recent_days: int = 7, baseline_days: int = 28,
    counts: Counts | None = None,
) -> pd.DataFrame:
    """Per topic: mentions in the last ``recent_days`` of the range vs the ``baseline_days`` before.

    ``expected`` is the baseline rate scaled to the recent window; ``z`` is the Poisson
    score (recent - expected) / sqrt(expected + 1). The caller keeps the rising ones.
    """
    recent_start = f.end - timedelta(days=recent_days - 1)
    base_start = recent_start - timedelta(days=baseline_days)
    df = (counts or topic_counts)(url, dataclasses.replace(f, start=base_start))
    if df.empty:
        return pd.DataFrame(columns=["topic", "recent", "baseline", "recent_negative",
                                     "expected", "z"])
    recent = df["day"] >= recent_start.isoformat()
    out = pd.DataFrame({
        "recent": df[recent].groupby("topic")["n"].sum(),
        "baseline": df[~recent].groupby("topic")["n"].sum(),
        "recent_negative": df[recent & (df["sentiment"] == "negative")].groupby("topic")["n"].sum(),
    }).fillna(0).astype(int).reset_index(names="topic")
    out["expected"] = out["baseline"] * recent_days / baseline_days
    out["z"] = (out["recent"] - out["expected"]) / (out["expected"] + 1) ** 0.5
    return out.sort_values("z", ascending=False).reset_index(drop=True)


_VERBATIM_COLUMNS = (
    "d.id AS id, d.published_at AS published_at, s.name AS source, s.kind AS kind, "
    "coalesce(b.name, '-') AS brand, d.language AS language, d.title AS title, d.text AS text, "
    "d.url AS url, d.rating AS rating, a.sentiment AS sentiment, a.intent AS intent, "
    "a.sentiment_score AS sentiment_score, a.topics AS topics, rd.outcome AS routing, "
    "rd.reason AS routing_reason"
)


def _verbatims_for(url: str, pick_sql: str, w: Where, **extra: Any) -> pd.DataFrame:
    """Full verbatim rows for the document ids chosen by ``pick_sql`` (a bounded subquery)."""
    stmt, params = w.statement(
        f"SELECT {_VERBATIM_COLUMNS} FROM ({pick_sql}) AS pick "
        "JOIN documents AS d ON d.id = pick.document_id JOIN sources AS s ON s.id = d.source_id "
        "LEFT JOIN brands AS b ON b.id = d.brand_id "
        f"LEFT JOIN analyses AS a ON {LATEST_ANALYSIS} AND a.error IS NULL "
        "LEFT JOIN routing_decisions AS rd ON rd.document_id = d.id "
        "WHERE d.erased_at IS NULL "  # privacy tombstones are counted, never listed
        "ORDER BY d.published_at DESC, d.id DESC",
        **extra,
    )
    df = _frame(url, stmt, params)
    return df.drop_duplicates("id").reset_index(drop=True)


def latest_verbatims(url: str, f: Filters, limit: int = 50, offset: int = 0) -> pd.DataFrame:
    """The newest verbatims within the filters (picked on document_facts' index)."""
    f = _zoned(url, f)
    return _verbatims_for(
        url,
        "SELECT f.document_id FROM document_facts AS f WHERE {where} "
        "ORDER BY f.published_at DESC, f.document_id DESC LIMIT :lim OFFSET :off",
        facts_where(f), lim=limit, off=offset,
    )


# --------------------------------------------------------------------- competitors
def criterion_matrix(url: str, f: Filters, counts: Counts | None = None) -> pd.DataFrame:
    """Per brand × topic: positive / neutral / negative mentions (topic-level sentiment)."""
    df = (counts or topic_counts)(url, f)
    df = df[df["brand_id"] != 0]
    columns = ["brand_id", "brand", "is_own", "topic", "positive", "neutral", "negative", "n"]
    if df.empty:
        return pd.DataFrame(columns=columns)
    out = _by_sentiment(df, ["brand_id", "topic"])
    ref = brands(url).rename(columns={"id": "brand_id", "name": "brand"})
    out = out.merge(ref, on="brand_id")
    out["is_own"] = out["is_own"].astype(bool)
    return out[columns]


def criterion_trend(url: str, f: Filters, counts: Counts | None = None) -> pd.DataFrame:
    """Per week (Monday, UTC) × brand × topic: positive / negative / all mentions."""
    df = (counts or topic_counts)(url, f)
    df = df[df["brand_id"] != 0]
    if df.empty:
        return pd.DataFrame(columns=["week", "brand", "topic", "positive", "negative", "n"])
    days = pd.to_datetime(df["day"])
    df = df.assign(week=(days - pd.to_timedelta(days.dt.day_of_week, unit="D")).dt.strftime("%Y-%m-%d"))
    out = _by_sentiment(df, ["week", "brand_id", "topic"])
    names = {int(r.id): str(r.name) for r in brands(url).itertuples()}
    out["brand"] = [names.get(int(v), "-") for v in out["brand_id"]]
    return out[["week", "brand", "topic", "positive", "negative", "n"]].sort_values("week")


def topic_verbatims(url: str, f: Filters, limit: int = 50) -> pd.DataFrame:
    """Verbatims behind a brand × topic (× topic sentiment) cell, newest first."""
    f = _zoned(url, f)
    return _verbatims_for(
        url,
        "SELECT t.document_id FROM analysis_topics AS t WHERE {where} "
        "ORDER BY t.published_at DESC, t.document_id DESC LIMIT :lim",
        topic_where(f), lim=limit,
    )


# ------------------------------------------------------------------------ explorer
def search(url: str, query: str, f: Filters, limit: int = 50) -> pd.DataFrame:
    """Full-text search (every word must match) with the filters; newest first."""
    f = _zoned(url, f)
    query = query.strip()
    w = facts_where(f)
    if not text_match(_dialect(url), w, query):
        return latest_verbatims(url, f, limit)
    return _verbatims_for(
        url,
        "SELECT f.document_id FROM document_facts AS f WHERE {where} "
        "ORDER BY f.published_at DESC, f.document_id DESC LIMIT :lim",
        w, lim=limit,
    )


# --------------------------------------------------------------------------- inbox
def _sla_case() -> str:
    return (
        "CASE WHEN tk.status NOT IN ('new', 'assigned') THEN 'done' "
        "WHEN tk.sla_due_at IS NULL THEN 'none' WHEN tk.sla_due_at < :now THEN 'breached' "
        "WHEN tk.sla_due_at < :soon THEN 'at_risk' ELSE 'on_time' END"
    )


def _ticket_where(teams: tuple[str, ...], priorities: tuple[str, ...], statuses: tuple[str, ...],
                  now: datetime, warn_hours: float) -> Where:
    w = Where()
    w.add("1 = 1", now=now, soon=now + timedelta(hours=warn_hours))
    if teams:
        w.add("tk.team IN :teams", teams=teams)
    if priorities:
        w.add("tk.priority IN :prios", prios=priorities)
    if statuses:
        w.add("tk.status IN :stats", stats=statuses)
    return w


def ticket_summary(url: str, teams: tuple[str, ...], priorities: tuple[str, ...],
                   statuses: tuple[str, ...], now: datetime, warn_hours: float) -> pd.DataFrame:
    """Tickets per team, priority, status and SLA state."""
    sla = _sla_case()
    stmt, params = _ticket_where(teams, priorities, statuses, now, warn_hours).statement(
        f"SELECT tk.team AS team, tk.priority AS priority, tk.status AS status, {sla} AS sla, "
        f"count(*) AS n FROM tickets AS tk WHERE {{where}} GROUP BY tk.team, tk.priority, "
        f"tk.status, {sla}"
    )
    return _frame(url, stmt, params)


def ticket_list(url: str, teams: tuple[str, ...], priorities: tuple[str, ...],
                statuses: tuple[str, ...], now: datetime, warn_hours: float,
                limit: int = 50) -> pd.DataFrame:
    """Tickets, most urgent first (priority, then SLA due date)."""
    stmt, params = _ticket_where(teams, priorities, statuses, now, warn_hours).statement(
        f"SELECT tk.id AS id, tk.priority AS priority, tk.status AS status, {_sla_case()} AS sla, "
        "tk.team AS team, tk.assignee AS assignee, tk.sla_due_at AS sla_due_at, "
        "tk.created_at AS created_at, s.name AS source, d.title AS title, d.text AS text "
        "FROM tickets AS tk JOIN documents AS d ON d.id = tk.document_id "
        "JOIN sources AS s ON s.id = d.source_id WHERE d.erased_at IS NULL AND {where} "
        "ORDER BY tk.priority, CASE WHEN tk.sla_due_at IS NULL THEN 1 ELSE 0 END, tk.sla_due_at, "
        "tk.id LIMIT :lim",
        lim=limit,
    )
    return _frame(url, stmt, params)


def ticket_reply_actions(url: str, ticket_ids: tuple[int, ...]) -> dict[int, list[str]]:
    """The public-reply events (queued, posted, link, collected) of each listed ticket, in order."""
    if not ticket_ids:
        return {}
    from sqlalchemy import bindparam

    stmt = text(
        "SELECT ticket_id, action FROM ticket_events WHERE ticket_id IN :ids "
        "AND action IN ('reply_queued', 'reply_posted', 'reply_link', 'reply_collected') ORDER BY id"
    ).bindparams(bindparam("ids", expanding=True))
    out: dict[int, list[str]] = {}
    for row in _frame(url, stmt, {"ids": list(ticket_ids)}).itertuples():
        out.setdefault(int(row.ticket_id), []).append(str(row.action))
    return out


def ticket_teams(url: str) -> list[str]:
    df = _frame(url, text("SELECT DISTINCT team FROM tickets ORDER BY team"), {})
    return [str(t) for t in df["team"]]


def ticket_detail(url: str, ticket_id: int) -> dict[str, Any] | None:
    """A ticket with its verbatim, source, latest analysis, thread context and history."""
    rows = _frame(url, text(
        "SELECT tk.id, tk.team, tk.priority, tk.status, tk.assignee, tk.rule, tk.tags, "
        "tk.sla_due_at, tk.created_at, tk.updated_at, d.id AS document_id, d.title, d.text, "
        "d.url, d.thread_id, d.source_id, d.published_at, d.language, d.author, "
        "s.name AS source, s.kind AS kind, coalesce(b.name, '-') AS brand, a.sentiment, a.intent, "
        "a.topics, a.urgency, a.actionable FROM tickets AS tk "
        "JOIN documents AS d ON d.id = tk.document_id JOIN sources AS s ON s.id = d.source_id "
        "LEFT JOIN brands AS b ON b.id = d.brand_id "
        f"LEFT JOIN analyses AS a ON {LATEST_ANALYSIS} AND a.error IS NULL WHERE tk.id = :tid"
    ), {"tid": ticket_id})
    if rows.empty:
        return None
    detail: dict[str, Any] = rows.iloc[0].to_dict()
    detail["events"] = _frame(url, text(
        "SELECT at, actor, action, details FROM ticket_events WHERE ticket_id = :tid ORDER BY id"
    ), {"tid": ticket_id})
    thread = pd.DataFrame(columns=["id", "published_at", "author", "title", "text", "url"])
    if detail.get("thread_id"):
        thread = _frame(url, text(
            "SELECT id, published_at, author, title, text, url FROM documents "
            "WHERE source_id = :sid AND thread_id = :th AND id <> :did "
            "ORDER BY published_at, id LIMIT 50"
        ), {"sid": int(detail["source_id"]), "th": detail["thread_id"],
            "did": int(detail["document_id"])})
    detail["thread"] = thread
    return detail


# ------------------------------------------------------------------------- sources
def source_health(url: str) -> pd.DataFrame:
    """Every source with its schedule, health, verbatim count and last run."""
    df = _frame(url, text(
        "SELECT s.id, s.name, s.kind, s.url, coalesce(b.name, '') AS brand, s.enabled, "
        "s.schedule_minutes, s.last_run_at, s.last_success_at, s.next_run_at, s.blocked, "
        "s.blocked_reason, s.last_error, s.updated_by, s.updated_at, "
        "(SELECT count(*) FROM documents AS d WHERE d.source_id = s.id) AS items "
        "FROM sources AS s LEFT JOIN brands AS b ON b.id = s.brand_id ORDER BY s.name"
    ), {})
    runs = _frame(url, text(
        "SELECT r.source_id, r.status AS last_status, r.new AS last_new, r.failed AS last_failed, "
        "r.errors AS last_errors, r.duration_s AS last_duration_s FROM runs AS r "
        "WHERE r.id = (SELECT max(r2.id) FROM runs AS r2 WHERE r2.source_id = r.source_id)"
    ), {})
    if df.empty:
        return df
    return df.merge(runs, how="left", left_on="id", right_on="source_id").drop(columns="source_id")


def work_queues(url: str) -> dict[str, Any]:
    """Pending work, throughput and dead-lettered tasks per queue (listening.workers.status)."""
    from listening.workers.status import store_status

    return store_status(read_store(url))


def now_utc() -> datetime:
    """Now, truncated to the minute so cached ticket queries are reused within a minute."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


__all__ = ["OPEN_STATUSES", "Filters", "fts5_query", "now_utc"]
