"""AppTest of every dashboard action: the store changes as expected (and only then)."""

from __future__ import annotations

from typing import Any

from dashboard_helpers import add_user, make_app, no_exception
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from listening.store import Source, Store, Ticket, TicketEvent


def _actors(store: Store, ticket_id: int) -> list[str]:
    with store.session() as s:
        return list(s.scalars(select(TicketEvent.actor).where(
            TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)))


def _ticket(store: Store, ticket_id: int) -> tuple[str, str | None, list[str]]:
    with store.session() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None
        actions = list(s.scalars(select(TicketEvent.action).where(
            TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)))
        return ticket.status, ticket.assignee, actions


def _submit(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click().run()


def _messages(at: AppTest) -> str:
    return "\n".join([s.value for s in at.success] + [e.value for e in at.error])


def test_dashboard_inbox_assign_single(sqlite_store: Store, seeded: dict[str, Any]) -> None:
    add_user(sqlite_store, "bob", "support")
    add_user(sqlite_store, "carla", "support")
    add_user(sqlite_store, "mia", "marketing")  # does not handle tickets: not offered
    first = seeded["tickets"][0]
    at = make_app("inbox", user="bob", ticket=str(first))
    assert at.selectbox(key="in_assignee").options == ["bob", "carla"]  # active users, no free text
    assert not [i for i in at.text_input if i.label == "Votre nom (journal)"]
    at.selectbox(key="in_assignee").set_value("carla")
    _submit(at, "Assigner")
    no_exception(at)
    assert _ticket(sqlite_store, first) == ("assigned", "carla", ["created", "assigned"])
    assert _actors(sqlite_store, first) == ["routing", "bob"]  # the signed-in user
    assert "Assigner : 1 ticket(s) mis à jour." in _messages(at)


def test_dashboard_inbox_answer_then_refused_answer(sqlite_store: Store, seeded: dict[str, Any]) -> None:
    second = seeded["tickets"][1]
    at = make_app("inbox", ticket=str(second))  # demo mode: acts as "demo"
    at.text_area(key="in_note").set_value("Rappelé, remboursement en cours")
    _submit(at, "Répondre")
    no_exception(at)
    assert _ticket(sqlite_store, second)[0] == "answered"
    with sqlite_store.session() as s:
        details = s.scalars(select(TicketEvent.details).where(
            TicketEvent.ticket_id == second, TicketEvent.action == "answered")).one()
    assert details["note"] == "Rappelé, remboursement en cours"
    assert _actors(sqlite_store, second)[-1] == "demo"
    # answering again is an invalid transition: an error, nothing written
    at.text_area(key="in_note").set_value("encore")
    _submit(at, "Répondre")
    no_exception(at)
    assert f"Ticket #{second}" in _messages(at) and "L006" in _messages(at)
    assert _ticket(sqlite_store, second)[2].count("answered") == 1


def test_dashboard_inbox_assign_requires_assignee(sqlite_store: Store, seeded: dict[str, Any]) -> None:
    first = seeded["tickets"][0]
    at = make_app("inbox", ticket=str(first))
    assert at.selectbox(key="in_assignee").options == ["demo"]  # demo mode: no account yet
    _submit(at, "Assigner")
    assert "Choisissez à qui assigner." in _messages(at)
    assert _ticket(sqlite_store, first)[0] == "new"


def test_dashboard_inbox_bulk_close_and_ignore(sqlite_store: Store, seeded: dict[str, Any]) -> None:
    t1, t2, t3, _closed = seeded["tickets"]
    add_user(sqlite_store, "bob", "admin")
    at = make_app("inbox", user="bob")
    at.multiselect(key="in_bulk_ids").set_value([t1, t2])
    at.selectbox(key="in_bulk_action").set_value("close")
    at.text_input(key="in_bulk_text").set_value("traité par téléphone")
    _submit(at, "Appliquer")
    no_exception(at)
    assert _ticket(sqlite_store, t1)[0] == "closed" and _ticket(sqlite_store, t2)[0] == "closed"
    assert "Clore : 2 ticket(s) mis à jour." in _messages(at)
    # the closed tickets left the default (open) view; ignore the last open one
    at.multiselect(key="in_bulk_ids").set_value([t3])
    at.selectbox(key="in_bulk_action").set_value("ignore")
    _submit(at, "Appliquer")
    assert _ticket(sqlite_store, t3)[0] == "ignored"
    assert _ticket(sqlite_store, t3)[2][-1] == "ignored"
    assert {_actors(sqlite_store, t)[-1] for t in (t1, t2, t3)} == {"bob"}


def test_dashboard_sources_add_edit_and_enqueue(sqlite_store: Store, seeded: dict[str, Any]) -> None:
    add_user(sqlite_store, "ana", "admin")
    at = make_app("sources", user="ana")
    form = at.form[0]
    form.text_input[0].set_value("blog-maison")
    form.selectbox[0].set_value("blog")
    form.text_input[1].set_value("https://blog.example/avis")
    form.selectbox[1].set_value("Maison Lumière")
    form.number_input[0].set_value(30)
    _submit(at, "Enregistrer")
    no_exception(at)
    assert "Source « blog-maison » enregistrée." in _messages(at)
    with sqlite_store.session() as s:
        source = s.scalars(select(Source).where(Source.name == "blog-maison")).one()
        assert (source.kind, source.url, source.schedule_minutes) == ("blog", "https://blog.example/avis", 30)
        assert source.brand is not None and source.brand.name == "Maison Lumière"
        assert source.updated_by == "ana" and source.updated_at is not None
        new_id = source.id
    # edit it: rename and slow down
    at.selectbox(key="so_editing").set_value("blog-maison").run()
    form = at.form[0]
    form.text_input[0].set_value("blog-maison-lumiere")
    form.number_input[0].set_value(120)
    _submit(at, "Enregistrer")
    no_exception(at)
    with sqlite_store.session() as s:
        source = s.get(Source, new_id)
        assert source is not None
        assert (source.name, source.schedule_minutes) == ("blog-maison-lumiere", 120)
        assert source.next_run_at is None
    # enqueue a crawl: next_run_at becomes now; no crawl runs here
    at.selectbox(key="so_enqueue_id").set_value(new_id)
    _submit(at, "Planifier une collecte maintenant")
    no_exception(at)
    with sqlite_store.session() as s:
        source = s.get(Source, new_id)
        assert source is not None and source.next_run_at is not None
        assert source.last_run_at is None


def test_dashboard_sources_rejects_bad_url(sqlite_store: Store, seeded: dict[str, Any]) -> None:
    at = make_app("sources")
    form = at.form[0]
    form.text_input[0].set_value("cassee")
    form.selectbox[0].set_value("forum")
    form.text_input[1].set_value("pas-une-url")
    _submit(at, "Enregistrer")
    no_exception(at)
    assert "bad URL" in _messages(at)
    with sqlite_store.session() as s:
        assert s.scalar(select(func.count()).select_from(Source)) == 3
