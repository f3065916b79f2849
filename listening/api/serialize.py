"""The JSON shapes of the API (pydantic models, so /openapi.json documents them) and the
conversion of the read layer's rows into them."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from pydantic import BaseModel, Field

from listening.taxonomy import TopicSet


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable error code (L011: refused by the API).")
    message: str = Field(description="What was wrong.")
    hint: str = Field(description="What to do.")


class ErrorBody(BaseModel):
    error: ErrorDetail


class Evidence(BaseModel):
    start: int | None = None
    end: int | None = None
    text: str | None = None


class TopicOut(BaseModel):
    topic: str = Field(description="Topic id of the active taxonomy.")
    label: str = Field(description="The topic's label in the asked language.")
    sentiment: str | None = Field(description="Sentiment about this topic.")
    confidence: float | None = Field(description="Calibrated confidence of the topic (0-1).")
    sentiment_confidence: float | None = None
    evidence: list[Evidence] = Field(default_factory=list, description="Spans of the text.")


class AnalysisOut(BaseModel):
    sentiment: str | None = Field(description="Document sentiment: negative, neutral, positive.")
    sentiment_score: float | None = Field(description="-1 (negative) to 1 (positive).")
    intent: str | None = None
    topics: list[TopicOut] = Field(default_factory=list)


class VerbatimOut(BaseModel):
    id: int
    published_at: datetime | None
    source: str
    kind: str
    brand: str | None
    language: str | None
    title: str | None
    text: str
    url: str | None
    rating: float | None
    analysis: AnalysisOut | None = Field(description="Latest analysis; null when not analysed.")


class VerbatimPage(BaseModel):
    items: list[VerbatimOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")


class AggregateRow(BaseModel):
    key: str = Field(description="The topic id, brand name or local day (YYYY-MM-DD).")
    label: str | None = Field(default=None, description="Topic label (by=topic).")
    positive: int
    neutral: int
    negative: int
    analysed: int
    n: int = Field(description="All verbatims (or topic mentions), analysed or not.")
    net: float | None = Field(description="(positive - negative) / analysed, -1 to 1.")
    net_low: float | None = Field(description="Lower bound of the 95% interval of net.")
    net_high: float | None = Field(description="Upper bound of the 95% interval of net.")


class Aggregates(BaseModel):
    by: str
    since: str
    until: str
    items: list[AggregateRow]


class TicketOut(BaseModel):
    id: int
    priority: str
    status: str
    sla: str = Field(description="breached, at_risk, on_time, none or done.")
    team: str
    assignee: str | None
    sla_due_at: datetime | None
    created_at: datetime | None
    source: str
    title: str | None
    text: str


class AlertOut(BaseModel):
    brand: str
    topic: str
    label: str
    kind: str
    opened_at: datetime | None
    last_seen_at: datetime | None
    recent_count: int
    baseline: float
    score: float


class Health(BaseModel):
    status: str
    version: str
    store: str = Field(description="ok, or what is wrong with the store.")


def _none(value: Any) -> Any:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    return value


def _when(value: Any) -> datetime | None:
    value = _none(value)
    if value is None:
        return None
    ts = pd.Timestamp(value)
    return (ts.tz_localize(UTC) if ts.tzinfo is None else ts.tz_convert(UTC)).to_pydatetime()


def _float(value: Any) -> float | None:
    value = _none(value)
    return None if value is None or not math.isfinite(float(value)) else float(value)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def topics_out(raw: Any, topics: TopicSet, lang: str) -> list[TopicOut]:
    out = []
    for item in _json(raw) or []:
        if not isinstance(item, dict) or not item.get("topic"):
            continue
        topic = str(item["topic"])
        evidence = [
            Evidence(**{k: e.get(k) for k in ("start", "end", "text")})
            for e in item.get("evidence") or []
            if isinstance(e, dict)
        ]
        out.append(
            TopicOut(
                topic=topic,
                label=topics.label(topic, lang),
                sentiment=item.get("sentiment"),
                confidence=_float(item.get("confidence")),
                sentiment_confidence=_float(item.get("sentiment_confidence")),
                evidence=evidence,
            )
        )
    return out


def verbatims_out(df: pd.DataFrame, topics: TopicSet, lang: str) -> list[VerbatimOut]:
    items = []
    for r in df.to_dict("records"):
        analysed = _none(r.get("sentiment")) is not None
        items.append(
            VerbatimOut(
                id=int(r["id"]),
                published_at=_when(r["published_at"]),
                source=str(r["source"]),
                kind=str(r["kind"]),
                brand=None if r["brand"] == "-" else str(r["brand"]),
                language=_none(r["language"]),
                title=_none(r["title"]),
                text=str(r["text"]),
                url=_none(r["url"]),
                rating=_float(r["rating"]),
                analysis=AnalysisOut(
                    sentiment=r["sentiment"],
                    sentiment_score=_float(r.get("sentiment_score")),
                    intent=_none(r["intent"]),
                    topics=topics_out(r["topics"], topics, lang),
                )
                if analysed
                else None,
            )
        )
    return items


def aggregates_out(df: pd.DataFrame, by: str, topics: TopicSet, lang: str) -> list[AggregateRow]:
    return [
        AggregateRow(
            key=str(r["key"]),
            label=topics.label(str(r["key"]), lang) if by == "topic" else None,
            positive=int(r["positive"]),
            neutral=int(r["neutral"]),
            negative=int(r["negative"]),
            analysed=int(r["analysed"]),
            n=int(r["n"]),
            net=_float(r["net"]),
            net_low=_float(r["net_low"]),
            net_high=_float(r["net_high"]),
        )
        for r in df.to_dict("records")
    ]


def tickets_out(df: pd.DataFrame) -> list[TicketOut]:
    return [
        TicketOut(
            id=int(r["id"]),
            priority=str(r["priority"]),
            status=str(r["status"]),
            sla=str(r["sla"]),
            team=str(r["team"]),
            assignee=_none(r["assignee"]),
            sla_due_at=_when(r["sla_due_at"]),
            created_at=_when(r["created_at"]),
            source=str(r["source"]),
            title=_none(r["title"]),
            text=str(r["text"]),
        )
        for r in df.to_dict("records")
    ]


def alerts_out(df: pd.DataFrame, topics: TopicSet, lang: str) -> list[AlertOut]:
    return [
        AlertOut(
            brand=str(r["brand"]),
            topic=str(r["topic"]),
            label=topics.label(str(r["topic"]), lang),
            kind=str(r["kind"]),
            opened_at=_when(r["opened_at"]),
            last_seen_at=_when(r.get("last_seen_at")),
            recent_count=int(r["recent_count"]),
            baseline=float(r["baseline"]),
            score=float(r["score"]),
        )
        for r in df.to_dict("records")
    ]
