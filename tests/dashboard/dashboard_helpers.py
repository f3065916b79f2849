"""Helpers of the dashboard tests: run the app on a page, sign in, check it raised nothing."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from listening import accounts
from listening.settings import get_settings
from listening.store import Store

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")
PASSWORD = "correct horse battery staple"


def add_user(store: Store, username: str, role: str, password: str = PASSWORD) -> None:
    """An account in the store (the dashboard then requires sign-in)."""
    with store.session() as s:
        accounts.add_user(s, username, role, get_settings().auth, password,
                          display_name=username.title())


def sign_in(at: AppTest, user: str, password: str = PASSWORD) -> AppTest:
    """Fill and submit the sign-in form of an app showing it."""
    at.text_input(key="login_username").set_value(user)
    at.text_input(key="login_password").set_value(password)
    next(b for b in at.button if b.label in ("Se connecter", "Sign in")).click().run()
    return at


def make_app(page: str | None = None, user: str | None = None, **query: str) -> AppTest:
    """The app (signed in as ``user`` when given), on ``page`` when given."""
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if user:
        sign_in(at, user)
        assert not at.error, [e.value for e in at.error]
    if page:
        at.switch_page(f"views/{page}.py")
        at.run()
    return at


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
