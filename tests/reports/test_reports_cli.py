"""`listening report`: formats, files, one-line errors (never a stack trace)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from listening.cli import main
from listening.store import Store


def _dates(now: datetime) -> list[str]:
    return [
        "--since",
        (now - timedelta(days=25)).date().isoformat(),
        "--until",
        now.date().isoformat(),
    ]


def test_reports_cli_formats(
    seeded_sqlite: tuple[Store, dict[str, Any]],
    now: datetime,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LISTENING_INSIGHTS__REPORT_CENTRALITY", "tfidf")
    main(["report", *_dates(now), "--lang", "en"])
    out = capsys.readouterr().out
    assert out.startswith("# Customer listening report — Maison Lumière")
    assert "| Luminéo | Delivery |" in out
    main(
        [
            "report",
            *_dates(now),
            "--format",
            "html",
            "--brand",
            "Luminéo",
            "--out",
            str(tmp_path / "r.html"),
        ]
    )
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Rapport d’écoute client — Luminéo" in html and "&lt;script&gt;" in html
    assert "<script>" not in html
    monkeypatch.chdir(tmp_path)
    main(["report", *_dates(now), "--format", "pdf"])
    start = (now - timedelta(days=25)).date().isoformat()
    pdf = tmp_path / f"report-{start}-{now.date().isoformat()}.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-") and f"Wrote {pdf.name}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--brand", "Inconnue"],
            "L013: unknown brand 'Inconnue'; valid brands: Maison Lumière, Luminéo",
        ),
        (
            ["--since", "2001-01-01", "--until", "2001-01-07"],
            "L013: no verbatim published between 2001-01-01 and 2001-01-07 for Maison Lumière",
        ),
        (["--format", "docx"], "L013: unknown format 'docx' (valid formats: md, html, pdf)"),
        (["--period", "year"], "L013: unknown period 'year'"),
        (["--since", "hier"], "L013: --since 'hier' is not a date"),
    ],
)
def test_reports_cli_errors_are_one_line(
    seeded_sqlite: tuple[Store, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report", *args])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith(f"Error: {message}") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_reports_cli_on_an_uninitialised_store(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["report"])
    err = capsys.readouterr().err
    assert err.startswith("Error: L002") and "listening init" in err
