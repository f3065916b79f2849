"""Privacy (GDPR) commands: `listening privacy forget|export|retention|erasures`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from listening.cli.core import open_store
from listening.cli.output import console, print_json
from listening.settings import get_settings

privacy_app = typer.Typer(
    help="Privacy (GDPR): forget a person, export their data, apply retention.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
AuthorOpt = Annotated[
    str | None, typer.Option("--author", help="Author pseudonym as stored (a_ + 16 hex digits).")
]
HandleOpt = Annotated[
    str | None,
    typer.Option("--handle", help="Raw name, handle or e-mail (pseudonymised like ingestion)."),
]
DocumentOpt = Annotated[
    int | None, typer.Option("--document", help="One verbatim, by document id.")
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Count what would change; change nothing.")
]


def _counts_line(counts: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v) or "nothing"


@privacy_app.command("forget")
def forget(
    author: AuthorOpt = None,
    handle: HandleOpt = None,
    document: DocumentOpt = None,
    dry_run: DryRunOpt = False,
    actor: Annotated[str | None, typer.Option("--actor", help="Who runs it (recorded).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Erase a person's verbatims (or one verbatim) everywhere; counts stay as tombstones."""
    from listening.gdpr.forget import forget as run_forget
    from listening.gdpr.forget import resolve_subject

    settings = get_settings()
    subject = resolve_subject(settings, author=author, handle=handle, document=document)
    result = run_forget(open_store(), settings, subject, actor=actor, dry_run=dry_run)
    if json_out:
        print_json(result)
        return
    verb = "Would erase" if dry_run else "Erased"
    console.print(f"{verb} {result['documents']} verbatim(s): {_counts_line(result['counts'])}.")
    if not dry_run and result["documents"]:
        console.print(
            f"Erasure #{result['erasure_id']} recorded. Files you exported earlier "
            "(`listening export`, `listening label export`) are yours to delete or rewrite."
        )


@privacy_app.command("export")
def export(
    author: AuthorOpt = None,
    handle: HandleOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the JSON here (mode 600), not stdout.")
    ] = None,
) -> None:
    """Everything held about one author, as JSON (access request)."""
    from listening.gdpr.access import dumps, subject_export, write_export
    from listening.gdpr.forget import resolve_subject

    settings = get_settings()
    subject = resolve_subject(settings, author=author, handle=handle)
    data = subject_export(open_store(read_only=True), settings, subject)
    if out is None:
        print(dumps(data, indent=None), flush=True)  # one line: machine readers
        return
    write_export(data, out)
    console.print(
        f"Wrote {out}: {len(data['documents'])} verbatim(s), {len(data['tickets'])} ticket(s), "
        f"{len(data['corrections'])} correction(s)."
    )


@privacy_app.command("retention")
def retention(
    dry_run: DryRunOpt = False,
    now: Annotated[
        str | None,
        typer.Option("--now", help="Apply as if it were this ISO date-time (UTC if no zone)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Erase verbatims older than the retention (privacy.retention_days, per-source override)."""
    from datetime import UTC, datetime

    from listening.errors import PrivacyError
    from listening.gdpr.retention import apply_retention

    at = None
    if now:
        try:
            at = datetime.fromisoformat(now)
        except ValueError:
            raise PrivacyError(
                f"--now {now!r} is not an ISO date-time", "write it like 2026-12-01T00:00:00+00:00"
            ) from None
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
    result = apply_retention(open_store(), get_settings(), now=at, dry_run=dry_run)
    if json_out:
        print_json(result)
        return
    verb = "Would " if dry_run else ""
    action = result["action"] if dry_run else f"{result['action']}d".capitalize()
    per_source = ", ".join(f"{k} {v}" for k, v in result["by_source"].items()) or "no source"
    console.print(
        f"{verb}{action} {result['documents']} verbatim(s) past retention ({per_source})."
    )


@privacy_app.command("mask")
def mask(dry_run: DryRunOpt = False, json_out: JsonOpt = False) -> None:
    """Mask e-mails and phone numbers in verbatims stored before masking existed."""
    from listening.gdpr.backfill import mask_stored

    result = mask_stored(open_store(), get_settings(), dry_run=dry_run)
    if json_out:
        print_json(result)
        return
    verb = "Would mask" if dry_run else "Masked"
    console.print(
        f"{verb} contacts in {result['documents']} of {result['scanned']} verbatim(s) and "
        f"{result['corrections']} correction(s)."
    )


@privacy_app.command("erasures")
def erasures(
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest records to show.")] = 50,
    json_out: JsonOpt = False,
) -> None:
    """List erasure records (who, when, counts per table; no personal data)."""
    from listening.gdpr.forget import list_erasures

    with open_store(read_only=True).session() as session:
        rows = list_erasures(session, limit)
    if json_out:
        print_json({"erasures": rows})
        return
    table = Table("id", "at", "actor", "reason", "scope", "action", "documents", "counts")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["at"].isoformat(timespec="seconds"),
            r["actor"],
            r["reason"],
            r["scope"],
            r["action"],
            str(r["documents"]),
            _counts_line(r["counts"]),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(privacy_app, name="privacy")
