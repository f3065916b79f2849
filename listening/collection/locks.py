"""Per-source run locks, as leases in the store: two runs of one source never overlap.

A lease is a row of ``collection_locks`` (one per source) with an owner and an expiry.
Taking it is one transaction that either inserts the row or takes over an expired one;
the primary key makes two concurrent takers fail but one, on SQLite and PostgreSQL
alike, across processes and machines. A run that crashes without releasing its lease
blocks its source only until the lease expires (``collection.lock_ttl_minutes``).
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String, delete, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from listening.errors import StoreError
from listening.store import Store
from listening.store.models import Base, UTCDateTime, utcnow


class CollectionLock(Base):
    """Who is collecting a source right now, until when."""

    __tablename__ = "collection_locks"

    source_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True
    )
    owner: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


def new_owner() -> str:
    """A lock owner id naming this host and process (shown when a source is busy)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(store: Store, source_id: int, owner: str, ttl_minutes: int) -> bool:
    """Take the source's lease; False when another live run holds it."""
    now = utcnow()
    expires = now + timedelta(minutes=ttl_minutes)
    try:
        with store.session() as session:
            taken = session.execute(
                update(CollectionLock)
                .where(CollectionLock.source_id == source_id, CollectionLock.expires_at < now)
                .values(owner=owner, acquired_at=now, expires_at=expires)
            )
            if getattr(taken, "rowcount", 0) == 1:
                return True
            if session.get(CollectionLock, source_id) is not None:
                return False
            session.add(
                CollectionLock(
                    source_id=source_id, owner=owner, acquired_at=now, expires_at=expires
                )
            )
            session.flush()
        return True
    except IntegrityError:  # another run inserted the lease first
        return False
    except (OperationalError, StoreError):  # SQLite busy past its timeout: someone else writes
        return False


def release(store: Store, source_id: int, owner: str) -> None:
    with store.session() as session:
        session.execute(
            delete(CollectionLock).where(
                CollectionLock.source_id == source_id, CollectionLock.owner == owner
            )
        )


def holder(store: Store, source_id: int) -> str | None:
    """Owner of a live lease on the source, if any."""
    with store.session() as session:
        lock = session.get(CollectionLock, source_id)
        if lock is None or lock.expires_at < utcnow():
            return None
        return lock.owner
