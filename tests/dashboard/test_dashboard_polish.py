"""Dashboard polish seen on the demo: labels in the UI language everywhere, a real
``/overview`` URL, legible competitor matrix with a minimum volume, a dense verbatim list."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from dashboard_helpers import APP, make_app, no_exception
from streamlit.testing.v1 import AppTest

from dashboards import ui
from listening.routing.models import Alert
from listening.settings import get_settings
from listening.store import Store
from listening.taxonomy import load_topics

TOPIC_IDS = set(load_topics().ids)
RAW_HEADERS = {
    "team",
    "priority",
    "brand",
    "topic",
    "kind",
    "status",
    "sla",
    "opened_at",
    "recent_count",
    "baseline",
    "score",
    "recent",
    "expected",
    "recent_negative",
}


@pytest.fixture
def with_alert(seeded: dict[str, Any], sqlite_store: Store) -> dict[str, Any]:
    now = datetime.now(UTC)
    with sqlite_store.session() as s:
        s.add(
            Alert(
                brand_id=seeded["own_brand"],
                topic="customer_service",
                kind="volume",
                status="open",
                opened_at=now - timedelta(hours=2),
                last_seen_at=now,
                recent_count=9,
                baseline=1.5,
                score=4.2,
                details={},
            )
        )
    return seeded


def _chart_data(chart: Any) -> pd.DataFrame:
    return pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_pandas()


def _raw_ids_and_headers(at: AppTest, headers: bool = True) -> list[str]:
    """Every raw topic id (or, with ``headers``, English column name) a page shows in a
    table, chart or select; a column's header is its column_config label when it has one."""
    bad: list[str] = []
    for frame in at.dataframe:
        df = frame.value
        config = json.loads(frame.proto.columns or "{}")
        shown = [config.get(str(c), {}).get("label") or str(c) for c in df.columns]
        shown += [str(n) for n in df.index.names if n]
        bad += [f"header {h}" for h in shown if headers and h in RAW_HEADERS]
        cells = [str(v) for col in df.columns for v in df[col]] + [str(v) for v in df.index]
        bad += [f"cell {v}" for v in cells if v in TOPIC_IDS]
    for chart in at.get("vega_lite_chart"):
        data = _chart_data(chart)
        for col in ("topic", "topic_axis", "topic_label"):
            if col in data:
                bad += [f"chart {v}" for v in data[col] if v in TOPIC_IDS]
    for widget in [*at.selectbox, *at.multiselect]:
        bad += [f"select {o}" for o in widget.options if o in TOPIC_IDS]
    return bad


@pytest.mark.parametrize(
    "page", ["overview", "competitors", "inbox", "explorer", "review", "sources"]
)
def test_polish_french_pages_show_labels_not_ids(with_alert: dict[str, Any], page: str) -> None:
    at = make_app(page)
    no_exception(at)
    assert at.title[0].value == ui.translate(f"page.{page}", "fr")
    assert not _raw_ids_and_headers(at)


def test_polish_overview_tables_and_heatmap_in_french(with_alert: dict[str, Any]) -> None:
    at = make_app()
    alerts, spikes = at.dataframe[0].value, at.dataframe[1].value
    assert list(alerts.columns) == [
        "Marque",
        "Thème",
        "Type d'alerte",
        "Ouverte le",
        "Mentions récentes",
        "Niveau habituel",
        "Score",
    ]
    assert (
        alerts.iloc[0]["Thème"] == "Service client" and alerts.iloc[0]["Type d'alerte"] == "Volume"
    )
    assert set(spikes["Thème"]) <= set(load_topics().labels["fr"].values())
    heat = _chart_data(at.get("vega_lite_chart")[2])
    assert set(heat["topic"]) == {"Livraison", "Service client", "Prix", "Qualité"}
    at.sidebar.selectbox(key="ui_lang").set_value("en").run()
    assert "Customer service" in set(at.dataframe[0].value["Topic"])
    assert not _raw_ids_and_headers(at, headers=False)  # "recent" is English there


def test_polish_review_list_names_topics_by_label(seeded: dict[str, Any]) -> None:
    at = make_app("review")
    captions = " ".join(c.value for c in at.caption)
    assert "Livraison" in captions and "Service client" in captions
    assert not {"delivery", "customer\\_service", "customer_service"} & set(
        captions.replace(",", " ").split()
    )


def test_polish_source_kinds_in_french(seeded: dict[str, Any]) -> None:
    at = make_app(kind="review_site")
    volume = _chart_data(at.get("vega_lite_chart")[0])
    assert set(volume["kind"]) == {"Site d'avis"}
    options = at.sidebar.multiselect(key="f_kind").options
    assert "Site d'avis" in options and "review_site" not in options
    assert at.query_params["kind"] == "review_site"  # the URL keeps the stable code
    sources = make_app("sources").dataframe[0].value
    assert set(sources["Type de source"]) == {"Forum", "Site d'avis", "Enquête"}


def test_polish_inbox_headers_and_statuses_in_french(seeded: dict[str, Any]) -> None:
    at = make_app("inbox")
    pivot, listing = at.dataframe[0].value, at.dataframe[1].value
    assert list(pivot.index.names) == ["Équipe", "Priorité"]
    assert set(listing["Statut"]) == {"Nouveau", "Assigné"}  # open tickets by default


