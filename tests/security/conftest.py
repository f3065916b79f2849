"""Security tests run with the default (strict) outbound-target guard."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from listening.settings import get_settings


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The shipped default: private targets refused (tests/conftest.py allows them)."""
    monkeypatch.delenv("LISTENING_SECURITY__ALLOW_PRIVATE_TARGETS", raising=False)
    get_settings.cache_clear()
    assert get_settings().security.allow_private_targets is False
    yield
    get_settings.cache_clear()
