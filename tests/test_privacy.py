"""Privacy (GDPR): forget a person everywhere, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from privacy_seed import EMAIL, FRAGMENTS, HANDLE, NAME, OTHER_TEXT, cache_keys, scan, seed
from sqlalchemy import func, select, text

from listening.collection.ingest import ingest
from listening.errors import PrivacyError
from listening.gdpr.forget import forget, list_erasures, resolve_subject
from listening.gdpr.models import Erasure
from listening.privacy import pseudonymize
from listening.settings import get_settings
from listening.store import Document, Store, Ticket
from listening.store.documents import DocumentIn


def _counts(store: Store) -> dict[str, Any]:
    with store.engine.connect() as conn:
        out = {}
        for table in ("documents", "document_facts", "analysis_topics", "tickets", "analyses"):
            out[table] = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
        for table in ("daily_documents", "daily_topics"):
            out[table] = conn.execute(text(f"SELECT coalesce(sum(n), 0) FROM {table}")).scalar()
        return out


def _search(store: Store, word: str) -> int:
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            sql = "SELECT count(*) FROM documents_fts WHERE documents_fts MATCH :q"
        else:
            sql = (
                "SELECT count(*) FROM documents WHERE to_tsvector('simple', coalesce(title, '') "
                "|| ' ' || text) @@ plainto_tsquery('simple', :q)"
            )
        return int(conn.execute(text(sql), {"q": word}).scalar() or 0)


def test_privacy_forget_erases_a_person_from_every_table(store: Store) -> None:
    settings = get_settings()
    seeded = seed(store, settings)
    needles = [
        *FRAGMENTS,
        NAME,
        EMAIL,
        pseudonymize(NAME, settings.collection.author_salt) or "?",
        pseudonymize(EMAIL, settings.collection.author_salt) or "?",
    ]
    before = scan(store, needles)
    # the seed really put the person in every place the erasure must reach
    tables = {hit.split(".")[0] for hit in before}
    assert {
        "documents",
        "analyses",
        "tickets",
        "ticket_events",
        "notifications",
        "alerts",
        "corrections",
    } <= tables, before
    assert _search(store, "Quokkaville") == 2
    counts_before = _counts(store)
    assert cache_keys(seeded["cache"]) == 5

    dry = forget(store, settings, resolve_subject(settings, handle=NAME), dry_run=True)
    assert dry["documents"] == 3 and scan(store, needles) == before  # nothing changed

    by_name = forget(
        store, settings, resolve_subject(settings, handle="  jean   DUPONT "), actor="dpo"
    )
    by_mail = forget(store, settings, resolve_subject(settings, handle=EMAIL.upper()), actor="dpo")
    assert by_name["documents"] == 3 and by_mail["documents"] == 1
    assert by_name["own_replies"] == 1  # the brand's answer that names the person
    assert by_name["counts"]["corrections"] == 2  # the linked one and the orphaned snapshot
    assert by_name["counts"]["tickets"] == 1 and by_name["counts"]["ticket_events"] == 2
    assert by_name["counts"]["tickets_closed"] == 1

    assert scan(store, needles) == []
    assert _search(store, "Quokkaville") == 0 and _search(store, "Trifouilly") == 0
    assert cache_keys(seeded["cache"]) == 1  # only the other author's vector is left
    # aggregates keep their counts (tombstones), the other author is untouched
    assert _counts(store) == counts_before
    with store.session() as s:
        other = s.get(Document, seeded["other"])
        assert other is not None and other.text == OTHER_TEXT and other.author
        # Marie's reply still hangs on the erased post, by its tombstone key
        assert other.parent_id == other.thread_id and (other.parent_id or "").startswith("erased:")
        assert s.scalar(select(Document.id).where(Document.external_id == other.parent_id))
        erased = list(s.scalars(select(Document).where(Document.erased_at.is_not(None))))
        assert len(erased) == 4 and all(
            d.text == "" and d.raw == {} and d.url is None for d in erased
        )
        records = list_erasures(s)
        ticket = s.scalar(select(Ticket))
        assert ticket is not None and ticket.status == "closed"
        assert [(e.actor, e.action) for e in ticket.events][-1] == ("privacy", "erased")
    assert [r["documents"] for r in records] == [1, 3]
    assert records[0]["actor"] == "dpo" and records[0]["subject_hash"] != records[1]["subject_hash"]

    # a second request finds nothing left; recollecting the same verbatim does not bring it back
    again = forget(store, settings, resolve_subject(settings, handle=NAME))
    assert again["documents"] == 0
    with store.session() as s:
        source_id = s.scalar(select(Document.source_id).where(Document.id == seeded["other"]))
        assert s.scalar(select(func.count()).select_from(Erasure)) == 2
    assert source_id is not None
    result = ingest(
        store,
        source_id,
        [
            DocumentIn(
                external_id=f"https://forum.test/u/{HANDLE}/post/1",
                author=NAME,
                text="Colis jamais arrivé à Trifouilly, commande Zanzibarre perdue, très déçu !",
            )
        ],
        settings,
    )
    assert result.new == 0 and result.erased == 1
    assert scan(store, needles) == []


def test_privacy_forget_leaves_no_text_in_the_sqlite_file(sqlite_store: Store) -> None:
    settings = get_settings()
    seed(sqlite_store, settings)
    path = Path(str(sqlite_store.engine.url.database))
    files = lambda: b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))  # noqa: E731
    assert b"Quokkaville" in files()
    forget(sqlite_store, settings, resolve_subject(settings, handle=NAME))
    forget(sqlite_store, settings, resolve_subject(settings, handle=EMAIL))
    sqlite_store.dispose()
    blob = files()
    for needle in ("Quokkaville", "Trifouilly", "Zanzibarre", "rappeler Jean"):
        assert needle.encode() not in blob, needle
    assert OTHER_TEXT.encode() in blob


def test_privacy_forget_one_document_and_bad_subjects(store: Store) -> None:
    settings = get_settings()
    seeded = seed(store, settings)
    result = forget(store, settings, resolve_subject(settings, document=seeded["other"]))
    assert result["documents"] == 1
    assert scan(store, ["Marie, emballage"]) == []
    with pytest.raises(PrivacyError, match="no document #999"):
        forget(store, settings, resolve_subject(settings, document=999))
    with pytest.raises(PrivacyError, match="exactly one subject"):
        resolve_subject(settings, handle=NAME, document=1)
    with pytest.raises(PrivacyError, match="not an author pseudonym"):
        resolve_subject(settings, author="Jean Dupont")
    with pytest.raises(PrivacyError, match="empty"):
        resolve_subject(settings, handle="   ")
    pseudo = pseudonymize(NAME, settings.collection.author_salt)
    assert forget(store, settings, resolve_subject(settings, author=pseudo))["documents"] == 3


def test_privacy_forget_drops_near_duplicate_indexes_of_other_processes(
    sqlite_store: Store,
) -> None:
    """An index built before an erasure (as in another process) is rebuilt, not reused."""
    from listening.collection import ingest as ingest_module

    settings = get_settings()
    seed(sqlite_store, settings)
    with sqlite_store.session() as s:
        brand_id, source_id = s.execute(
            select(Document.brand_id, Document.source_id).limit(1)
        ).one()
    stale = ingest_module._index_for(sqlite_store, brand_id, settings)
    assert any("trifouilly" in t for t in stale.texts.values())
    forget(sqlite_store, settings, resolve_subject(settings, handle=NAME))
    ingest_module._INDEXES[(sqlite_store.url, brand_id)] = stale  # what another process holds
    fresh = ingest_module._index_for(sqlite_store, brand_id, settings)
    assert fresh is not stale and not any("trifouilly" in t for t in fresh.texts.values())
    assert source_id is not None
