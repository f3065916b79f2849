"""`listening calibrate propose`: adapt the sentiment head to your star ratings, on confirmation."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from listening.cli.core import open_store
from listening.cli.output import console, print_json
from listening.settings import get_settings

calibrate_app = typer.Typer(
    help="Adapt the models to your own data (on confirmation).", no_args_is_help=True
)


@calibrate_app.command("propose")
def calibrate_propose(
    source: Annotated[
        str | None, typer.Option(help="Only the rated reviews of this source.")
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Apply without asking (after printing the figures).")
    ] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON object as the last line.")
    ] = False,
) -> None:
    """When collected reviews carry star ratings, measure adapting the sentiment head on them
    (held-out before/after) and apply it only on confirmation."""
    from nlp.rating_proposal import apply, propose, summary

    settings = get_settings()
    store = open_store()
    with console.status("measuring on a held-out slice of the rated reviews"):
        result: dict[str, Any] = propose(settings, store, source)
    console.print(summary(result) + ".")
    result["applied"] = False
    if result["eligible"] and not result["helps"]:
        console.print("Not proposed: the adapted head would be worse on the held-out reviews.")
    elif result["eligible"]:
        if yes or typer.confirm("Apply (save the adapted sentiment head)?", default=False):
            done = apply(settings, store, source)
            result.update({"applied": bool(done["saved"]), "path": done.get("path")})
            console.print(
                f"Saved the adapted sentiment head → {done.get('path')} "
                "(run `listening analyze` to re-analyse)."
                if done["saved"]
                else "Nothing saved."
            )
        else:
            console.print("Not applied.")
    store.dispose()
    if json_out:
        print_json(result)


def register(app: typer.Typer) -> None:
    app.add_typer(calibrate_app, name="calibrate")
