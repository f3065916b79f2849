"""Emerging themes: clusters of recent verbatims outside the taxonomy (`listening themes`),
with their words, representative verbatims and figures; admins promote one into a topic."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import insights, queries, ui
from listening.errors import ListeningError

t = ui.t
url = ui.require_store()
st.title(t("page.themes"))
st.caption(t("th.help"))
for kind, message in st.session_state.pop("th_flash", []):
    (st.success if kind == "ok" else st.error)(message)

brand_names = [str(n) for n in queries.brands(url)["name"]]
brand = st.selectbox(
    t("brand"), [""] + brand_names, key="th_brand", format_func=lambda n: n or t("th.all_brands")
)
themes = insights.latest_themes(url, brand or None)
if not themes:
    st.info(t("th.none"))
    st.stop()

first = themes[0]
st.caption(
    t("th.period", start=ui.fmt_dt(first["period_start"]), end=ui.fmt_dt(first["period_end"]))
)
st.dataframe(
    pd.DataFrame(
        {
            "#": [th["id"] for th in themes],
            t("th.theme"): [th["label"] for th in themes],
            t("th.volume"): [th["size"] for th in themes],
            t("th.previous"): [th["previous_count"] for th in themes],
            t("th.growth"): [th["growth"] for th in themes],
            t("th.net"): [th["net_sentiment"] for th in themes],
            t("th.promoted"): [th["promoted_topic"] or "" for th in themes],
        }
    ),
    hide_index=True,
    width="stretch",
)

admin = ui.can("taxonomy")
for th in themes:
    with st.expander(f"#{th['id']} {th['label']} — {th['size']}", expanded=th is first):
        cols = st.columns(4)
        cols[0].metric(t("th.volume"), th["size"])
        cols[1].metric(t("th.previous"), th["previous_count"])
        cols[2].metric(t("th.growth"), f"×{th['growth']:.1f}")
        net = th["net_sentiment"]
        cols[3].metric(t("th.net"), "—" if net is None else f"{net:+.2f}")
        st.markdown(f"**{t('th.words')}** : " + ", ".join(th["terms"]))
        st.markdown(f"**{t('th.examples')}**")
        for v in th["verbatims"]:
            st.markdown(f"> {' '.join(v['text'].split())[:400]}")
        st.caption(
            f"{t('brands')} : "
            + ", ".join(f"{k} ({v})" for k, v in th["brands"].items())
            + f" · {t('th.sources')} : "
            + ", ".join(f"{k} ({v})" for k, v in th["sources"].items())
        )
        if th["promoted_topic"]:
            st.caption(t("th.already", topic=th["promoted_topic"]))
        elif admin:
            with st.form(f"th_promote_{th['id']}"):
                topic = st.text_input(t("th.topic_id"), key=f"th_topic_{th['id']}")
                label = st.text_input(
                    t("th.topic_label"),
                    value=th["label"].split(" · ")[0],
                    key=f"th_label_{th['id']}",
                )
                if st.form_submit_button(t("th.promote")):
                    try:
                        result = insights.promote(
                            url, int(th["id"]), topic.strip(), label, ui.actor()
                        )
                    except ListeningError as exc:
                        st.session_state["th_flash"] = [("error", str(exc))]
                    else:
                        st.session_state["th_flash"] = [
                            (
                                "ok",
                                t(
                                    "th.promoted_ok",
                                    topic=result["topic"],
                                    n=result["examples"],
                                    path=result["taxonomy"],
                                    next=result["next"],
                                ),
                            )
                        ]
                    st.rerun()
