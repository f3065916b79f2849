"""`listening themes` and `listening themes promote` through the CLI, and their errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_themes_store import _seed
from themes_data import CARRIER, OTHER
from typer.testing import CliRunner

from listening.cli import app, main
from listening.settings import get_settings
from listening.store import Store
from listening.taxonomy import load_topics

runner = CliRunner()


def test_cli_themes_then_promote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTENING_INSIGHTS__THEMES_MIN_CLUSTER_SIZE", "5")
    monkeypatch.setenv("LISTENING_INSIGHTS__THEMES_DAYS", "365")
    get_settings.cache_clear()
    store = Store(get_settings().database_url)
    store.init()
    _seed(store, CARRIER + OTHER, [], now=datetime.now(UTC))
    result = runner.invoke(app, ["themes", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    carrier = next(t for t in out["themes"] if "rapidexo" in t["label"])
    assert len(carrier["verbatims"]) == 3 and carrier["size"] >= 12
    text = runner.invoke(app, ["themes", "--days", "365"])
    assert (
        text.exit_code == 0
        and "rapidexo" in text.output
        and "verbatims outside the taxonomy" in text.output
    )
    promoted = runner.invoke(
        app,
        [
            "themes",
            "promote",
            str(carrier["id"]),
            "--topic",
            "carrier_rapidexo",
            "--label",
            "Transporteur Rapidexo",
            "--json",
        ],
    )
    assert promoted.exit_code == 0, promoted.output
    path = Path(json.loads(promoted.output.strip().splitlines()[-1])["taxonomy"])
    assert "carrier_rapidexo" in load_topics(path).ids


def test_cli_themes_on_an_empty_period_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    Store(get_settings().database_url).init()
    with pytest.raises(SystemExit) as exit_info:
        main(["themes", "--days", "7"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: L012: no verbatims between") and "--days" in err
    with pytest.raises(SystemExit):
        main(["themes", "--days", "0"])
    assert "L012: --days must be at least 1, got 0" in capsys.readouterr().err
