"""Settings of the distributed workers (Celery; docs/SCALING.md)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

QUEUE_KINDS: tuple[str, ...] = ("collect", "analyze", "route", "notify")


class WorkersSettings(BaseModel):
    """``LISTENING_WORKERS__*``: Celery workers sharing a PostgreSQL store (optional)."""

    broker_url: str = Field(
        json_schema_extra={"secret": True},
        default="redis://127.0.0.1:6379/0",
        description=(
            "Celery broker of `listening worker` / `listening scheduler`: redis://host:6379/0 or "
            "amqp://user:password@host:5672// (RabbitMQ). The password is masked when shown."
        ),
    )
    queue_prefix: str = Field(
        default="listening.",
        description="Prefix of the queue names (<prefix>collect, analyze, route, notify); one per deployment.",
    )
    concurrency: int = Field(
        default=2,
        ge=1,
        description="Worker processes per `listening worker` (one per core for analysis).",
    )
    prefetch: int = Field(
        default=1,
        ge=1,
        description="Messages a worker process reserves ahead (1: a slow batch never holds others back).",
    )
    task_time_limit_seconds: int = Field(
        default=3600,
        ge=10,
        description="Hard time limit of one task; its process is killed past it.",
    )
    task_soft_time_limit_seconds: int = Field(
        default=3300, ge=5, description="Soft time limit of one task (the task is asked to stop)."
    )
    max_retries: int = Field(
        default=5,
        ge=0,
        description="Retries of a failing task (exponential backoff) before it is dead-lettered in the store.",
    )
    retry_backoff_seconds: int = Field(
        default=2, ge=1, description="First retry delay of a failing task; doubled at each retry."
    )
    retry_backoff_max_seconds: int = Field(
        default=600, ge=1, description="Longest delay between two retries of a task."
    )
    analysis_lease_seconds: int = Field(
        default=900,
        ge=1,
        description="How long an analysis worker's claim on a batch lasts; a dead worker's claim expires then.",
    )
    analyze_task_docs: int = Field(
        default=256, ge=1, description="Documents one `analyze` task claims and analyses."
    )
    visibility_timeout_seconds: int = Field(
        default=7200,
        ge=60,
        description="Redis broker: an unacknowledged task is redelivered after this long (above the time limit).",
    )
    schedule_seconds: float = Field(
        default=15.0,
        gt=0,
        description="`listening scheduler`: seconds between two looks for due work.",
    )
    connect_retries: int = Field(
        default=10,
        ge=0,
        description="Attempts to reach the broker (with backoff) before giving up.",
    )

    @field_validator("queue_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if any(c.isspace() or c == "," for c in value):
            raise ValueError("queue_prefix must not contain spaces or commas")
        return value
