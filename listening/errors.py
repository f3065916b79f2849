"""Errors that tell the user what was wrong and what to do.

Every error raised to the user carries a stable code (``L001``...), a message
that says what was wrong and a hint that says what to do. The CLI prints them
on one line and exits non-zero.
"""

from __future__ import annotations


class ListeningError(Exception):
    """Base class for user-facing errors."""

    code = "L000"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.code}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class ConfigError(ListeningError):
    """A setting, a config file or a command argument is invalid."""

    code = "L001"


class StoreError(ListeningError):
    """The database cannot be opened, migrated or written."""

    code = "L002"


class SourceError(ListeningError):
    """A source definition is invalid (kind, URL, brand...)."""

    code = "L003"


class CollectionError(ListeningError):
    """A collector failed on a source or an input file."""

    code = "L004"


class AnalysisError(ListeningError):
    """The NLP pipeline cannot be built or run (models, taxonomy...)."""

    code = "L005"


class RoutingError(ListeningError):
    """Routing rules or notification targets are invalid."""

    code = "L006"


class WorkerError(ListeningError):
    """The distributed workers cannot start: broker unreachable, wrong queue, SQLite store."""

    code = "L007"


class CorrectionError(AnalysisError):
    """A label correction (CLI, dashboard, corrections file) is invalid; nothing was written."""

    code = "L005"


class InsightsError(ListeningError):
    """Insights (emerging themes, reports) cannot be computed: no data, unknown theme or topic."""

    code = "L012"
