"""``listening extract``: run the collectors' extraction on a saved page or feed file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from listening.cli.output import console, err_console, print_json
from listening.errors import CollectionError, ConfigError


def extract_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="Saved HTML page, Discourse JSON, RSS/Atom feed file, or a channel API response body."
        ),
    ],
    url: Annotated[
        str, typer.Option("--url", help="The page's original URL (resolves links, names items).")
    ],
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="reviews, forum, blog or feed (detected when omitted), or a channel: reddit, "
            "youtube, mastodon, bluesky, x, facebook, instagram, appstore, googleplay, trustpilot.",
        ),
    ] = None,
    selectors: Annotated[
        Path | None,
        typer.Option(
            "--selectors",
            help="JSON/YAML file with a custom selector profile (see docs/COLLECTION.md).",
        ),
    ] = None,
    include_article: Annotated[
        bool,
        typer.Option("--include-article", help="For blogs: add the article itself as an item."),
    ] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the items as one JSON list.")
    ] = False,
) -> None:
    """Extract verbatims from a saved page with the same code as the spiders and feed reader."""
    from listening.collection.channels import CHANNEL_KINDS, parse_body
    from listening.collection.extract import KINDS, Extraction, extract, item_to_json

    if kind is not None and kind not in KINDS and kind not in CHANNEL_KINDS:
        raise ConfigError(
            f"unknown --kind {kind!r}", f"valid kinds: {', '.join((*KINDS, *CHANNEL_KINDS))}"
        )
    if not file.is_file():
        raise CollectionError(f"no such file: {file}", "give the path of a saved HTML page or feed")
    if kind in CHANNEL_KINDS:
        result = Extraction(kind, parse_body(kind, file.read_bytes(), url))
    else:
        options: dict[str, Any] = {"include_article": include_article}
        if selectors is not None:
            options["selectors"] = _load_selectors(selectors)
        result = extract(file.read_bytes(), url, kind=kind, options=options)
    items = [item_to_json(item) for item in result.items]
    if json_out:
        print_json(items)
        return
    for item in items:
        when = (item["published_at"] or "?")[:16]
        rating = f" ★{item['rating']:.2f}" if item.get("rating") is not None else ""
        console.print(
            f"[bold]{item['author'] or 'anonymous'}[/] {when}{rating}: {item['text'][:120]}"
        )
    err_console.print(
        f"{len(items)} items ({result.kind}{', ' + result.engine if result.engine else ''})."
    )


def _load_selectors(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = (
            yaml.safe_load(path.read_text(encoding="utf-8"))
            if path.suffix != ".json"
            else json.loads(path.read_text(encoding="utf-8"))
        )
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"cannot read selectors file {path}: {exc}", "give a JSON or YAML mapping"
        ) from None
    if not isinstance(data, dict) or not data.get("item"):
        raise ConfigError(
            f"selectors file {path} has no 'item' selector",
            "give a mapping with at least 'item' (and author, date, body...)",
        )
    return data


def register(app: typer.Typer) -> None:
    app.command("extract")(extract_command)
