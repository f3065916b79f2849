from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from listening.cli import app
from listening.store import Store

MakeDoc = Callable[..., int]
runner = CliRunner()


def _json(args: list[str]) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.output.strip().splitlines()[-1])


def test_cli_route_and_inbox_workflow(store: Store, make_doc: MakeDoc) -> None:
    make_doc(store, "Colis jamais livré", topics={"delivery": "negative"})
    make_doc(store, "Avez-vous cette lampe en bleu ?", author="a_q", intent="question",
             sentiment="neutral", topics={"stock": "neutral"}, actionable=False)
    first = _json(["route"])
    assert first["routing"]["ticketed"] == 2 and first["notifications"]["sent"] == 0
    assert _json(["route"])["routing"]["routed"] == 0  # idempotent
    logistics = _json(["inbox", "list", "--team", "logistics"])
    assert [t["priority"] for t in logistics] == ["P2"]
    tid = logistics[0]["id"]
    assert _json(["inbox", "assign", str(tid), "alice", "--actor", "bob"])["status"] == "assigned"
    assert _json(["inbox", "note", str(tid), "carrier called", "--actor", "alice"])["status"] == "assigned"
    assert _json(["inbox", "answer", str(tid), "--note", "refunded", "--actor", "alice"])["status"] == "answered"
    assert _json(["inbox", "close", str(tid), "--actor", "alice"])["status"] == "closed"
    assert _json(["inbox", "reopen", str(tid), "--actor", "carol"])["status"] == "assigned"
    assert _json(["inbox", "ignore", str(tid), "--actor", "carol", "--note", "dup"])["status"] == "ignored"
    detail = _json(["inbox", "show", str(tid)])
    assert [e["action"] for e in detail["events"]] == [
        "created", "assigned", "note", "answered", "closed", "reopened", "ignored",
    ]
    assert detail["events"][1]["actor"] == "bob"
    assert _json(["inbox", "list", "--status", "ignored"])[0]["id"] == tid
    bad = runner.invoke(app, ["inbox", "answer", str(tid), "--note", "x", "--actor", "a"])
    assert bad.exit_code != 0 and "it is ignored" in str(bad.exception)
    alerts = _json(["alerts", "check"])
    assert alerts["opened"] == [] and alerts["notifications"]["sent"] == 0
    assert _json(["notifications", "list"]) == []


def test_cli_rules_test_explains_the_match(sqlite_store: Store) -> None:
    analysis = {"sentiment": "negative", "intent": "complaint", "actionable": True,
                "topics": [{"topic": "delivery", "sentiment": "negative"}], "urgency": []}
    out = _json(["rules", "test", "default", "Colis en retard", "--analysis", json.dumps(analysis)])
    assert out["matched_rule"] == "delivery-complaint" and out["action"]["team"] == "logistics"
    assert [t["rule"] for t in out["trace"]][:2] == ["competitors-never-ticketed", "legal-threat"]
    checks = {c["condition"]: c for c in out["trace"][-1]["checks"]}
    assert checks["topic_sentiment.delivery"]["passed"] and checks["brand"]["detail"] == "wanted own, got own"
    competitor = _json(["rules", "test", "default", "Colis en retard", "--brand", "competitor",
                        "--analysis", json.dumps(analysis)])
    assert competitor["matched_rule"] == "competitors-never-ticketed" and competitor["skip"] is True
    text = runner.invoke(app, ["rules", "test", "default", "x", "--analysis", "{}"])
    assert "No rule matches: no ticket." in text.output


