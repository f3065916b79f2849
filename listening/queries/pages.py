"""Keyset pages and grouped aggregates for readers that page through the store (the API).

A page of verbatims is ordered by (published_at, id) descending; the next page starts
strictly after the last row's pair, so pages stay stable while new verbatims arrive
(no OFFSET drift) and each page is one index range scan on ``document_facts``.
Undated verbatims are never paged (they have no place in that order).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import pandas as pd
from sqlalchemy import text

from listening.queries import reads
from listening.queries.sql import Filters, facts_where, text_match
from listening.queries.stats import net_ci

GroupBy = Literal["topic", "brand", "day"]
AGGREGATE_COLUMNS = [
    "key",
    "positive",
    "neutral",
    "negative",
    "analysed",
    "n",
    "net",
    "net_low",
    "net_high",
]


def verbatims_page(
    url: str, f: Filters, limit: int, after: tuple[datetime, int] | None = None, query: str = ""
) -> pd.DataFrame:
    """Up to ``limit`` verbatims within ``f`` (and matching ``query``), newest first.

    ``after`` is the (published_at, id) of the last row of the previous page.
    """
    w = facts_where(reads._zoned(url, f))
    w.add("f.published_at IS NOT NULL")
    text_match(reads.read_store(url).dialect, w, query)
    if after is not None:
        w.add(
            "(f.published_at < :c_at OR (f.published_at = :c_at AND f.document_id < :c_id))",
            c_at=after[0],
            c_id=int(after[1]),
        )
    return reads._verbatims_for(
        url,
        "SELECT f.document_id FROM document_facts AS f WHERE {where} "
        "ORDER BY f.published_at DESC, f.document_id DESC LIMIT :lim",
        w,
        lim=limit,
    )


def date_range(url: str) -> tuple[date, date] | None:
    """First and last day (UTC) holding a dated verbatim (None: no dated verbatim)."""
    df = reads._frame(
        url,
        text(
            "SELECT min(published_at) AS first, max(published_at) AS last FROM document_facts "
            "WHERE published_at IS NOT NULL"
        ),
        {},
    )
    first = pd.to_datetime(df["first"].iloc[0], utc=True, format="ISO8601", errors="coerce")
    last = pd.to_datetime(df["last"].iloc[0], utc=True, format="ISO8601", errors="coerce")
    if pd.isna(first) or pd.isna(last):
        return None
    return first.date(), last.date()


def aggregates(url: str, f: Filters, by: GroupBy) -> pd.DataFrame:
    """Mentions per topic (topic-level sentiment), or verbatims per brand or local day
    (document sentiment), with net sentiment ``(pos - neg) / analysed`` and its 95% CI."""
    if by == "topic":
        df = reads.topic_counts(url, f).rename(columns={"topic": "key"})
    else:
        df = reads.document_counts(url, f).rename(columns={by: "key"})
    if df.empty:
        return pd.DataFrame(columns=AGGREGATE_COLUMNS)
    df = df.assign(sentiment=df["sentiment"].fillna("none"))
    out = df.pivot_table(index="key", columns="sentiment", values="n", aggfunc="sum", fill_value=0)
    for col in ("positive", "neutral", "negative", "none"):
        if col not in out:
            out[col] = 0
    out = out.reset_index()
    out["analysed"] = out["positive"] + out["neutral"] + out["negative"]
    out["n"] = out["analysed"] + out["none"]
    cis = [
        net_ci(p, ng, a)
        for p, ng, a in zip(out["positive"], out["negative"], out["analysed"], strict=True)
    ]
    out["net"], out["net_low"], out["net_high"] = zip(*cis, strict=True)
    order = ["key"] if by == "day" else ["n", "key"]
    out = out.sort_values(order, ascending=by == "day" or [False, True])
    return out[AGGREGATE_COLUMNS].reset_index(drop=True)
