"""Email imports: mbox, eml, Maildir; own text only; senders pseudonymised."""

from __future__ import annotations

import json
import mailbox
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from collection_helpers import documents
from typer.testing import CliRunner

from listening.cli import app
from listening.collection.emails import import_emails, own_text
from listening.collection.ingest import reset_near_duplicate_indexes
from listening.errors import CollectionError
from listening.settings import get_settings, load_settings
from listening.store import Store

REPLY = """Bonjour,

Ma commande 1234 n'est toujours pas arrivée, cela fait deux semaines.
Pouvez-vous me rembourser ?

Cordialement,
Marie Dupont
06 12 34 56 78

Le lun. 3 mars 2025 à 10:00, Service client <sav@maison-lumiere.example> a écrit :
> Bonjour, votre commande est en cours de préparation.
> Bien à vous
"""


@pytest.fixture(autouse=True)
def _fresh() -> None:
    reset_near_duplicate_indexes()


def _message(
    msg_id: str,
    sender: str,
    subject: str,
    body: str,
    html: str | None = None,
    date: str = "Tue, 04 Mar 2025 09:15:00 +0100",
    reply_to: str | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "sav@maison-lumiere.example"
    msg["Subject"] = subject
    msg["Date"] = date
    msg["Message-ID"] = msg_id
    if reply_to:
        msg["In-Reply-To"] = reply_to
        msg["References"] = reply_to
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


MESSAGES = [
    _message(
        "<m1@client>",
        "Marie Dupont <marie.dupont@example.org>",
        "Re: Commande 1234",
        REPLY,
        reply_to="<sav1@shop>",
    ),
    _message(
        "<m2@client>",
        "john@example.com",
        "Broken lamp",
        "The lamp arrived broken.\nI want a replacement.\n\n-- \nJohn Smith\nACME Corp\n",
        html="<p>The lamp arrived <b>broken</b>.</p>",
    ),
    _message("<m3@client>", "paul@example.net", "Fwd", "> juste une citation\n> rien d'autre\n"),
]


def test_emails_own_text_strips_quotes_and_signatures() -> None:
    assert own_text(REPLY) == (
        "Bonjour,\n\nMa commande 1234 n'est toujours pas arrivée, cela fait deux semaines.\n"
        "Pouvez-vous me rembourser ?\n\nCordialement,"
    )
    assert (
        own_text("Le colis est arrivé cassé.\n\nEnvoyé de mon iPhone\n")
        == "Le colis est arrivé cassé."
    )
    assert (
        own_text(
            "Je veux un remboursement.\n\nDe : Service client\nEnvoyé : lundi 3 mars\nÀ : moi\nObjet : RE"
        )
        == "Je veux un remboursement."
    )
    assert own_text("Thanks.\n-----Original Message-----\nFrom: shop") == "Thanks."
    # a line that merely starts with "De" is not a reply header
    assert own_text("De plus, la notice manque.") == "De plus, la notice manque."


def test_emails_mbox_import(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "sav.mbox"
    box = mailbox.mbox(str(path))
    for msg in MESSAGES:
        box.add(msg)
    box.close()
    report = import_emails(sqlite_store, load_settings(), path, "Maison Lumière")
    assert report["new"] == 2 and report["messages"] == 3
    assert report["skipped"][0]["reason"] == "no text of the sender's own"
    first, second = documents(sqlite_store)
    assert first.external_id == "<m1@client>" and first.title == "Re: Commande 1234"
    assert first.published_at == datetime(2025, 3, 4, 8, 15, tzinfo=UTC)
    assert first.parent_id == "<sav1@shop>" and first.thread_id == "<sav1@shop>"
    assert (
        "rembourser" in first.text and "préparation" not in first.text and "06 12" not in first.text
    )
    assert first.author and first.author.startswith("a_")
    stored = json.dumps([first.raw, second.raw, first.author, second.author])
    assert "marie" not in stored.lower() and "john" not in stored.lower()
    assert (
        second.text == "The lamp arrived broken.\nI want a replacement." and second.language == "en"
    )
    again = import_emails(sqlite_store, load_settings(), path, "Maison Lumière")
    assert (again["new"], again["duplicate"]) == (0, 2)


def test_emails_eml_and_maildir(sqlite_store: Store, tmp_path: Path) -> None:
    eml = tmp_path / "one.eml"
    eml.write_bytes(MESSAGES[1].as_bytes())
    assert import_emails(sqlite_store, load_settings(), eml, "Maison Lumière")["new"] == 1
    maildir = mailbox.Maildir(str(tmp_path / "Maildir"))
    maildir.add(MESSAGES[0])
    maildir.add(
        _message(
            "<m4@client>",
            "zoe@example.org",
            "Question",
            "Livrez-vous en Belgique ?\n\nMerci d'avance",
        )
    )
    report = import_emails(sqlite_store, load_settings(), tmp_path / "Maildir", "Maison Lumière")
    assert report["new"] == 2
    texts = [d.text for d in documents(sqlite_store)]
    assert "Livrez-vous en Belgique ?\n\nMerci d'avance" in texts


def test_emails_bad_paths_are_clear_errors(sqlite_store: Store, tmp_path: Path) -> None:
    with pytest.raises(CollectionError, match="no such file or folder"):
        import_emails(sqlite_store, load_settings(), tmp_path / "absent.mbox", "B")
    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    with pytest.raises(CollectionError, match="not an .mbox or .eml"):
        import_emails(sqlite_store, load_settings(), text, "B")


def test_emails_cli_import(sqlite_store: Store, tmp_path: Path) -> None:
    eml = tmp_path / "one.eml"
    eml.write_bytes(MESSAGES[0].as_bytes())
    get_settings.cache_clear()
    result = CliRunner().invoke(
        app, ["import", "email", str(eml), "--brand", "Maison Lumière", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["new"] == 1


def test_emails_html_only_reply_drops_the_quoted_message(
    sqlite_store: Store, tmp_path: Path
) -> None:
    msg = EmailMessage()
    msg["From"] = "lea@example.org"
    msg["Subject"] = "Re: votre commande"
    msg["Message-ID"] = "<html1@client>"
    msg.set_content(
        "<div>Toujours rien reçu, je veux être remboursée.</div>"
        '<div class="gmail_quote">Le lun. 3 mars, SAV a écrit :'
        "<blockquote>Votre colis arrive demain.</blockquote></div>",
        subtype="html",
    )
    eml = tmp_path / "html.eml"
    eml.write_bytes(msg.as_bytes())
    assert import_emails(sqlite_store, load_settings(), eml, "Maison Lumière")["new"] == 1
    (doc,) = documents(sqlite_store)
    assert doc.text == "Toujours rien reçu, je veux être remboursée."
