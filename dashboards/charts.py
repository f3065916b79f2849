"""Altair charts of the dashboard (legible defaults: titles, readable axes, tooltips)."""

from __future__ import annotations

import io
import textwrap
from typing import Any

import altair as alt
import pandas as pd

SENTIMENT_COLORS = alt.Scale(
    domain=["negative", "neutral", "positive"], range=["#d62728", "#9e9e9e", "#2ca02c"]
)


def volume_chart(df: pd.DataFrame, split: str, labels: dict[str, str]) -> alt.Chart:
    """Stacked bars: verbatims per day, coloured by ``split`` (kind or brand)."""
    data = df.groupby(["day", split], as_index=False)["n"].sum()
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("day:T", title=labels["day"], axis=alt.Axis(format="%d/%m")),
            y=alt.Y("n:Q", title=labels["count"], stack=True),
            color=alt.Color(f"{split}:N", title=labels[split]),
            tooltip=[alt.Tooltip("day:T"), alt.Tooltip(f"{split}:N"), alt.Tooltip("n:Q")],
        )
        .properties(height=280)
    )


def net_trend_chart(df: pd.DataFrame, labels: dict[str, str]) -> alt.Chart:
    """Net sentiment per day and brand, in [-1, 1]."""
    data = df.groupby(["day", "brand"], as_index=False)[["positive", "negative", "n"]].sum()
    data["net"] = (data["positive"] - data["negative"]) / data["n"].where(data["n"] > 0)
    return (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title=labels["day"], axis=alt.Axis(format="%d/%m")),
            y=alt.Y("net:Q", title=labels["net"], scale=alt.Scale(domain=[-1, 1])),
            color=alt.Color("brand:N", title=labels["brand"]),
            tooltip=["day:T", "brand:N", alt.Tooltip("net:Q", format="+.2f"), "n:Q"],
        )
        .properties(height=260)
    )


def heatmap_chart(df: pd.DataFrame, labels: dict[str, str], order: list[str]) -> alt.LayerChart:
    """Topic × sentiment counts with the count written in each cell (``order``: x labels)."""
    base = alt.Chart(df).encode(
        x=alt.X("sentiment:N", title=labels["sentiment"], sort=order, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("topic:N", title=labels["topic"]),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("n:Q", title=labels["count"], scale=alt.Scale(scheme="orangered"),
                        legend=alt.Legend(format="d")),
        tooltip=["topic:N", "sentiment:N", "n:Q"],
    )
    text = base.mark_text(fontSize=13).encode(text="n:Q")
    return (cells + text).properties(height=300)


def wrap_label(label: str, width: int = 14) -> str:
    """A label cut into lines of about ``width`` characters (axis labels never overlap)."""
    return "\n".join(textwrap.wrap(label, width, break_long_words=False)) or label


def matrix_chart(df: pd.DataFrame, value: str, title: str, fmt: str) -> alt.LayerChart:
    """Brand × criterion heatmap of ``value`` with its label and count in each cell.

    ``df`` has ``topic_axis`` (the topic label, wrapped on lines), ``brand``, ``value``,
    ``n``, ``short`` (the cell text) and ``reliable`` (enough mentions): cells with too few
    mentions are grey, not coloured, and show only their count. Missing, they default to the
    topic itself and "every cell reliable".
    """
    if "topic_label" not in df:
        df = df.assign(topic_label=df["topic"])
    if "topic_axis" not in df:
        df = df.assign(topic_axis=[wrap_label(str(v)) for v in df["topic_label"]])
    if "reliable" not in df:
        df = df.assign(reliable=True)
    df = df[list(dict.fromkeys(["topic_axis", "topic_label", "brand", value, "n", "short", "label",
                                "reliable"]))]
    base = alt.Chart(df).encode(
        x=alt.X("topic_axis:N", title=None, sort=list(dict.fromkeys(df["topic_axis"])),
                axis=alt.Axis(labelAngle=0, orient="top", labelLimit=0, labelOverlap=False,
                              labelExpr="split(datum.label, '\\n')", labelPadding=6)),
        y=alt.Y("brand:N", title=None, axis=alt.Axis(labelLimit=200)),
    )
    scheme = alt.Scale(scheme="redyellowgreen", domain=[-1, 1]) if value == "net" else alt.Scale(
        scheme="blues")
    tooltip: list[Any] = ["brand:N", alt.Tooltip("topic_label:N", title="topic"),
               alt.Tooltip(f"{value}:Q", format=fmt), "n:Q", "label:N"]
    grey = base.mark_rect(color="#e6e6e6").encode(tooltip=tooltip)
    cells = base.mark_rect().encode(
        color=alt.Color(f"{value}:Q", title=title, scale=scheme), tooltip=tooltip,
    ).transform_filter("datum.reliable")
    text = base.mark_text(fontSize=12, lineBreak="\n").encode(
        text="short:N",
        color=alt.condition("datum.reliable", alt.value("black"), alt.value("#777777")),
    )
    return (grey + cells + text).properties(height=alt.Step(52), width=alt.Step(110), title=title)


def trend_chart(df: pd.DataFrame, labels: dict[str, str]) -> alt.LayerChart:
    """Weekly net sentiment per brand for one criterion; weeks with too few mentions
    (``reliable`` false) are grey hollow points, off the line; tooltips give the counts."""
    x = alt.X("week:T", title=labels["week"], axis=alt.Axis(format="%d/%m"))
    y = alt.Y("net:Q", title=labels["net"], scale=alt.Scale(domain=[-1, 1]))
    tooltip: list[Any] = ["week:T", "brand:N", alt.Tooltip("net:Q", format="+.2f"),
               alt.Tooltip("n:Q", title=labels["count"])]
    base = alt.Chart(df).encode(x=x, y=y, tooltip=tooltip)
    color = alt.Color("brand:N", title=labels["brand"])
    line = base.mark_line(point=True).encode(color=color).transform_filter("datum.reliable")
    low = base.mark_point(filled=False, color="#9e9e9e", size=40).transform_filter(
        "!datum.reliable")
    counts = base.mark_text(dy=-10, fontSize=10, color="#666666").encode(text="n:Q")
    return (line + low + counts).properties(height=280)


def png_available() -> bool:
    try:
        import vl_convert  # noqa: F401
    except ImportError:
        return False
    return True


def chart_png(chart: alt.TopLevelMixin) -> bytes | None:
    """PNG bytes of an altair chart through vl-convert (None when it is not installed)."""
    if not png_available():
        return None
    buffer = io.BytesIO()
    chart.save(buffer, format="png", scale_factor=2)
    return buffer.getvalue()
