"""Customer emails from ``.mbox`` files, ``.eml`` files (or a folder of them) and Maildir.

Only the customer's own words are kept: quoted replies (``>`` lines, "Le ... a écrit :",
"On ... wrote:", "-----Original Message-----", Outlook "De : / Envoyé :" headers) and
everything after them are cut, and so are signatures (the ``-- `` delimiter, "Envoyé de
mon iPhone", "Cordialement," closings followed by a name). The subject is the title,
the Date header the publication date, the Message-ID the external id (a hash of the
message when absent), In-Reply-To / References the thread. The sender's address is
the author, which the store turns into a salted pseudonym: no name or address is stored.
"""

from __future__ import annotations

import email
import hashlib
import mailbox
import re
from collections.abc import Iterator
from email.message import EmailMessage, Message
from email.policy import default as default_policy
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from listening.collection.imports import ensure_file_source
from listening.collection.ingest import ingest
from listening.collection.normalize import clean_line, clean_text, parse_date
from listening.errors import CollectionError
from listening.settings import Settings
from listening.store import Source, Store
from listening.store.documents import DocumentIn

_REPLY_HEADER_RE = re.compile(
    r"^\s*("
    r"le .{3,200}(a écrit|a ecrit)\s*:|"
    r"on .{3,200}wrote\s*:|"
    r"-{2,}\s*(original message|message d'origine|message original|forwarded message"
    r"|message transféré)\s*-{2,}|"
    r"(de|from)\s*:\s*.+$"
    r")",
    re.IGNORECASE,
)
_SIGNATURE_RE = re.compile(
    r"^\s*(--\s*|__+|envoyé de mon .+|envoyé depuis .+|sent from my .+|get outlook for .+"
    r"|télécharger outlook pour .+)$",
    re.IGNORECASE,
)
_CLOSING_RE = re.compile(
    r"^\s*(cordialement|bien cordialement|bien à vous|salutations|best regards|regards"
    r"|kind regards|merci d'avance|cdlt)[\s,.!]*$",
    re.IGNORECASE,
)


def own_text(body: str) -> str:
    """The customer's own text of a message body: no quoted reply, no signature."""
    kept: list[str] = []
    lines = body.replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">"):
            break
        if _SIGNATURE_RE.match(line):
            break
        if _REPLY_HEADER_RE.match(stripped) and (
            not stripped.lower().startswith(("de", "from"))
            or _looks_like_header_block(lines, index)
        ):
            break
        if _CLOSING_RE.match(stripped):
            kept.append(line)  # keep the closing word, drop the name block that follows
            if _signature_block_follows(lines[index + 1 :]):
                break
            continue
        kept.append(line)
    return clean_text("\n".join(kept))


def _signature_block_follows(rest: list[str]) -> bool:
    """After a closing word: only a few short lines (name, phone...) before a quote or the end."""
    block: list[str] = []
    for line in rest:
        stripped = line.strip()
        if (
            stripped.startswith(">")
            or _SIGNATURE_RE.match(line)
            or _REPLY_HEADER_RE.match(stripped)
        ):
            break
        if stripped:
            block.append(stripped)
    return len(block) <= 4 and all(len(line) <= 60 for line in block)


def _looks_like_header_block(lines: list[str], index: int) -> bool:
    """A 'From:'/'De :' line followed by Sent/Envoyé/To/À/Subject/Objet lines."""
    following = " ".join(lines[index + 1 : index + 4]).lower()
    return any(
        key in following
        for key in ("sent:", "envoyé :", "envoyé:", "to:", "à :", "objet", "subject:")
    )


_HTML_QUOTE_RE = re.compile(r"<blockquote\b.*?</blockquote\s*>", re.IGNORECASE | re.DOTALL)
_HTML_REPLY_START_RE = re.compile(
    r"<div[^>]*(class=[\"']?(gmail_quote|moz-cite-prefix|yahoo_quoted)|id=[\"']?(divRplyFwdMsg|appendonsend))"
    r"|<hr[^>]*id=[\"']?stopSpelling",
    re.IGNORECASE,
)


def strip_html_quotes(html_text: str) -> str:
    """An HTML body without the quoted message (blockquote, Gmail/Outlook/Thunderbird reply blocks)."""
    start = _HTML_REPLY_START_RE.search(html_text)
    if start:
        html_text = html_text[: start.start()]
    return _HTML_QUOTE_RE.sub("", html_text)


def _body(message: Message) -> str:
    """The text/plain body (or the text of the HTML body) of a message."""
    if isinstance(message, EmailMessage):
        part = message.get_body(preferencelist=("plain", "html"))
        if part is None:
            return ""
        try:
            content = part.get_content()
        except (LookupError, UnicodeDecodeError):
            payload = part.get_payload(decode=True)
            content = (
                payload.decode("latin-1") if isinstance(payload, bytes) else str(payload or "")
            )
        if part.get_content_subtype() == "html":
            return clean_text(strip_html_quotes(str(content)))
        return str(content)
    payload = message.get_payload(decode=True)
    return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""


