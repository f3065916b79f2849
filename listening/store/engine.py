"""Engine creation: SQLite (WAL, foreign keys) or PostgreSQL, with clear errors."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from listening.errors import StoreError

SUPPORTED = "sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any, busy_timeout_s: float = 30.0) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
    with contextlib.suppress(sqlite3.OperationalError):  # read-only file: keep its mode
        cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _pg_read_only(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    cur.close()
    dbapi_conn.commit()


def _transactional_ddl(engine: Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, open transactions, so DDL is transactional too.

    Without this a failed migration could leave a half-created schema behind.
    """

    @event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, read_only: bool = False, busy_timeout_s: float = 30.0) -> Engine:
    """Create an engine for ``url``; ``read_only`` gives a connection that cannot write.

    ``busy_timeout_s``: how long a SQLite writer waits for another writer's lock.
    """

    def pragmas(dbapi_conn: Any, record: Any) -> None:
        _sqlite_pragmas(dbapi_conn, record, busy_timeout_s)

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            f"invalid database URL {url!r}", f"use {SUPPORTED} (LISTENING_DATABASE_URL)"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database)
            if not read_only:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(
                        f"cannot create the folder of {path}: {exc.strerror}",
                        "choose a writable path in LISTENING_DATABASE_URL",
                    ) from None
            if read_only:
                if not path.exists():
                    raise StoreError(f"no store at {path}", "run `listening init` first")
                uri = f"file:{path.resolve()}?mode=ro"
                engine = create_engine(
                    "sqlite://",
                    creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
                )
                event.listen(engine, "connect", pragmas)
                return engine
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": busy_timeout_s}
        )
        event.listen(engine, "connect", pragmas)
        _transactional_ddl(engine)
        return engine
    if backend == "postgresql":
        try:
            engine = create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
        except NoSuchModuleError:
            raise StoreError(
                f"no driver for {parsed.drivername!r}",
                "use postgresql+psycopg://... and pip install 'listening[postgres]'",
            ) from None
        except ModuleNotFoundError as exc:
            raise StoreError(
                f"the PostgreSQL driver is not installed ({exc.name})",
                "pip install 'listening[postgres]'",
            ) from None
        if read_only:
            event.listen(engine, "connect", _pg_read_only)
        return engine
    raise StoreError(f"unsupported database {backend!r} in {url!r}", f"use {SUPPORTED}")


def explain_operational_error(exc: OperationalError, url: str) -> StoreError:
    """Turn a driver error into a :class:`StoreError` that says what to do."""
    text = str(exc.orig) if exc.orig is not None else str(exc)
    low = text.lower()
    safe_url = make_url(url).render_as_string(hide_password=True)
    if "database is locked" in low:
        return StoreError(
            f"the SQLite file is locked by another process ({safe_url})",
            "wait for the other `listening` command to finish, or stop it, then retry",
        )
    if "readonly" in low or "read-only" in low or "read only" in low:
        return StoreError(
            f"the database is read-only ({safe_url})",
            "give the user write access to the file and its folder, or set LISTENING_DATABASE_URL",
        )
    if "unable to open database file" in low:
        return StoreError(
            f"cannot open the SQLite file ({safe_url})",
            "check that the folder exists and is writable, or set LISTENING_DATABASE_URL",
        )
    if "connection" in low or "could not translate host" in low or "does not exist" in low:
        first = text.strip().splitlines()[-1] if text.strip() else text
        return StoreError(
            f"cannot connect to {safe_url}: {first}",
            "check that the server runs and the URL in LISTENING_DATABASE_URL is right",
        )
    return StoreError(f"database error on {safe_url}: {text.strip()}", "see the log for details")
