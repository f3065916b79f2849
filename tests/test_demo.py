"""`listening demo --no-dashboard`: the whole product on the bundled sample data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text


@pytest.mark.slow
def test_demo_runs_every_stage_headless(tmp_path: Path) -> None:
    workspace = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTENING_")}
    env["LISTENING_CONFIG"] = str(tmp_path / "absent.toml")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "listening.cli",
            "demo",
            "--no-dashboard",
            "--workspace",
            str(workspace),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["documents"] >= 60
    assert summary["analysed"] == summary["documents"]
    assert summary["tickets"] >= 5
    db = workspace / "listening.db"
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        kinds = {
            row[0]
            for row in conn.execute(
                text("SELECT DISTINCT s.kind FROM documents d JOIN sources s ON s.id = d.source_id")
            )
        }
        failed_runs = conn.execute(
            text("SELECT count(*) FROM runs WHERE status = 'failed'")
        ).scalar()
        competitor_tickets = conn.execute(
            text(
                "SELECT count(*) FROM tickets t JOIN documents d ON d.id = t.document_id "
                "JOIN brands b ON b.id = d.brand_id WHERE NOT b.is_own"
            )
        ).scalar()
    engine.dispose()
    assert kinds >= {"review_site", "forum", "blog", "feed", "survey", "mastodon"}
    assert failed_runs == 0
    assert competitor_tickets == 0  # competitors are analysed, never ticketed