def message_item(message: Message, origin: str, settings: Settings) -> DocumentIn | None:
    """A verbatim from one message, or None when it holds no text of the sender's own."""
    text = own_text(_body(message))
    if not text:
        return None
    message_id = (message.get("Message-ID") or "").strip()
    if not message_id:
        message_id = "sha:" + hashlib.sha256(bytes(message.as_bytes())).hexdigest()[:32]
    _name, address = parseaddr(str(message.get("From") or ""))
    references = str(message.get("References") or "").split()
    in_reply_to = str(message.get("In-Reply-To") or "").strip() or None
    date_raw = str(message.get("Date") or "").strip()
    raw: dict[str, Any] = {"kind": "email", "origin": origin}
    if _name.strip():  # only used by ingestion to mask the name in the text, never stored
        raw["author_name"] = _name.strip()
    if date_raw:
        raw["date_raw"] = date_raw
    return DocumentIn(
        external_id=message_id[:512],
        text=text,
        thread_id=references[0] if references else (in_reply_to or message_id),
        parent_id=in_reply_to,
        author=address.lower() or None,
        title=clean_line(str(message.get("Subject") or "")),
        published_at=parse_date(date_raw, None, settings.collection.naive_timezone)
        if date_raw
        else None,
        raw=raw,
    )


def iter_messages(path: Path) -> Iterator[tuple[str, Message]]:
    """(origin, message) for every message of an mbox, an .eml, a Maildir or a folder of .eml."""
    if not path.exists():
        raise CollectionError(
            f"no such file or folder: {path}", "give an .mbox, an .eml or a Maildir"
        )
    if path.is_dir():
        if (path / "cur").is_dir() or (path / "new").is_dir():
            box = mailbox.Maildir(str(path), factory=None, create=False)
            for key in sorted(box.iterkeys()):
                data = box.get_bytes(key)
                yield f"maildir:{key}", email.message_from_bytes(data, policy=default_policy)
            return
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".eml", ".mbox"))
        if not files:
            raise CollectionError(
                f"{path} holds no .eml or .mbox file", "give a Maildir or a folder of .eml"
            )
        for file in files:
            yield from iter_messages(file)
        return
    if path.suffix.lower() == ".eml":
        yield path.name, email.message_from_bytes(path.read_bytes(), policy=default_policy)
        return
    head = path.read_bytes()[:5]
    if path.suffix.lower() != ".mbox" and head != b"From ":
        raise CollectionError(
            f"{path} is not an .mbox or .eml file", "give an .mbox, an .eml or a Maildir"
        )
    mbox = mailbox.mbox(str(path), create=False)
    try:
        for key in mbox.iterkeys():
            yield (
                f"{path.name}:{key}",
                email.message_from_bytes(mbox.get_bytes(key), policy=default_policy),
            )
    finally:
        mbox.close()


def email_items(path: Path, settings: Settings) -> tuple[list[DocumentIn], list[dict[str, Any]]]:
    """(items, skipped messages with the reason)."""
    items: list[DocumentIn] = []
    skipped: list[dict[str, Any]] = []
    for origin, message in iter_messages(path):
        try:
            item = message_item(message, origin, settings)
        except Exception as exc:  # one broken message never stops the import
            skipped.append({"message": origin, "reason": f"unreadable: {exc}"})
            continue
        if item is None:
            skipped.append({"message": origin, "reason": "no text of the sender's own"})
        else:
            items.append(item)
    return items, skipped


def import_email_into(
    store: Store, source_id: int, path: Path, settings: Settings
) -> dict[str, Any]:
    items, skipped = email_items(path, settings)
    result = ingest(store, source_id, items, settings)
    report = result.as_dict()
    report.update({"path": str(path), "messages": len(items) + len(skipped), "skipped": skipped})
    report["errors"] = [f"{s['message']}: {s['reason']}" for s in skipped] + list(result.errors)
    return report


def import_emails(
    store: Store, settings: Settings, path: Path, brand: str | None, source_name: str | None = None
) -> dict[str, Any]:
    """Import a mailbox as (or into) an email source; returns the report."""
    if not path.exists():
        raise CollectionError(
            f"no such file or folder: {path}", "give an .mbox, an .eml or a Maildir"
        )
    name = source_name or f"email:{path.name}"
    source_id = ensure_file_source(store, name, "email", path, brand, {})
    report = import_email_into(store, source_id, path, settings)
    report["source"] = name
    return report


def collect_email_source(store: Store, source: Source, settings: Settings) -> dict[str, Any]:
    """Runner entry point: import the mailbox an email source points at (new messages only)."""
    return import_email_into(store, source.id, Path(source.url), settings)
