"""Sources page: propose adapting the sentiment head to the store's star ratings (point 4 of
issue 12). Measured on click, applied on a second click, never silently (nlp/rating_proposal.py)."""

from __future__ import annotations

import streamlit as st

from dashboards import queries, ui
from listening import accounts
from listening.errors import ListeningError

t = ui.t


def ratings_notice(url: str) -> None:
    """A notice when enough rated reviews are stored, a button to measure, one to apply."""
    from nlp.rating_proposal import apply, propose, rated_count

    settings = ui.settings()
    n = rated_count(queries.read_store(url))
    if n < settings.nlp.calibration_min_ratings or not ui.can("sources"):
        return
    st.subheader(t("ca.title"))
    proposal = st.session_state.get("ca_proposal")
    if proposal is None or proposal.get("rated") != n:
        st.info(t("ca.notice", n=n))
        if st.button(t("ca.measure"), key="ca_measure"):
            with st.spinner(t("ca.measuring")):
                try:
                    st.session_state["ca_proposal"] = propose(settings, queries.read_store(url))
                except ListeningError as exc:
                    st.error(str(exc))
                    return
            st.rerun()
        return
    before, after = proposal["before"], proposal["after"]
    text = t(
        "ca.result",
        n=n,
        before=f"{before['accuracy']:.3f}",
        after=f"{after['accuracy']:.3f}",
        f1_before=f"{before['macro_f1']:.3f}",
        f1_after=f"{after['macro_f1']:.3f}",
        held=proposal["held_out"],
    )
    if not proposal["helps"]:
        st.warning(text + " " + t("ca.worse"))
        return
    st.info(text)
    if st.button(t("ca.apply"), key="ca_apply"):
        with st.spinner(t("ca.measuring")):
            try:
                with queries.read_store(url).session() as session:
                    accounts.authorize(session, ui.actor(), "sources")  # checked again server-side
                done = apply(settings, queries.write_store(url))
            except ListeningError as exc:
                st.error(str(exc))
                return
        st.session_state.pop("ca_proposal", None)
        if done["saved"]:
            st.success(t("ca.applied", path=done["path"]))
        else:
            st.warning(t("ca.worse"))
