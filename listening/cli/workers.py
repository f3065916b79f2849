"""Distributed-worker commands: worker, scheduler, workers status (docs/SCALING.md).

Celery is imported only inside these commands (optional ``workers`` extra).
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated, Any

import typer
from rich.table import Table

from listening.cli.output import console, print_json
from listening.errors import WorkerError
from listening.settings import Settings, get_settings
from listening.workers.queues import mask_url, parse_queues, queue_names, require_postgres

workers_app = typer.Typer(help="Inspect the distributed workers.", no_args_is_help=True)


def _celery_app(settings: Settings) -> Any:
    try:
        from listening.workers.app import make_app
    except ImportError as exc:
        raise WorkerError(
            f"Celery is not installed ({exc})", "pip install 'listening[workers]'"
        ) from None
    return make_app(settings)


def _store(settings: Settings) -> Any:
    from listening.store import Store

    store = Store.from_settings(settings)
    store.check_schema()
    return store


def worker(
    queues: Annotated[
        str,
        typer.Option(
            help="Comma-separated queues to consume: collect, analyze, route, notify (default all)."
        ),
    ] = "",
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default workers.concurrency).")
    ] = None,
    pool: Annotated[
        str, typer.Option(help="Celery pool: prefork (default), solo or threads.")
    ] = "prefork",
    name: Annotated[
        str, typer.Option(help="Worker node name (default listening-<queues>@host).")
    ] = "",
) -> None:
    """Run a Celery worker on a PostgreSQL store (docs/SCALING.md)."""
    settings = get_settings()
    kinds = parse_queues(queues)
    require_postgres(settings)
    _store(settings)
    app = _celery_app(settings)
    from listening.workers.app import check_broker

    check_broker(app, settings)
    names = queue_names(settings)
    level = settings.log_level.upper()
    logging.getLogger().setLevel(level)
    logging.getLogger(__name__).info(
        "worker on %s, queues %s", mask_url(settings.workers.broker_url), kinds
    )
    argv = [
        "worker",
        "-Q",
        ",".join(names[k] for k in kinds),
        "-P",
        pool,
        "-c",
        str(concurrency or settings.workers.concurrency),
        "-n",
        name or f"listening-{'-'.join(kinds)}@%h",
        "--loglevel",
        level,
        "--without-mingle",
        "--without-gossip",
    ]
    app.worker_main(argv=argv)


def scheduler(
    once: Annotated[bool, typer.Option("--once", help="One tick, then exit.")] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the tick summary as JSON.")
    ] = False,
) -> None:
    """Enqueue due sources and pending work for the workers (run exactly one)."""
    settings = get_settings()
    require_postgres(settings)
    store = _store(settings)
    app = _celery_app(settings)
    from listening.workers.app import check_broker
    from listening.workers.beat import Beat, run

    check_broker(app, settings)
    if once:
        summary = Beat(app, store, settings).tick()
        if json_out:
            print_json(summary)
        else:
            console.print(f"Enqueued {summary['enqueued']} (queue depths {summary['depths']}).")
        return
    console.print(
        f"Scheduling every {settings.workers.schedule_seconds:g} s on "
        f"{mask_url(settings.workers.broker_url)} (Ctrl-C to stop)."
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    run(app, store, settings, stop=stop)


@workers_app.command("status")
def workers_status(
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Per-queue depth, live workers, throughput, failures and oldest pending age."""
    from listening.workers.status import store_status

    settings = get_settings()
    status = store_status(_store(settings))
    names = queue_names(settings)
    status["broker"] = mask_url(settings.workers.broker_url)
    depths: dict[str, int | None] = dict.fromkeys(names)
    live: dict[str, list[str]] = {}
    try:
        app = _celery_app(settings)
        from listening.workers.app import check_broker, consumers, queue_depths

        check_broker(app, settings, retries=0)
        depths = queue_depths(app, settings)
        live = consumers(app)
    except WorkerError as exc:
        status["broker_error"] = str(exc)
    for kind, row in status["queues"].items():
        row["queue"] = names[kind]
        row["depth"] = depths.get(kind)
        row["workers"] = len(live.get(names[kind], []))
    if json_out:
        print_json(status)
        return
    table = Table(
        "queue", "depth", "workers", "pending", "oldest pending (s)", "done/min", "dead letters"
    )
    for row in status["queues"].values():
        table.add_row(
            row["queue"],
            str(row["depth"]),
            str(row["workers"]),
            str(row["pending"]),
            str(row["oldest_pending_age_s"]),
            str(row["done_per_min"]),
            str(row["failures"]),
        )
    console.print(table)
    if "broker_error" in status:
        console.print(f"[yellow]{status['broker_error']}[/yellow]")
    for dead in status["dead_letters"]:
        console.print(
            f"dead: {dead['task']}{dead['args']} after {dead['attempts']}: {dead['error']}"
        )


def register(app: typer.Typer) -> None:
    app.command()(worker)
    app.command()(scheduler)
    app.add_typer(workers_app, name="workers")
