"""Report charts: Altair specifications rendered to PNG by vl-convert (no browser, offline).

The same charting library as the dashboard; vl-convert embeds the Vega renderer and its
fonts, so the PNG looks the same on every machine.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from listening.reports.build import Report
from listening.reports.i18n import t

WIDTH = 520
SCALE = 2  # pixels per CSS pixel: sharp when printed


def _png(chart: alt.TopLevelMixin) -> bytes:
    import vl_convert as vlc

    return bytes(vlc.vegalite_to_png(chart.to_dict(), scale=SCALE))


def topics_chart(report: Report) -> bytes | None:
    """Mentions per topic in the period and the previous one (grouped horizontal bars)."""
    if not report.topics:
        return None
    lang = report.lang
    cur, prev = t("chart.current", lang), t("chart.previous", lang)
    rows = []
    for r in report.topics:
        rows += [
            {"topic": r.label, "when": cur, "n": r.n},
            {"topic": r.label, "when": prev, "n": r.previous_n},
        ]
    df = pd.DataFrame(rows)
    order = [r.label for r in report.topics]
    chart = (
        alt.Chart(df, title=t("topics_chart", lang), width=WIDTH)
        .mark_bar()
        .encode(
            y=alt.Y("topic:N", sort=order, title=None),
            yOffset=alt.YOffset("when:N", sort=[cur, prev]),
            x=alt.X("n:Q", title=t("col.mentions", lang)),
            color=alt.Color(
                "when:N",
                sort=[cur, prev],
                title=None,
                scale=alt.Scale(range=["#1f5fa8", "#b8c7da"]),
                legend=alt.Legend(orient="bottom"),
            ),
        )
        .configure_view(stroke=None)
        .properties(background="white")
    )
    return _png(chart)


def net_chart(report: Report) -> bytes | None:
    """Net sentiment (−100..+100) per topic, green above zero, red below."""
    rows = [{"topic": r.label, "net": round(r.net * 100)} for r in report.topics if r.n]
    if not rows:
        return None
    order = [r.label for r in report.topics]
    chart = (
        alt.Chart(pd.DataFrame(rows), title=t("col.net", report.lang), width=WIDTH)
        .mark_bar()
        .encode(
            y=alt.Y("topic:N", sort=order, title=None),
            x=alt.X("net:Q", title=None, scale=alt.Scale(domain=[-100, 100])),
            color=alt.condition(alt.datum.net >= 0, alt.value("#2e8b57"), alt.value("#c0392b")),
        )
        .configure_view(stroke=None)
        .properties(background="white")
    )
    return _png(chart)


def charts(report: Report) -> list[bytes]:
    return [png for png in (topics_chart(report), net_chart(report)) if png]