# ------------------------------------------------------------------ /overview URL
def _open_url_path(path: str, monkeypatch: pytest.MonkeyPatch) -> tuple[AppTest, list[str]]:
    """AppTest as a browser opening ``/<path>``: Streamlit gets the page *name* from the URL."""
    import streamlit.commands.navigation as navigation
    import streamlit.testing.v1.local_script_runner as runner
    from streamlit.runtime.scriptrunner import RerunData

    not_found: list[str] = []
    original = navigation.send_page_not_found

    def record(ctx: Any) -> None:
        not_found.append(path)
        original(ctx)

    monkeypatch.setattr(navigation, "send_page_not_found", record)
    monkeypatch.setattr(runner, "RerunData", functools.partial(RerunData, page_name=path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    return at, not_found


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("overview", "Vue d'ensemble"),
        ("competitors", "Concurrents"),
        ("inbox", "Boîte de réception"),
    ],
)
def test_polish_pages_have_their_own_url_path(
    seeded: dict[str, Any], monkeypatch: Any, path: str, title: str
) -> None:
    at, not_found = _open_url_path(path, monkeypatch)
    no_exception(at)
    assert not not_found, f"/{path} opened the 'Page not found' dialog"
    assert at.title[0].value == title


def test_polish_unknown_path_still_says_not_found(seeded: dict[str, Any], monkeypatch: Any) -> None:
    at, not_found = _open_url_path("nowhere", monkeypatch)  # the check above can fail
    assert not_found == ["nowhere"] and at.title[0].value == "Vue d'ensemble"


def test_polish_root_opens_the_first_page_with_the_link_filters(seeded: dict[str, Any]) -> None:
    at = make_app(topic="delivery")
    no_exception(at)
    assert at.title[0].value == "Vue d'ensemble"
    assert at.query_params["topic"] == "delivery"
    assert {m.label: m.value for m in at.metric}["Verbatims"] == "20"


# -------------------------------------------------------------- competitor matrix
def test_polish_matrix_labels_wrap_and_counts_show(seeded: dict[str, Any]) -> None:
    at = make_app("competitors")
    no_exception(at)
    matrix = at.get("vega_lite_chart")[0]
    spec = json.loads(matrix.proto.spec)
    axis = spec["layer"][0]["encoding"]["x"]["axis"]
    assert axis["labelExpr"].startswith("split(") and axis["labelAngle"] == 0
    data = _chart_data(matrix)
    assert all(
        len(line) <= 14 or " " not in line
        for label in data["topic_axis"]
        for line in label.split("\n")
    )
    assert data["reliable"].all()  # 10 mentions per cell >= 5
    assert all("n=10" in s for s in data["short"])
    table = at.dataframe[0].value
    assert table.loc["Luminéo", "Livraison"].endswith("· n=10")


def test_polish_min_volume_greys_cells_and_trend_points(
    seeded: dict[str, Any], monkeypatch: Any
) -> None:
    monkeypatch.setenv("LISTENING_DASHBOARD__MIN_VOLUME", "11")
    get_settings.cache_clear()
    at = make_app("competitors")
    no_exception(at)
    data = _chart_data(at.get("vega_lite_chart")[0])
    assert not data["reliable"].any() and set(data["short"]) == {"n=10"}
    table = at.dataframe[0].value
    assert table.loc["Luminéo", "Livraison"] == "n=10 < 11" and "▲" not in table.to_string()
    trend = _chart_data(at.get("vega_lite_chart")[1])
    assert not trend["reliable"].any()  # weeks of 2-4 mentions: grey points, no line
    spec = json.loads(at.get("vega_lite_chart")[1].proto.spec)
    assert {"filter": "datum.reliable"} in spec["layer"][0]["transform"]
    assert "moins de 11 mentions" in " ".join(c.value for c in at.caption)


def test_polish_min_volume_is_a_documented_setting() -> None:
    from pathlib import Path

    assert get_settings().dashboard.min_volume == 5
    docs = (Path(__file__).resolve().parents[2] / "docs" / "SETTINGS.md").read_text("utf-8")
    assert "`LISTENING_DASHBOARD__MIN_VOLUME` | `5`" in docs


# ------------------------------------------------------------- dense verbatim list
def test_polish_latest_verbatims_are_a_dense_sortable_table(seeded: dict[str, Any]) -> None:
    at = make_app()
    no_exception(at)
    latest = at.dataframe[-1].value
    assert list(latest.columns) == ["date", "source", "brand", "sentiment", "topics", "text", "url"]
    assert len(latest) == 50  # dashboard.page_size rows in one table, not 50 cards
    assert latest["date"].is_monotonic_decreasing
    assert set(latest["sentiment"]) <= {"positif", "négatif", "neutre"}
    assert any(v == "Livraison (négatif)" for v in latest["topics"])
    assert not any("très lente" in m.value for m in at.markdown)  # no card per verbatim
    config = json.loads(at.dataframe[-1].proto.columns)
    assert config["text"]["label"] == "Texte" and config["url"]["type_config"]["type"] == "link"


def test_polish_marked_text_is_plain_and_marks_evidence() -> None:
    topics = [
        {
            "topic": "delivery",
            "evidence": [{"start": 0, "end": 9}, {"start": 4, "end": 12}, {"start": 50, "end": 99}],
        }
    ]
    text = "Livraison\n  lente <b>**gras**</b> [x](javascript:alert(1))"
    marked = ui.marked_text(text, topics)
    assert marked == "⟦Livraison⟧ lente <b>**gras**</b> [x](javascript:alert(1))"
    assert ui.marked_text("a" * 600, []) == "a" * 500 + "…"
    assert ui.marked_text("abc", json.dumps(topics)) == "abc"  # spans past the end are dropped


def test_polish_drill_down_is_a_table_too(seeded: dict[str, Any]) -> None:
    at = make_app("competitors")
    drill = at.dataframe[-1].value
    assert "text" in drill.columns and len(drill) == 10
    assert set(drill["brand"]) == {"Luminéo"} or set(drill["brand"]) == {"Maison Lumière"}
