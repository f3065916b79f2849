"""Survey verbatims from CSV, XLSX or JSON files, with a column mapping.

- CSV: the encoding is detected (UTF-8 with or without BOM, cp1252, latin-1...) with
  charset-normalizer and the delimiter sniffed (``,`` ``;`` tab ``|``). Rows with the
  wrong number of fields are rejected with their line number.
- XLSX (first sheet, or ``sheet``) through pandas/openpyxl; JSON as a list of objects,
  an object holding such a list, or JSON Lines.
- Mapping: one or several text columns (one verbatim per non-empty answer), an NPS
  (0-10) or CSAT (1-5) score normalised to 0-1, a date, respondent id, order id,
  channel, brand. Each verbatim's external id is the respondent id (or, without one, a
  hash of the row) plus the column, so re-importing the same file adds nothing.
- A report lists rejected rows with the reason (no text, unreadable score...).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes

from listening.collection.ingest import ingest
from listening.collection.normalize import parse_date
from listening.errors import CollectionError
from listening.settings import Settings
from listening.store import Source, Store
from listening.store.documents import DocumentIn
from listening.store.sources import SourceSpec, add_source

SUPPORTED = ".csv, .tsv, .txt, .xlsx, .json, .jsonl"
SCORE_SCALES = ("auto", "nps", "csat")


@dataclass
class SurveyMapping:
    text_columns: list[str]
    score_column: str | None = None
    date_column: str | None = None
    respondent_column: str | None = None
    order_column: str | None = None
    channel_column: str | None = None
    brand_column: str | None = None
    score_scale: str = "auto"  # auto | nps (0-10) | csat (1-5)

    @classmethod
    def from_source_settings(cls, settings: dict[str, Any]) -> SurveyMapping:
        texts = settings.get("text_columns") or settings.get("text_column") or []
        if isinstance(texts, str):
            texts = [texts]
        if not texts:
            raise CollectionError(
                "the survey source has no text_columns setting",
                "add settings: {text_columns: [COLUMN]} to the source",
            )
        return cls(
            text_columns=[str(t) for t in texts],
            score_column=settings.get("score_column"),
            date_column=settings.get("date_column"),
            respondent_column=settings.get("respondent_column"),
            order_column=settings.get("order_column"),
            channel_column=settings.get("channel_column"),
            brand_column=settings.get("brand_column"),
            score_scale=str(settings.get("score_scale", "auto")),
        )

    def columns(self) -> list[str]:
        optional = [
            self.score_column,
            self.date_column,
            self.respondent_column,
            self.order_column,
            self.channel_column,
            self.brand_column,
        ]
        return [*self.text_columns, *(c for c in optional if c)]


@dataclass
class SurveyTable:
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (line or row number, values)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None


# ---------------------------------------------------------------- reading


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Text and encoding name of ``data`` (a UTF-8 BOM is dropped)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(
        data, cp_isolation=["cp1252", "latin_1", "utf_16", "iso8859_15", "mac_roman"]
    ).best()
    encoding = best.encoding if best is not None else "cp1252"
    return data.decode(encoding, errors="replace"), encoding


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: sample.splitlines()[0].count(d) if sample else 0 for d in ",;\t|"}
        return max(counts, key=lambda d: counts[d])


def _clean_header(names: list[str]) -> list[str]:
    return [str(n).strip().lstrip("\ufeff") for n in names]


def read_csv_bytes(data: bytes) -> SurveyTable:
    text, encoding = decode_bytes(data)
    delimiter = _sniff_delimiter(text[:20_000])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = _clean_header(next(reader))
    except StopIteration:
        raise CollectionError("the file is empty", "give a CSV file with a header row") from None
    table = SurveyTable(columns=header, rows=[], encoding=encoding, delimiter=delimiter)
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            table.rejected.append(
                {"row": line, "reason": f"expected {len(header)} fields, got {len(values)}"}
            )
            continue
        table.rows.append((line, dict(zip(header, values, strict=True))))
    return table


def read_json_bytes(data: bytes) -> SurveyTable:
    text, encoding = decode_bytes(data)
    try:
        loaded: Any = json.loads(text)
    except json.JSONDecodeError:
        try:
            loaded = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise CollectionError(
                f"not valid JSON or JSON Lines: {exc}", "give a list of objects, one per respondent"
            ) from None
    if isinstance(loaded, dict):
        lists = [v for v in loaded.values() if isinstance(v, list)]
        loaded = lists[0] if len(lists) == 1 else [loaded]
    if not isinstance(loaded, list):
        raise CollectionError("the JSON holds no list of answers", "give a list of objects")
    columns: dict[str, None] = {}
    table = SurveyTable(columns=[], rows=[], encoding=encoding)
    for number, obj in enumerate(loaded, start=1):
        if not isinstance(obj, dict):
            table.rejected.append({"row": number, "reason": "not an object"})
            continue
        values = {str(k): "" if v is None else str(v) for k, v in obj.items()}
        columns.update(dict.fromkeys(values))
        table.rows.append((number, values))
    table.columns = list(columns)
    return table


def read_xlsx(path: Path, sheet: str | int = 0) -> SurveyTable:
    import pandas as pd

    try:
        frame = pd.read_excel(path, sheet_name=sheet, dtype=str, keep_default_na=False)
    except ValueError as exc:
        raise CollectionError(f"{path}: {exc}", "check the sheet name") from None
    header = _clean_header([str(c) for c in frame.columns])
    frame.columns = header
    table = SurveyTable(columns=header, rows=[])
    for number, record in enumerate(frame.to_dict(orient="records"), start=2):
        values = {str(k): "" if v is None else str(v) for k, v in record.items()}
        if any(v.strip() for v in values.values()):
            table.rows.append((number, values))
    return table


def read_survey_file(path: Path) -> SurveyTable:
    if not path.is_file():
        raise CollectionError(f"no such file: {path}", f"give a survey file ({SUPPORTED})")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path)
    data = path.read_bytes()
    if suffix in (".json", ".jsonl", ".ndjson"):
        return read_json_bytes(data)
    if suffix in (".csv", ".tsv", ".txt", ""):
        return read_csv_bytes(data)
    raise CollectionError(f"unsupported survey file type {suffix!r}", f"supported: {SUPPORTED}")


# ---------------------------------------------------------------- mapping


def normalise_score(raw: str, scale: str) -> float | None:
    """0-1 score from an NPS (0-10) or CSAT (1-5) answer; ValueError when unreadable."""
    value = float(raw.replace(",", ".").strip())
    if scale == "auto":  # without the other answers to compare, read it as NPS
        scale = "nps"
    if scale == "csat":
        if not 1 <= value <= 5:
            raise ValueError(f"CSAT score {raw!r} is outside 1-5")
        return (value - 1) / 4
    if not 0 <= value <= 10:
        raise ValueError(f"NPS score {raw!r} is outside 0-10")
    return value / 10


def _detect_scale(table: SurveyTable, column: str) -> str:
    values = []
    for _n, row in table.rows:
        try:
            values.append(float(row.get(column, "").replace(",", ".")))
        except ValueError:
            continue
    if values and min(values) >= 1 and max(values) <= 5:
        return "csat"
    return "nps"


def survey_items(
    table: SurveyTable, mapping: SurveyMapping, settings: Settings
) -> tuple[list[DocumentIn], list[dict[str, Any]], list[dict[str, Any]]]:
    """(items, rejected rows, warnings) for the mapped table."""
    missing = [c for c in mapping.columns() if c not in table.columns]
    if missing:
        raise CollectionError(
            f"column(s) not in the file: {', '.join(missing)}",
            f"columns found: {', '.join(table.columns) or 'none'}",
        )
    if mapping.score_scale not in SCORE_SCALES:
        raise CollectionError(
            f"unknown score scale {mapping.score_scale!r}", f"use one of {', '.join(SCORE_SCALES)}"
        )
    scale = mapping.score_scale
    if scale == "auto" and mapping.score_column:
        scale = _detect_scale(table, mapping.score_column)
    items: list[DocumentIn] = []
    rejected = list(table.rejected)
    warnings: list[dict[str, Any]] = []
    for number, row in table.rows:
        texts = {c: row.get(c, "").strip() for c in mapping.text_columns}
        if not any(texts.values()):
            rejected.append(
                {"row": number, "reason": f"no text in {', '.join(mapping.text_columns)}"}
            )
            continue
        rating = None
        raw: dict[str, Any] = {"kind": "survey_answer", "row": number}
        if mapping.score_column and row.get(mapping.score_column, "").strip():
            score_raw = row[mapping.score_column].strip()
            try:
                rating = normalise_score(score_raw, scale)
            except ValueError as exc:
                reason = (
                    str(exc) if "outside" in str(exc) else f"score {score_raw!r} is not a number"
                )
                rejected.append({"row": number, "reason": reason})
                continue
            raw["score"] = score_raw
            raw["score_scale"] = scale
        published = None
        if mapping.date_column and row.get(mapping.date_column, "").strip():
            raw["date_raw"] = row[mapping.date_column].strip()
            published = parse_date(raw["date_raw"], None, settings.collection.naive_timezone)
            if published is None:
                warnings.append({"row": number, "warning": f"unreadable date {raw['date_raw']!r}"})
        for key, column in (
            ("order_id", mapping.order_column),
            ("channel", mapping.channel_column),
            ("brand", mapping.brand_column),
        ):
            if column and row.get(column, "").strip():
                raw[key] = row[column].strip()
        respondent = row.get(mapping.respondent_column or "", "").strip()
        if respondent:
            raw["respondent_id"] = respondent
            base = f"resp:{respondent}"
        else:
            payload = "\x1f".join(f"{k}={row.get(k, '')}" for k in sorted(mapping.columns()))
            base = "row:" + hashlib.sha256(payload.encode()).hexdigest()[:24]
        for column, text in texts.items():
            if not text:
                continue
            items.append(
                DocumentIn(
                    external_id=f"{base}:{column}",
                    text=text,
                    thread_id=base,
                    author=f"respondent {respondent}" if respondent else None,
                    rating=rating,
                    published_at=published,
                    raw={**raw, "column": column},
                )
            )
    return items, rejected, warnings


# ---------------------------------------------------------------- import


def ensure_file_source(
    store: Store, name: str, kind: str, path: Path, brand: str | None, settings: dict[str, Any]
) -> int:
    """The id of the file source ``name`` (created, or updated with the given mapping)."""
    spec = SourceSpec(name=name, kind=kind, url=str(path.resolve()), brand=brand, settings=settings)
    with store.session() as session:
        source, _created = add_source(session, spec, replace=True)
        return source.id


def import_survey_into(
    store: Store, source_id: int, path: Path, mapping: SurveyMapping, settings: Settings
) -> dict[str, Any]:
    table = read_survey_file(path)
    items, rejected, warnings = survey_items(table, mapping, settings)
    result = ingest(store, source_id, items, settings)
    report = result.as_dict()
    report.update(
        {
            "file": str(path),
            "rows": len(table.rows) + len(table.rejected),
            "verbatims": len(items),
            "rejected_rows": rejected,
            "warnings": warnings,
            "encoding": table.encoding,
            "delimiter": table.delimiter,
        }
    )
    report["errors"] = [f"row {r['row']}: {r['reason']}" for r in rejected] + list(result.errors)
    return report


def import_survey(
    store: Store,
    settings: Settings,
    path: Path,
    mapping: SurveyMapping,
    brand: str | None,
    source_name: str | None = None,
) -> dict[str, Any]:
    """Import a survey file as (or into) a survey source; returns the report."""
    read_survey_file(path)  # fail before creating a source for a file that cannot be read
    name = source_name or f"survey:{path.name}"
    source_settings = {
        "text_columns": mapping.text_columns,
        **{
            key: value
            for key, value in (
                ("score_column", mapping.score_column),
                ("date_column", mapping.date_column),
                ("respondent_column", mapping.respondent_column),
                ("order_column", mapping.order_column),
                ("channel_column", mapping.channel_column),
                ("brand_column", mapping.brand_column),
            )
            if value
        },
        "score_scale": mapping.score_scale,
    }
    source_id = ensure_file_source(store, name, "survey", path, brand, source_settings)
    report = import_survey_into(store, source_id, path, mapping, settings)
    report["source"] = name
    return report


def collect_survey_source(store: Store, source: Source, settings: Settings) -> dict[str, Any]:
    """Runner entry point: (re-)import the survey file a survey source points at."""
    mapping = SurveyMapping.from_source_settings(source.settings or {})
    return import_survey_into(store, source.id, Path(source.url), mapping, settings)
