"""The ``users`` table: who may sign in to the dashboard (managed by listening.accounts)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from listening.store.models import Base, UTCDateTime, utcnow


class User(Base):
    """A person: local password (argon2id hash) or OIDC subject, one role, throttling state."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))  # community | support | marketing | admin
    password_hash: Mapped[str | None] = mapped_column(String(255))  # NULL: OIDC-only user
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    oidc_subject: Mapped[str | None] = mapped_column(String(512), unique=True)
