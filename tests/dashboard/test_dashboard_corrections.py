"""AppTest of the correction form (Explorer, Inbox) and the "To review" page."""

from __future__ import annotations

from typing import Any

from dashboard_helpers import add_user, make_app, no_exception
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from listening.store import Analysis, Correction, Store


def _corrections(store: Store) -> list[Correction]:
    with store.session() as s:
        return list(s.scalars(select(Correction).order_by(Correction.id)))


def _save(at: AppTest) -> None:
    next(b for b in at.button if b.label == "Enregistrer la correction").click().run()


def test_dashboard_review_lists_uncertain_first_and_saves_a_correction(
    sqlite_store: Store, seeded: dict[str, Any]
) -> None:
    docs = seeded["documents"]
    with sqlite_store.session() as s:  # one verbatim with a topic only just above its threshold
        analysis = s.scalars(select(Analysis).where(Analysis.document_id == docs[7])).one()
        analysis.topics = [{**analysis.topics[0], "confidence": 0.35}]
    add_user(sqlite_store, "zoe", "community")
    at = make_app("review", user="zoe")
    no_exception(at)
    assert at.title[0].value == "À revoir"
    first = at.caption[1].value  # [0] is the explanation, then one caption per verbatim
    assert first.startswith(f"\\#{docs[7]}") or first.startswith(f"#{docs[7]}"), first
    key = f"rv_{docs[7]}"
    at.multiselect(key=f"co_topics_{key}").set_value(["delivery"])
    at.selectbox(key=f"co_sent_{key}").set_value("neutral")
    at.checkbox(key=f"co_na_{key}").check()
    assert not [i for i in at.text_input if i.key == f"co_actor_{key}"]  # no "your name" box
    _save(at)
    no_exception(at)
    (row,) = _corrections(sqlite_store)
    assert (row.document_id, row.actor, row.origin) == (docs[7], "zoe", "dashboard")
    assert (row.topics, row.sentiment, row.actionable, row.taxonomy) == (
        ["delivery"],
        "neutral",
        False,
        "journey",
    )
    # a corrected verbatim leaves the list
    at = make_app("review", user="zoe")
    assert not any(c.value.startswith((f"#{docs[7]} ", f"\\#{docs[7]} ")) for c in at.caption)


def test_dashboard_explorer_and_inbox_correction_forms(
    sqlite_store: Store, seeded: dict[str, Any]
) -> None:
    at = make_app("explorer")  # demo mode: recorded as "demo"
    no_exception(at)
    picked = at.selectbox(key="co_ex_pick").value
    key = f"ex_{picked}"
    _save(at)
    assert any("Rien n'a été changé" in w.value for w in at.warning)
    at.selectbox(key=f"co_intent_{key}").set_value("question")
    _save(at)
    no_exception(at)
    assert [(c.document_id, c.intent, c.topics, c.actor) for c in _corrections(sqlite_store)] == [
        (picked, "question", None, "demo")
    ]
    add_user(sqlite_store, "bob", "support")
    ticket = seeded["tickets"][0]
    at = make_app("inbox", user="bob", ticket=str(ticket))
    key = f"in_{ticket}"
    at.multiselect(key=f"co_topics_{key}").set_value(["delivery", "returns"])
    _save(at)
    no_exception(at)
    last = _corrections(sqlite_store)[-1]
    assert (last.actor, last.topics, last.origin) == ("bob", ["delivery", "returns"], "dashboard")
