"""Collection commands: collect, import survey|email, serve, sources import-opml."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select

from listening.cli.core import open_store, sources_app
from listening.cli.output import console, err_console, print_json
from listening.errors import CollectionError, ConfigError
from listening.settings import get_settings

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object as the last line.")]
import_app = typer.Typer(
    help="Import verbatims from files: survey answers, emails.", no_args_is_help=True
)


def _status_line(name: str, result: dict[str, Any]) -> str:
    if result["status"] == "skipped":
        return f"  {name}: skipped ({result.get('reason')})"
    line = (
        f"  {name}: {result['status']} — {result['new']} new, {result['updated']} updated, "
        f"{result['duplicate']} duplicate, {result['failed']} failed"
    )
    if result.get("errors"):
        line += f" — {result['errors'][0]}"
    return line


def collect(
    all_: Annotated[
        bool, typer.Option("--all", help="Run every enabled source that is due (see --force).")
    ] = False,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Run this source now (repeatable).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="With --all: run every enabled source, due or not.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Collect verbatims from sources (feeds, surveys, mailboxes, crawled sites)."""
    from listening.collection.runner import collect as run_collect

    if not all_ and not source:
        raise ConfigError("nothing to collect", "give --all (due sources) or --source NAME")
    settings = get_settings()
    store = open_store()
    quiet = json_out

    def progress(name: str, result: dict[str, Any]) -> None:
        if not quiet:
            console.print(_status_line(name, result), soft_wrap=True)

    with err_console.status("collecting…", spinner="dots") if not quiet else _nullcontext():
        summary = run_collect(
            store,
            settings,
            source_names=list(source) if source else None,
            due_only=bool(all_ and not force and not source),
            progress=progress,
        )
    if json_out:
        print_json(summary)
    else:
        console.print(
            f"Collected {summary['ran']} source(s): {summary['new']} new, {summary['updated']} updated, "
            f"{summary['duplicate']} duplicate, {summary['failed']} failed; "
            f"{summary['failed_sources']} source(s) failed, {summary['warning_sources']} with warnings, "
            f"{summary['skipped']} skipped.",
            soft_wrap=True,
        )
    if summary["failed_sources"]:  # a 404, DNS failure or block is not "ok" for scripts either
        raise typer.Exit(1)


class _nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


