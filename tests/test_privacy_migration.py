"""Migration 0021_privacy goes down and up again without losing the documents triggers."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from listening.store import Store, migrate


def _triggers(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'documents'"
        else:
            sql = (
                "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relname = 'documents' AND NOT tgisinternal"
            )
        return sorted(r[0] for r in conn.execute(text(sql)))


def _step(store: Store, target: str, up: bool) -> None:
    cfg = migrate.alembic_config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.upgrade if up else command.downgrade)(cfg, target)


def test_privacy_migration_down_and_up_keeps_triggers(store: Store) -> None:
    triggers = _triggers(store)
    assert len(triggers) >= 3  # full-text and derived tables (0005)
    _step(store, "0021_privacy-1", up=False)
    assert "erased_at" not in {c["name"] for c in inspect(store.engine).get_columns("documents")}
    assert "erasures" not in inspect(store.engine).get_table_names()
    assert _triggers(store) == triggers
    _step(store, "heads", up=True)
    assert "erased_at" in {c["name"] for c in inspect(store.engine).get_columns("documents")}
    assert _triggers(store) == triggers
