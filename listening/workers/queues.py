"""Queue names, the checks done before any worker starts, and URL masking (no Celery)."""

from __future__ import annotations

from listening.config.workers import QUEUE_KINDS
from listening.errors import WorkerError
from listening.secrets import mask_url  # noqa: F401  (re-exported: workers, CLI)
from listening.settings import Settings

BROKER_SETTING = "LISTENING_WORKERS__BROKER_URL"


def queue_name(settings: Settings, kind: str) -> str:
    return f"{settings.workers.queue_prefix}{kind}"


def queue_names(settings: Settings) -> dict[str, str]:
    """``{kind: queue name}`` for the four kinds of work."""
    return {kind: queue_name(settings, kind) for kind in QUEUE_KINDS}


def parse_queues(value: str | None) -> list[str]:
    """Queue kinds from ``collect,analyze,...`` (all when empty); unknown names are an error."""
    if not value:
        return list(QUEUE_KINDS)
    kinds = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [k for k in kinds if k not in QUEUE_KINDS]
    if unknown or not kinds:
        raise WorkerError(
            f"unknown queue(s): {', '.join(unknown) or repr(value)}",
            f"valid queues: {', '.join(QUEUE_KINDS)} (comma-separated, e.g. --queues analyze,route)",
        )
    return list(dict.fromkeys(kinds))


def require_postgres(settings: Settings) -> None:
    """Multi-worker mode shares one PostgreSQL store: SQLite is refused with the reason."""
    if not settings.database_url.startswith("postgresql"):
        raise WorkerError(
            "distributed workers need PostgreSQL: a SQLite file cannot be shared by workers "
            "on several machines and allows one writer at a time",
            "set LISTENING_DATABASE_URL=postgresql+psycopg://user@host:5432/db, or use "
            "`listening serve` for a single machine",
        )
