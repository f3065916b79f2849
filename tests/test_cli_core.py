"""Core commands through the CLI runner, and exit codes through the real console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from listening.cli import app
from listening.errors import ListeningError, SourceError, StoreError
from listening.settings import get_settings
from listening.store import Store
from listening.store.documents import DocumentIn, upsert_documents

runner = CliRunner()


def last_json(output: str) -> object:
    return json.loads(output.strip().splitlines()[-1])


def invoke(*args: str) -> object:
    result = runner.invoke(app, list(args), catch_exceptions=True)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result


def test_cli_init_creates_then_reports_current(tmp_path: Path) -> None:
    first = invoke("init", "--json")
    assert last_json(first.output)["schema"] == "created"  # type: ignore[index]
    second = invoke("init", "--json")
    assert last_json(second.output)["schema"] == "current"  # type: ignore[index]
    assert (tmp_path / "listening.db").exists()


def test_cli_config_show_lists_every_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTENING_NLP__BATCH_SIZE", "7")
    get_settings.cache_clear()
    values = last_json(invoke("config", "show", "--json").output)
    assert isinstance(values, dict)
    assert values["nlp.batch_size"] == 7
    assert "database_url" in values and "dashboard.port" in values


def test_cli_config_reads_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "listening.toml"
    config.write_text('timezone = "UTC"\n[nlp]\nbatch_size = 3\n', encoding="utf-8")
    monkeypatch.setenv("LISTENING_CONFIG", str(config))
    get_settings.cache_clear()
    values = last_json(invoke("config", "show", "--json").output)
    assert isinstance(values, dict)
    assert values["timezone"] == "UTC" and values["nlp.batch_size"] == 3


def test_cli_sources_add_list_remove() -> None:
    invoke("init")
    invoke(
        "sources",
        "add",
        "avis",
        "--kind",
        "review_site",
        "--url",
        "https://example.org/avis",
        "--brand",
        "Maison Lumière",
        "--own",
    )
    listed = last_json(invoke("sources", "list", "--json").output)
    assert isinstance(listed, list)
    assert [(s["name"], s["kind"], s["brand"]) for s in listed] == [
        ("avis", "review_site", "Maison Lumière")
    ]
    invoke("sources", "remove", "avis")
    assert last_json(invoke("sources", "list", "--json").output) == []


def test_cli_sources_add_rejects_unknown_kind() -> None:
    invoke("init")
    result = runner.invoke(
        app, ["sources", "add", "x", "--kind", "tiktok", "--url", "https://x.org"]
    )
    assert isinstance(result.exception, ListeningError)
    assert "valid kinds" in str(result.exception)


def test_cli_sources_import_is_all_or_nothing(tmp_path: Path) -> None:
    invoke("init")
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n  - name: ok\n    kind: feed\n    url: https://example.org/feed\n"
        "  - name: broken\n    kind: feed\n    url: nowhere\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["sources", "import", str(path)])
    assert isinstance(result.exception, SourceError)
    assert last_json(invoke("sources", "list", "--json").output) == []


def test_cli_commands_before_init_say_run_init() -> None:
    result = runner.invoke(app, ["sources", "list"])
    assert isinstance(result.exception, StoreError)
    assert "listening init" in str(result.exception)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl", "parquet"])
def test_cli_export_formats(tmp_path: Path, fmt: str) -> None:
    invoke("init")
    invoke("sources", "add", "avis", "--kind", "review_site", "--url", "https://example.org/a")
    store = Store.from_settings()
    with store.session() as session:
        upsert_documents(
            session,
            1,
            None,
            [DocumentIn("1", "Livraison rapide 👍", rating=0.8), DocumentIn("2", "Colis perdu.")],
            "salt",
        )
    out = tmp_path / f"export.{fmt}"
    result = invoke("export", str(out), "--format", fmt, "--json")
    assert last_json(result.output) == {"rows": 2, "path": str(out), "format": fmt}
    frame = {
        "csv": pd.read_csv,
        "xlsx": pd.read_excel,
        "jsonl": lambda p: pd.read_json(p, lines=True),
        "parquet": pd.read_parquet,
    }[fmt](out)
    assert sorted(frame["text"]) == ["Colis perdu.", "Livraison rapide 👍"]


def run_console(*args: str, env_db: str) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTENING_")}
    env["LISTENING_DATABASE_URL"] = env_db
    return subprocess.run(
        [sys.executable, "-c", "from listening.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_cli_errors_are_one_line_with_nonzero_exit(tmp_path: Path) -> None:
    proc = run_console("sources", "list", env_db="mysql://nobody@nowhere/db")
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0
    assert "unsupported database 'mysql'" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_console("init", env_db="postgresql+psycopg://postgres@127.0.0.1:1/test")
    assert proc.returncode == 1 and "cannot connect" in proc.stderr
    proc = run_console("init", "--json", env_db=f"sqlite:///{tmp_path / 'x.db'}")
    assert proc.returncode == 0 and json.loads(proc.stdout.splitlines()[-1])["schema"] == "created"
    proc = run_console("no-such-command", env_db=f"sqlite:///{tmp_path / 'x.db'}")
    assert proc.returncode == 2 and "No such command" in proc.stderr
