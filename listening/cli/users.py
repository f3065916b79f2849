"""Account commands: `listening users add|list|disable|enable|set-role|reset-password`.

A thin layer over listening.accounts. A password is read from ``--password-file`` (first
line), else the ``LISTENING_USER_PASSWORD`` environment variable, else a hidden prompt
asked twice; it is never echoed nor printed.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from listening.cli.core import JsonOpt, open_store
from listening.cli.output import console, print_json
from listening.errors import AccountError
from listening.settings import get_settings

PASSWORD_ENV = "LISTENING_USER_PASSWORD"
users_app = typer.Typer(
    help="Manage the dashboard accounts (docs/ACCOUNTS.md).", no_args_is_help=True
)

PasswordFile = Annotated[
    Path | None,
    typer.Option(
        "--password-file",
        help=f"Read the password from this file's first line (else ${PASSWORD_ENV}, else a prompt).",
    ),
]


def read_password(password_file: Path | None) -> str:
    """The new password from a file, the environment or a hidden prompt (never echoed)."""
    if password_file is not None:
        try:
            lines = password_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise AccountError(
                f"cannot read {password_file}: {exc.strerror}", "check the path"
            ) from None
        if not lines or not lines[0]:
            raise AccountError(f"{password_file} is empty", "write the password on its first line")
        return lines[0]
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if not sys.stdin.isatty():
        raise AccountError(
            "no password given and no terminal to ask for one",
            f"use --password-file FILE or set {PASSWORD_ENV}",
        )
    first = typer.prompt("Password", hide_input=True)
    if typer.prompt("Password (again)", hide_input=True) != first:
        raise AccountError("the two passwords differ", "type the same password twice")
    return str(first)


def _row(user: Any) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "role": user.role,
        "disabled": bool(user.disabled),
        "password": user.password_hash is not None,
        "oidc": user.oidc_subject is not None,
        "locked_until": user.locked_until,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
    }


def _done(row: dict[str, Any], as_json: bool, message: str) -> None:
    if as_json:
        print_json(row)
    else:
        console.print(message)


@users_app.command("add")
def add(
    username: Annotated[
        str, typer.Argument(help="Sign-in name (lower case; letters, digits, . _ @ + -).")
    ],
    role: Annotated[str, typer.Option(help="community, support, marketing or admin.")],
    display_name: Annotated[str, typer.Option(help="Name shown in the dashboard.")] = "",
    email: Annotated[str | None, typer.Option(help="E-mail address (informative).")] = None,
    password_file: PasswordFile = None,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="No local password: sign-in through OIDC only.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create an account (the first one turns the dashboard's sign-in on)."""
    from listening import accounts

    settings = get_settings().auth
    password = None if no_password else read_password(password_file)
    store = open_store()
    try:
        with store.session() as session:
            user = accounts.add_user(
                session, username, role, settings, password, display_name=display_name, email=email
            )
            row = _row(user)
    finally:
        store.dispose()
    _done(row, as_json, f"User {row['username']!r} ({row['role']}) created.")


@users_app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """The accounts with role, state and last sign-in (never a password or its hash)."""
    from listening import accounts

    store = open_store(read_only=True)
    try:
        with store.session() as session:
            rows = [_row(u) for u in accounts.list_users(session)]
    finally:
        store.dispose()
    if as_json:
        print_json({"users": rows})
        return
    table = Table("username", "name", "role", "state", "sign-in", "last sign-in")
    now = datetime.now(UTC)
    for r in rows:
        locked = r["locked_until"] is not None and r["locked_until"] > now
        state = (
            "disabled"
            if r["disabled"]
            else f"locked until {r['locked_until']:%Y-%m-%d %H:%M}Z"
            if locked
            else "active"
        )
        how = "+".join(k for k in ("password", "oidc") if r[k]) or "—"
        last = f"{r['last_login_at']:%Y-%m-%d %H:%M}Z" if r["last_login_at"] else "never"
        table.add_row(r["username"], r["display_name"], r["role"], state, how, last)
    console.print(table)


def _change(username: str, as_json: bool, change: Any, message: str) -> None:
    store = open_store()
    try:
        with store.session() as session:
            user = change(session)
            row = _row(user)
    finally:
        store.dispose()
    if as_json:
        print_json(row)
    else:
        console.print(message.format(**row))


@users_app.command("disable")
def disable(
    username: Annotated[str, typer.Argument(help="The account.")], as_json: JsonOpt = False
) -> None:
    """Refuse this account's sign-ins; its open dashboard sessions end at their next page."""
    from listening import accounts

    _change(
        username,
        as_json,
        lambda s: accounts.set_disabled(s, username, True),
        "User {username!r} disabled.",
    )


@users_app.command("enable")
def enable(
    username: Annotated[str, typer.Argument(help="The account.")], as_json: JsonOpt = False
) -> None:
    """Allow a disabled account again (also lifts a lockout)."""
    from listening import accounts

    _change(
        username,
        as_json,
        lambda s: accounts.set_disabled(s, username, False),
        "User {username!r} enabled.",
    )


@users_app.command("set-role")
def set_role(
    username: Annotated[str, typer.Argument(help="The account.")],
    role: Annotated[str, typer.Argument(help="community, support, marketing or admin.")],
    as_json: JsonOpt = False,
) -> None:
    """Change an account's role (effective at its next page)."""
    from listening import accounts

    _change(
        username,
        as_json,
        lambda s: accounts.set_role(s, username, role),
        "User {username!r} is now {role}.",
    )


@users_app.command("reset-password")
def reset_password(
    username: Annotated[str, typer.Argument(help="The account.")],
    password_file: PasswordFile = None,
    as_json: JsonOpt = False,
) -> None:
    """Set a new password (also lifts a lockout)."""
    from listening import accounts

    password = read_password(password_file)
    settings = get_settings().auth
    _change(
        username,
        as_json,
        lambda s: accounts.reset_password(s, username, password, settings),
        "Password of {username!r} changed.",
    )


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