def test_cli_rules_test_shows_the_relevance_gate_that_stops_a_ticket(sqlite_store: Store) -> None:
    analysis = {"sentiment": "negative", "intent": "complaint", "actionable": True, "language": "fr",
                "topics": [{"topic": "delivery", "sentiment": "negative"}], "urgency": []}
    args = ["rules", "test", "default", "--analysis", json.dumps(analysis)]
    off = _json([*args[:3], "Le gouvernement nous ment, tout augmente, la poste est en grève.",
                 *args[3:], "--brand-name", "Maison Lumière,ML"])
    assert off["matched_rule"] == "delivery-complaint" and off["outcome"] == "off_topic"
    assert off["relevance"][0]["gate"] == "off_topic" and "Maison Lumière" in off["relevance"][0]["reason"]
    named = _json([*args[:3], "Colis Maison Lumière en retard, toujours rien reçu.", *args[3:],
                   "--brand-name", "Maison Lumière"])
    assert named["outcome"] == "ticketed" and named["relevance"] == []
    old = _json([*args[:3], "Colis Maison Lumière en retard, toujours rien reçu.", *args[3:],
                 "--brand-name", "Maison Lumière", "--published", "2019-05-02"])
    assert old["outcome"] == "too_old" and "limit" in old["relevance"][0]["reason"]
    german = _json([*args[:3], "Das Paket von Maison Lumière ist nach drei Wochen immer noch nicht "
                    "angekommen und niemand antwortet.", *args[3:], "--brand-name", "Maison Lumière"])
    assert german["outcome"] == "other_language"
    shown = runner.invoke(app, [*args[:3], "Le gouvernement nous ment.", *args[3:],
                                "--brand-name", "Maison Lumière"])
    assert "Relevance gate off_topic" in shown.output and "but no ticket: off_topic" in shown.output
    unchecked = runner.invoke(app, [*args[:3], "Colis en retard", *args[3:]])
    assert "Off-topic gate not checked" in unchecked.output
    bad = runner.invoke(app, [*args[:3], "x", *args[3:], "--published", "hier"])
    assert bad.exit_code != 0 and "ISO 8601" in str(bad.exception)


def test_cli_rules_check_reports_line_and_exit_code(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: r\n    when:\n      topics: [delivry]\n    then: {team: support}\n")
    proc = subprocess.run(
        [sys.executable, "-c", "from listening.cli import main; main()", "rules", "check", str(rules)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1
    assert "line 4" in proc.stderr and "L006" in proc.stderr and "delivery, stock" in proc.stderr
    rules.write_text("rules:\n  - name: r\n    then: {team: support, notify: [pager]}\n")
    result = runner.invoke(app, ["rules", "check", str(rules)])
    assert result.exit_code != 0 and "unknown target 'pager'" in str(result.exception)
    good = tmp_path / "good.yaml"
    good.write_text("rules:\n  - name: all-questions\n    when: {intent: question}\n    then: {team: support}\n")
    assert _json(["rules", "check", str(good)])["rules"] == 1


@pytest.mark.slow
def test_cli_rules_test_with_real_analyzer(sqlite_store: Store) -> None:
    pytest.importorskip("nlp.service")
    models = Path(__file__).resolve().parents[2] / "nlp" / "models" / "topics.json"
    if not models.exists():
        pytest.skip("the NLP models are not built")
    out = _json(["rules", "test", "default",
                 "Ma commande n'est toujours pas livrée après trois semaines, je vais saisir mon avocat."])
    assert "legal_threat" in out["analysis"]["urgency"]
    assert out["matched_rule"] == "legal-threat" and out["action"]["priority"] == "P1"


def test_cli_notifications_list_and_retry(sqlite_store: Store, make_doc: MakeDoc, monkeypatch: pytest.MonkeyPatch,
                                          receiver: Any) -> None:
    from listening.settings import get_settings

    receiver.plan["/x"] = [410]
    monkeypatch.setenv("LISTENING_ROUTING__TARGETS", json.dumps({"ops": {"kind": "webhook", "url": receiver.url + "/x"}}))
    monkeypatch.setenv("LISTENING_ROUTING__TEAM_TARGETS", json.dumps({"support": ["ops"]}))
    get_settings.cache_clear()
    make_doc(sqlite_store, "Je saisis mon avocat", urgency=["legal_threat"])
    out = _json(["route"])
    assert out["notifications"]["dead"] == 1 and "HTTP 410" in out["notifications"]["errors"][0]
    [row] = _json(["notifications", "list", "--status", "dead"])
    assert row["event"] == "ticket.created" and row["attempts"] == 1
    receiver.plan["/x"] = [200]
    assert _json(["notifications", "retry"])["requeued"] == 1
    assert _json(["notifications", "deliver"])["sent"] == 1
    assert _json(["notifications", "list", "--status", "sent"])[0]["id"] == row["id"]
    assert _json(["alerts", "list", "--status", "all"]) == []
