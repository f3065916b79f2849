"""Correction commands: `listening label DOC ...`, `label export|import|list|review`."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import typer

from listening.cli.core import open_store
from listening.cli.output import console, print_json
from listening.errors import CorrectionError
from listening.settings import get_settings

ACTIONS = ("export", "import", "list", "review")


def active_taxonomy() -> Any:
    from nlp.corrections_training import active_taxonomy as active

    return active(get_settings())


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "cli"


def _record(
    doc: int,
    topics: str | None,
    sentiment: str | None,
    intent: str | None,
    not_actionable: bool,
    actionable: bool,
    by: str,
    note: str | None,
) -> dict[str, Any]:
    from listening.corrections import CorrectionIn, parse_topic_changes, record_correction, to_json

    added, removed, exact = parse_topic_changes(topics) if topics is not None else ([], [], None)
    if not_actionable and actionable:
        raise CorrectionError("--not-actionable and --actionable contradict each other", "give one")
    flag = False if not_actionable else True if actionable else None
    item = CorrectionIn(
        actor=by or _default_actor(),
        document_id=doc,
        topics_added=added,
        topics_removed=removed,
        topics=exact,
        sentiment=sentiment,
        intent=intent,
        actionable=flag,
        note=note,
        origin="cli",
    )
    tax = active_taxonomy()
    store = open_store()
    with store.session() as session:
        row = to_json(record_correction(session, item, tax))
    store.dispose()
    return row


def label(
    target: Annotated[
        str,
        typer.Argument(
            help="A document id to correct, or export FILE | import FILE | list | review."
        ),
    ],
    file: Annotated[Path | None, typer.Argument(help="JSONL file of export / import.")] = None,
    topics: Annotated[
        str | None,
        typer.Option(
            help="Topic changes '+delivery,-price', or the exact set 'delivery,price' ('none': no topic)."
        ),
    ] = None,
    sentiment: Annotated[
        str | None, typer.Option(help="The right sentiment: negative, neutral, positive.")
    ] = None,
    intent: Annotated[
        str | None,
        typer.Option(help="The right intent: complaint, question, praise, suggestion, other."),
    ] = None,
    not_actionable: Annotated[
        bool,
        typer.Option(
            "--not-actionable",
            help="No ticket was needed (trains the intent head towards 'other').",
        ),
    ] = False,
    actionable: Annotated[bool, typer.Option("--actionable", help="A ticket was needed.")] = False,
    by: Annotated[str, typer.Option("--by", help="Who corrects (default: the system user).")] = "",
    note: Annotated[str | None, typer.Option(help="Why (kept with the correction).")] = None,
    limit: Annotated[int, typer.Option(help="list / review: rows shown.")] = 20,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON object as the last line.")
    ] = False,
) -> None:
    """Correct what was understood of a verbatim (topics, sentiment, intent, not actionable),
    or export / import corrections as JSONL, list them, or list the verbatims to review."""
    from listening import corrections

    if target in ("export", "import") and file is None:
        raise CorrectionError(
            f"`listening label {target}` needs a FILE", f"listening label {target} FILE.jsonl"
        )
    if target == "export":
        store = open_store(read_only=True)
        with store.session() as session:
            n = corrections.export_jsonl(session, file)  # type: ignore[arg-type]
        result: dict[str, Any] = {"exported": n, "path": str(file)}
        if json_out:
            print_json(result)
        else:
            console.print(f"Exported {n} correction(s) to {file}.")
        return
    if target == "import":
        tax = active_taxonomy()
        store = open_store()
        with store.session() as session:
            result = corrections.import_jsonl(session, file, tax)  # type: ignore[arg-type]
        msg = f"Imported {result['imported']} correction(s), {result['already_present']} already present."
        if json_out:
            print_json(result)
        else:
            console.print(msg)
        return
    if target in ("list", "review"):
        store = open_store(read_only=True)
        with store.session() as session:
            rows = (
                [corrections.to_json(r) for r in corrections.list_corrections(session)][-limit:]
                if target == "list"
                else corrections.review_queue(session, limit)
            )
        if json_out:
            print_json(rows)
            return
        for r in rows:
            labels = {
                k: r[k]
                for k in ("topics", "sentiment", "intent", "actionable", "priority")
                if r.get(k) is not None
            }
            console.print(f"#{r['document_id']} {labels} {' '.join(r['text'].split())[:90]}")
        return
    try:
        doc = int(target)
    except ValueError:
        raise CorrectionError(
            f"{target!r} is neither a document id nor one of {', '.join(ACTIONS)}",
            "e.g. listening label 12 --topics +delivery --by alice",
        ) from None
    row = _record(doc, topics, sentiment, intent, not_actionable, actionable, by, note)
    if json_out:
        print_json(row)
    else:
        console.print(
            f"Correction #{row['id']} of document #{doc} by {row['actor']}: "
            f"topics={row['topics']} sentiment={row['sentiment']} intent={row['intent']} "
            f"actionable={row['actionable']} (retrain with `listening train`)."
        )


def register(app: typer.Typer) -> None:
    app.command("label")(label)
