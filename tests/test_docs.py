"""Every setting and every CLI command is documented (docs/SETTINGS.md, docs/CLI.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from listening.cli import app
from listening.settings import iter_setting_fields

DOCS = Path(__file__).resolve().parents[1] / "docs"


def command_paths(group: Any, prefix: str = "listening") -> list[str]:
    paths = []
    for name, command in sorted(getattr(group, "commands", {}).items()):
        path = f"{prefix} {name}"
        paths.append(path)
        paths.extend(command_paths(command, path))
    return paths


def test_docs_every_cli_command_is_documented() -> None:
    text = (DOCS / "CLI.md").read_text(encoding="utf-8")
    paths = command_paths(typer.main.get_command(app))
    assert "listening init" in paths and "listening sources add" in paths
    missing = [p for p in paths if f"`{p}" not in text]
    assert not missing, f"commands missing from docs/CLI.md: {missing}"


def test_docs_every_setting_is_documented() -> None:
    text = (DOCS / "SETTINGS.md").read_text(encoding="utf-8")
    fields = list(iter_setting_fields())
    assert len(fields) >= 8
    missing = [env for _dotted, env, _field in fields if f"`{env}`" not in text]
    assert not missing, f"settings missing from docs/SETTINGS.md: {missing}"


def test_docs_every_setting_has_help() -> None:
    undocumented = [
        dotted for dotted, _env, field in iter_setting_fields() if not field.description
    ]
    assert not undocumented, f"settings without description=: {undocumented}"


def test_docs_every_command_has_help() -> None:
    def walk(group: Any, prefix: str) -> list[str]:
        bad = []
        for name, command in getattr(group, "commands", {}).items():
            if not (command.help or command.short_help):
                bad.append(f"{prefix} {name}")
            bad.extend(walk(command, f"{prefix} {name}"))
        return bad

    assert not walk(typer.main.get_command(app), "listening")
