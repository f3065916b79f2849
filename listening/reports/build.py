"""``build_report``: the figures of one period as plain data, read through listening.queries.

Every number comes from the shared read layer (:mod:`listening.queries.reads`) and the
competitor statistics from :mod:`listening.queries.stats`, so a report shows what the
dashboard shows for the same filters. Renderers (Markdown, HTML, PDF) only format a
:class:`Report`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from listening.errors import ReportError
from listening.queries import insights as insight_reads
from listening.queries import reads, stats
from listening.queries.sql import Filters
from listening.reports.period import Period, resolve_period
from listening.reports.verbatims import Vectoriser, excerpt, most_central
from listening.settings import Settings, get_settings
from listening.store import Store
from listening.store.timezone import day_start_utc
from listening.taxonomy import load_topics

CANDIDATES_PER_TOPIC = 100  # the newest verbatims of a topic among which the central one is chosen


@dataclass(frozen=True)
class Kpi:
    key: str
    value: float
    previous: float
    percent: bool = False  # net sentiment: shown ×100

    @property
    def change(self) -> float:
        return self.value - self.previous


@dataclass(frozen=True)
class TopicRow:
    topic: str
    label: str
    n: int
    positive: int
    negative: int
    previous_n: int
    net: float  # (positive - negative) / n, nan without mentions
    previous_net: float


@dataclass(frozen=True)
class Difference:
    brand: str
    topic: str
    label: str
    net: float
    reference_net: float
    n: int
    reference_n: int
    z: float

    @property
    def better(self) -> bool:
        return self.z > 0


@dataclass(frozen=True)
class Sla:
    teams: tuple[str, ...]
    opened: int
    closed: int
    breached: int
    median_first_response_hours: float | None
    answered: int


@dataclass(frozen=True)
class Theme:
    label: str
    size: int


@dataclass(frozen=True)
class Verbatim:
    document_id: int
    text: str
    truncated: bool
    published_at: datetime | None
    source: str
    brand: str
    topic: str
    topic_label: str
    sentiment: str | None
    url: str | None


@dataclass
class Report:
    brand: str | None  # None: every brand
    reference: str | None  # the brand competitors are compared with
    lang: str
    period: Period
    previous: Period
    generated_at: datetime
    kpis: list[Kpi] = field(default_factory=list)
    topics: list[TopicRow] = field(default_factory=list)
    competitors: list[Difference] = field(default_factory=list)
    sla: Sla | None = None
    themes: list[Theme] | None = None  # None: no themes table / nothing for the period
    verbatims: list[Verbatim] = field(default_factory=list)
    verbatim_method: str = "tfidf"
    teams: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.kpis or self.kpis[0].value == 0


def _url(store: Store | str) -> str:
    return store if isinstance(store, str) else store.url


def resolve_brand(
    url: str, brand: str | None
) -> tuple[int | None, str | None, int | None, str | None]:
    """(brand id, name, reference id, reference name); unknown names list the valid ones."""
    ref = reads.brands(url)
    names = [str(n) for n in ref["name"]]
    own = ref[ref["is_own"].astype(bool)]
    own_id = int(own.iloc[0]["id"]) if len(own) == 1 else None
    own_name = str(own.iloc[0]["name"]) if len(own) == 1 else None
    if brand is None or not brand.strip():
        return own_id, own_name, own_id, own_name
    wanted = brand.strip().casefold()
    for row in ref.itertuples():
        if str(row.name).casefold() == wanted:
            return int(row.id), str(row.name), int(row.id), str(row.name)
    if not names:
        raise ReportError(
            f"unknown brand {brand!r}: the store has no brands yet",
            "declare brands with `listening sources import` (docs/SOURCES.md), or omit --brand",
        )
    raise ReportError(
        f"unknown brand {brand!r}; valid brands: {', '.join(names)}",
        "pass one of them with --brand (quotes around names with spaces), or omit --brand",
    )


def _filters(p: Period, brand_id: int | None, **kw: Any) -> Filters:
    return Filters(start=p.start, end=p.end, brand_ids=(brand_id,) if brand_id else (), **kw)


def _utc(url: str, day: date) -> datetime:
    """Local midnight of ``day`` in the store's zone (its days are counted there), in UTC."""
    return day_start_utc(day, reads.time_zone(url))


def _kpis(url: str, p: Period, prev: Period, brand_id: int | None) -> list[Kpi]:
    cur, old = (
        reads.overview_kpis(url, _filters(p, brand_id)),
        reads.overview_kpis(url, _filters(prev, brand_id)),
    )

    def net(k: dict[str, int]) -> float:
        return (k["positive"] - k["negative"]) / k["analysed"] if k["analysed"] else math.nan

    out = [
        Kpi(key, cur[key], old[key]) for key in ("documents", "analysed", "positive", "negative")
    ]
    return [*out, Kpi("net", net(cur), net(old), percent=True)]


