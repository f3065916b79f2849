"""Report commands: ``listening report`` and ``listening digest send`` (docs/INSIGHTS.md)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from listening.cli.core import open_store
from listening.cli.output import console, print_json
from listening.settings import get_settings

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
PeriodOpt = Annotated[
    str,
    typer.Option(
        "--period", help="week (last complete Monday–Sunday), month (last complete month)."
    ),
]

digest_app = typer.Typer(help="E-mailed digests per team or role.", no_args_is_help=True)


def report(
    period: PeriodOpt = "week",
    since: Annotated[
        str | None, typer.Option("--since", help="First day (YYYY-MM-DD): custom period.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Last day (YYYY-MM-DD; default yesterday).")
    ] = None,
    brand: Annotated[
        str | None, typer.Option("--brand", help="Brand reported on (default: the own brand).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="md, html or pdf.")] = "md",
    lang: Annotated[
        str | None, typer.Option("--lang", help="fr or en (default: insights.report_language).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="File to write (default: stdout; pdf: report-<dates>.pdf)."),
    ] = None,
) -> None:
    """Write the report of a period: KPIs, topics, competitors, SLA, themes, verbatims."""
    from listening.reports import FORMATS, build_report, render
    from listening.reports.period import resolve_period

    settings = get_settings()
    if fmt not in FORMATS:
        from listening.errors import ReportError

        raise ReportError(f"unknown format {fmt!r}", f"valid formats: {', '.join(FORMATS)}")
    resolve_period(period, date.today(), since, until)  # bad dates before opening the store
    store = open_store(read_only=True)
    with console.status("Building the report..."):
        result = build_report(
            store, period=period, brand=brand, lang=lang, since=since, until=until
        )
        data = render(result, fmt, settings.timezone)
    if out is None and fmt != "pdf":
        sys.stdout.write(data.decode("utf-8"))
        return
    target = out or Path(
        f"report-{result.period.start.isoformat()}-{result.period.end.isoformat()}.pdf"
    )
    target.write_bytes(data)
    console.print(f"Wrote {target} ({len(data)} bytes).", soft_wrap=True)


@digest_app.command("send")
def digest_send(
    team: Annotated[
        str | None,
        typer.Option("--team", help="Team audience (insights.digest_recipients 'team:<team>')."),
    ] = None,
    role: Annotated[
        str | None, typer.Option("--role", help="Role audience ('role:<role>').")
    ] = None,
    period: PeriodOpt = "week",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Build it and say what would be sent; send nothing.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Send again even if this period's digest was sent.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """E-mail the digest of the last complete period to a team or role (once per period)."""
    from listening.reports.digest import audience_key, send_digest

    settings = get_settings()
    audience = audience_key(team, role, settings)
    store = open_store()
    with console.status("Building the digest..."):
        result = send_digest(store, settings, audience, period, force=force, dry_run=dry_run)
    if json_out:
        print_json(result)
    else:
        status = result["status"]
        line = f"Digest {audience} {result['start']} → {result['end']}: {status.replace('_', ' ')}"
        if status in ("sent", "dry_run"):
            line += f" to {', '.join(result['recipients'])} ({result.get('subject', '')})"
        if result.get("reason") or result.get("error"):
            line += f" ({result.get('reason') or result.get('error')})"
        console.print(line + ".", soft_wrap=True)
    if result["status"] == "failed":
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(report)
    app.add_typer(digest_app, name="digest")
