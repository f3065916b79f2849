"""Accounts on SQLite and PostgreSQL: argon2id hashes, throttling, policy, sessions, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from listening import accounts
from listening.cli import app
from listening.config.auth import AuthSettings
from listening.errors import AccountError, ConfigError
from listening.settings import get_settings, load_settings
from listening.store import Store
from listening.store.users import User

AUTH = AuthSettings(lockout_attempts=3, lockout_minutes=10, min_password_length=12)
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
runner = CliRunner()


def _add(
    store: Store, name: str = "alice", role: str = "support", pw: str = "correct horse battery"
) -> None:
    with store.session() as s:
        accounts.add_user(s, name, role, AUTH, pw, display_name=name.title())


def test_accounts_add_hashes_with_argon2id_and_authenticates(store: Store) -> None:
    _add(store, "Alice")
    with store.session() as s:
        user = s.scalars(select(User)).one()
        assert user.username == "alice" and user.role == "support"
        assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
        assert "correct horse" not in user.password_hash
    with store.session() as s:
        user = accounts.authenticate(s, "ALICE ", "correct horse battery", AUTH, now=T0)
        assert user.last_login_at == T0 and user.failed_logins == 0
    with store.session() as s:
        assert accounts.active_usernames(s) == ["alice"] and accounts.has_users(s)
        assert accounts.active_usernames(s, able_to="tickets") == ["alice"]  # support
        assert accounts.active_usernames(s, able_to="sources") == []


def test_accounts_refusals_write_nothing(store: Store) -> None:
    _add(store)
    with pytest.raises(AccountError, match="exists already"), store.session() as s:
        accounts.add_user(s, "alice", "admin", AUTH, "another long password")
    with (
        pytest.raises(AccountError, match="unknown role 'boss'.*valid roles"),
        store.session() as s,
    ):
        accounts.add_user(s, "bob", "boss", AUTH, "another long password")
    with pytest.raises(AccountError, match="too short") as err, store.session() as s:
        accounts.add_user(s, "bob", "admin", AUTH, "short")
    assert err.value.code == "L008" and "at least 12" in err.value.hint
    with pytest.raises(AccountError, match="the password is the username"), store.session() as s:
        accounts.add_user(s, "bob.the.builder", "admin", AUTH, "Bob.the.builder")
    with pytest.raises(AccountError, match="invalid username"), store.session() as s:
        accounts.add_user(s, "bob smith", "admin", AUTH, "another long password")
    with store.session() as s:
        assert [u.username for u in accounts.list_users(s)] == ["alice"]


def test_accounts_lockout_after_failures_then_unlock(store: Store) -> None:
    _add(store)
    for i in range(3):
        with pytest.raises(AccountError, match="wrong username or password"), store.session() as s:
            accounts.authenticate(s, "alice", f"wrong-{i}", AUTH, now=T0)
    # locked now: even the right password is refused, until lockout_minutes pass
    with pytest.raises(AccountError, match="locked") as err, store.session() as s:
        accounts.authenticate(
            s, "alice", "correct horse battery", AUTH, now=T0 + timedelta(minutes=5)
        )
    assert "5 minute" in err.value.hint or "6 minute" in err.value.hint
    with store.session() as s:
        user = accounts.authenticate(
            s, "alice", "correct horse battery", AUTH, now=T0 + timedelta(minutes=11)
        )
        assert user.failed_logins == 0 and user.locked_until is None
    # two failures then a success: the counter starts again
    for _ in range(2):
        with pytest.raises(AccountError), store.session() as s:
            accounts.authenticate(s, "alice", "nope", AUTH, now=T0 + timedelta(minutes=12))
    with store.session() as s:
        accounts.authenticate(
            s, "alice", "correct horse battery", AUTH, now=T0 + timedelta(minutes=12)
        )
    with pytest.raises(AccountError, match="wrong username"), store.session() as s:
        accounts.authenticate(s, "alice", "nope", AUTH, now=T0 + timedelta(minutes=12))
    with store.session() as s:
        assert accounts.get_user(s, "alice").failed_logins == 1
    # reset-password lifts a lock
    for _ in range(3):
        with pytest.raises(AccountError), store.session() as s:
            accounts.authenticate(s, "alice", "nope", AUTH, now=T0 + timedelta(minutes=13))
    with store.session() as s:
        accounts.reset_password(s, "alice", "a brand new passphrase", AUTH)
    with store.session() as s:
        accounts.authenticate(
            s, "alice", "a brand new passphrase", AUTH, now=T0 + timedelta(minutes=13)
        )


def test_accounts_unknown_disabled_and_role_change(store: Store) -> None:
    _add(store)
    with pytest.raises(AccountError, match="wrong username or password"), store.session() as s:
        accounts.authenticate(s, "mallory", "correct horse battery", AUTH)
    with store.session() as s:
        accounts.set_disabled(s, "alice", True)
    with pytest.raises(AccountError, match="disabled"), store.session() as s:
        accounts.authenticate(s, "alice", "correct horse battery", AUTH)
    with (
        pytest.raises(AccountError, match="wrong username"),
        store.session() as s,
    ):  # no hint of state
        accounts.authenticate(s, "alice", "wrong password", AUTH)
    with store.session() as s:
        assert accounts.active_usernames(s) == []
        accounts.set_disabled(s, "alice", False)
        accounts.set_role(s, "alice", "admin")
    with store.session() as s:
        assert accounts.authenticate(s, "alice", "correct horse battery", AUTH).role == "admin"
    with pytest.raises(AccountError, match="no user named 'zed'"), store.session() as s:
        accounts.set_role(s, "zed", "admin")


def test_accounts_session_idle_and_absolute_timeouts(store: Store) -> None:
    _add(store)
    settings = AuthSettings(session_idle_minutes=30, session_max_hours=2)
    with store.session() as s:
        signed = accounts.start_session(accounts.get_user(s, "alice"), "password", now=T0)
    assert accounts.session_expiry(signed, settings, T0 + timedelta(minutes=29)) is None
    assert accounts.session_expiry(signed, settings, T0 + timedelta(minutes=31)) == "idle"
    # used every 20 minutes: alive until the absolute limit
    at = T0
    with store.session() as s:
        while at < T0 + timedelta(hours=1, minutes=50):
            at += timedelta(minutes=20)
            signed = accounts.refresh_session(s, signed, settings, at)
    assert signed.last_seen_at == at
    with pytest.raises(AccountError, match="maximum duration"), store.session() as s:
        accounts.refresh_session(s, signed, settings, T0 + timedelta(hours=2, minutes=1))
    with pytest.raises(AccountError, match="inactivity"), store.session() as s:
        accounts.refresh_session(s, signed, settings, at + timedelta(minutes=31))
    # role changes and disabling take effect at the next page
    with store.session() as s:
        accounts.set_role(s, "alice", "marketing")
    with store.session() as s:
        assert accounts.refresh_session(s, signed, settings, at).role == "marketing"
        accounts.set_disabled(s, "alice", True)
    with pytest.raises(AccountError, match="disabled"), store.session() as s:
        accounts.refresh_session(s, signed, settings, at)


def test_accounts_old_dashboard_passwords_setting_is_refused() -> None:
    with pytest.raises(ConfigError, match="listening users add") as err:
        load_settings(dashboard={"passwords": {"admin": "s3cret"}})
    assert err.value.code == "L001"
    with pytest.raises(ConfigError, match="valid roles"):
        load_settings(auth={"oidc_role_map": {"cx": "boss"}})


def _cli(*args: str, env: dict[str, str] | None = None) -> object:
    return runner.invoke(app, list(args), env=env, catch_exceptions=True)


def test_accounts_cli_add_list_disable_role_reset(sqlite_store: Store, tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("a long enough passphrase\n", encoding="utf-8")
    result = _cli(
        "users", "add", "zoe", "--role", "community", "--password-file", str(secret), "--json"
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "passphrase" not in result.output  # type: ignore[attr-defined]
    row = json.loads(result.output.strip().splitlines()[-1])  # type: ignore[attr-defined]
    assert (row["username"], row["role"], row["password"]) == ("zoe", "community", True)
    result = _cli(
        "users",
        "add",
        "ana",
        "--role",
        "admin",
        env={"LISTENING_USER_PASSWORD": "from the environment"},
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert _cli("users", "set-role", "zoe", "support").exit_code == 0  # type: ignore[attr-defined]
    assert _cli("users", "disable", "ana").exit_code == 0  # type: ignore[attr-defined]
    listed = json.loads(_cli("users", "list", "--json").output.strip().splitlines()[-1])  # type: ignore[attr-defined]
    assert [(u["username"], u["role"], u["disabled"]) for u in listed["users"]] == [
        ("ana", "admin", True),
        ("zoe", "support", False),
    ]
    assert all("hash" not in json.dumps(u) for u in listed["users"])
    table = _cli("users", "list").output  # type: ignore[attr-defined]
    assert "zoe" in table and "disabled" in table
    with sqlite_store.session() as s:
        accounts.get_user(s, "zoe").locked_until = datetime.now(UTC) + timedelta(minutes=5)
    assert "locked until" in _cli("users", "list").output  # type: ignore[attr-defined]
    with sqlite_store.session() as s:
        accounts.get_user(s, "zoe").locked_until = datetime.now(UTC) - timedelta(minutes=5)
    assert "locked" not in _cli("users", "list").output  # type: ignore[attr-defined]
    assert _cli("users", "enable", "ana").exit_code == 0  # type: ignore[attr-defined]
    secret.write_text("the second passphrase\n", encoding="utf-8")
    assert _cli("users", "reset-password", "zoe", "--password-file", str(secret)).exit_code == 0  # type: ignore[attr-defined]
    with sqlite_store.session() as s:
        assert (
            accounts.authenticate(s, "zoe", "the second passphrase", get_settings().auth).role
            == "support"
        )
        assert accounts.authenticate(s, "ana", "from the environment", get_settings().auth)


def test_accounts_cli_errors_through_console_script(sqlite_store: Store, tmp_path: Path) -> None:
    """No password and no terminal: a clear error, exit 1, nothing created; same for policy."""
    run = subprocess.run(
        [sys.executable, "-m", "listening.cli", "users", "add", "bob", "--role", "support"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert run.returncode == 1
    assert "L008" in run.stderr and "--password-file" in run.stderr
    short = tmp_path / "pw"
    short.write_text("tiny\n", encoding="utf-8")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "listening.cli",
            "users",
            "add",
            "bob",
            "--role",
            "support",
            "--password-file",
            str(short),
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert run.returncode == 1 and "password too short" in run.stderr and "tiny" not in run.stderr
    with sqlite_store.session() as s:
        assert not accounts.has_users(s)


def test_accounts_concurrent_failures_are_all_counted(pg_url: str) -> None:
    """Six wrong passwords at once on PostgreSQL: the row lock (SELECT ... FOR UPDATE)
    serialises the counts, so no failure is lost and the account ends locked."""
    from concurrent.futures import ThreadPoolExecutor

    store = Store(pg_url)
    store.init()
    try:
        _add(store)

        def wrong(i: int) -> str:
            try:
                with store.session() as s:
                    accounts.authenticate(s, "alice", f"wrong-{i}", AUTH, now=T0)
            except AccountError as exc:
                return exc.message
            return "accepted"

        with ThreadPoolExecutor(max_workers=6) as pool:
            messages = list(pool.map(wrong, range(6)))
        assert messages.count("accepted") == 0
        with store.session() as s:
            user = accounts.get_user(s, "alice")
            # 3 failures lock; the next ones meet the lock (not counted) or start a new count
            assert user.locked_until is not None
        assert (
            sum("locked" in m for m in messages) + sum(m == accounts.WRONG for m in messages) == 6
        )
    finally:
        store.dispose()
