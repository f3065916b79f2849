"""Helpers shared by the NLP tests."""

from __future__ import annotations

from pathlib import Path

from listening.config.nlp import NLPSettings
from listening.settings import Settings


def plain_settings(data_dir: Path, **nlp: object) -> Settings:
    """Defaults only (no environment), with a private data dir."""
    return Settings(database_url=f"sqlite:///{data_dir / 'x.db'}", data_dir=str(data_dir),
                    nlp=NLPSettings.model_validate(nlp))
