"""The store on both backends: schema, idempotent upserts, sources, clear errors."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from listening.errors import SourceError, StoreError
from listening.store import Analysis, Document, Source, Store
from listening.store.documents import DocumentIn, upsert_documents
from listening.store.sources import (
    SourceSpec,
    add_source,
    import_sources,
    load_sources_file,
    remove_source,
)

SALT = "test-salt"


def _source(
    store: Store, name: str = "avis", brand: str = "Maison Lumière"
) -> tuple[int, int | None]:
    with store.session() as session:
        src, _ = add_source(
            session,
            SourceSpec(name=name, kind="review_site", url="https://example.org/avis", brand=brand),
        )
        return src.id, src.brand_id


def test_store_init_is_idempotent(store: Store) -> None:
    assert store.init() == "current"
    store.check_schema()


def test_store_upsert_same_delivery_twice_changes_nothing(store: Store) -> None:
    source_id, brand_id = _source(store)
    items = [
        DocumentIn("r1", "Livraison rapide, très contente.", author="Julie M.", rating=1.0),
        DocumentIn("r2", "Colis arrivé cassé.", author="Paul", rating=0.2),
    ]
    with store.session() as session:
        first = upsert_documents(session, source_id, brand_id, items, SALT)
    with store.session() as session:
        second = upsert_documents(session, source_id, brand_id, items, SALT)
        count = session.scalar(select(func.count(Document.id)))
    assert (first.new, first.duplicate) == (2, 0)
    assert (second.new, second.updated, second.duplicate) == (0, 0, 2)
    assert count == 2
    assert len(first.document_ids) == 2
    assert sorted(first.document_ids) == sorted(second.document_ids)


def test_store_upsert_changed_text_updates_and_drops_analyses(store: Store) -> None:
    source_id, brand_id = _source(store)
    with store.session() as session:
        upsert_documents(session, source_id, brand_id, [DocumentIn("r1", "Bien reçu.")], SALT)
        doc = session.scalar(select(Document))
        assert doc is not None
        session.add(
            Analysis(
                document_id=doc.id,
                model_version="v1",
                sentiment="positive",
                sentiment_score=0.9,
                topics=[],
                intent="praise",
                urgency=[],
            )
        )
    with store.session() as session:
        result = upsert_documents(
            session, source_id, brand_id, [DocumentIn("r1", "Bien reçu, mais abîmé.")], SALT
        )
        assert result.updated == 1
        assert session.scalar(select(func.count(Analysis.id))) == 0
        doc = session.scalar(select(Document))
        assert doc is not None and doc.text == "Bien reçu, mais abîmé."


def test_store_upsert_exact_duplicate_from_another_id_is_dropped(store: Store) -> None:
    source_id, brand_id = _source(store)
    with store.session() as session:
        upsert_documents(
            session, source_id, brand_id, [DocumentIn("a", "Top !", author="Léa")], SALT
        )
        again = upsert_documents(
            session, source_id, brand_id, [DocumentIn("b", "  top ! ", author="léa ")], SALT
        )
        other_author = upsert_documents(
            session, source_id, brand_id, [DocumentIn("c", "Top !", author="Marc")], SALT
        )
    assert again.duplicate == 1 and again.new == 0
    assert other_author.new == 1


def test_store_upsert_rejects_empty_items_with_reason(store: Store) -> None:
    source_id, brand_id = _source(store)
    with store.session() as session:
        result = upsert_documents(
            session, source_id, brand_id, [DocumentIn("x", "   "), DocumentIn("", "texte")], SALT
        )
    assert result.failed == 2 and len(result.errors) == 2 and result.new == 0


def test_store_authors_are_pseudonymised(store: Store) -> None:
    source_id, brand_id = _source(store)
    with store.session() as session:
        upsert_documents(
            session, source_id, brand_id, [DocumentIn("a", "Bof.", author="Jean Dupont")], SALT
        )
        doc = session.scalar(select(Document))
    assert doc is not None and doc.author is not None
    assert "Jean" not in doc.author and doc.author.startswith("a_")


def test_store_datetimes_come_back_utc_aware(store: Store) -> None:
    source_id, brand_id = _source(store)
    paris = timezone(timedelta(hours=1))
    published = datetime(2026, 3, 1, 10, 30, tzinfo=paris)
    with store.session() as session:
        upsert_documents(
            session, source_id, brand_id, [DocumentIn("a", "Ok", published_at=published)], SALT
        )
    with store.session() as session:
        doc = session.scalar(select(Document))
    assert doc is not None and doc.published_at is not None
    assert doc.published_at.tzinfo is not None
    assert doc.published_at == published
    assert doc.published_at.astimezone(UTC).hour == 9


def test_store_sources_add_duplicate_and_remove(store: Store) -> None:
    _source(store, "forum")
    with store.session() as session, pytest.raises(SourceError, match="exists already"):
        add_source(session, SourceSpec(name="forum", kind="forum", url="https://x.org"))
    with store.session() as session:
        remove_source(session, "forum")
    with store.session() as session, pytest.raises(SourceError, match="known sources: none"):
        remove_source(session, "forum")


def test_store_source_rejects_unknown_kind_and_bad_url() -> None:
    with pytest.raises(ValueError, match="valid kinds: review_site, forum"):
        SourceSpec(name="x", kind="twitter", url="https://x.org")
    with pytest.raises(SourceError, match="bad URL"):
        SourceSpec(name="x", kind="feed", url="ftp:/nope").check_url()


def test_store_sources_import_yaml(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(
        "brands:\n  - name: Maison Lumière\n    own: true\n  - name: Luminéo\n"
        "sources:\n  - name: avis\n    kind: review_site\n    url: https://example.org/avis\n"
        "    brand: Maison Lumière\n  - name: blog\n    kind: blog\n    url: https://example.org/blog\n"
        "    brand: Luminéo\n    schedule_minutes: 15\n",
        encoding="utf-8",
    )
    parsed = load_sources_file(path)
    with store.session() as session:
        assert import_sources(session, parsed) == (2, 0)
    with store.session() as session:
        assert import_sources(session, parsed) == (0, 2)
        names = list(session.scalars(select(Source.name).order_by(Source.name)))
    assert names == ["avis", "blog"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("sources: [\n", "not valid YAML at line"),
        ("sources:\n  - name: a\n    kind: tiktok\n    url: https://x.org\n", "sources.0.kind"),
        ("sources:\n  - name: a\n    kind: feed\n    url: not-a-url\n", "bad URL"),
        (
            "sources:\n  - name: a\n    kind: feed\n    url: https://x.org\n    colour: red\n",
            "colour",
        ),
        ("- just a list\n", "expected a mapping"),
    ],
)
def test_store_sources_file_errors_name_the_problem(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SourceError, match=message):
        load_sources_file(path)


def test_store_failed_transaction_writes_nothing(store: Store) -> None:
    source_id, brand_id = _source(store)
    with pytest.raises(RuntimeError), store.session() as session:
        upsert_documents(session, source_id, brand_id, [DocumentIn("a", "Texte")], SALT)
        raise RuntimeError("crash mid-batch")
    with store.session() as session:
        assert session.scalar(select(func.count(Document.id))) == 0


def test_store_read_only_cannot_write(store: Store) -> None:
    _source(store)
    reader = Store(store.url, read_only=True)
    try:
        with pytest.raises(Exception, match="(?i)read.?only"), reader.session() as session:
            session.execute(text("DELETE FROM sources"))
        with reader.session() as session:
            assert session.scalar(select(func.count(Source.id))) == 1
    finally:
        reader.dispose()


def test_store_check_schema_on_empty_database_says_run_init(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(StoreError, match="listening init"):
        store.check_schema()


def test_store_locked_sqlite_gives_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    store = Store(f"sqlite:///{path}")
    store.init()
    _source(store)
    blocker = sqlite3.connect(path)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        impatient = Store(f"sqlite:///{path}", busy_timeout_s=0.1)
        with pytest.raises(StoreError, match="locked by another process"), impatient.session() as s:
            s.execute(text("UPDATE sources SET name = 'x'"))
    finally:
        blocker.rollback()
        blocker.close()


def test_store_read_only_sqlite_file_gives_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    store = Store(f"sqlite:///{path}")
    store.init()
    store.dispose()
    # opened the way a file without write permission opens (tests may run as root)
    writer = Store(f"sqlite:///file:{path}?mode=ro&uri=true")
    with pytest.raises(StoreError, match="read-only"), writer.session() as session:
        session.execute(
            text(
                "INSERT INTO brands (name, is_own, aliases, created_at) VALUES ('x', 0, '[]', '2026-01-01')"
            )
        )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", "invalid database URL"),
        ("mysql://root@localhost/db", "unsupported database 'mysql'"),
        ("postgresql+nodriver://u@h/db", "no driver"),
    ],
)
def test_store_bad_urls_are_explained(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        Store(url)


def test_store_unreachable_postgres_is_explained() -> None:
    store = Store("postgresql+psycopg://postgres@127.0.0.1:1/test")
    with pytest.raises(StoreError, match="cannot connect"):
        store.init()


def test_store_failed_migration_leaves_nothing_half_written(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from listening.store import migrate

    store = Store(store_url)
    store.init()
    before = migrate.current_revisions(store.engine)
    scripts = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    heads = sorted(before)
    (scripts / "versions" / "9999_broken.py").write_text(
        "import sqlalchemy as sa\nfrom alembic import op\n"
        f"revision = '9999'\ndown_revision = {tuple(heads)!r}\nbranch_labels = None\ndepends_on = None\n"
        "def upgrade():\n"
        "    op.create_table('half', sa.Column('id', sa.Integer, primary_key=True))\n"
        "    op.execute('THIS IS NOT SQL')\n"
        "def downgrade():\n    pass\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(migrate, "MIGRATIONS", scripts)
    with pytest.raises(StoreError, match="migration failed and was rolled back"):
        store.init()
    from sqlalchemy import inspect

    assert "half" not in inspect(store.engine).get_table_names()
    assert migrate.current_revisions(store.engine) == before
    store.dispose()


def test_migrations_have_a_single_head() -> None:
    """One Alembic head: a new migration has exactly one parent to descend from."""
    from listening.store import migrate

    assert len(migrate.head_revisions()) == 1, migrate.head_revisions()


def test_store_autogenerate_proposes_no_change(store: Store) -> None:
    """`alembic revision --autogenerate` on a current store: the models match the migrations."""
    from listening.store.schema import schema_diff

    assert schema_diff(store.engine) == []


def test_store_autogenerate_sees_a_model_change(store: Store) -> None:
    """The comparison is real: a column the migrations never created is proposed."""
    import sqlalchemy as sa

    from listening.store.schema import metadata, schema_diff

    changed = sa.MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["routing_decisions"].append_column(sa.Column("not_migrated", sa.Integer()))
    diff = schema_diff(store.engine, changed)
    assert [d[0] for d in diff] == ["add_column"] and diff[0][3].name == "not_migrated"