@import_app.command("survey")
def import_survey(
    file: Annotated[Path, typer.Argument(help="CSV, XLSX or JSON file of survey answers.")],
    text_column: Annotated[
        list[str], typer.Option("--text-column", help="Column holding a verbatim (repeatable).")
    ],
    brand: Annotated[str, typer.Option(help="Brand the answers are about.")],
    score_column: Annotated[
        str | None, typer.Option(help="NPS (0-10) or CSAT (1-5) column.")
    ] = None,
    score_scale: Annotated[str, typer.Option(help="auto, nps or csat.")] = "auto",
    date_column: Annotated[str | None, typer.Option(help="Answer date column.")] = None,
    respondent_column: Annotated[str | None, typer.Option(help="Respondent id column.")] = None,
    order_column: Annotated[str | None, typer.Option(help="Order id column.")] = None,
    channel_column: Annotated[
        str | None, typer.Option(help="Channel column (web, shop...).")
    ] = None,
    brand_column: Annotated[
        str | None, typer.Option(help="Column naming the brand, kept in raw.")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Source to import into (default: survey:FILENAME).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Import survey verbatims; re-importing the same file adds nothing."""
    from listening.collection.imports import SurveyMapping
    from listening.collection.imports import import_survey as run_import

    mapping = SurveyMapping(
        text_columns=list(text_column),
        score_column=score_column,
        date_column=date_column,
        respondent_column=respondent_column,
        order_column=order_column,
        channel_column=channel_column,
        brand_column=brand_column,
        score_scale=score_scale,
    )
    store = open_store()
    report = run_import(store, get_settings(), file, mapping, brand, source_name=source)
    if json_out:
        print_json(report)
        return
    for rejected in report["rejected_rows"][:20]:
        console.print(f"  rejected row {rejected['row']}: {rejected['reason']}", soft_wrap=True)
    for warning in report["warnings"][:20]:
        console.print(f"  row {warning['row']}: {warning['warning']}", soft_wrap=True)
    console.print(
        f"Imported {file} into {report['source']}: {report['new']} new, {report['duplicate']} "
        f"duplicate, {report['updated']} updated, {len(report['rejected_rows'])} rows rejected "
        f"(encoding {report['encoding'] or 'n/a'}).",
        soft_wrap=True,
    )


@import_app.command("email")
def import_email(
    path: Annotated[
        Path, typer.Argument(help=".mbox file, .eml file, folder of .eml, or Maildir.")
    ],
    brand: Annotated[str, typer.Option(help="Brand the messages are about.")],
    source: Annotated[
        str | None, typer.Option(help="Source to import into (default: email:NAME).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Import customer emails (own text only; senders pseudonymised)."""
    from listening.collection.emails import import_emails

    store = open_store()
    report = import_emails(store, get_settings(), path, brand, source_name=source)
    if json_out:
        print_json(report)
        return
    for skipped in report["skipped"][:20]:
        console.print(f"  skipped {skipped['message']}: {skipped['reason']}", soft_wrap=True)
    console.print(
        f"Imported {path} into {report['source']}: {report['new']} new, {report['duplicate']} "
        f"duplicate, {len(report['skipped'])} messages skipped.",
        soft_wrap=True,
    )


def serve(
    once: Annotated[bool, typer.Option("--once", help="Run one pass and exit.")] = False,
    downstream: Annotated[
        bool,
        typer.Option(
            "--downstream/--no-downstream", help="Analyse, route and notify after each pass."
        ),
    ] = True,
    json_out: JsonOpt = False,
) -> None:
    """Collect due sources on their schedules, then analyse, route and notify; Ctrl-C stops."""
    from listening.collection.scheduler import serve as run_serve

    settings = get_settings()
    store = open_store()
    last: dict[str, Any] = {}

    def on_pass(summary: dict[str, Any]) -> None:
        last.clear()
        last.update(summary)
        if json_out:
            return
        col = summary["collection"]
        for result in col["sources"]:
            console.print(_status_line(result["source"], result), soft_wrap=True)
        down = summary.get("downstream")
        console.print(
            f"Pass done: {col['ran']} source(s) collected, {col['new']} new verbatims"
            + (f"; downstream: {_short(down)}" if down else ""),
            soft_wrap=True,
        )

    def no_downstream(_store: Any, _settings: Any) -> dict[str, Any]:
        return {}

    if not json_out:
        console.print(
            f"Serving: a pass every {settings.collection.serve_poll_seconds:g} s (Ctrl-C to stop).",
            soft_wrap=True,
        )
    passes = run_serve(
        store,
        settings,
        once=once,
        downstream=None if downstream else no_downstream,
        on_pass=on_pass,
    )
    if json_out:
        print_json({"passes": passes, "last": last})
    else:
        console.print(f"Stopped after {passes} pass(es).", soft_wrap=True)


def _short(down: Any) -> str:
    if isinstance(down, dict) and "error" in down:
        return f"failed ({down['error']})"
    return ", ".join(f"{k}: {v}" for k, v in (down or {}).items())[:200]


def sources_import_opml(
    file: Annotated[Path, typer.Argument(help="OPML file exported from a feed reader.")],
    brand: Annotated[str | None, typer.Option(help="Brand the feeds are about.")] = None,
    schedule_minutes: Annotated[int, typer.Option(help="Minutes between two polls.")] = 60,
    json_out: JsonOpt = False,
) -> None:
    """Add every feed of an OPML file as a feed source (existing URLs are kept)."""
    from listening.collection.feeds import parse_opml
    from listening.store import Source
    from listening.store.sources import SourceSpec, add_source

    if not file.is_file():
        raise CollectionError(f"no such file: {file}", "give an OPML file")
    feeds = parse_opml(file.read_bytes())
    store = open_store()
    created, kept = [], []
    with store.session() as session:
        known_urls = set(session.scalars(select(Source.url)))
        names = set(session.scalars(select(Source.name)))
        for title, url in feeds:
            if url in known_urls:
                kept.append(url)
                continue
            name, n = title or url, 2
            while name in names:
                name, n = f"{title} ({n})", n + 1
            add_source(
                session,
                SourceSpec(
                    name=name, kind="feed", url=url, brand=brand, schedule_minutes=schedule_minutes
                ),
            )
            names.add(name)
            known_urls.add(url)
            created.append(name)
    if json_out:
        print_json({"created": created, "already_known": kept})
    else:
        console.print(
            f"Imported {file}: {len(created)} feed sources added, {len(kept)} already known.",
            soft_wrap=True,
        )


def register(app: typer.Typer) -> None:
    app.command()(collect)
    app.add_typer(import_app, name="import")
    app.command()(serve)
    sources_app.command("import-opml")(sources_import_opml)
