"""AppTest of every page, on a seeded and on an empty store, plus language and filters
(sign-in: test_dashboard_auth.py)."""

from __future__ import annotations

from typing import Any

import pytest
from dashboard_helpers import make_app, no_exception
from streamlit.testing.v1 import AppTest

from listening.settings import get_settings
from listening.store import Store

PAGES = ("overview", "inbox", "competitors", "explorer", "review", "sources", "themes")


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [i.value for i in at.info] + [e.value for e in at.error] + [s.value for s in at.success]
    parts += [t.value for t in at.title] + [h.value for h in at.subheader] + [x.value for x in at.text]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("page", PAGES)
def test_dashboard_page_empty_store_shows_help(sqlite_store: Store, page: str) -> None:
    at = make_app(page)
    no_exception(at)
    assert at.info or at.success, f"{page}: no empty-state message"


@pytest.mark.parametrize("page", PAGES)
def test_dashboard_page_seeded_renders(seeded: dict[str, Any], page: str) -> None:
    at = make_app(page)
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert all(not m.proto.allow_html for m in at.markdown), "markdown with HTML allowed"


def test_dashboard_uninitialised_store_explains(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("LISTENING_DATABASE_URL", f"sqlite:///{tmp_path / 'absent.db'}")
    get_settings.cache_clear()
    at = make_app()
    no_exception(at)
    assert at.error and "listening init" in texts(at)


def test_dashboard_overview_figures_and_escaped_verbatims(seeded: dict[str, Any]) -> None:
    at = make_app()
    no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Verbatims"] == "80"
    assert metrics["Analysés"] == "80"
    body = texts(at)
    assert "<script>" not in body  # never rendered as markup
    latest = at.dataframe[-1].value  # the latest verbatims: a dense table of plain text cells
    shown = [v.replace("⟦", "").replace("⟧", "") for v in latest["text"]]
    assert any(v.startswith("<script>window.__xss = 1</script><img") for v in shown)  # as typed
    assert any("⟦Livraison⟧" in v for v in latest["text"])  # evidence marked
    assert "Thèmes × sentiment — Maison Lumière" in body


def test_dashboard_overview_filters_from_query_params(seeded: dict[str, Any]) -> None:
    at = make_app(brand=str(seeded["rival_brand"]), topic="delivery")
    no_exception(at)
    assert {m.label: m.value for m in at.metric}["Verbatims"] == "10"
    assert at.query_params["brand"] == str(seeded["rival_brand"])
    # changing a filter writes it back to the URL
    at.multiselect(key="f_sent").set_value(["negative"]).run()
    assert at.query_params["sent"] == "negative"
    assert "Aucune donnée pour ces filtres." in texts(at)  # the rival's deliveries are all praised


def test_dashboard_switches_to_english(seeded: dict[str, Any]) -> None:
    at = make_app()
    at.sidebar.selectbox(key="ui_lang").set_value("en").run()
    no_exception(at)
    assert at.title[0].value == "Overview"
    assert "Net sentiment" in {m.label for m in at.metric}


def test_dashboard_competitors_flags_significant_difference(seeded: dict[str, Any]) -> None:
    at = make_app("competitors")
    no_exception(at)
    table = at.dataframe[0].value
    assert "▲" in str(table.loc["Luminéo", "Livraison"])  # rival all positive vs own all negative
    assert "▲" not in str(table.loc["Luminéo", "Prix"]) and "▼" not in str(table.loc["Luminéo", "Prix"])
    assert "Maison Lumière" in texts(at)


def test_dashboard_explorer_full_text_search(seeded: dict[str, Any]) -> None:
    at = make_app("explorer")
    at.text_input(key="ex_q").set_value("colis").run()
    no_exception(at)
    assert "20 résultat(s) affiché(s)" in texts(at)
    assert at.query_params["q"] == "colis"
    at.text_input(key="ex_q").set_value("introuvablemot").run()
    assert at.info


def test_dashboard_explorer_says_why_a_verbatim_opened_no_ticket(
    seeded: dict[str, Any], sqlite_store: Store
) -> None:
    """Routing's relevance verdict is visible where the verbatim is read (issue: trust)."""
    from listening.routing.models import RoutingDecision

    off, ticketed = seeded["documents"][1], seeded["documents"][3]
    with sqlite_store.session() as s:
        s.add(RoutingDecision(document_id=off, outcome="off_topic", rule="complaint-support",
                              reason="a review_site verbatim that names neither the brand nor a keyword"))
        s.add(RoutingDecision(document_id=ticketed, outcome="ticketed", rule="complaint-support"))
    at = make_app("explorer")
    no_exception(at)
    captions = [c.value for c in at.caption]
    notes = [c for c in captions if c.startswith("Pas de ticket")]
    assert notes == ["Pas de ticket\\: ne concerne pas la marque — a review\\_site verbatim that "
                     "names neither the brand nor a keyword"]


def test_dashboard_inbox_lists_open_tickets_by_sla(seeded: dict[str, Any]) -> None:
    at = make_app("inbox")
    no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Tickets"] == "3"  # the closed one is filtered out by default
    assert metrics["dépassé"] == "1" and metrics["à risque"] == "1"
    body = texts(at)
    assert "Fil de discussion" in "\n".join(e.label for e in at.expander)
    assert "routing" in str(at.dataframe[-1].value["Qui"].tolist())
    assert body


def test_dashboard_every_page_on_both_backends(store: Store) -> None:
    from dashboard_seed import seed

    seed(store)
    at = make_app()
    no_exception(at)
    assert {m.label: m.value for m in at.metric}["Verbatims"] == "80"
    for page in PAGES[1:]:
        at.switch_page(f"views/{page}.py").run()
        no_exception(at)
        assert not at.error, (page, [e.value for e in at.error])
