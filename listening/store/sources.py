"""Brands and sources: validated definitions, CRUD and YAML import."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from listening.errors import SourceError
from listening.netguard import check_url
from listening.settings import get_settings
from listening.store.models import SOURCE_KINDS, Brand, Source

FILE_KINDS = ("survey", "email")  # imported from files: the URL may be a path


class BrandSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    own: bool = False
    aliases: list[str] = Field(default_factory=list)


class SourceSpec(BaseModel):
    """A source as written in a sources YAML file or given to `listening sources add`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: str
    url: str = ""
    brand: str | None = None
    schedule_minutes: int = Field(default=60, ge=1)
    enabled: bool = True
    settings: dict[str, Any] = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in SOURCE_KINDS:
            raise ValueError(f"unknown kind {value!r}; valid kinds: {', '.join(SOURCE_KINDS)}")
        return value

    def check_url(self) -> None:
        if self.kind in FILE_KINDS and not self.url.startswith(("http://", "https://")):
            return
        parsed = urlparse(self.url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SourceError(
                f"source {self.name!r}: bad URL {self.url!r}",
                "give an absolute http:// or https:// URL",
            )
        check_url(self.url, get_settings().security, f"source {self.name!r}: URL")


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brands: list[BrandSpec] = Field(default_factory=list)
    sources: list[SourceSpec] = Field(default_factory=list)


def get_or_create_brand(session: Session, name: str, own: bool | None = None) -> Brand:
    brand = session.scalar(select(Brand).where(Brand.name == name))
    if brand is None:
        brand = Brand(name=name, is_own=bool(own), aliases=[])
        session.add(brand)
        session.flush()
    elif own is not None and brand.is_own != own:
        brand.is_own = own
    return brand


def add_source(session: Session, spec: SourceSpec, replace: bool = False) -> tuple[Source, bool]:
    """Create the source (or update it when ``replace``); returns (source, created)."""
    spec.check_url()
    brand_id = get_or_create_brand(session, spec.brand).id if spec.brand else None
    source = session.scalar(select(Source).where(Source.name == spec.name))
    created = source is None
    if source is not None and not replace:
        raise SourceError(
            f"a source named {spec.name!r} exists already",
            "choose another name, or `listening sources remove` it first",
        )
    if source is None:
        source = Source(name=spec.name, state={})
        session.add(source)
    source.kind = spec.kind
    source.url = spec.url
    source.brand_id = brand_id
    source.schedule_minutes = spec.schedule_minutes
    source.enabled = spec.enabled
    source.settings = spec.settings
    session.flush()
    return source, created


def remove_source(session: Session, name: str) -> None:
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        known = ", ".join(session.scalars(select(Source.name).order_by(Source.name))) or "none"
        raise SourceError(f"no source named {name!r}", f"known sources: {known}")
    session.delete(source)


def load_sources_file(path: Path) -> SourcesFile:
    """Parse and validate a sources YAML file; errors name the entry and the field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise SourceError(f"no such file: {path}", "give the path of a sources YAML file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SourceError(
            f"{path}: not valid YAML{where}", "see docs/SOURCES.md for the format"
        ) from None
    if not isinstance(data, dict):
        raise SourceError(
            f"{path}: expected a mapping with 'brands' and 'sources'", "see docs/SOURCES.md"
        )
    try:
        parsed = SourcesFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise SourceError(
            f"{path}: {loc}: {err['msg']}", "see docs/SOURCES.md for the format"
        ) from None
    for spec in parsed.sources:
        spec.check_url()
    return parsed


def import_sources(session: Session, parsed: SourcesFile) -> tuple[int, int]:
    """Create or update brands and sources; returns (created, updated)."""
    for brand in parsed.brands:
        b = get_or_create_brand(session, brand.name, brand.own)
        b.aliases = brand.aliases
    created = updated = 0
    for spec in parsed.sources:
        _source, is_new = add_source(session, spec, replace=True)
        created += is_new
        updated += not is_new
    return created, updated
