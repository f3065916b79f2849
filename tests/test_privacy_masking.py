"""No raw PII stored: contacts masked in verbatims, author names and personal metadata keys
dropped at ingestion (SQLite and PostgreSQL)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from privacy_seed import scan

from listening.collection.emails import message_item
from listening.collection.ingest import ingest
from listening.gdpr.masking import mask_contacts, mask_names, scrub_raw
from listening.settings import get_settings
from listening.store import Store
from listening.store.documents import DocumentIn
from listening.store.sources import SourceSpec, add_source


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ma commande 123456789 à 49,90 €", "ma commande 123456789 à 49,90 €"),
        ("appelez-moi au 06 12 34 56 78", "appelez-moi au [phone]"),
        ("+33 6 12 34 56 78", "[phone]"),
        ("mon mail : jean.dupont@gmail.com merci", "mon mail : [email] merci"),
        ("tél 01.23.45.67.89 ou 0612345678.", "tél [phone] ou [phone]."),
        ("UK +44 20 7946 0958, US +1 (415) 555-2671", "UK [phone], US [phone]"),
        ("commande n°0612345678 et réf 33612345678", "commande n°0612345678 et réf 33612345678"),
        (
            "le 12/03/2024 à 14h30, 3 x 19,99 € = 59,97 €",
            "le 12/03/2024 à 14h30, 3 x 19,99 € = 59,97 €",
        ),
        (
            "colis 6A12345678901, 75011 Paris, 1 299,00 €",
            "colis 6A12345678901, 75011 Paris, 1 299,00 €",
        ),
        ("facture FR123456789 du 05/11", "facture FR123456789 du 05/11"),
    ],
)
def test_privacy_mask_contacts_french_text(text: str, expected: str) -> None:
    assert mask_contacts(text, ["FR"]) == expected


def test_privacy_mask_names_and_raw() -> None:
    assert mask_names("Signé Jean  DUPONT (@jeandupont75)", ["Jean Dupont", "jeandupont75"]) == (
        "Signé [author] ([author])"
    )
    assert mask_names("Jeanne a écrit", ["Jean"]) == "Jeanne a écrit"  # whole words only
    raw = {
        "username": "jeandupont75",
        "merchant_reply": "Bonjour Jean Dupont, rappelez le 0612345678",
        "posts": [{"email": "a@b.fr", "note": "écrire à a@b.fr"}],
        "stars": 4,
    }
    assert scrub_raw(raw, ["Jean Dupont"], ["FR"]) == {
        "merchant_reply": "Bonjour [author], rappelez le [phone]",
        "posts": [{"note": "écrire à [email]"}],
        "stars": 4,
    }


def test_privacy_ingest_stores_no_raw_pii(store: Store) -> None:
    settings = get_settings()
    with store.session() as s:
        forum, _ = add_source(s, SourceSpec(name="forum", kind="forum", url="https://f.test/"))
        mails, _ = add_source(s, SourceSpec(name="mails", kind="email", url="in.mbox"))
        forum_id, mails_id = forum.id, mails.id
    ingest(
        store,
        forum_id,
        [
            DocumentIn(
                external_id="p1",
                author="Jean Dupont",
                title="Jean Dupont : colis perdu",
                text="Moi, Jean Dupont, j'attends ma commande 123456789 à 49,90 €. Appelez-moi au "
                "06 12 34 56 78 ou +33 6 98 76 54 32, ou écrivez à jean.dupont@gmail.com.",
                raw={
                    "kind": "forum_post",
                    "username": "jeandupont75",
                    "thread_title": "Colis perdu",
                    "merchant_reply": "Bonjour Jean Dupont, nous vous rappelons au 0612345678.",
                },
            )
        ],
        settings,
    )
    message = EmailMessage()
    message["From"] = "Jean Dupont <jean.dupont@gmail.com>"
    message["Subject"] = "Retard commande 123456789"
    message["Message-ID"] = "<abc@mail.test>"
    message.set_content(
        "Bonjour,\nma commande 123456789 n'est pas arrivée.\n\nJean Dupont\n06 12 34 56 78"
    )
    item = message_item(message, "in.mbox", settings)
    assert item is not None
    ingest(store, mails_id, [item], settings)
    leaks = scan(
        store,
        [
            "Jean Dupont",
            "jeandupont75",
            "jean.dupont@gmail.com",
            "12 34 56 78",
            "98 76 54 32",
            "0612345678",
            "Dupont",
        ],
    )
    assert leaks == []
    found = scan(store, ["123456789", "49,90 €", "[phone]", "[email]", "[author]", "Colis perdu"])
    assert {f.split(": ")[1] for f in found} == {
        "123456789",
        "49,90 €",
        "[phone]",
        "[email]",
        "[author]",
        "Colis perdu",
    }


def test_privacy_masking_can_be_turned_off(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LISTENING_PRIVACY__MASK_CONTACTS_IN_TEXT", "false")
    get_settings.cache_clear()
    with sqlite_store.session() as s:
        src, _ = add_source(s, SourceSpec(name="forum", kind="forum", url="https://f.test/"))
        source_id = src.id
    ingest(
        sqlite_store,
        source_id,
        [
            DocumentIn(
                "p1",
                "Rappelez-moi au 06 12 34 56 78.",
                author="Jean Dupont",
                raw={"username": "jeandupont75", "reply": "Bonjour Jean Dupont"},
            )
        ],
        get_settings(),
    )
    found = scan(sqlite_store, ["06 12 34 56 78", "jeandupont75", "Jean Dupont"])
    # the text keeps the phone; personal metadata keys and names are still dropped
    assert {f.split(": ")[1] for f in found} == {"06 12 34 56 78"}


def test_privacy_mask_stored_verbatims(store: Store) -> None:
    """A store filled before masking existed is masked in place; a second pass changes nothing."""
    from sqlalchemy import select

    from listening.gdpr.backfill import mask_stored
    from listening.store import Correction, Document
    from listening.store.documents import upsert_documents

    settings = get_settings()
    with store.session() as s:
        src, _ = add_source(s, SourceSpec(name="old", kind="forum", url="https://o.test/"))
        res = upsert_documents(
            s,
            src.id,
            None,
            [
                DocumentIn(
                    "o1",
                    "Rappelez-moi au 06 12 34 56 78, commande 123456789.",
                    raw={"username": "jd75", "reply": "écrire à jean.dupont@gmail.com"},
                ),
                DocumentIn("o2", "Rien à signaler, livraison parfaite."),
            ],
            "salt",
        )
        s.add(
            Correction(
                document_id=None,
                text="Mon mail : jean.dupont@gmail.com",
                actor="a",
                origin="cli",
                topics_added=[],
                topics_removed=[],
            )
        )
        first = res.document_ids[0]
    with store.session() as s:
        before = s.get(Document, first)
        assert before is not None
        hash_before, updated_before = before.content_hash, before.updated_at
    assert mask_stored(store, settings, dry_run=True) == {
        "dry_run": True,
        "documents": 1,
        "corrections": 1,
        "scanned": 2,
    }
    assert scan(store, ["06 12 34 56 78"]) != []
    assert mask_stored(store, settings)["documents"] == 1
    assert scan(store, ["06 12 34 56 78", "jd75", "jean.dupont@gmail.com"]) == []
    with store.session() as s:
        doc = s.get(Document, first)
        assert doc is not None
        assert doc.text == "Rappelez-moi au [phone], commande 123456789."
        assert doc.content_hash != hash_before and doc.updated_at > updated_before
        assert s.scalar(select(Correction.text)) == "Mon mail : [email]"
    assert mask_stored(store, settings) == {
        "dry_run": False,
        "documents": 0,
        "corrections": 0,
        "scanned": 2,
    }
