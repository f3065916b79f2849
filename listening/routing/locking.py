"""Write serialisation: row locks on PostgreSQL, one writer at a time on SQLite."""

from __future__ import annotations

import os
import socket
import zlib

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from listening.routing.models import RoutingLock
from listening.store.models import utcnow

HOLDER = f"{socket.gethostname()}:{os.getpid()}"


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def take_write_lock(session: Session, name: str) -> None:
    """On SQLite, write first so this transaction holds the database write lock until it ends.

    A deferred SQLite transaction that reads and then writes can lose the race to another
    writer; updating a lock row first makes concurrent runs wait (busy timeout) instead.
    PostgreSQL needs nothing here: callers lock rows with ``FOR UPDATE SKIP LOCKED``.
    """
    if is_postgres(session):
        return
    session.execute(
        update(RoutingLock).where(RoutingLock.name == name).values(holder=HOLDER, acquired_at=utcnow())
    )


def lock_keys(session: Session, keys: list[str]) -> None:
    """PostgreSQL: transaction-scoped advisory locks on ``keys`` (sorted: no deadlock)."""
    if not is_postgres(session):
        return
    ids = sorted({zlib.crc32(key.encode()) for key in keys})
    if ids:  # one round trip; unnest keeps the (sorted) array order
        session.execute(
            text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:ids AS bigint[])) AS k"), {"ids": ids}
        ).all()
