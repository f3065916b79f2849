"""Competitors (marketers): brand × journey criterion, significant differences, trends, drill-down."""

from __future__ import annotations

import dataclasses

import streamlit as st

from dashboards import charts, queries, ui
from listening.export import csv_bytes
from listening.queries import stats
from listening.queries.sql import SENTIMENTS

t = ui.t
url = ui.require_store()
f = ui.filter_sidebar(url, show=("brand", "kind", "source", "lang", "topic"))
st.title(t("page.competitors"))

matrix = stats.criterion_stats(queries.criterion_matrix(url, f))
if matrix.empty:
    st.info(t("co.no_brands") if queries.has_documents(url) else t("empty_store"))
    st.stop()

metrics = {"net": t("co.net"), "sov": t("co.sov"), "n": t("co.volume")}
metric = st.radio(t("co.metric"), list(metrics), format_func=metrics.get, horizontal=True,
                  key="co_metric")
min_volume = ui.settings().dashboard.min_volume  # fewer mentions: grey cell, count only


def cell_label(row: object) -> str:
    r = row  # a namedtuple row of the stats frame
    if r.n < min_volume:  # type: ignore[attr-defined]
        return f"n={r.n} < {min_volume}"  # type: ignore[attr-defined]
    if metric == "n":
        return f"n={r.n}"  # type: ignore[attr-defined]
    return f"{cell_value(r)} · n={r.n}"  # type: ignore[attr-defined]


def cell_value(row: object) -> str:
    r = row
    if metric == "net":
        return f"{r.net:+.2f} [{r.net_low:+.2f}, {r.net_high:+.2f}] {r.flag}".strip()  # type: ignore[attr-defined]
    return f"{r.sov:.0%} [{r.sov_low:.0%}, {r.sov_high:.0%}]"  # type: ignore[attr-defined]


def cell_short(row: object) -> str:
    r = row
    count = f"n={r.n}"  # type: ignore[attr-defined]
    if r.n < min_volume or metric == "n":  # type: ignore[attr-defined]
        return count
    if metric == "net":
        return f"{r.net:+.2f}{r.flag}\n{count}"  # type: ignore[attr-defined]
    return f"{r.sov:.0%}\n{count}"  # type: ignore[attr-defined]


matrix["label"] = [cell_label(r) for r in matrix.itertuples()]
matrix["short"] = [cell_short(r) for r in matrix.itertuples()]
matrix["reliable"] = matrix["n"] >= min_volume
matrix["topic_label"] = [ui.topic_name(x) for x in matrix["topic"]]
matrix["topic_axis"] = [charts.wrap_label(x) for x in matrix["topic_label"]]
order = {topic: i for i, topic in enumerate(ui.taxonomy().ids)}
matrix = matrix.sort_values(["topic"], key=lambda col: col.map(lambda v: order.get(v, len(order))))
own_names = ", ".join(sorted(matrix.loc[matrix["is_own"], "brand"].unique())) or "—"
st.subheader(t("co.matrix"))
if metric == "net":
    st.caption(t("co.sig_help", own=own_names, min_n=stats.MIN_N))
st.caption(t("co.low_volume", n=min_volume))
chart = charts.matrix_chart(matrix, metric, metrics[metric], "+.2f" if metric == "net" else ".2f")
st.altair_chart(chart, width="stretch")
table = matrix.pivot_table(index="brand", columns="topic_label", values="label", aggfunc="first",
                           sort=False).fillna("—")
table = table.rename_axis(index=t("brand"), columns=t("topic"))
st.dataframe(table, width="stretch")

export = matrix.drop(columns=["label", "short", "topic_axis"]).sort_values(["topic", "brand"])
left, right = st.columns(2)
left.download_button(t("export_csv"), csv_bytes(export), "competitors.csv",
                     "text/csv", key="co_csv")
if charts.png_available():
    right.download_button(t("export_png"), lambda: charts.chart_png(chart) or b"", "competitors.png",
                          "image/png", key="co_png")

# ------------------------------------------------------------------------- trend
st.subheader(t("co.trend"))
topics = [x for x in ui.taxonomy().ids if x in set(matrix["topic"])] or sorted(matrix["topic"].unique())
criterion = st.selectbox(t("topic"), topics, key="co_topic", format_func=ui.topic_name)
trend = queries.criterion_trend(url, dataclasses.replace(f, topics=(criterion,)))
if trend.empty:
    st.info(t("no_data"))
else:
    trend = trend.assign(net=(trend["positive"] - trend["negative"]) / trend["n"],
                         reliable=trend["n"] >= min_volume).drop(columns=["topic"])
    st.altair_chart(charts.trend_chart(trend, {"week": t("week"), "net": t("co.net"),
                                               "brand": t("brand"), "count": t("mentions")}),
                    width="stretch")
    st.caption(t("co.trend_low", n=min_volume))

# -------------------------------------------------------------------- drill-down
st.subheader(t("co.drill"))
brand_ids = {str(r.brand): int(r.brand_id) for r in matrix.itertuples()}
c1, c2, c3 = st.columns(3)
brand = c1.selectbox(t("brand"), sorted(brand_ids), key="co_drill_brand")
topic = c2.selectbox(t("topic"), topics, key="co_drill_topic", format_func=ui.topic_name)
sentiment = c3.selectbox(t("sentiment"), ["", *SENTIMENTS], key="co_drill_sent",
                         format_func=lambda s: t(s) if s else t("all"))
drill = queries.topic_verbatims(url, dataclasses.replace(
    f, brand_ids=(brand_ids[brand],), topics=(topic,), sentiments=(sentiment,) if sentiment else ()),
    limit=ui.settings().dashboard.page_size)
if drill.empty:
    st.info(t("no_data"))
else:
    st.download_button(t("export_csv"), csv_bytes(ui.export_frame(drill)),
                       "verbatims.csv", "text/csv", key="co_drill_csv")
    ui.verbatim_table(drill, key="co")
