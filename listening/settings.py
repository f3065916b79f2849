"""All settings, declared once with their default and help.

Sources, by priority: keyword arguments, ``LISTENING_*`` environment variables
(nested groups use ``__``: ``LISTENING_NLP__BATCH_SIZE=32``), then the TOML file
named by ``LISTENING_CONFIG`` (default ``./listening.toml``, optional), then the
defaults below. ``listening config show`` prints the effective values, and
``docs/SETTINGS.md`` documents each one (a test keeps it complete).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from listening.config.api import ApiSettings
from listening.config.auth import AuthSettings
from listening.config.collection import CollectionSettings
from listening.config.dashboard import DashboardSettings
from listening.config.insights import InsightsSettings
from listening.config.nlp import NLPSettings
from listening.config.privacy import PrivacySettings
from listening.config.routing import RoutingSettings
from listening.config.security import SecuritySettings
from listening.config.workers import WorkersSettings
from listening.errors import ConfigError
from listening.secrets import FileSecretsSource

ENV_PREFIX = "LISTENING_"
CONFIG_FILE_ENV = "LISTENING_CONFIG"
DEFAULT_CONFIG_FILE = "listening.toml"


def _config_file() -> Path:
    return Path(os.environ.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE))


class Settings(BaseSettings):
    """Top-level settings (``LISTENING_*``)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    database_url: str = Field(
        default="sqlite:///data/listening.db",
        json_schema_extra={"secret": True},
        description=(
            "SQLAlchemy URL of the store. SQLite by default; for a team use "
            "postgresql+psycopg://user@host:5432/dbname (install the 'postgres' extra)."
        ),
    )
    data_dir: str = Field(
        default="data",
        description="Folder for the SQLite file, crawl state (JOBDIR) and caches.",
    )
    timezone: str = Field(
        default="Europe/Paris",
        description="Time zone of the people reading the store (IANA name): dates are shown and "
        "days counted in it (charts, date filters, daily rollups); the store keeps UTC. "
        "`listening init` applies a change.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as UTC or Europe/Paris"
            ) from None
        return value
    log_level: str = Field(
        default="INFO", description="Python logging level: DEBUG, INFO, WARNING, ERROR."
    )
    collection: CollectionSettings = Field(
        default_factory=CollectionSettings, description="Collection settings group."
    )
    nlp: NLPSettings = Field(default_factory=NLPSettings, description="NLP settings group.")
    routing: RoutingSettings = Field(
        default_factory=RoutingSettings, description="Routing settings group."
    )
    dashboard: DashboardSettings = Field(
        default_factory=DashboardSettings, description="Dashboard settings group."
    )
    workers: WorkersSettings = Field(
        default_factory=WorkersSettings, description="Distributed workers settings group."
    )
    auth: AuthSettings = Field(
        default_factory=AuthSettings, description="Accounts and sign-in settings group."
    )
    privacy: PrivacySettings = Field(
        default_factory=PrivacySettings, description="Privacy (GDPR) settings group."
    )
    security: SecuritySettings = Field(
        default_factory=SecuritySettings, description="Hardening settings group."
    )
    insights: InsightsSettings = Field(
        default_factory=InsightsSettings, description="Insights and reports settings group."
    )
    api: ApiSettings = Field(default_factory=ApiSettings, description="Read API settings group.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            FileSecretsSource(settings_cls, ENV_PREFIX),  # LISTENING_<NAME>_FILE=/run/secrets/x
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=_config_file()),
        )


GROUPS: tuple[str, ...] = (
    "collection",
    "nlp",
    "routing",
    "dashboard",
    "workers",
    "auth",
    "privacy",
    "security",
    "insights",
    "api",
)


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning validation errors into one clear :class:`ConfigError`."""
    try:
        return Settings(**overrides)
    except ConfigError:
        raise
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(
            f"invalid settings: {problems}",
            f"fix the LISTENING_* variables or {_config_file()}; `listening config show` lists them",
        ) from None
    except Exception as exc:  # a malformed TOML file
        raise ConfigError(
            f"cannot read settings: {exc}", f"check the TOML syntax of {_config_file()}"
        ) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return load_settings()


def iter_setting_fields() -> Iterator[tuple[str, str, FieldInfo]]:
    """Yield ``(dotted_name, env_var, field)`` for every leaf setting."""
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for sub_name, sub_field in annotation.model_fields.items():
                yield (
                    f"{name}.{sub_name}",
                    f"{ENV_PREFIX}{name.upper()}__{sub_name.upper()}",
                    sub_field,
                )
        else:
            yield name, f"{ENV_PREFIX}{name.upper()}", field


def effective_values(settings: Settings) -> dict[str, Any]:
    """Flat ``{dotted_name: value}`` of the effective settings."""
    values: dict[str, Any] = {}
    for dotted, _env, _field in iter_setting_fields():
        obj: Any = settings
        for part in dotted.split("."):
            obj = getattr(obj, part)
        values[dotted] = obj
    return values
