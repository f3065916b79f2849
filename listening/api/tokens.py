"""API tokens: only a SHA-256 of each token is stored, with a short prefix to recognise it.

A token is ``lst_`` + 32 random bytes (URL-safe base64), printed once by
``listening api tokens create``. With 256 bits of randomness a fast hash is enough:
nobody can brute-force a preimage, and a constant-time lookup by hash keeps each request
cheap (a slow password hash such as argon2 guards low-entropy secrets chosen by people,
which these are not). ``prefix`` (the first 12 characters) is kept to tell tokens apart
in listings; it cannot authenticate.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Index, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from listening.config.auth import ROLES as ACCOUNT_ROLES
from listening.errors import ApiError
from listening.store.models import Base, UTCDateTime, utcnow

TOKEN_PREFIX = "lst_"
PREFIX_LENGTH = 12
ROLES: tuple[str, ...] = ACCOUNT_ROLES  # community, support, marketing, admin


class ApiToken(Base):
    """One API token (migration 0022_api_tokens): who, which role, its life, never the token."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_token_hash", "token_hash", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class TokenInfo:
    """What a listing or a checked request knows of a token (never the token itself)."""

    id: int
    name: str
    prefix: str
    role: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(
        row.id,
        row.name,
        row.prefix,
        row.role,
        row.created_at,
        row.last_used_at,
        row.revoked_at,
        row.expires_at,
    )


def create_token(
    session: Session,
    name: str,
    role: str,
    expires_days: int | None = None,
    now: datetime | None = None,
) -> tuple[TokenInfo, str]:
    """Store a new token's hash; return its info and the token (shown once, never stored)."""
    name = name.strip()
    if not name:
        raise ApiError(
            "the token name is empty", "give a name saying who uses it, e.g. 'bi-export'"
        )
    if role not in ROLES:
        raise ApiError(f"unknown role {role!r}", f"valid roles: {', '.join(ROLES)}")
    if expires_days is not None and expires_days <= 0:
        raise ApiError(
            f"--expires-days must be positive, got {expires_days}",
            "leave it out for a token that does not expire",
        )
    if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
        raise ApiError(
            f"a token named {name!r} already exists",
            "choose another name (a revoked token keeps its name; "
            "`listening api tokens list` shows them)",
        )
    now = now or utcnow()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name,
        prefix=token[:PREFIX_LENGTH],
        token_hash=hash_token(token),
        role=role,
        created_at=now,
        expires_at=now + timedelta(days=expires_days) if expires_days else None,
    )
    session.add(row)
    session.flush()
    return _info(row), token


def list_tokens(session: Session) -> list[TokenInfo]:
    return [_info(r) for r in session.scalars(select(ApiToken).order_by(ApiToken.id))]


def revoke_token(session: Session, name: str, now: datetime | None = None) -> TokenInfo:
    """Revoke the token called ``name`` (or whose prefix is ``name``); revoking twice is a no-op."""
    row = session.scalar(select(ApiToken).where(ApiToken.name == name))
    if row is None:
        row = session.scalar(select(ApiToken).where(ApiToken.prefix == name))
    if row is None:
        raise ApiError(f"no token named {name!r}", "`listening api tokens list` shows the names")
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
    session.flush()
    return _info(row)


def check_token(
    session: Session,
    token: str,
    now: datetime | None = None,
    touch_after: timedelta = timedelta(minutes=1),
) -> TokenInfo:
    """The active token ``token`` is, or :class:`ApiError` 401 (unknown, revoked, expired).

    ``last_used_at`` is written at most once per ``touch_after`` (not on every request).
    """
    now = now or utcnow()
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    hint = "ask an admin for a token: `listening api tokens create NAME --role ROLE`"
    if row is None:
        raise ApiError("unknown API token", hint, status=401)
    info = _info(row)
    state = info.state(now)
    if state != "active":
        raise ApiError(f"API token {row.prefix}… is {state}", hint, status=401)
    if row.last_used_at is None or now - row.last_used_at >= touch_after:
        row.last_used_at = now
    return info
