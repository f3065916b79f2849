"""Work shared by several processes: analysis claims (leases) and dead-lettered tasks.

- ``analysis_claims``: a document being analysed, by whom, until when. N analysis
  processes on one store never analyse one document twice: a claim is taken with one
  ``INSERT ... ON CONFLICT DO UPDATE ... WHERE expires_at < now`` per batch (the primary
  key lets one taker win; a live claim is never taken over), released in the same
  transaction that writes the analyses, and a process killed mid-batch loses its claim
  when the lease expires. Works the same on SQLite and PostgreSQL.
- ``task_failures``: a distributed task that kept failing after its retries (the
  dead-letter state of docs/SCALING.md), shown by ``listening workers status`` and on the
  dashboard's Sources page; never silently dropped.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from listening.store.models import Base, UTCDateTime, utcnow


class AnalysisClaim(Base):
    """A document claimed by one analysis run until ``expires_at``."""

    __tablename__ = "analysis_claims"

    document_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    owner: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class TaskFailure(Base):
    """A task that failed past its retries (dead letter), with what is needed to replay it."""

    __tablename__ = "task_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task: Mapped[str] = mapped_column(String(200))
    queue: Mapped[str] = mapped_column(String(64), index=True)
    args: Mapped[Any] = mapped_column(JSON, default=list)
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    task_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim_documents(
    session: Session, doc_ids: Iterable[int], owner: str, lease_seconds: float
) -> list[int]:
    """Claim the given documents for ``owner`` (in the caller's transaction); returns the
    ids this call won. A live claim of another owner is never taken over."""
    ids = sorted(set(doc_ids))
    if not ids:
        return []
    now = utcnow()
    expires = now + timedelta(seconds=lease_seconds)
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(AnalysisClaim).values(
        [{"document_id": i, "owner": owner, "expires_at": expires} for i in ids]
    )
    table = AnalysisClaim.__table__
    upsert = stmt.on_conflict_do_update(
        index_elements=[table.c.document_id],
        set_={"owner": stmt.excluded.owner, "expires_at": stmt.excluded.expires_at},
        where=table.c.expires_at < now,
    ).returning(table.c.document_id, table.c.owner)
    return sorted(int(doc_id) for doc_id, who in session.execute(upsert) if who == owner)


def release_documents(session: Session, doc_ids: Iterable[int], owner: str) -> None:
    ids = list(doc_ids)
    if ids:
        session.execute(
            delete(AnalysisClaim).where(
                AnalysisClaim.document_id.in_(ids), AnalysisClaim.owner == owner
            )
        )


def still_claimed(session: Session, doc_ids: Iterable[int], owner: str) -> set[int]:
    """The documents ``owner`` still holds, locked until the caller's commit (PostgreSQL):
    write results only for these. A run slower than its lease may have lost some to
    another run, which then writes them (fencing: one outcome per document)."""
    ids = list(doc_ids)
    if not ids:
        return set()
    query = select(AnalysisClaim.document_id).where(
        AnalysisClaim.document_id.in_(ids), AnalysisClaim.owner == owner
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return {int(i) for i in session.scalars(query)}


def live_claims() -> Any:
    """Subquery-ready condition: ids of documents under a live claim."""
    return select(AnalysisClaim.document_id).where(AnalysisClaim.expires_at >= utcnow())


def record_failure(
    session: Session,
    *,
    task: str,
    queue: str,
    args: Any,
    error: str,
    attempts: int,
    task_id: str | None,
) -> None:
    """Dead-letter a task (once per task id)."""
    if task_id and session.scalar(select(TaskFailure.id).where(TaskFailure.task_id == task_id)):
        return
    session.add(
        TaskFailure(
            task=task,
            queue=queue,
            args=args,
            error=error[:4000],
            attempts=attempts,
            task_id=task_id,
            failed_at=utcnow(),
        )
    )


def list_failures(session: Session, limit: int = 50) -> list[dict[str, Any]]:
    rows = session.scalars(select(TaskFailure).order_by(TaskFailure.id.desc()).limit(limit))
    return [
        {
            "id": f.id,
            "task": f.task,
            "queue": f.queue,
            "args": f.args,
            "error": f.error,
            "attempts": f.attempts,
            "failed_at": f.failed_at,
        }
        for f in rows
    ]


def failures_by_queue(session: Session) -> dict[str, int]:
    rows = session.execute(select(TaskFailure.queue, func.count()).group_by(TaskFailure.queue))
    return {str(q): int(n) for q, n in rows}
