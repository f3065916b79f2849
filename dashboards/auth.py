"""Sign-in of the dashboard: named accounts from the store (listening.accounts), OIDC.

``app.py`` calls :func:`resolve` once per run: it says who uses this browser session
(a :class:`~listening.accounts.SignedIn`, kept in ``st.session_state``), enforcing the idle
and absolute session timeouts and re-reading the role and the disabled flag from the
store, or None when the sign-in form must be shown. While no account exists and OIDC is
not configured, the dashboard stays open as ``admin`` (demo mode) with a warning banner.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from dashboards import queries, ui
from listening import accounts
from listening.accounts import SignedIn
from listening.errors import ListeningError

SESSION_KEY = "auth_signed_in"
NOTICE_KEY = "auth_notice"
CURRENT_KEY = "auth_current"  # who this run is for (set by resolve, read by ui.current_user)


def _now() -> datetime:
    return datetime.now(UTC)


def demo_identity() -> SignedIn:
    now = _now()
    return SignedIn(accounts.DEMO_USER, "admin", "demo", "demo", now, now)


def resolve() -> SignedIn | None:
    """Who this browser session is for, or None (sign-in needed). Once per run."""
    settings = ui.settings().auth
    who: SignedIn | None = None
    with queries.read_store(ui.db_url()).session() as session:
        if not accounts.has_users(session) and not settings.oidc_enabled:
            who = demo_identity()  # nobody could sign in yet: open, with a banner
        else:
            signed = st.session_state.get(SESSION_KEY)
            if not isinstance(signed, SignedIn) and settings.oidc_enabled:
                signed = _oidc_signed_in()
            if isinstance(signed, SignedIn):
                try:
                    who = accounts.refresh_session(session, signed, settings)
                except ListeningError as exc:
                    sign_out(notice=exc.message)
    if who is not None and who.method != "demo":
        st.session_state[SESSION_KEY] = who
    st.session_state[CURRENT_KEY] = who
    return who


def sign_out(notice: str = "") -> bool:
    """Forget the session; True when the browser is being sent through the provider's
    sign-out (OIDC: Streamlit drops its identity cookie), False when a rerun is enough."""
    st.session_state.pop(SESSION_KEY, None)
    st.session_state.pop(CURRENT_KEY, None)
    if notice:
        st.session_state[NOTICE_KEY] = notice
    if ui.settings().auth.oidc_enabled and _oidc_logged_in():
        st.logout()  # a redirect to /auth/logout; no st.rerun after it, it would race
        return True
    return False


def sign_in_form() -> None:
    """The username/password form (and the OIDC button when configured)."""
    t = ui.t
    st.title(t("auth.title"))
    notice = st.session_state.pop(NOTICE_KEY, "")
    if notice:
        st.warning(notice)
    with st.form("login"):
        username = st.text_input(t("auth.username"), key="login_username")
        password = st.text_input(t("auth.password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("auth.submit"))
    if submitted:
        try:
            with queries.write_store(ui.db_url()).session() as session:
                user = accounts.authenticate(session, username, password, ui.settings().auth)
                signed = accounts.start_session(user, "password")
        except ListeningError as exc:
            st.error(f"{exc.message} — {exc.hint}" if exc.hint else exc.message)
        else:
            st.session_state[SESSION_KEY] = signed
            st.rerun()
    if not ui.settings().auth.oidc_enabled:
        return
    if _oidc_logged_in():  # signed in at the provider, but refused here (notice above)
        if st.button(t("auth.oidc_logout"), key="login_oidc_logout"):
            st.logout()
    elif st.button(t("auth.oidc"), key="login_oidc"):
        st.login()


def sidebar(who: SignedIn) -> None:
    """Who is signed in, with the sign-out button; the demo-mode banner."""
    t = ui.t
    if who.method == "demo":
        st.warning(t("auth.demo_banner"), icon=":material/lock_open:")
        return
    st.sidebar.caption(t("auth.signed_in", name=who.display_name or who.username, role=who.role))
    if st.sidebar.button(t("auth.logout"), key="logout") and not sign_out():
        st.rerun()


# --------------------------------------------------------------------------- OIDC
def _oidc_logged_in() -> bool:
    try:
        return bool(st.user.is_logged_in)
    except (AttributeError, KeyError, ListeningError):
        return False


def _oidc_signed_in() -> SignedIn | None:
    """A session for the OIDC identity Streamlit holds (st.login), upserted into ``users``."""
    if not _oidc_logged_in():
        return None
    from listening import oidc

    claims = {key: st.user[key] for key in st.user}
    try:
        with queries.write_store(ui.db_url()).session() as session:
            user = oidc.sign_in(session, claims, ui.settings().auth)
            return accounts.start_session(user, "oidc", started=oidc.started_at(claims))
    except ListeningError as exc:
        # no automatic st.logout: its round trip through the provider would lose the reason;
        # the form shows it with a button to leave the SSO identity
        st.session_state[NOTICE_KEY] = exc.message + (f" — {exc.hint}" if exc.hint else "")
        return None
