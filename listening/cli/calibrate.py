"""`listening calibrate propose` (adapt the sentiment head to your star ratings, on confirmation)
and `listening calibrate confidences` (refit the confidence maps)."""

from __future__ import annotations

from pathlib import Path
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


@calibrate_app.command("confidences")
def calibrate_confidences(
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data",
            help="Labelled JSONL file(s) (text, topics, sentiment); default: the project's own "
            "journey dev and realistic sets.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder to write calibration.json to (default: the models folder)."),
    ] = None,
    method: Annotated[
        str, typer.Option(help="isotonic (steps shrunk to the base rate, the default) or platt.")
    ] = "isotonic",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Measure only, write nothing.")
    ] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON object as the last line.")
    ] = False,
) -> None:
    """Refit the confidence maps (topics, sentiment) on labelled verbatims: fitted on one half,
    reliability of raw and calibrated confidences printed for the other half."""
    from nlp.confidence_fit import calibrate_confidences as fit
    from nlp.confidence_fit import reliability_markdown

    with console.status("analysing the labelled verbatims"):
        result = fit(get_settings(), data or None, out, save=not dry_run, method=method)
    console.print(reliability_markdown(result), markup=False)
    if result["saved"]:
        console.print(f"Saved {result['saved']} (run `listening analyze` to re-analyse).")
    if json_out:
        print_json(result)


def register(app: typer.Typer) -> None:
    app.add_typer(calibrate_app, name="calibrate")
