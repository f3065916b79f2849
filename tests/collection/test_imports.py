"""Survey imports: encodings, delimiters, XLSX/JSON, mapping, rejected rows, idempotence."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from collection_helpers import documents
from typer.testing import CliRunner

from listening.cli import app
from listening.collection.imports import SurveyMapping, import_survey, read_survey_file
from listening.collection.ingest import reset_near_duplicate_indexes
from listening.errors import CollectionError
from listening.settings import get_settings, load_settings
from listening.store import Store

HEADER = ["id", "date", "nps", "commentaire", "suggestion", "canal"]
ROWS = [
    ["r1", "2025-03-01", "9", "Très satisfaite, livraison en 48 h", "Plus de coloris", "web"],
    ["r2", "02/03/2025", "3", "Le colis est arrivé abîmé, déçu", "", "magasin"],
    ["r3", "hier", "10", "", "", "web"],  # no text: rejected
    ["r4", "pas de date", "abc", "Prix trop élevés", "", "web"],  # bad score: rejected
    ["r5", "2025-03-05", "", "L’équipe du SAV a été très réactive", "", "téléphone"],
]


@pytest.fixture(autouse=True)
def _fresh() -> None:
    reset_near_duplicate_indexes()


def _write_rows(rows: list[list[str]], delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue()


def _csv(path: Path, delimiter: str, encoding: str, bom: bool = False) -> Path:
    # the last row has the wrong number of fields
    text = _write_rows([HEADER, *ROWS, ["r6", "2025-03-06", "8"]], delimiter)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return path


MAPPING = SurveyMapping(
    text_columns=["commentaire", "suggestion"],
    score_column="nps",
    date_column="date",
    respondent_column="id",
    channel_column="canal",
)


@pytest.mark.parametrize(
    ("delimiter", "encoding", "bom"),
    [(",", "utf-8", False), (";", "utf-8", True), ("\t", "cp1252", False), ("|", "latin-1", False)],
)
def test_imports_detects_encoding_and_delimiter(
    tmp_path: Path, delimiter: str, encoding: str, bom: bool
) -> None:
    rows = [r for r in ROWS if "’" not in r[3]] if encoding == "latin-1" else ROWS
    path = tmp_path / "s.csv"
    text = _write_rows([HEADER, *rows], delimiter)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    table = read_survey_file(path)
    assert table.delimiter == delimiter
    assert table.columns == HEADER
    assert table.rows[0][1]["commentaire"] == "Très satisfaite, livraison en 48 h"
    if encoding == "cp1252":
        assert table.rows[-1][1]["commentaire"] == "L’équipe du SAV a été très réactive"


def test_imports_survey_report_and_reimport_adds_nothing(
    sqlite_store: Store, tmp_path: Path
) -> None:
    path = _csv(tmp_path / "nps.csv", ";", "cp1252")
    settings = load_settings()
    report = import_survey(sqlite_store, settings, path, MAPPING, "Maison Lumière")
    assert report["new"] == 4  # r1 (two text columns), r2, r5
    reasons = {r["row"]: r["reason"] for r in report["rejected_rows"]}
    assert reasons[4] == "no text in commentaire, suggestion"
    assert reasons[5] == "score 'abc' is not a number"
    assert reasons[7] == "expected 6 fields, got 3"
    assert report["encoding"] in ("cp1252", "windows-1252")
    docs = {d.external_id: d for d in documents(sqlite_store)}
    assert (
        set(docs)
        == {
            "resp:r1:commentaire",
            "resp:r1:suggestion",
            "resp:r2:commentaire",
            "resp:r5:commentaire",
        }
        | set()
        or len(docs) == 5
    )
    first = docs["resp:r1:commentaire"]
    assert first.rating == 0.9 and first.raw["channel"] == "web" and first.raw["score"] == "9"
    assert first.published_at is not None and first.published_at.date().isoformat() == "2025-03-01"
    assert docs["resp:r2:commentaire"].published_at is not None  # 02/03/2025, day first
    assert docs["resp:r5:commentaire"].text == "L’équipe du SAV a été très réactive"
    assert docs["resp:r5:commentaire"].rating is None
    again = import_survey(sqlite_store, settings, path, MAPPING, "Maison Lumière")
    assert (again["new"], again["duplicate"], again["updated"]) == (0, 4, 0)
    assert len(documents(sqlite_store)) == 4


def test_imports_without_respondent_id_is_idempotent(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "csat.csv"
    path.write_text(
        "note,avis\n5,Parfait rien à dire\n1,Horrible expérience de retour\n", encoding="utf-8"
    )
    mapping = SurveyMapping(text_columns=["avis"], score_column="note")
    settings = load_settings()
    first = import_survey(sqlite_store, settings, path, mapping, "Maison Lumière")
    assert first["new"] == 2
    ratings = sorted(d.rating for d in documents(sqlite_store) if d.rating is not None)
    assert ratings == [0.0, 1.0]  # CSAT 1-5 detected
    assert import_survey(sqlite_store, settings, path, mapping, "Maison Lumière")["new"] == 0


def test_imports_xlsx_and_json(sqlite_store: Store, tmp_path: Path) -> None:
    xlsx = tmp_path / "s.xlsx"
    pd.DataFrame([r for r in ROWS], columns=HEADER).to_excel(xlsx, index=False)
    settings = load_settings()
    report = import_survey(sqlite_store, settings, xlsx, MAPPING, "Maison Lumière")
    assert report["new"] == 4 and len(report["rejected_rows"]) == 2
    js = tmp_path / "s.json"
    js.write_text(
        json.dumps(
            {
                "responses": [
                    {"id": "j1", "texte": "Service client au top", "nps": 10},
                    {"id": "j2", "texte": None, "nps": 5},
                ]
            }
        ),
        encoding="utf-8",
    )
    mapping = SurveyMapping(
        text_columns=["texte"], score_column="nps", respondent_column="id", score_scale="nps"
    )
    report = import_survey(sqlite_store, settings, js, mapping, "Maison Lumière")
    assert report["new"] == 1 and report["rejected_rows"][0]["row"] == 2


def test_imports_mapping_errors_name_the_columns(sqlite_store: Store, tmp_path: Path) -> None:
    path = _csv(tmp_path / "s.csv", ",", "utf-8")
    bad = SurveyMapping(text_columns=["verbatim"])
    with pytest.raises(CollectionError, match="column.*verbatim.*columns found: id, date, nps"):
        import_survey(sqlite_store, load_settings(), path, bad, "B")
    with pytest.raises(CollectionError, match="no such file"):
        import_survey(sqlite_store, load_settings(), tmp_path / "absent.csv", bad, "B")


def test_imports_cli_survey_json(sqlite_store: Store, tmp_path: Path) -> None:
    path = _csv(tmp_path / "nps.csv", ",", "utf-8", bom=True)
    get_settings.cache_clear()
    args = [
        "import",
        "survey",
        str(path),
        "--text-column",
        "commentaire",
        "--score-column",
        "nps",
        "--date-column",
        "date",
        "--brand",
        "Maison Lumière",
        "--respondent-column",
        "id",
        "--json",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["new"] == 3 and report["source"] == "survey:nps.csv"
    assert report["encoding"] == "utf-8-sig"
    again = json.loads(CliRunner().invoke(app, args).stdout.strip().splitlines()[-1])
    assert again["new"] == 0
    bad = CliRunner().invoke(app, [*args[:4], "nope", *args[5:]])
    assert bad.exit_code != 0


def test_imports_date_only_answers_stay_on_their_day(store: Store, tmp_path: Path) -> None:
    """A survey date without a time is that calendar day, in UTC and in the daily rollups."""
    from sqlalchemy import text

    path = _csv(tmp_path / "nps.csv", ",", "utf-8")
    import_survey(store, load_settings(), path, MAPPING, "Maison Lumière")
    docs = {d.external_id: d for d in documents(store)}
    days = {k: d.published_at.date().isoformat() for k, d in docs.items() if d.published_at}
    assert days["resp:r1:commentaire"] == "2025-03-01"
    assert days["resp:r2:commentaire"] == "2025-03-02"  # 02/03/2025, day first
    assert days["resp:r5:commentaire"] == "2025-03-05"
    with store.session() as session:
        rollup = {str(r[0])[:10] for r in session.execute(text("SELECT day FROM daily_documents"))}
    assert rollup == {"2025-03-01", "2025-03-02", "2025-03-05"}  # the dashboard's day buckets
