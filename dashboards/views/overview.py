"""Overview (community managers): volume, net sentiment, topics, spikes, latest verbatims."""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from dashboards import charts, queries, ui

t = ui.t
url = ui.require_store()
f = ui.filter_sidebar(url)
st.title(t("page.overview"))

kpis = queries.overview_kpis(url, f)
if kpis["documents"] == 0:
    st.info(t("no_data") if queries.has_documents(url) else t("empty_store"))
    st.stop()

analysed = kpis["analysed"]
net = (kpis["positive"] - kpis["negative"]) / analysed if analysed else 0.0
cols = st.columns(4)
cols[0].metric(t("kpi.documents"), f"{kpis['documents']:,}".replace(",", "\u202f"))
cols[1].metric(t("kpi.analysed"), f"{analysed:,}".replace(",", "\u202f"))
cols[2].metric(t("kpi.net"), f"{net:+.2f}" if analysed else "—")
cols[3].metric(t("kpi.negative"), f"{kpis['negative'] / analysed:.0%}" if analysed else "—")

labels = {"day": t("day"), "count": t("count"), "kind": t("kind"), "brand": t("brand"),
          "net": t("kpi.net"), "sentiment": t("sentiment"), "topic": t("topic")}

left, right = st.columns(2)
with left:
    st.subheader(t("ov.volume"))
    split = st.radio(t("ov.by"), ["kind", "brand"], format_func=lambda v: labels[v],
                     horizontal=True, key="ov_split")
    volume = queries.volume_by_day(url, f)
    volume = volume.assign(kind=[ui.kind_name(v) for v in volume["kind"]])
    st.altair_chart(charts.volume_chart(volume, split, labels), width="stretch")
with right:
    st.subheader(t("ov.net_trend"))
    sentiment = queries.sentiment_by_day(url, f)
    if sentiment.empty:
        st.info(t("no_data"))
    else:
        st.altair_chart(charts.net_trend_chart(sentiment, labels), width="stretch")

brands = queries.brands(url)
own = brands[brands["is_own"].astype(bool)]
left, right = st.columns(2)
with left:
    own_name = ", ".join(own["name"]) if not own.empty else t("all")
    st.subheader(t("ov.heatmap", brand=own_name))
    if own.empty:
        st.caption(t("ov.no_own"))
    own_filters = dataclasses.replace(f, brand_ids=tuple(int(i) for i in own["id"]))
    heat = queries.topic_sentiment(url, own_filters)
    if heat.empty:
        st.info(t("no_data"))
    else:
        heat = heat.assign(sentiment=[t(str(v)) for v in heat["sentiment"]],
                           topic=[ui.topic_name(v) for v in heat["topic"]])
        order = [t(v) for v in ("negative", "neutral", "positive")]
        st.altair_chart(charts.heatmap_chart(heat, labels, order), width="stretch")
with right:
    st.subheader(t("ov.spikes"))
    alerts = queries.open_alerts(url)
    if not alerts.empty:
        st.caption(t("ov.alerts"))
        st.dataframe(pd.DataFrame({
            t("brand"): alerts["brand"], t("topic"): [ui.topic_name(v) for v in alerts["topic"]],
            t("alert.kind"): [ui.label_value("alert", v) for v in alerts["kind"]],
            t("alert.opened_at"): [ui.fmt_dt(v) for v in alerts["opened_at"]],
            t("alert.recent_count"): alerts["recent_count"], t("alert.baseline"): alerts["baseline"],
            t("alert.score"): alerts["score"],
        }), hide_index=True, column_config={
            t("alert.baseline"): st.column_config.NumberColumn(format="%.1f"),
            t("alert.score"): st.column_config.NumberColumn(format="%.1f")})
    spikes = queries.topic_spikes(url, f)
    rising = spikes[(spikes["z"] >= 2) & (spikes["recent"] >= 5)] if not spikes.empty else spikes
    st.caption(t("ov.spikes_help", days=7, base=28))
    if rising.empty:
        st.success(t("ov.no_spike"))
    else:
        rising = rising.assign(topic=[ui.topic_name(v) for v in rising["topic"]])
        st.dataframe(
            rising[["topic", "recent", "expected", "recent_negative", "z"]].rename(
                columns={"topic": t("topic"), "recent": t("recent"), "expected": t("expected"),
                         "recent_negative": t("recent_negative")}),
            hide_index=True,
            column_config={t("expected"): st.column_config.NumberColumn(format="%.1f"),
                           "z": st.column_config.NumberColumn(format="%.1f")},
        )

st.subheader(t("ov.latest"))
st.caption(t("ov.list_help"))
latest = queries.latest_verbatims(url, f, limit=ui.settings().dashboard.page_size)
ui.verbatim_table(latest, key="ov")
