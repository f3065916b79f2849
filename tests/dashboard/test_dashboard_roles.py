"""Each role against each action: the control is there only when granted, and the write
functions refuse a role that lacks the right even when called directly (server side)."""

from __future__ import annotations

from typing import Any

import pytest
from dashboard_helpers import add_user, make_app, no_exception
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from dashboards import actions, corrections
from listening import accounts
from listening.errors import AccountError
from listening.store import Correction, Source, Store, Ticket, TicketEvent
from listening.store.sources import SourceSpec

ROLES = ("community", "support", "marketing", "admin")
# role -> (inbox page, ticket actions, corrections, sources page + edits)
GRANTS = {
    "community": (False, False, True, False),
    "support": (True, True, True, False),
    "marketing": (False, False, False, False),
    "admin": (True, True, True, True),
}


def _can_open(at: AppTest, page: str) -> bool:
    try:
        at.switch_page(f"views/{page}.py")
    except ValueError:  # not registered for this role
        return False
    at.run()
    no_exception(at)
    return True


def _buttons(at: AppTest) -> set[str]:
    return {b.label for b in at.button}


@pytest.mark.parametrize("role", ROLES)
def test_dashboard_role_controls(sqlite_store: Store, seeded: dict[str, Any], role: str) -> None:
    inbox, tickets, label, sources = GRANTS[role]
    add_user(sqlite_store, "someone", role)
    at = make_app(user="someone", ticket=str(seeded["tickets"][0]))
    no_exception(at)
    assert _can_open(at, "inbox") is inbox
    if inbox:
        assert bool(at.get("form")) and ("Assigner" in _buttons(at)) is tickets
        assert ("Enregistrer la correction" in _buttons(at)) is label
    assert _can_open(at, "explorer")  # every role explores
    assert bool([s for s in at.selectbox if s.key == "co_ex_pick"]) is label
    assert _can_open(at, "review") is (role != "marketing")
    assert _can_open(at, "sources") is sources
    if sources:
        assert "Planifier une collecte maintenant" in _buttons(at)
        assert "Enregistrer" in _buttons(at)


@pytest.mark.parametrize("role", ROLES)
def test_dashboard_role_refused_server_side(
    sqlite_store: Store, seeded: dict[str, Any], role: str
) -> None:
    """Direct calls of the write functions: allowed or refused by the role, nothing half done."""
    _inbox, tickets, label, sources = GRANTS[role]
    add_user(sqlite_store, "someone", role)
    add_user(sqlite_store, "carla", "support")
    url = sqlite_store.url
    first, second = seeded["tickets"][:2]

    def attempt(allowed: bool, call: Any) -> None:
        if allowed:
            call()
        else:
            with pytest.raises(AccountError, match=f"role {role} .* does not allow") as err:
                call()
            assert err.value.code == "L008"

    def events() -> int:
        with sqlite_store.session() as s:
            return int(s.scalar(select(func.count()).select_from(TicketEvent)) or 0)

    before = events()
    attempt(
        tickets, lambda: actions.ticket_action(url, "assign", [first], "someone", assignee="carla")
    )
    attempt(tickets, lambda: actions.ticket_action(url, "close", [second], "someone", note="x"))
    assert events() == before + (2 if tickets else 0)
    with sqlite_store.session() as s:
        ticket = s.get(Ticket, first)
        assert ticket is not None and (ticket.assignee == "carla") is tickets
    attempt(
        label,
        lambda: corrections.save(
            url, seeded["documents"][3], [], ["delivery"], "", "", False, "someone"
        ),
    )
    with sqlite_store.session() as s:
        rows = list(s.scalars(select(Correction.actor)))
    assert rows == (["someone"] if label else [])
    spec = SourceSpec(name="nouvelle", kind="blog", url="https://blog.example/feed")
    attempt(sources, lambda: actions.save_source(url, spec, existing=None, actor="someone"))
    attempt(sources, lambda: actions.enqueue_crawl(url, 1, "someone"))
    with sqlite_store.session() as s:
        created = s.scalar(select(Source).where(Source.name == "nouvelle"))
        assert (created is not None) is sources
        assert created is None or created.updated_by == "someone"


def test_dashboard_writes_refuse_unknown_disabled_and_bad_assignee(
    sqlite_store: Store, seeded: dict[str, Any]
) -> None:
    add_user(sqlite_store, "ana", "admin")
    add_user(sqlite_store, "old", "support")
    with sqlite_store.session() as s:
        accounts.set_disabled(s, "old", True)
    url, first = sqlite_store.url, seeded["tickets"][0]
    for who in ("demo", "old", "nobody"):  # the demo identity ends with the first account
        with pytest.raises(AccountError, match="no active account"):
            actions.ticket_action(url, "close", [first], who)
    with pytest.raises(AccountError, match="'old' is not an active user"):
        actions.ticket_action(url, "assign", [first], "ana", assignee="old")
    with pytest.raises(AccountError, match="not an active user"):
        actions.ticket_action(url, "assign", [first], "ana", assignee="free text")
    add_user(sqlite_store, "mia", "marketing")
    with pytest.raises(AccountError, match="'mia' is not an active user who handles tickets"):
        actions.ticket_action(url, "assign", [first], "ana", assignee="mia")
    with sqlite_store.session() as s:
        ticket = s.get(Ticket, first)
        assert ticket is not None and (ticket.status, ticket.assignee) == ("new", None)


def test_dashboard_downgraded_mid_session_cannot_act(
    sqlite_store: Store, seeded: dict[str, Any]
) -> None:
    """The form was shown to a support user; the role is lowered before the click: refused."""
    add_user(sqlite_store, "sam", "support")
    first = seeded["tickets"][0]
    at = make_app("inbox", user="sam", ticket=str(first))
    at.selectbox(key="in_assignee").set_value("sam")
    with sqlite_store.session() as s:
        accounts.set_role(s, "sam", "marketing")
    next(b for b in at.button if b.label == "Assigner").click().run()
    no_exception(at)
    assert at.title[0].value != "Boîte de réception"  # the page is gone for marketing
    with sqlite_store.session() as s:
        ticket = s.get(Ticket, first)
        assert ticket is not None and (ticket.status, ticket.assignee) == ("new", None)
