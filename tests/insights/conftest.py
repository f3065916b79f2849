"""Insights fixtures: one real encoder (the default e5 runtime) per test session."""

from __future__ import annotations

from typing import Any

import pytest

from listening.config.nlp import NLPSettings
from listening.settings import Settings


@pytest.fixture(scope="session")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import nlp.encoder  # noqa: F401  (registers the encoders)
    from nlp.pipeline import make_encoder

    data = tmp_path_factory.mktemp("enc")
    settings = Settings(
        database_url=f"sqlite:///{data / 'x.db'}", data_dir=str(data), nlp=NLPSettings()
    )
    return make_encoder(settings, cache=True)
