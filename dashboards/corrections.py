"""Corrections in the dashboard: the compact correction form (Explorer, Inbox, To review)
and the "verbatims to review" list. Writes go through listening/corrections.py."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboards import queries, ui
from listening import accounts
from listening.errors import ListeningError

t = ui.t
SENTIMENT_CHOICES = ("", "negative", "neutral", "positive")
INTENT_CHOICES = ("", "complaint", "question", "praise", "suggestion", "other")


@st.cache_resource(show_spinner=False)
def taxonomy(path: str) -> Any:
    """The taxonomy the corrections are checked against (``nlp.taxonomy``; empty: journey)."""
    from listening.corrections import TaxonomyRef
    from nlp.taxonomy import load_taxonomy

    tax = load_taxonomy(path or None)
    return TaxonomyRef(tax.name, tuple(tax.labels))


def topic_names(topics: Any) -> list[str]:
    return [
        str(item["topic"])
        for item in ui.as_json(topics) or []
        if isinstance(item, dict) and item.get("topic")
    ]


def save(
    url: str,
    document_id: int,
    current: list[str],
    topics: list[str],
    sentiment: str,
    intent: str,
    not_actionable: bool,
    actor: str,
) -> int:
    """Record one correction (only the fields that were changed); returns its id."""
    from listening.corrections import CorrectionIn, record_correction

    changed = sorted(set(topics)) != sorted(set(current))
    item = CorrectionIn(
        actor=actor,
        document_id=document_id,
        topics=sorted(topics) if changed else None,
        sentiment=sentiment or None,
        intent=intent or None,
        actionable=False if not_actionable else None,
        origin="dashboard",
    )
    store = queries.write_store(url)
    with store.session() as session:
        accounts.authorize(session, actor, "label")
        row = record_correction(session, item, taxonomy(ui.settings().nlp.taxonomy))
        row_id = row.id
    queries.clear_caches()
    return row_id


def correction_form(url: str, document_id: int, current: list[str], key: str) -> None:
    """Topics (multiselect from the taxonomy), sentiment, intent, not actionable; saved in
    the signed-in user's name."""
    labels = list(taxonomy(ui.settings().nlp.taxonomy).labels)
    with st.form(f"co_form_{key}"):
        topics = st.multiselect(
            t("topic"), labels, default=[c for c in current if c in labels],
            key=f"co_topics_{key}", format_func=ui.topic_name,
        )
        cols = st.columns(3)
        sentiment = cols[0].selectbox(
            t("sentiment"),
            SENTIMENT_CHOICES,
            key=f"co_sent_{key}",
            format_func=lambda v: t(v) if v else "—",
        )
        intent = cols[1].selectbox(
            t("in.intent"), INTENT_CHOICES, key=f"co_intent_{key}", format_func=lambda v: v or "—"
        )
        not_actionable = cols[2].checkbox(t("co.not_actionable"), key=f"co_na_{key}")
        submitted = st.form_submit_button(t("co.save"))
    if not submitted:
        return
    if sorted(topics) == sorted(current) and not (sentiment or intent or not_actionable):
        st.warning(t("co.nothing"))
        return
    try:
        row_id = save(
            url, document_id, current, topics, sentiment, intent, not_actionable, ui.actor()
        )
    except ListeningError as exc:
        st.error(str(exc))
    else:
        st.success(t("co.saved", id=row_id, doc=document_id))


def correct_results(url: str, results: pd.DataFrame) -> None:
    """Explorer hook: pick one of the listed verbatims and correct it."""
    if results.empty or not ui.can("label"):
        return
    with st.expander(t("co.title")):
        ids = [int(i) for i in results["id"]]
        texts = {int(r.id): str(r.text)[:80] for r in results.itertuples()}
        picked = st.selectbox(
            t("co.pick"), ids, format_func=lambda i: f"#{i} {texts.get(i, '')}", key="co_ex_pick"
        )
        if picked is not None:
            row = results.loc[results["id"] == picked].iloc[0]
            correction_form(url, int(picked), topic_names(row["topics"]), key=f"ex_{picked}")


def review_rows(url: str, limit: int) -> list[dict[str, Any]]:
    from listening.corrections import review_queue

    with queries.read_store(url).session() as session:
        return review_queue(session, limit)


def review_section(url: str) -> None:
    """The "verbatims to review" list: most uncertain recent analyses first, each correctable."""
    st.caption(t("co.review_help"))
    rows = review_rows(url, ui.settings().dashboard.page_size)
    if not rows:
        st.info(t("co.review_empty"))
        return
    for r in rows:
        with st.container(border=True):
            st.caption(
                ui.escape_markdown(
                    " · ".join(
                        [
                            f"#{r['document_id']}",
                            ui.fmt_dt(r["published_at"]),
                            f"{t('co.priority')} {r['priority']:.2f}",
                            t(str(r["sentiment"])),
                            ", ".join(ui.topic_name(x) for x in r["topics"]) or "—",
                            str(r["intent"]),
                        ]
                    )
                )
            )
            st.markdown(ui.escape_markdown(" ".join(str(r["text"]).split())[:600]))
            if ui.can("label"):
                with st.expander(t("co.title")):
                    correction_form(
                        url, int(r["document_id"]), list(r["topics"]), key=f"rv_{r['document_id']}"
                    )