def _topic_table(url: str, p: Period, brand_id: int | None) -> pd.DataFrame:
    df = reads.topic_counts(url, _filters(p, brand_id))
    if df.empty:
        return pd.DataFrame(columns=["n", "positive", "negative"])
    out = df.pivot_table(
        index="topic", columns="sentiment", values="n", aggfunc="sum", fill_value=0
    )
    for col in ("positive", "neutral", "negative"):
        if col not in out:
            out[col] = 0
    out["n"] = out["positive"] + out["neutral"] + out["negative"]
    return out[["n", "positive", "negative"]]


def _topics(
    url: str, p: Period, prev: Period, brand_id: int | None, lang: str, settings: Settings
) -> list[TopicRow]:
    cur, old = _topic_table(url, p, brand_id), _topic_table(url, prev, brand_id)
    taxonomy = load_topics(settings.nlp.taxonomy or None)
    rows = []
    for topic in cur.index:
        n, pos, neg = (int(cur.loc[topic, c]) for c in ("n", "positive", "negative"))
        if topic in old.index:
            on, opos, oneg = (int(old.loc[topic, c]) for c in ("n", "positive", "negative"))
        else:
            on = opos = oneg = 0
        rows.append(
            TopicRow(
                topic=str(topic),
                label=taxonomy.label(str(topic), lang),
                n=n,
                positive=pos,
                negative=neg,
                previous_n=on,
                net=(pos - neg) / n if n else math.nan,
                previous_net=(opos - oneg) / on if on else math.nan,
            )
        )
    rows.sort(key=lambda r: (-r.n, r.topic))
    return rows[: settings.insights.report_top_topics]


def _competitors(
    url: str, p: Period, ref_id: int | None, lang: str, settings: Settings
) -> list[Difference]:
    if ref_id is None:
        return []
    matrix = reads.criterion_matrix(url, Filters(start=p.start, end=p.end))
    if matrix.empty:
        return []
    matrix["is_own"] = matrix["brand_id"].astype(int) == ref_id
    scored = stats.criterion_stats(matrix)
    reference = scored[scored["is_own"]].set_index("topic")
    taxonomy = load_topics(settings.nlp.taxonomy or None)
    out = [
        Difference(
            brand=str(r.brand),
            topic=str(r.topic),
            label=taxonomy.label(str(r.topic), lang),
            net=float(r.net),
            reference_net=float(reference.loc[r.topic, "net"]),
            n=int(r.n),
            reference_n=int(reference.loc[r.topic, "n"]),
            z=float(r.z_vs_own),
        )
        for r in scored[scored["flag"] != ""].itertuples()
    ]
    return sorted(out, key=lambda d: (-abs(d.z), d.brand, d.topic))


def sla_figures(url: str, p: Period, teams: tuple[str, ...], now: datetime) -> Sla:
    """Opened, closed, breached in the period, and the median time to first answer."""
    start, end = _utc(url, p.start), _utc(url, p.end + timedelta(days=1))
    df = insight_reads.ticket_period(url, start, end, teams)

    def within(col: str, upto: datetime = end) -> pd.Series:
        return df[col].notna() & (df[col] >= start) & (df[col] < upto)

    opened = within("created_at")
    responded = df[["first_response_at", "closed_at"]].min(axis=1)
    due = within("sla_due_at", min(end, now))
    breached = due & (responded.isna() | (responded > df["sla_due_at"]))
    waits = (
        df.loc[opened & df["first_response_at"].notna(), "first_response_at"]
        - df.loc[opened & df["first_response_at"].notna(), "created_at"]
    )
    hours = [w.total_seconds() / 3600 for w in waits]
    return Sla(
        teams=teams,
        opened=int(opened.sum()),
        closed=int(within("closed_at").sum()),
        breached=int(breached.sum()),
        answered=len(hours),
        median_first_response_hours=float(pd.Series(hours).median()) if hours else None,
    )


def _themes(url: str, p: Period, brand_id: int | None, settings: Settings) -> list[Theme] | None:
    limit = settings.insights.report_themes
    if not limit or not reads.has_table(url, "themes"):
        return None
    df = insight_reads.themes_for_period(
        url, _utc(url, p.start), _utc(url, p.end + timedelta(days=1)), limit, brand_id
    )
    return [Theme(str(r.label), int(r.size)) for r in df.itertuples()] or None


def _topic_sentiment(topics: Any, topic: str) -> str | None:
    if isinstance(topics, str):
        try:
            topics = json.loads(topics)
        except ValueError:
            return None
    for item in topics or []:
        if isinstance(item, dict) and item.get("topic") == topic:
            return item.get("sentiment")
    return None


