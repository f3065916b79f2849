"""ingest(): normalisation, exact duplicates, near-duplicate links, batches and resume."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from collection_helpers import documents, make_source

from listening.collection import ingest as ingest_mod
from listening.collection.ingest import ingest, reset_near_duplicate_indexes
from listening.errors import CollectionError
from listening.settings import load_settings
from listening.store import Store
from listening.store.documents import DocumentIn

REVIEW = (
    "Commande arrivée en retard de deux semaines, le colis était abîmé et le service client "
    "ne répond pas aux mails. Très déçue de cette expérience."
)


@pytest.fixture(autouse=True)
def _fresh_indexes() -> None:
    reset_near_duplicate_indexes()


def test_ingest_normalises_items(store: Store) -> None:
    sid = make_source(store)
    items = [
        DocumentIn(
            external_id="r1",
            text="<p>Livraison trÃ¨s rapide,&nbsp;merci !</p><p>Je recommande.</p>",
            author="  Jean   Dupont ",
            title="<b>Super</b>",
            raw={"date_raw": "Publié le 5 janvier 2025 à 14h30"},
        ),
        DocumentIn(external_id="r2", text="ok", published_at=datetime(2024, 5, 1, 12)),
    ]
    result = ingest(store, sid, items, load_settings())
    assert (result.new, result.failed) == (2, 0)
    first, second = documents(store, sid)
    assert first.text == "Livraison très rapide, merci !\n\nJe recommande."
    assert first.title == "Super"
    assert first.language == "fr"
    assert first.author and first.author.startswith("a_") and "Jean" not in first.author
    assert first.published_at == datetime(2025, 1, 5, 13, 30, tzinfo=UTC)
    assert first.raw["date_raw"] == "Publié le 5 janvier 2025 à 14h30"
    assert second.language == "und"
    # naive datetimes are read in the configured zone (Paris, UTC+2 in May)
    assert second.published_at == datetime(2024, 5, 1, 10, tzinfo=UTC)


def test_ingest_drops_empty_items_with_a_reason(store: Store) -> None:
    sid = make_source(store)
    items = [
        DocumentIn(external_id="a", text="<p> </p>"),
        DocumentIn(external_id="", text="du texte sans identifiant"),
        DocumentIn(external_id="b", text="Un vrai avis sur la livraison"),
    ]
    result = ingest(store, sid, items, load_settings())
    assert (result.new, result.failed) == (1, 2)
    assert any("a: empty text" in e for e in result.errors)
    assert any("no external id" in e for e in result.errors)


def test_ingest_reimport_adds_nothing(store: Store) -> None:
    sid = make_source(store)
    items = [
        DocumentIn(external_id=f"r{i}", text=f"Avis numéro {i} sur le produit") for i in range(5)
    ]
    assert ingest(store, sid, items, load_settings()).new == 5
    again = ingest(store, sid, items, load_settings())
    assert (again.new, again.duplicate, again.updated) == (0, 5, 0)
    assert len(documents(store)) == 5


def test_ingest_links_near_duplicates_of_the_same_brand(store: Store) -> None:
    settings = load_settings()
    site_a = make_source(store, name="site-a")
    site_b = make_source(store, name="site-b")
    other_brand = make_source(store, name="site-c", brand="Luminéo")
    ingest(store, site_a, [DocumentIn(external_id="1", text=REVIEW, author="Marie")], settings)
    syndicated = REVIEW.replace("Très déçue", "Tres decue") + " (avis publié sur site-b)"
    res_b = ingest(
        store, site_b, [DocumentIn(external_id="x", text=syndicated, author="marie D.")], settings
    )
    res_c = ingest(
        store, other_brand, [DocumentIn(external_id="y", text=REVIEW, author="Zoé")], settings
    )
    unrelated = ingest(
        store,
        site_b,
        [
            DocumentIn(
                external_id="z", text="Produit conforme à la description, belle lumière chaude."
            )
        ],
        settings,
    )
    original = documents(store, site_a)[0]
    copy = next(d for d in documents(store, site_b) if d.external_id == "x")
    other = documents(store, other_brand)[0]
    unrelated_doc = next(d for d in documents(store, site_b) if d.external_id == "z")
    assert res_b.new == 1 and res_b.near_duplicates == 1
    assert copy.near_duplicate_of == original.id
    assert res_c.near_duplicates == 0 and other.near_duplicate_of is None
    assert unrelated.near_duplicates == 0 and unrelated_doc.near_duplicate_of is None
    assert original.near_duplicate_of is None


def test_ingest_links_near_duplicates_within_one_batch_and_across_processes(store: Store) -> None:
    settings = load_settings()
    sid = make_source(store)
    items = [
        DocumentIn(external_id="1", text=REVIEW, author="A"),
        DocumentIn(external_id="2", text=REVIEW + " !!", author="B"),
    ]
    ingest(store, sid, items, settings)
    reset_near_duplicate_indexes()  # a new process: the index is rebuilt from the store
    ingest(store, sid, [DocumentIn(external_id="3", text=REVIEW + " Bof.", author="C")], settings)
    first, second, third = documents(store, sid)
    assert second.near_duplicate_of == first.id
    assert third.near_duplicate_of == first.id


def test_ingest_crash_after_first_batch_then_resume(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(collection={"ingest_batch_size": 3})
    sid = make_source(store)
    items = [
        DocumentIn(external_id=f"r{i}", text=f"Avis {i} : la lampe numéro {i} éclaire bien")
        for i in range(8)
    ]
    real = ingest_mod.upsert_documents
    calls = {"n": 0}

    def crashing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest_mod, "upsert_documents", crashing)
    with pytest.raises(RuntimeError):
        ingest(store, sid, items, settings)
    assert [d.external_id for d in documents(store, sid)] == ["r0", "r1", "r2"]
    monkeypatch.setattr(ingest_mod, "upsert_documents", real)
    resumed = ingest(store, sid, items, settings)
    assert (resumed.new, resumed.duplicate) == (5, 3)
    assert sorted(d.external_id for d in documents(store, sid)) == [f"r{i}" for i in range(8)]


def test_ingest_unknown_source_is_a_clear_error(store: Store) -> None:
    with pytest.raises(CollectionError, match="no source with id 999"):
        ingest(store, 999, [DocumentIn(external_id="1", text="texte")], load_settings())


def test_ingest_rerun_with_nothing_new_hashes_nothing(store: Store) -> None:
    settings = load_settings()
    sid = make_source(store)
    items = [DocumentIn(external_id="1", text=REVIEW, author="A")]
    ingest(store, sid, items, settings)
    reset_near_duplicate_indexes()  # a new crawl process
    again = ingest(store, sid, items, settings)
    assert (again.new, again.duplicate) == (0, 1)
    (index,) = ingest_mod._INDEXES.values()
    assert index.lsh is None and len(index.unhashed) == 1  # read, never hashed
    copy = ingest(store, sid, [DocumentIn(external_id="2", text=REVIEW + " Bof.")], settings)
    assert copy.near_duplicates == 1 and index.lsh is not None  # hashed when needed
