"""The `listening` command line. Each stage registers its commands from its own module."""

from __future__ import annotations

import logging
import sys

import typer
from typer.exceptions import Abort, TyperException

from listening.cli import api as api_cli
from listening.cli import calibrate, collect, core
from listening.cli import extract as extract_cli
from listening.cli import insights as insights_cli
from listening.cli import label as label_cli
from listening.cli import nlp as nlp_cli
from listening.cli import privacy as privacy_cli
from listening.cli import reports as reports_cli
from listening.cli import routing as routing_cli
from listening.cli import users as users_cli
from listening.cli import workers as workers_cli
from listening.errors import ListeningError

app = typer.Typer(
    name="listening",
    help="Social listening and verbatim analysis for e-commerce merchants.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
core.register(app)
collect.register(app)
extract_cli.register(app)
routing_cli.register(app)
nlp_cli.register(app)
workers_cli.register(app)
label_cli.register(app)
calibrate.register(app)
reports_cli.register(app)
privacy_cli.register(app)
users_cli.register(app)
api_cli.register(app)
insights_cli.register(app)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: one-line errors, non-zero exit."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = app(args=argv, standalone_mode=False)
    except ListeningError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)
    except Abort:
        print("Aborted.", file=sys.stderr)
        sys.exit(1)
    except TyperException as exc:  # usage errors: unknown command, bad option...
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            print(f"Error: {exc}", file=sys.stderr)
        sys.exit(int(getattr(exc, "exit_code", 2)))
    if isinstance(code, int) and code:
        sys.exit(code)
