"""The :class:`Store`: one engine, sessions, schema checks and migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from listening.errors import StoreError
from listening.settings import Settings, get_settings
from listening.store import migrate
from listening.store.engine import explain_operational_error, make_engine


class Store:
    """Access to the database named by ``settings.database_url``.

    Writers open a :meth:`session` (one transaction, committed on success, rolled
    back on any error so nothing is half-written). The dashboard opens the store
    with ``read_only=True``.
    """

    def __init__(self, url: str, read_only: bool = False, busy_timeout_s: float = 30.0) -> None:
        self.url = url
        self.read_only = read_only
        self.engine: Engine = make_engine(url, read_only=read_only, busy_timeout_s=busy_timeout_s)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, read_only: bool = False) -> Store:
        settings = settings or get_settings()
        return cls(settings.database_url, read_only=read_only)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def init(self) -> str:
        """Create or upgrade the schema; returns ``"created"``, ``"upgraded"`` or ``"current"``."""
        try:
            before = migrate.current_revisions(self.engine)
        except OperationalError as exc:
            raise explain_operational_error(exc, self.url) from None
        if before == migrate.head_revisions():
            return "current"
        try:
            migrate.upgrade(self.engine)
        except SQLAlchemyError as exc:
            if isinstance(exc, OperationalError):
                explained = explain_operational_error(exc, self.url)
                if not explained.message.startswith("database error"):
                    raise explained from None
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise StoreError(
                f"the migration failed and was rolled back: {detail}",
                "the database was left as it was; report this with `listening config show`",
            ) from None
        return "created" if not before else "upgraded"

    def set_time_zone(self, name: str) -> bool:
        """Count the store's days in zone ``name`` (rebuilds the daily rollups when it changed)."""
        from listening.store.timezone import apply_time_zone

        with self.engine.begin() as conn:
            return apply_time_zone(conn, name)

    def time_zone(self) -> str:
        """The zone the store's days are counted in (``UTC`` until one is applied)."""
        from listening.store.timezone import store_time_zone

        with self.engine.connect() as conn:
            return store_time_zone(conn)

    def check_schema(self) -> None:
        """Fail with a clear error when the schema is missing or outdated."""
        try:
            current = migrate.current_revisions(self.engine)
        except OperationalError as exc:
            raise explain_operational_error(exc, self.url) from None
        if not current:
            raise StoreError("the store has no tables yet", "run `listening init` first")
        if current != migrate.head_revisions():
            raise StoreError("the store schema is outdated", "run `listening init` to upgrade it")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block succeeds, rolled back otherwise."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            raise explain_operational_error(exc, self.url) from None
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
