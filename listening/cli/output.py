"""Shared CLI output helpers: rich console, JSON last line, progress."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from rich.console import Console

console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set):
        return sorted(value)
    return str(value)


def to_json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=_default)


def print_json(obj: Any) -> None:
    """Print one JSON document on one line (machine readers take the last line)."""
    print(to_json(obj), flush=True)
