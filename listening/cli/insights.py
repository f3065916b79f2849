"""Insights commands: `listening themes [--days N] [--brand B]`, `listening themes promote`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from listening.cli.core import open_store
from listening.cli.output import console, print_json
from listening.settings import get_settings

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object as the last line.")]
themes_app = typer.Typer(help="Emerging themes: clusters of recent verbatims outside the taxonomy.")


def _print_themes(result: dict[str, Any]) -> None:
    console.print(
        f"{result['outside_taxonomy']} of {result['documents']} verbatims outside the taxonomy "
        f"({result['period_start']:%Y-%m-%d} → {result['period_end']:%Y-%m-%d}); "
        f"{len(result['themes'])} themes",
        markup=False,
    )
    for t in result["themes"]:
        net = "n/a" if t["net_sentiment"] is None else f"{t['net_sentiment']:+.2f}"
        console.print(
            f"#{t['id']} {t['label']}  — {t['size']} verbatims (previous period "
            f"{t['previous_count']}, ×{t['growth']:.1f}), net sentiment {net}",
            markup=False,
        )
        console.print(f"    words: {', '.join(t['terms'])}", markup=False)
        console.print(f"    brands: {t['brands']}  sources: {t['sources']}", markup=False)
        for v in t.get("verbatims", []):
            console.print(f"    - {' '.join(v['text'].split())[:140]}", markup=False)
    for a in result["alerts"]["opened"]:
        console.print(
            f"[bold red]ALERT[/bold red] growing theme #{a['theme_id']} {a['label']}: "
            f"{a['size']} verbatims (previous period {a['previous_count']})"
        )


@themes_app.callback(invoke_without_command=True)
def themes(
    ctx: typer.Context,
    days: Annotated[
        int | None,
        typer.Option(
            help="Days of the period (default insights.themes_days), "
            "compared with the same length before."
        ),
    ] = None,
    brand: Annotated[str | None, typer.Option(help="Only this brand's verbatims.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Discover, store and print the emerging themes of the period (and alert on fast growers)."""
    if ctx.invoked_subcommand is not None:
        return
    from listening.insights.themes import discover_themes, latest_themes
    from listening.routing.outbox import deliver_pending

    settings = get_settings()
    store = open_store()
    result = discover_themes(store, settings, days=days, brand=brand)
    with store.session() as session:
        result["themes"] = latest_themes(session, run_id=result["run_id"])
    if result["alerts"]["opened"]:
        result["notifications"] = deliver_pending(store, settings)
    if json_out:
        print_json(result)
        return
    _print_themes(result)


@themes_app.command("promote")
def promote(
    theme_id: Annotated[int, typer.Argument(help="Theme id (from `listening themes`).")],
    topic: Annotated[
        str, typer.Option("--topic", help="Id of the new taxonomy topic (e.g. carrier_xyz).")
    ],
    label: Annotated[str, typer.Option("--label", help="Its label shown in the dashboard.")],
    json_out: JsonOpt = False,
) -> None:
    """Turn a theme into a new taxonomy topic; its verbatims become the topic's seed examples."""
    from listening.insights.promote import promote_theme

    result = promote_theme(open_store(), get_settings(), theme_id, topic, label)
    if json_out:
        print_json(result)
        return
    console.print(
        f"Topic {result['topic']!r} added to {result['taxonomy']} with {result['examples']} "
        f"examples. Next: {result['next']}.",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(themes_app, name="themes")
