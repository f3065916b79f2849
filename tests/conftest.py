"""Shared fixtures: real stores on SQLite and PostgreSQL, clean settings."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from listening.settings import get_settings
from listening.store import Store

PG_URL = os.environ.get(
    "LISTENING_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # pragma: no cover - depends on the machine
        return str(exc).splitlines()[0]


@pytest.fixture(autouse=True)
def _clean_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Every test starts from defaults, with its own SQLite file and no listening.toml."""
    for key in list(os.environ):
        if key.startswith("LISTENING_") and key != "LISTENING_TEST_PG_URL":
            monkeypatch.delenv(key)
    monkeypatch.setenv("LISTENING_CONFIG", str(tmp_path / "absent-listening.toml"))
    monkeypatch.setenv("LISTENING_DATABASE_URL", f"sqlite:///{tmp_path / 'listening.db'}")
    monkeypatch.setenv("LISTENING_DATA_DIR", str(tmp_path / "data"))
    # tests serve sites, feeds, APIs and webhook receivers on 127.0.0.1: allow private
    # targets explicitly (the default refuses them; tests/security/ unsets this)
    monkeypatch.setenv("LISTENING_SECURITY__ALLOW_PRIVATE_TARGETS", "true")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _pg_schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL schema (dropped afterwards)."""
    problem = _pg_available()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {PG_URL}: {problem}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {problem}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for each backend: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """An initialised store on each backend; the settings point at it too."""
    monkeypatch.setenv("LISTENING_DATABASE_URL", store_url)
    get_settings.cache_clear()
    s = Store(store_url)
    s.init()
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """An initialised SQLite store (for tests that need only one backend)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("LISTENING_DATABASE_URL", url)
    get_settings.cache_clear()
    s = Store(url)
    s.init()
    yield s
    s.dispose()


@pytest.fixture
def shared_data() -> Path:
    """The steering side's data folder; tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA
