"""Core commands: init, config, sources, export, dashboard, demo."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select

from listening.cli.output import console, print_json
from listening.errors import ConfigError
from listening.secrets import is_secret, mask_setting, mask_url
from listening.settings import effective_values, get_settings, iter_setting_fields
from listening.store import Source, Store
from listening.store.sources import (
    SourceSpec,
    add_source,
    import_sources,
    load_sources_file,
    remove_source,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")]

config_app = typer.Typer(help="Show the effective settings.", no_args_is_help=True)
sources_app = typer.Typer(
    help="Manage the sources verbatims are collected from.", no_args_is_help=True
)


def open_store(read_only: bool = False) -> Store:
    """The configured store, checked to be initialised."""
    store = Store.from_settings(get_settings(), read_only=read_only)
    store.check_schema()
    return store


def init(json_out: JsonOpt = False) -> None:
    """Create the store, or upgrade its schema to this version."""
    settings = get_settings()
    store = Store.from_settings(settings)
    state = store.init()
    rezoned = store.set_time_zone(settings.timezone)
    if json_out:
        print_json(
            {
                "database": store.engine.url.render_as_string(hide_password=True),
                "schema": state,
                "time_zone": settings.timezone,
                "days_recounted": rezoned,
            }
        )
    else:
        recount = " (daily counts rebuilt)" if rezoned else ""
        console.print(
            f"Store {store.engine.url.render_as_string(hide_password=True)}: schema {state}; "
            f"days counted in {settings.timezone}{recount}."
        )


@config_app.command("show")
def config_show(json_out: JsonOpt = False) -> None:
    """Print every setting with its effective value and environment variable."""
    values = effective_values(get_settings())
    for dotted, _env, field in iter_setting_fields():  # never print a secret (SECURITY.md)
        marker = is_secret(field)
        if marker:
            values[dotted] = mask_setting(values[dotted], marker)
    if json_out:
        print_json(values)
        return
    table = Table("setting", "value", "environment variable", "help")
    for dotted, env, field in iter_setting_fields():
        table.add_row(dotted, repr(values[dotted]), env, field.description or "")
    console.print(table)


@sources_app.command("add")
def sources_add(
    name: Annotated[str, typer.Argument(help="Unique name of the source.")],
    kind: Annotated[
        str,
        typer.Option(
            help="review_site, forum, blog, feed, survey or email; channels (reddit, youtube, "
            "mastodon, ...) need settings: add them with `listening sources import` (docs/CHANNELS.md)."
        ),
    ],
    url: Annotated[
        str, typer.Option(help="Start URL (http/https), or a file path for survey/email.")
    ],
    brand: Annotated[str | None, typer.Option(help="Brand the verbatims are about.")] = None,
    own: Annotated[bool, typer.Option(help="The brand is your own (not a competitor).")] = False,
    schedule_minutes: Annotated[int, typer.Option(help="Minutes between two collections.")] = 60,
    json_out: JsonOpt = False,
) -> None:
    """Add a source."""
    from pydantic import ValidationError

    from listening.store.sources import get_or_create_brand

    try:
        spec = SourceSpec(
            name=name, kind=kind, url=url, brand=brand, schedule_minutes=schedule_minutes
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigError(
            f"{'.'.join(map(str, err['loc']))}: {err['msg']}", "see `listening sources add --help`"
        ) from None
    store = open_store()
    with store.session() as session:
        if brand and own:
            get_or_create_brand(session, brand, own=True)
        source, _ = add_source(session, spec)
        source_id = source.id
    if json_out:
        print_json({"id": source_id, "name": name, "kind": kind})
    else:
        console.print(f"Added source {name!r} ({kind}) #{source_id}.")


@sources_app.command("list")
def sources_list(json_out: JsonOpt = False) -> None:
    """List sources with their schedule and health."""
    store = open_store(read_only=True)
    with store.session() as session:
        rows: list[dict[str, Any]] = [
            {
                "id": s.id,
                "name": s.name,
                "kind": s.kind,
                "url": mask_url(s.url),
                "brand": s.brand.name if s.brand else None,
                "schedule_minutes": s.schedule_minutes,
                "enabled": s.enabled,
                "last_run_at": s.last_run_at,
                "last_error": s.last_error,
                "blocked": s.blocked,
                "blocked_reason": s.blocked_reason,
            }
            for s in session.scalars(select(Source).order_by(Source.name))
        ]
    if json_out:
        print_json(rows)
        return
    if not rows:
        console.print(
            "No sources yet: `listening sources add` or `listening sources import FILE.yaml`."
        )
        return
    table = Table("name", "kind", "brand", "url", "every", "last run", "health")
    for r in rows:
        health = f"blocked: {r['blocked_reason']}" if r["blocked"] else (r["last_error"] or "ok")
        table.add_row(
            str(r["name"]),
            str(r["kind"]),
            str(r["brand"] or ""),
            str(r["url"]),
            f"{r['schedule_minutes']} min",
            str(r["last_run_at"] or "never"),
            health,
        )
    console.print(table)


@sources_app.command("remove")
def sources_remove(name: Annotated[str, typer.Argument(help="Name of the source.")]) -> None:
    """Remove a source and its verbatims."""
    store = open_store()
    with store.session() as session:
        remove_source(session, name)
    console.print(f"Removed source {name!r}.")


@sources_app.command("import")
def sources_import(
    file: Annotated[
        Path, typer.Argument(help="YAML file with 'brands' and 'sources' (docs/SOURCES.md).")
    ],
    json_out: JsonOpt = False,
) -> None:
    """Create or update brands and sources from a YAML file (all or nothing)."""
    parsed = load_sources_file(file)
    store = open_store()
    with store.session() as session:
        created, updated = import_sources(session, parsed)
    if json_out:
        print_json({"created": created, "updated": updated})
    else:
        console.print(f"Imported {file}: {created} sources created, {updated} updated.")


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    jsonl = "jsonl"
    parquet = "parquet"


def export(
    output: Annotated[Path, typer.Argument(help="File to write.")],
    format: Annotated[
        ExportFormat, typer.Option("--format", help="csv, xlsx, jsonl or parquet.")
    ] = ExportFormat.csv,
    json_out: JsonOpt = False,
) -> None:
    """Export verbatims with their latest analysis."""
    from listening.export import export_documents

    store = open_store(read_only=True)
    count = export_documents(store, output, format.value)
    if json_out:
        print_json({"rows": count, "path": str(output), "format": format.value})
    else:
        console.print(f"Exported {count} verbatims to {output} ({format.value}).")


def dashboard(
    port: Annotated[
        int | None, typer.Option(help="Port (default: dashboard.port setting).")
    ] = None,
    headless: Annotated[bool, typer.Option(help="Do not open a browser.")] = False,
) -> None:
    """Open the Streamlit dashboard on the store."""
    raise typer.Exit(launch_dashboard(port=port, headless=headless))


def dashboard_secrets_args(settings: Any, port: int) -> list[str]:
    """With OIDC configured: write Streamlit's ``[auth]`` secrets (st.login) and point
    Streamlit at them; no OIDC: nothing (docs/ACCOUNTS.md)."""
    if not settings.auth.oidc_enabled:
        return []
    from listening.oidc import write_secrets

    path = write_secrets(settings.auth, settings.dashboard.address, port, Path(settings.data_dir))
    return ["--secrets.files", str(path)]


def launch_dashboard(port: int | None = None, headless: bool = False) -> int:
    """Replace this process with Streamlit serving the dashboard (signals reach it directly)."""
    settings = get_settings()
    open_store(read_only=True)  # fail early, with a clear error, when the store is not ready
    app_path = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
    port = port or settings.dashboard.port
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app_path),
        "--server.port", str(port),
        "--server.address", settings.dashboard.address,
        # never stop at Streamlit's first-run e-mail question (a run without a terminal
        # would exit at it); without --headless, Streamlit opens a browser when there is a
        # display and stays headless on a server (no DISPLAY)
        "--server.showEmailPrompt", "false",
        *(["--server.headless", "true"] if headless else []),
        "--browser.gatherUsageStats", "false",
        *dashboard_secrets_args(settings, port),
    ]  # fmt: skip
    console.print(f"Dashboard on http://{settings.dashboard.address}:{port}")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, cmd, os.environ.copy())
    return 0  # not reached: execve replaces the process


def demo(
    workspace: Annotated[
        Path, typer.Option(help="Folder for the demo store and crawl state.")
    ] = Path("workspace/demo"),
    dashboard_: Annotated[
        bool, typer.Option("--dashboard/--no-dashboard", help="Open the dashboard at the end.")
    ] = True,
    port: Annotated[int | None, typer.Option(help="Dashboard port.")] = None,
) -> None:
    """Run the whole product on bundled sample data, then open the dashboard."""
    from listening.demo import run_demo

    summary = run_demo(workspace)
    print_json(summary)
    if dashboard_:
        raise typer.Exit(launch_dashboard(port=port))


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.add_typer(config_app, name="config")
    app.add_typer(sources_app, name="sources")
    app.command()(export)
    app.command()(dashboard)
    app.command()(demo)