def _verbatims(
    url: str, p: Period, brand_id: int | None, topics: list[TopicRow], settings: Settings
) -> tuple[list[Verbatim], str]:
    wanted = settings.insights.report_verbatims
    if not wanted or not topics:
        return [], "tfidf" if settings.insights.report_centrality == "tfidf" else "embeddings"
    vectoriser = Vectoriser(settings)
    ranked: list[tuple[TopicRow, pd.DataFrame, list[int]]] = []
    for row in topics[:wanted]:  # round-robin over topics: later ones would never be reached
        df = reads.topic_verbatims(
            url, _filters(p, brand_id, topics=(row.topic,)), limit=CANDIDATES_PER_TOPIC
        )
        df = df[df["text"].fillna("").str.strip() != ""].reset_index(drop=True)
        if not df.empty:
            ranked.append((row, df, most_central([str(x) for x in df["text"]], vectoriser)))
    chosen: list[Verbatim] = []
    seen: set[int] = set()
    seen_texts: set[str] = set()  # the same words posted twice are quoted once
    depth = 0
    while len(chosen) < wanted and any(depth < len(order) for _, _, order in ranked):
        for row, df, order in ranked:
            if len(chosen) >= wanted or depth >= len(order):
                continue
            r = df.iloc[order[depth]]
            key = " ".join(str(r["text"]).split()).casefold()
            if int(r["id"]) in seen or key in seen_texts:
                continue
            seen.add(int(r["id"]))
            seen_texts.add(key)
            text, cut = excerpt(str(r["text"]), settings.insights.report_verbatim_max_chars)
            published = pd.to_datetime(
                r["published_at"], utc=True, format="ISO8601", errors="coerce"
            )
            chosen.append(
                Verbatim(
                    document_id=int(r["id"]),
                    text=text,
                    truncated=cut,
                    published_at=None if pd.isna(published) else published.to_pydatetime(),
                    source=str(r["source"]),
                    brand=str(r["brand"]),
                    topic=row.topic,
                    topic_label=row.label,
                    sentiment=_topic_sentiment(r["topics"], row.topic) or r["sentiment"] or None,
                    url=str(r["url"]) if r["url"] else None,
                )
            )
        depth += 1
    return chosen, vectoriser.method


def build_report(
    store: Store | str,
    period: str | Period = "week",
    brand: str | None = None,
    lang: str | None = None,
    since: str | date | None = None,
    until: str | date | None = None,
    teams: tuple[str, ...] = (),
    now: datetime | None = None,
    settings: Settings | None = None,
    allow_empty: bool = False,
) -> Report:
    """The report of ``period`` for ``brand`` (default: the own brand) in ``lang``.

    A period without any verbatim raises :class:`ReportError` saying which dates hold
    data, unless ``allow_empty`` (the digests then skip the period).
    """
    settings = settings or get_settings()
    url = _url(store)
    now = now or datetime.now(UTC)
    lang = lang or settings.insights.report_language
    if lang not in ("fr", "en"):
        raise ReportError(f"unknown language {lang!r}", "valid languages: fr, en")
    problem = reads.schema_problem(url)
    if problem:
        raise ReportError(f"the store is not ready: {problem}", "run `listening init` first")
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    p = period if isinstance(period, Period) else resolve_period(period, today, since, until)
    prev = p.previous()
    brand_id, brand_name, ref_id, ref_name = resolve_brand(url, brand)
    report = Report(
        brand=brand_name,
        reference=ref_name,
        lang=lang,
        period=p,
        previous=prev,
        generated_at=now,
        teams=teams,
    )
    report.kpis = _kpis(url, p, prev, brand_id)
    if report.empty and not allow_empty:
        cov = reads.coverage(url, Filters(start=p.start, end=p.end))
        first = date.fromordinal(cov["first_day"]).isoformat() if cov["first_day"] else None
        where = f" for {brand_name}" if brand_name else ""
        hint = (
            f"the store's verbatims start on {first}: choose dates from then with --since/--until, "
            "or a longer --period month"
            if first
            else "collect verbatims first (`listening collect`)"
        )
        raise ReportError(
            f"no verbatim published between {p.start.isoformat()} and {p.end.isoformat()}{where}",
            hint,
        )
    report.topics = _topics(url, p, prev, brand_id, lang, settings)
    report.competitors = _competitors(url, p, ref_id, lang, settings)
    report.sla = sla_figures(url, p, teams, now)
    report.themes = _themes(url, p, brand_id, settings)
    report.verbatims, report.verbatim_method = _verbatims(url, p, brand_id, report.topics, settings)
    return report
