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


class PrivacyError(ListeningError):
    """A privacy request (forget, export, retention) is invalid; nothing was changed."""

    code = "L009"


class CorrectionError(AnalysisError):
    """A label correction (CLI, dashboard, corrections file) is invalid; nothing was written."""

    code = "L005"


class ReportError(ListeningError):
    """A report or digest cannot be built or sent: unknown brand, empty period, bad recipients."""

    code = "L013"


class AccountError(ListeningError):
    """A dashboard account or sign-in is refused: unknown user, wrong password, locked, policy."""

    code = "L008"


class ApiError(ListeningError):
    """A read-API request is refused: bad token or role, bad filter or cursor, rate limit.

    ``status`` is the HTTP status the API answers with; the body is
    ``{"error": {"code", "message", "hint"}}``. The CLI raises it for bad token commands.
    """

    code = "L011"

    def __init__(self, message: str, hint: str = "", status: int = 400) -> None:
        super().__init__(message, hint)
        self.status = status


class UnsafeTargetError(ListeningError):
    """An outbound URL (source, feed, API, redirect, webhook) points at a refused address."""

    code = "L010"


class InsightsError(ListeningError):
    """Insights (emerging themes, reports) cannot be computed: no data, unknown theme or topic."""

    code = "L012"
