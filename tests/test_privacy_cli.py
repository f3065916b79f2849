"""`listening privacy` commands: forget, export, erasures through the CLI runner."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from privacy_seed import EMAIL, NAME, OTHER_TEXT, seed
from typer.testing import CliRunner

from listening.cli import app
from listening.errors import PrivacyError
from listening.gdpr.access import subject_export
from listening.gdpr.forget import forget, resolve_subject
from listening.settings import get_settings
from listening.store import Store

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=True)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


def test_privacy_export_gathers_everything_about_an_author(store: Store) -> None:
    settings = get_settings()
    seeded = seed(store, settings)
    data = subject_export(store, settings, resolve_subject(settings, handle=NAME))
    assert [d["id"] for d in data["documents"]] == seeded["mine"][:2]
    assert all("Marie" not in d["text"] for d in data["documents"])
    assert len(data["analyses"]) == 2 and data["analyses"][0]["topics"][0]["evidence"]
    assert [e["action"] for e in data["tickets"][0]["events"]] == ["note", "reply_queued"]
    assert len(data["corrections"]) == 1  # the orphaned snapshot has no document: not theirs
    assert data["erasure"] == {"erased_documents": 0, "held_documents": 2, "records": []}
    json.dumps(data, default=str)

    forget(store, settings, resolve_subject(settings, handle=NAME), actor="dpo")
    after = subject_export(store, settings, resolve_subject(settings, handle=NAME))
    # two of theirs and the brand's reply to them
    assert after["erasure"]["erased_documents"] == 3 and after["erasure"]["held_documents"] == 0
    assert [r["actor"] for r in after["erasure"]["records"]] == ["dpo"]
    assert after["documents"] == [] and after["corrections"] == [] and after["tickets"] == []


def test_cli_privacy_forget_export_erasures(sqlite_store: Store, tmp_path: Path) -> None:
    settings = get_settings()
    seed(sqlite_store, settings)
    out = tmp_path / "exports" / "jean.json"
    assert "Wrote" in _run("privacy", "export", "--handle", EMAIL, "--out", str(out))
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(data["documents"]) == 1 and "Quokkaville" in data["documents"][0]["text"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    line = _run("privacy", "export", "--handle", NAME).strip().splitlines()[-1]
    assert len(json.loads(line)["documents"]) == 2

    dry = json.loads(
        _run("privacy", "forget", "--handle", NAME, "--dry-run", "--json").splitlines()[-1]
    )
    assert dry["dry_run"] is True and dry["documents"] == 3
    text = _run("privacy", "forget", "--handle", NAME, "--actor", "dpo")
    assert "Erased 3 verbatim(s)" in text and "Erasure #1 recorded" in text
    listed = json.loads(_run("privacy", "erasures", "--json").splitlines()[-1])["erasures"]
    assert [(r["actor"], r["documents"], r["reason"]) for r in listed] == [("dpo", 3, "forget")]
    assert NAME not in json.dumps(listed) and "dpo" in _run("privacy", "erasures")

    bad = runner.invoke(app, ["privacy", "forget", "--handle", NAME, "--document", "3"])
    assert isinstance(bad.exception, PrivacyError) and "exactly one subject" in str(bad.exception)
    assert bad.exception.code == "L009"
    from listening.export import documents_frame

    frame = documents_frame(sqlite_store)  # `listening export` writes no tombstone
    assert len(frame) == 2 and not frame["text"].eq("").any()
    export = json.loads(_run("privacy", "export", "--handle", "Marie Curie").splitlines()[-1])
    assert export["documents"][0]["text"] == OTHER_TEXT
    masked = json.loads(_run("privacy", "mask", "--json").splitlines()[-1])
    assert masked == {"dry_run": False, "documents": 0, "corrections": 0, "scanned": 2}
    assert "Would mask contacts in 0 of 2 verbatim(s)" in _run("privacy", "mask", "--dry-run")
