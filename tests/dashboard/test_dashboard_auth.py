"""AppTest of the sign-in: demo mode, accounts, lockout, session expiry, sign-out, roles."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from dashboard_helpers import PASSWORD, add_user, make_app, no_exception, sign_in
from streamlit.testing.v1 import AppTest

from dashboards.auth import SESSION_KEY
from listening import accounts
from listening.settings import get_settings
from listening.store import Store


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [w.value for w in at.warning] + [e.value for e in at.error]
    parts += [t.value for t in at.title]
    return "\n".join(str(p) for p in parts)


def test_dashboard_demo_mode_is_open_with_a_banner(seeded: dict[str, Any]) -> None:
    at = make_app()
    no_exception(at)
    assert at.title[0].value == "Vue d'ensemble"
    assert any("Mode démo" in w.value and "listening users add" in w.value for w in at.warning)
    assert not [b for b in at.button if b.label == "Se déconnecter"]
    at.switch_page("views/sources.py").run()  # admin pages
    assert at.title[0].value == "Sources"


def test_dashboard_sign_in_wrong_then_right_password(
    sqlite_store: Store, seeded: dict[str, Any]
) -> None:
    add_user(sqlite_store, "sam", "support")
    at = make_app()
    no_exception(at)
    assert at.title[0].value == "Connexion" and not at.metric  # nothing shown before sign-in
    assert not any("Mode démo" in w.value for w in at.warning)
    sign_in(at, "sam", "not the password")
    assert "wrong username or password" in texts(at)
    sign_in(at, "nobody", PASSWORD)
    assert "wrong username or password" in texts(at)
    sign_in(at, "sam")
    no_exception(at)
    assert at.title[0].value == "Boîte de réception"  # support lands on the inbox
    assert "Connecté : Sam (support)" in texts(at)
    with pytest.raises(ValueError, match="Known pages: .*inbox.py.*explorer.py.*review.py'\\]"):
        at.switch_page("views/sources.py")  # not registered for the support role
    # sign out: back to the form, nothing shown
    next(b for b in at.button if b.label == "Se déconnecter").click().run()
    assert at.title[0].value == "Connexion"


def test_dashboard_sign_in_lockout(
    sqlite_store: Store, seeded: dict[str, Any], monkeypatch: Any
) -> None:
    monkeypatch.setenv("LISTENING_AUTH__LOCKOUT_ATTEMPTS", "2")
    get_settings.cache_clear()
    add_user(sqlite_store, "sam", "support")
    at = make_app()
    sign_in(at, "sam", "wrong one")
    sign_in(at, "sam", "wrong two")
    sign_in(at, "sam")  # the right password, but locked now
    assert "locked" in texts(at) and at.title[0].value == "Connexion"
    with sqlite_store.session() as s:
        assert accounts.get_user(s, "sam").locked_until is not None


@pytest.mark.parametrize(
    ("shift", "message"),
    [
        ({"last_seen_at": timedelta(minutes=61)}, "signed out after inactivity"),
        ({"started_at": timedelta(hours=13)}, "maximum duration"),
    ],
)
def test_dashboard_session_expires(
    sqlite_store: Store, seeded: dict[str, Any], shift: dict[str, timedelta], message: str
) -> None:
    add_user(sqlite_store, "ana", "admin")
    at = make_app(user="ana")
    assert at.title[0].value == "Vue d'ensemble"
    signed = at.session_state[SESSION_KEY]
    aged = {k: getattr(signed, k) - v for k, v in shift.items()}
    if "started_at" in aged:  # used recently, but signed in long ago
        aged["last_seen_at"] = signed.last_seen_at
    at.session_state[SESSION_KEY] = dataclasses.replace(signed, **aged)
    at.run()
    assert at.title[0].value == "Connexion" and message in texts(at)
    assert not at.metric


def test_dashboard_role_change_and_disable_apply_at_next_page(
    sqlite_store: Store, seeded: dict[str, Any]
) -> None:
    add_user(sqlite_store, "ana", "admin")
    add_user(sqlite_store, "mia", "marketing")
    at = make_app(user="mia")
    assert at.title[0].value == "Vue d'ensemble"
    with pytest.raises(ValueError, match="Known pages"):
        at.switch_page("views/inbox.py")
    with sqlite_store.session() as s:
        accounts.set_role(s, "mia", "support")
    at.run()
    at.switch_page("views/inbox.py").run()
    assert at.title[0].value == "Boîte de réception"
    with sqlite_store.session() as s:
        accounts.set_disabled(s, "mia", True)
    at.run()
    assert at.title[0].value == "Connexion" and "disabled" in texts(at)


def test_dashboard_oidc_configured_is_never_open(seeded: dict[str, Any], monkeypatch: Any) -> None:
    """With OIDC set up and no account yet, the dashboard is not in demo mode: SSO first."""
    monkeypatch.setenv(
        "LISTENING_AUTH__OIDC_SERVER_METADATA_URL",
        "http://127.0.0.1:9/.well-known/openid-configuration",
    )
    monkeypatch.setenv("LISTENING_AUTH__OIDC_CLIENT_ID", "listening")
    get_settings.cache_clear()
    at = make_app()
    no_exception(at)
    assert at.title[0].value == "Connexion" and not at.metric
    assert not any("Mode démo" in w.value for w in at.warning)
    assert any("SSO" in b.label for b in at.button)
