"""Pure helpers of the dashboard: statistics, safe markdown, evidence spans, passwords, settings."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dashboards import ui
from dashboards.i18n import STRINGS
from dashboards.queries import fts5_query
from listening.errors import ConfigError
from listening.queries import stats
from listening.settings import load_settings


def test_dashboard_stats_net_ci() -> None:
    net, low, high = stats.net_ci(60, 20, 100)
    assert net == pytest.approx(0.4)
    var = 0.8 - 0.16
    assert high - net == pytest.approx(1.959964 * math.sqrt(var / 100))
    assert low < net < high
    assert stats.net_ci(5, 0, 5) == (1.0, 1.0, 1.0)  # clipped, degenerate
    assert math.isnan(stats.net_ci(0, 0, 0)[0])


def test_dashboard_stats_difference_and_flags() -> None:
    z = stats.difference_z((70, 10, 100), (40, 40, 100))
    assert z > 1.96
    assert abs(stats.difference_z((50, 30, 100), (48, 32, 100))) < 1.96
    assert stats.difference_z((10, 0, 10), (0, 10, 10)) == math.inf
    low, high = stats.wilson(30, 100)
    assert low == pytest.approx(0.2189, abs=1e-3) and high == pytest.approx(0.3958, abs=1e-3)
    matrix = pd.DataFrame([
        {"brand_id": 1, "brand": "us", "is_own": True, "topic": "delivery",
         "positive": 40, "neutral": 20, "negative": 40, "n": 100},
        {"brand_id": 2, "brand": "them", "is_own": False, "topic": "delivery",
         "positive": 70, "neutral": 20, "negative": 10, "n": 100},
        {"brand_id": 3, "brand": "few", "is_own": False, "topic": "delivery",
         "positive": 9, "neutral": 0, "negative": 0, "n": 9},
        {"brand_id": 2, "brand": "them", "is_own": False, "topic": "price",
         "positive": 41, "neutral": 20, "negative": 39, "n": 100},
        {"brand_id": 1, "brand": "us", "is_own": True, "topic": "price",
         "positive": 40, "neutral": 20, "negative": 40, "n": 100},
    ])
    out = stats.criterion_stats(matrix).set_index(["brand", "topic"])
    assert out.loc[("them", "delivery"), "flag"] == "▲"
    assert out.loc[("few", "delivery"), "flag"] == ""  # too few mentions to say
    assert out.loc[("them", "price"), "flag"] == ""  # not significant
    assert out.loc[("us", "delivery"), "flag"] == ""
    assert out.loc[("them", "delivery"), "sov"] == pytest.approx(100 / 209)
    assert stats.criterion_stats(matrix.iloc[0:0]).empty


def test_dashboard_escape_markdown_neutralises_markup() -> None:
    raw = "**gras** <b>x</b> [l](http://e.x) :red[r] $x$ `c` # t\n    code"
    out = ui.escape_markdown(raw)
    for token in ("**", "<b>", "[l]", ":red[", "$x$", "`c`"):
        assert token not in out
    assert "http://" not in out  # no autolink
    assert "\n    " not in out  # no indented code block


def test_dashboard_highlight_spans_are_checked() -> None:
    text = "Livraison lente mais produit top"
    topics = [
        {"topic": "delivery", "evidence": [{"start": 0, "end": 15}]},
        {"topic": "product", "evidence": [{"start": 21, "end": 32}, {"start": 5, "end": 12}]},
        {"topic": "bad", "evidence": [{"start": -1, "end": 3}, {"start": 10, "end": 999},
                                      {"start": "x"}]},
        "junk",
    ]
    assert ui.evidence_spans(topics, len(text)) == [(0, 15, "delivery"), (21, 32, "product")]
    md = ui.highlighted_markdown(text, topics)
    assert md == ":orange-background[Livraison lente] mais :orange-background[produit top]"
    assert ui.highlighted_markdown(text, '[{"topic": "x", "evidence": [{"start": 0, "end": 9}]}]'
                                   ).startswith(":orange-background[Livraison]")
    assert ui.highlighted_markdown("a]b", [{"topic": "t", "evidence": [{"start": 0, "end": 3}]}]) \
        == ":orange-background[a\\]b]"


def test_dashboard_fold_keeps_offsets() -> None:
    assert ui.fold("Élève À") == "eleve a"
    assert len(ui.fold("ﬁn œuf")) == len("ﬁn œuf")


def test_dashboard_fts5_query_quotes_words() -> None:
    assert fts5_query('colis "abîmé" NEAR( retard*') == '"colis" """abîmé""" "NEAR(" "retard"*'
    assert fts5_query("* ") == ""


def test_dashboard_roles_pages_and_actions() -> None:
    assert set(ui.ROLE_PAGES) == set(ui.ROLE_ACTIONS) == {"community", "support", "marketing", "admin"}
    assert ui.ROLE_ACTIONS["marketing"] == ()  # read-only
    assert set(ui.ROLE_ACTIONS["admin"]) == {"tickets", "sources", "label", "taxonomy"}


def test_dashboard_settings_validate_roles() -> None:
    with pytest.raises(ConfigError, match="listening users add"):
        load_settings(dashboard={"passwords": {"admin": "x"}})
    with pytest.raises(ConfigError, match="language"):
        load_settings(dashboard={"language": "de"})
    assert load_settings(dashboard={"language": "en"}).dashboard.language == "en"


def test_dashboard_i18n_complete() -> None:
    for key, (fr, en) in STRINGS.items():
        assert fr and en, key
        assert fr.count("{") == en.count("{"), key


def test_dashboard_competitor_chart_exports_png() -> None:
    from dashboards import charts

    matrix = pd.DataFrame([
        {"brand": "us", "topic": "delivery", "net": -0.2, "n": 40, "label": "x", "short": "-0.20"},
        {"brand": "them", "topic": "delivery", "net": 0.5, "n": 30, "label": "y", "short": "+0.50▲"},
    ])
    png = charts.chart_png(charts.matrix_chart(matrix, "net", "Sentiment net", "+.2f"))
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000
