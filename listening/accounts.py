"""Dashboard accounts: users, argon2id passwords, sign-in throttling, session lifetime.

Used by the CLI (`listening users ...`) and by the dashboard's sign-in (dashboards/auth.py);
no Streamlit here. Every function takes an open :class:`~sqlalchemy.orm.Session` and the
``auth`` settings group; the caller commits (``Store.session()`` does on success), so a
refused change writes nothing.

Passwords are hashed with argon2id (``argon2-cffi``'s defaults, RFC 9106 low-memory
profile); a hash made with older parameters is upgraded at the next sign-in. After
``auth.lockout_attempts`` wrong passwords in a row an account is locked for
``auth.lockout_minutes``; a locked account is refused even with the right password.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from listening.config.auth import ROLES, AuthSettings
from listening.errors import AccountError
from listening.store.users import User

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@+-]{0,199}$")
MAX_PASSWORD_LENGTH = 1024
# who may do more: when several OIDC groups map to roles, the highest rank wins
ROLE_RANK: dict[str, int] = {"marketing": 0, "community": 1, "support": 2, "admin": 3}
# what each role may change (the dashboard hides the controls; the writes check again):
# tickets = assign, status changes, public replies; label = corrections; sources = edits
ROLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "community": ("label",),
    "support": ("tickets", "label"),
    "marketing": (),
    "admin": ("tickets", "sources", "label", "taxonomy"),
}
DEMO_USER = "demo"  # who acts while no account exists (the open demo mode)
WRONG = "wrong username or password"

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory parameters


@functools.cache
def _dummy_hash() -> str:
    """Verified against for unknown usernames: the same work as for a real one."""
    return _hasher.hash("listening-no-such-user")


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


# ---------------------------------------------------------------------- validation
def normalise_username(username: str) -> str:
    """Usernames are compared in lower case; letters, digits and . _ @ + - only."""
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise AccountError(
            f"invalid username {username!r}",
            "use 1-200 letters, digits or . _ @ + - (starting with a letter or digit)",
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}", f"valid roles: {', '.join(ROLES)}")
    return role


def check_password(password: str, settings: AuthSettings, username: str = "") -> None:
    """The password policy: long enough, not too long, not the username."""
    if len(password) < settings.min_password_length:
        raise AccountError(
            f"password too short ({len(password)} characters)",
            f"use at least {settings.min_password_length} (auth.min_password_length); "
            "a few random words make a good one",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError("password too long", f"use at most {MAX_PASSWORD_LENGTH} characters")
    if username and password.strip().lower() == username.lower():
        raise AccountError("the password is the username", "choose another password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# ----------------------------------------------------------------------- the users
def has_users(session: Session) -> bool:
    """Whether any account exists (none: the dashboard stays in open demo mode)."""
    return bool(session.scalar(select(func.count()).select_from(User)))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def active_usernames(session: Session, able_to: str | None = None) -> list[str]:
    """Usernames of the enabled accounts; with ``able_to``, only those whose role grants
    that action (the Inbox's assignees: ``able_to="tickets"``)."""
    query = select(User.username).where(User.disabled.is_(False))
    if able_to is not None:
        roles = [role for role, allowed in ROLE_ACTIONS.items() if able_to in allowed]
        query = query.where(User.role.in_(roles))
    return list(session.scalars(query.order_by(User.username)))


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def get_user(session: Session, username: str) -> User:
    user = find_user(session, username)
    if user is None:
        raise AccountError(f"no user named {username!r}", "`listening users list` shows them")
    return user


def add_user(
    session: Session,
    username: str,
    role: str,
    settings: AuthSettings,
    password: str | None = None,
    display_name: str = "",
    email: str | None = None,
) -> User:
    """Create an account; without a password it can only sign in through OIDC."""
    name = normalise_username(username)
    check_role(role)
    if find_user(session, name) is not None:
        raise AccountError(f"a user named {name!r} exists already", "choose another username")
    if password is not None:
        check_password(password, settings, name)
    user = User(
        username=name,
        display_name=display_name.strip() or name,
        email=email or None,
        role=role,
        password_hash=hash_password(password) if password is not None else None,
        disabled=False,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    return user


def set_disabled(session: Session, username: str, disabled: bool) -> User:
    """Disable (no sign-in, open sessions end at their next page) or enable an account."""
    user = get_user(session, username)
    user.disabled = disabled
    if not disabled:
        user.failed_logins, user.locked_until = 0, None
    return user


def set_role(session: Session, username: str, role: str) -> User:
    user = get_user(session, username)
    user.role = check_role(role)
    return user


def reset_password(session: Session, username: str, password: str, settings: AuthSettings) -> User:
    """A new password; also lifts a lockout."""
    user = get_user(session, username)
    check_password(password, settings, user.username)
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    return user


def authorize(session: Session, username: str, action: str) -> None:
    """Refuse (:class:`AccountError`) unless ``username`` may do ``action`` now.

    While no account exists the dashboard is open (demo mode) and everything is allowed;
    once one exists, the user must exist, be enabled, and have a role granting ``action``.
    """
    if not has_users(session):
        return
    user = find_user(session, username)
    if user is None or user.disabled:
        raise AccountError(f"no active account {username!r}", "sign in again")
    if action not in ROLE_ACTIONS.get(user.role, ()):
        raise AccountError(
            f"the role {user.role} of {user.username!r} does not allow {action!r}",
            "ask an admin for another role (`listening users set-role`)",
        )


def check_assignee(session: Session, assignee: str) -> str:
    """An assignee must be an active account whose role handles tickets (in demo mode,
    while no account exists, any name)."""
    name = assignee.strip()
    if not name:
        raise AccountError("no assignee chosen", "pick a user")
    if has_users(session):
        name = name.lower()
        if name not in active_usernames(session, able_to="tickets"):
            raise AccountError(
                f"{assignee!r} is not an active user who handles tickets",
                "pick one from the list (support or admin accounts)",
            )
    return name


# ------------------------------------------------------------------------- sign-in
def authenticate(
    session: Session,
    username: str,
    password: str,
    settings: AuthSettings,
    now: datetime | None = None,
) -> User:
    """The user whose password this is, or :class:`AccountError` (one message for
    unknown user and wrong password). A wrong password is counted and committed before
    the error is raised; the ``auth.lockout_attempts``-th locks the account."""
    at = _now(now)
    user = session.scalar(
        select(User).where(User.username == username.strip().lower()).with_for_update()
    )
    if user is None or user.password_hash is None:
        _verify(_dummy_hash(), password)  # same time as a real check: no username probing
        raise AccountError(WRONG, "check both; an admin can reset the password")
    locked_until = _aware(user.locked_until)
    if locked_until is not None and locked_until > at:
        minutes = max(1, int((locked_until - at).total_seconds() // 60) + 1)
        raise AccountError(
            "too many wrong passwords: the account is locked",
            f"try again in {minutes} minute(s), or ask an admin to reset the password",
        )
    if not _verify(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= settings.lockout_attempts:
            user.locked_until = at + timedelta(minutes=settings.lockout_minutes)
            user.failed_logins = 0
        session.commit()  # the count must outlive the refusal (the caller rolls back on errors)
        raise AccountError(WRONG, "check both; an admin can reset the password")
    if user.disabled:
        raise AccountError(f"the account {user.username!r} is disabled", "ask an admin")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, at
    return user


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# ------------------------------------------------------------------ session lifetime
@dataclass(frozen=True)
class SignedIn:
    """What the dashboard keeps for a signed-in browser session."""

    username: str
    role: str
    display_name: str
    method: str  # password | oidc
    started_at: datetime
    last_seen_at: datetime


def start_session(
    user: User, method: str, now: datetime | None = None, started: datetime | None = None
) -> SignedIn:
    """A new session; ``started``: when the identity was proven, if before now (OIDC)."""
    at = _now(now)
    return SignedIn(user.username, user.role, user.display_name, method, started or at, at)


def session_expiry(
    signed: SignedIn, settings: AuthSettings, now: datetime | None = None
) -> str | None:
    """Why this session is over ("idle", "max_age"), or None while it is valid."""
    at = _now(now)
    if at - signed.last_seen_at > timedelta(minutes=settings.session_idle_minutes):
        return "idle"
    if at - signed.started_at > timedelta(hours=settings.session_max_hours):
        return "max_age"
    return None


def refresh_session(
    session: Session, signed: SignedIn, settings: AuthSettings, now: datetime | None = None
) -> SignedIn:
    """The session seen now, with the role as the store has it now; :class:`AccountError`
    when it expired or the account was disabled or deleted meanwhile."""
    expired = session_expiry(signed, settings, now)
    if expired == "idle":
        raise AccountError("signed out after inactivity", "sign in again")
    if expired == "max_age":
        raise AccountError("the session reached its maximum duration", "sign in again")
    user = find_user(session, signed.username)
    if user is None or user.disabled:
        raise AccountError(f"the account {signed.username!r} is disabled", "ask an admin")
    return replace(signed, role=user.role, display_name=user.display_name, last_seen_at=_now(now))
