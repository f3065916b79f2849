"""Corrections on both backends: record, export/import all-or-nothing, CLI, inbox, review queue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from listening.cli import app
from listening.corrections import (
    INTENT_LABELS,
    SENTIMENT_LABELS,
    CorrectionIn,
    TaxonomyRef,
    export_jsonl,
    import_jsonl,
    parse_topic_changes,
    read_corrections_file,
    record_correction,
    review_queue,
    training_rows,
)
from listening.errors import CorrectionError
from listening.store import Analysis, Correction, Document, Store, Ticket
from listening.store.documents import DocumentIn, upsert_documents
from listening.store.sources import SourceSpec, add_source

TAX = TaxonomyRef(
    "journey",
    ("delivery", "stock", "customer_service", "price", "product", "returns", "payment", "website"),
)
runner = CliRunner()


def _docs(store: Store, texts: list[str]) -> list[int]:
    with store.session() as s:
        src, _ = add_source(
            s, SourceSpec(name="avis", kind="review_site", url="https://example.org/a")
        )
        res = upsert_documents(
            s, src.id, None, [DocumentIn(f"r{i}", t) for i, t in enumerate(texts)], "salt"
        )
    return list(res.document_ids)


def _analyse(
    store: Store,
    doc_id: int,
    topics: list[tuple[str, float]],
    sentiment: str = "negative",
    score: float = -0.8,
) -> None:
    with store.session() as s:
        s.add(
            Analysis(
                document_id=doc_id,
                model_version="m1",
                sentiment=sentiment,
                sentiment_score=score,
                topics=[
                    {"topic": t, "sentiment": "negative", "confidence": c, "evidence": []}
                    for t, c in topics
                ],
                intent="complaint",
                urgency=[],
                actionable=True,
            )
        )


def _count(store: Store) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count(Correction.id))) or 0)


def test_corrections_labels_match_the_pipeline() -> None:
    from nlp.pipeline import INTENTS, SENTIMENTS
    from nlp.taxonomy import JOURNEY_TOPICS

    assert list(SENTIMENT_LABELS) == SENTIMENTS and list(INTENT_LABELS) == INTENTS
    assert list(TAX.labels) == JOURNEY_TOPICS


def test_corrections_parse_topic_changes() -> None:
    assert parse_topic_changes("+delivery,-price") == (["delivery"], ["price"], None)
    assert parse_topic_changes("delivery, stock") == ([], [], ["delivery", "stock"])
    assert parse_topic_changes("none") == ([], [], [])
    with pytest.raises(CorrectionError, match="mixes"):
        parse_topic_changes("+delivery,price")


def test_corrections_record_resolves_topics_against_the_analysis(store: Store) -> None:
    (doc,) = _docs(store, ["Colis en retard et trop cher."])
    _analyse(store, doc, [("price", 0.9), ("product", 0.41)])
    with store.session() as s:
        row = record_correction(
            s,
            CorrectionIn(
                actor="alice",
                document_id=doc,
                topics_added=["delivery"],
                topics_removed=["product"],
                sentiment="negative",
            ),
            TAX,
        )
        assert row.topics == ["delivery", "price"]
        assert row.text == "Colis en retard et trop cher." and row.taxonomy == "journey"
        assert row.created_at.tzinfo is not None
    with store.session() as s:
        rows = training_rows(s)
    assert rows == [
        {
            "text": "Colis en retard et trop cher.",
            "topics": ["delivery", "price"],
            "sentiment": "negative",
            "taxonomy": "journey",
        }
    ]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            CorrectionIn(actor="a", document_id=1, topics_added=["delivry"]),
            "unknown topic 'delivry'",
        ),
        (CorrectionIn(actor="a", document_id=1, sentiment="angry"), "'angry' is not one of"),
        (CorrectionIn(actor="a", document_id=1, intent="rant"), "'rant' is not one of"),
        (CorrectionIn(actor="", document_id=1, sentiment="negative"), "actor is empty"),
        (CorrectionIn(actor="a", document_id=1), "nothing to correct"),
        (CorrectionIn(actor="a", document_id=999, sentiment="negative"), "no document #999"),
    ],
)
def test_corrections_record_rejects_bad_input(
    store: Store, item: CorrectionIn, message: str
) -> None:
    _docs(store, ["Bonjour"])
    with pytest.raises(CorrectionError, match=message), store.session() as s:
        record_correction(s, item, TAX)
    assert _count(store) == 0


def test_corrections_survive_the_document_and_round_trip_jsonl(
    store: Store, tmp_path: Path
) -> None:
    a, b = _docs(store, ["Livré en 2 jours, top.", "Remboursement jamais reçu"])
    with store.session() as s:
        record_correction(
            s,
            CorrectionIn(actor="alice", document_id=a, topics=["delivery"], sentiment="positive"),
            TAX,
        )
        record_correction(s, CorrectionIn(actor="bob", document_id=b, actionable=False), TAX)
        record_correction(
            s,
            CorrectionIn(
                actor="bob", document_id=b, intent="complaint", topics=["returns", "payment"]
            ),
            TAX,
        )
    with store.session() as s:
        s.execute(delete(Document).where(Document.id == a))
    with store.session() as s:
        kept = s.scalars(select(Correction).order_by(Correction.id)).all()
        assert kept[0].document_id is None and kept[0].text == "Livré en 2 jours, top."
        rows = training_rows(s)
        path = tmp_path / "c.jsonl"
        assert export_jsonl(s, path) == 3
    by_text = {r["text"]: r for r in rows}
    assert by_text["Remboursement jamais reçu"] == {
        "text": "Remboursement jamais reçu",
        "actionable": False,
        "intent": "complaint",
        "topics": ["payment", "returns"],
        "taxonomy": "journey",
    }
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["actor"] for line in lines] == ["alice", "bob", "bob"]
    # importing into the same store adds nothing (idempotent); into a fresh table, everything
    with store.session() as s:
        assert import_jsonl(s, path, TAX) == {"imported": 0, "already_present": 3}
        s.execute(delete(Correction))
    with store.session() as s:
        assert import_jsonl(s, path, TAX) == {"imported": 3, "already_present": 0}
    assert _count(store) == 3
    assert read_corrections_file(path, TAX) == rows


def test_corrections_import_bad_lines_name_line_and_field_and_write_nothing(
    store: Store, tmp_path: Path
) -> None:
    (doc,) = _docs(store, ["Site en panne"])
    good = {"document_id": doc, "actor": "alice", "topics": ["website"]}
    lines = [
        json.dumps(good),
        json.dumps({**good, "topics": ["site"]}),
        "{broken",
        json.dumps({**good, "document_id": 4242}),
        json.dumps({**good, "sentiment": "bof"}),
        json.dumps({**good, "colour": "red"}),
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CorrectionError) as info, store.session() as s:
        import_jsonl(s, path, TAX)
    msg = str(info.value)
    assert "line 2: topics unknown topic 'site'" in msg
    assert "line 3: not JSON" in msg
    assert "line 4: document_id 4242 does not exist" in msg
    assert "line 5: sentiment 'bof'" in msg
    assert "line 6: colour is not a correction field" in msg
    assert "nothing was imported" in msg and msg.startswith("L005")
    assert _count(store) == 0


def test_corrections_inbox_ignore_records_not_actionable(store: Store) -> None:
    from listening.routing import inbox

    (doc,) = _docs(store, ["Merci pour tout, bonne journée"])
    with store.session() as s:
        ticket = Ticket(document_id=doc, team="support", priority="P3")
        s.add(ticket)
        s.flush()
        tid = ticket.id
    with store.session() as s:
        inbox.ignore(s, tid, "carol", note="just thanks")
    with store.session() as s:
        (row,) = s.scalars(select(Correction)).all()
    assert (row.document_id, row.actor, row.actionable, row.origin) == (
        doc,
        "carol",
        False,
        "inbox",
    )


def test_corrections_review_queue_puts_uncertain_first_and_skips_corrected(store: Store) -> None:
    sure, unsure, polar, done = _docs(
        store, ["a sure one", "an unsure one", "polar coin toss", "done"]
    )
    _analyse(store, sure, [("delivery", 0.95)], score=-0.9)
    _analyse(store, unsure, [("delivery", 0.95), ("price", 0.42)], score=-0.9)
    _analyse(store, polar, [("delivery", 0.9)], sentiment="positive", score=0.1)
    _analyse(store, done, [("stock", 0.31)], score=-0.9)
    with store.session() as s:
        record_correction(s, CorrectionIn(actor="a", document_id=done, topics=["stock"]), TAX)
    with store.session() as s:
        queue = review_queue(s, limit=10)
    assert [r["document_id"] for r in queue] == [polar, unsure, sure]
    assert queue[0]["priority"] == pytest.approx(0.9)


def test_cli_label_records_exports_and_imports(sqlite_store: Store, tmp_path: Path) -> None:
    (doc,) = _docs(sqlite_store, ["Où est ma commande ???"])
    _analyse(sqlite_store, doc, [("price", 0.5)])
    res = runner.invoke(
        app,
        [
            "label",
            str(doc),
            "--topics",
            "+delivery,-price",
            "--intent",
            "question",
            "--sentiment",
            "neutral",
            "--by",
            "dana",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    row = json.loads(res.output.strip().splitlines()[-1])
    assert (row["topics"], row["intent"], row["actor"]) == (["delivery"], "question", "dana")
    res = runner.invoke(app, ["label", str(doc), "--not-actionable", "--by", "dana"])
    assert res.exit_code == 0 and "actionable=False" in res.output
    out = tmp_path / "out.jsonl"
    res = runner.invoke(app, ["label", "export", str(out)])
    assert res.exit_code == 0 and "Exported 2" in res.output
    res = runner.invoke(app, ["label", "import", str(out)])
    assert res.exit_code == 0 and "Imported 0 correction(s), 2 already present" in res.output
    res = runner.invoke(app, ["label", str(doc), "--topics", "+shipping", "--by", "dana"])
    assert res.exit_code != 0 and "unknown topic 'shipping'" in str(res.exception)
    res = runner.invoke(app, ["label", "export"])
    assert res.exit_code != 0 and "needs a FILE" in str(res.exception)
    assert _count(sqlite_store) == 2
