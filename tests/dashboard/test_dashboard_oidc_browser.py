"""OIDC sign-in end to end: headless Chromium, `listening dashboard` with the generated
``[auth]`` secrets, and a real local OpenID provider (oidc-provider-mock).

The browser clicks the SSO button, signs in at the provider as a user of the group
``cx-support``, comes back through /oauth2callback and lands on the Inbox as support;
``/inbox`` opens by its own URL; the account was upserted; sign-out ends the session
(also at the provider: RP-initiated logout).
Skipped without Chromium (fails in CI, like test_dashboard_browser.py).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from dashboard_browser import Browser, find_chromium, running_dashboard
from dashboard_helpers import PASSWORD, add_user
from oidc_provider_mock import User as IdpUser
from oidc_provider_mock import run_server_in_thread

from listening import accounts
from listening.store import Store

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
GUEST = IdpUser(sub="u-guest", claims={"preferred_username": "guest", "groups": ["visitors"]})
LEA = IdpUser(
    sub="u-lea",
    claims={
        "preferred_username": "lea",
        "name": "Léa Martin",
        "email": "lea@example.com",
        "groups": ["staff", "cx-support"],
    },
)


def wait_for(browser: Browser, text: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = browser.text()
        if text in body:
            return body
        time.sleep(0.3)
    raise TimeoutError(f"{text!r} not shown within {timeout} s: {browser.text()[:500]!r}")


def click(browser: Browser, selector_js: str) -> None:
    script = (
        "(() => { const e = " + selector_js + "; if (!e) return false; e.click(); return true; })()"
    )
    assert browser.evaluate(script), selector_js


@pytest.mark.slow
def test_dashboard_oidc_sign_in_in_a_browser(
    sqlite_store: Store, seeded: dict[str, Any], tmp_path: Path
) -> None:
    binary = find_chromium()
    if binary is None:
        if IN_CI:
            pytest.fail("chromium is not installed: apt-get install -y chromium")
        pytest.skip("chromium is not installed")
    add_user(sqlite_store, "ana", "admin")  # a local break-glass admin: sign-in is on
    secret = tmp_path / "oidc-client-secret"
    secret.write_text("client-secret-for-tests\n", encoding="utf-8")
    with run_server_in_thread(user_claims=[LEA, GUEST]) as idp:
        issuer = f"http://localhost:{idp.server_port}"
        env = os.environ.copy() | {
            "LISTENING_AUTH__OIDC_SERVER_METADATA_URL": f"{issuer}/.well-known/openid-configuration",
            "LISTENING_AUTH__OIDC_CLIENT_ID": "listening-dashboard",
            "LISTENING_AUTH__OIDC_CLIENT_SECRET_FILE": str(secret),
            "LISTENING_AUTH__OIDC_ROLE_MAP": '{"cx-support": "support", "cx-admins": "admin"}',
        }
        with running_dashboard(tmp_path, "--headless", env=env) as base:
            browser = Browser(binary)
            try:
                browser.open(base, ready_text="Connexion", timeout=90)
                wait_for(browser, "SSO")
                click(
                    browser,
                    "Array.from(document.querySelectorAll('button'))"
                    ".find(b => b.innerText.includes('SSO'))",
                )
                wait_for(browser, "u-lea")  # the provider's sign-in page
                click(browser, "document.querySelector('button[name=sub][value=\"u-lea\"]')")
                body = wait_for(browser, "Connecté : Léa Martin (support)", timeout=90)
                wait_for(browser, "Détail du ticket", timeout=90)  # support lands on the Inbox
                assert "Traceback" not in body and browser.exceptions() == []
                # the Inbox by its own URL, in a fresh session (Streamlit's identity cookie)
                browser.open(f"{base}/inbox", ready_text="Détail du ticket", timeout=90)
                assert "Page not found" not in browser.text()
                assert "Connecté : Léa Martin (support)" in browser.text()
                with sqlite_store.session() as s:
                    lea = accounts.get_user(s, "lea")
                    assert (lea.role, lea.oidc_subject, lea.password_hash) == (
                        "support",
                        f"{issuer}|u-lea",
                        None,
                    )
                    assert lea.last_login_at is not None
                click(
                    browser,
                    "Array.from(document.querySelectorAll('button'))"
                    ".find(b => b.innerText.includes('Se déconnecter'))",
                )
                # Streamlit drops its identity cookie and ends the session at the provider
                wait_for(browser, "End session", timeout=60)
                click(browser, "document.querySelector('form button[type=submit]')")
                wait_for(browser, "Connexion", timeout=60)
                browser.open(f"{base}/inbox", ready_text="Connexion", timeout=90)
                assert "Détail du ticket" not in browser.text()
                # someone in no mapped group: refused, told why, offered to leave the SSO identity
                click(
                    browser,
                    "Array.from(document.querySelectorAll('button'))"
                    ".find(b => b.innerText.includes('SSO'))",
                )
                wait_for(browser, "u-guest")
                click(browser, "document.querySelector('button[name=sub][value=\"u-guest\"]')")
                body = wait_for(browser, "no dashboard role", timeout=90)
                body = wait_for(browser, "Se déconnecter du compte", timeout=30)  # SSO sign-out
                assert "Détail du ticket" not in body and "Vue d'ensemble" not in body
                with sqlite_store.session() as s:
                    assert accounts.find_user(s, "guest") is None
            finally:
                browser.close()


def type_into(browser: Browser, label: str, text: str) -> None:
    """Focus the text input labelled ``label`` and type ``text`` as a user would."""
    found = browser.evaluate(
        "(() => { const el = Array.from(document.querySelectorAll('input')).find(i => "
        f"i.getAttribute('aria-label') === {label!r}); if (!el) return false; el.focus(); "
        "return true; })()"
    )
    assert found, label
    browser.call("Input.insertText", text=text)


@pytest.mark.slow
def test_dashboard_password_sign_in_keeps_the_url_path(
    sqlite_store: Store, seeded: dict[str, Any], tmp_path: Path
) -> None:
    """A community user opening /review signs in and stays on /review (not sent to /)."""
    binary = find_chromium()
    if binary is None:
        if IN_CI:
            pytest.fail("chromium is not installed: apt-get install -y chromium")
        pytest.skip("chromium is not installed")
    add_user(sqlite_store, "cleo", "community")
    with running_dashboard(tmp_path, "--headless") as base:
        browser = Browser(binary)
        try:
            browser.open(f"{base}/review", ready_text="Connexion", timeout=90)
            type_into(browser, "Identifiant", "cleo")
            type_into(browser, "Mot de passe", PASSWORD)
            click(
                browser,
                "Array.from(document.querySelectorAll('button'))"
                ".find(b => b.innerText.trim() === 'Se connecter')",
            )
            body = wait_for(browser, "Connecté : Cleo (community)", timeout=90)
            wait_for(browser, "À revoir", timeout=60)
            assert browser.evaluate("location.pathname") == "/review"
            assert "Page not found" not in body and browser.exceptions() == []
            # a page the role may not see is not served
            browser.open(f"{base}/sources", ready_text="Connexion", timeout=90)
        finally:
            browser.close()
