"""Explorer: full-text search over verbatims with filters, highlighting and export."""

from __future__ import annotations

import re

import streamlit as st

from dashboards import corrections, queries, ui
from listening.export import csv_bytes

t = ui.t
url = ui.require_store()
f = ui.filter_sidebar(url)
st.title(t("page.explorer"))

query = st.text_input(t("ex.query"), value=st.query_params.get("q", ""), key="ex_q",
                      help=t("ex.help"), placeholder="livraison retard*")
if query.strip():
    st.query_params["q"] = query.strip()
elif "q" in st.query_params:
    del st.query_params["q"]

results = queries.search(url, query, f, limit=ui.settings().dashboard.page_size)
if results.empty:
    st.info(t("no_data") if queries.has_documents(url) else t("empty_store"))
    st.stop()
st.caption(t("ex.results", n=len(results)))
st.download_button(t("export_csv"), csv_bytes(ui.export_frame(results)),
                   "search.csv", "text/csv", key="ex_csv")


def term_spans(text: str, words: list[str]) -> list[dict[str, int]]:
    """Character spans of the searched words (accent- and case-insensitive prefix match)."""
    spans = []
    folded = ui.fold(text)
    for word in words:
        for match in re.finditer(r"\b" + re.escape(ui.fold(word)), folded):
            end = match.end()
            while end < len(folded) and folded[end].isalnum():
                end += 1
            spans.append({"start": match.start(), "end": end})
    return spans


words = [w.strip("*\"") for w in query.split() if w.strip("*\"")]
for row in results.itertuples():
    with st.container(border=True):
        st.caption(ui.escape_markdown(" · ".join(str(p) for p in (
            ui.fmt_dt(row.published_at), row.source, row.brand, row.language or "?",
            t(str(row.sentiment)) if row.sentiment else "—"))))
        if ui.has_text(row.title):
            st.markdown("**" + ui.escape_markdown(str(row.title)) + "**")
        if ui.has_text(row.routing) and row.routing not in ("ticketed", "attached", "reopened"):
            st.caption(ui.escape_markdown(ui.routing_note(str(row.routing), row.routing_reason)))
        text = str(row.text)
        marks = [{"topic": "search", "evidence": term_spans(text, words)}] if words else row.topics
        st.markdown(ui.highlighted_markdown(text, marks, max_chars=1500))
        if isinstance(row.url, str) and row.url.startswith(("http://", "https://")):
            st.link_button(t("open_source"), row.url, key=f"ex_lnk_{row.id}")

corrections.correct_results(url, results)
