"""Altair charts of the dashboard (legible defaults: titles, readable axes, tooltips)."""

from __future__ import annotations

import io

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


def matrix_chart(df: pd.DataFrame, value: str, title: str, fmt: str) -> alt.LayerChart:
    """Brand × criterion heatmap of ``value`` with its label in each cell."""
    base = alt.Chart(df).encode(
        x=alt.X("topic:N", title=None,
                axis=alt.Axis(labelAngle=0, labelLimit=120, orient="top", labelOverlap=False)),
        y=alt.Y("brand:N", title=None, axis=alt.Axis(labelLimit=200)),
    )
    scheme = alt.Scale(scheme="redyellowgreen", domain=[-1, 1]) if value == "net" else alt.Scale(
        scheme="blues")
    cells = base.mark_rect().encode(
        color=alt.Color(f"{value}:Q", title=title, scale=scheme),
        tooltip=["brand:N", "topic:N", alt.Tooltip(f"{value}:Q", format=fmt), "n:Q", "label:N"],
    )
    text = base.mark_text(fontSize=13).encode(text="short:N")
    return (cells + text).properties(height=alt.Step(48), width=alt.Step(125), title=title)


def trend_chart(df: pd.DataFrame, labels: dict[str, str]) -> alt.Chart:
    """Weekly net sentiment per brand for one criterion."""
    return (
        alt.Chart(df)
        .mark_line(point=True)
        .encode(
            x=alt.X("week:T", title=labels["week"], axis=alt.Axis(format="%d/%m")),
            y=alt.Y("net:Q", title=labels["net"], scale=alt.Scale(domain=[-1, 1])),
            color=alt.Color("brand:N", title=labels["brand"]),
            tooltip=["week:T", "brand:N", alt.Tooltip("net:Q", format="+.2f"), "n:Q"],
        )
        .properties(height=260)
    )


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
