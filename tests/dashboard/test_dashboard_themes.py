"""Emerging themes page: themes of the latest run, promote button for admins only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dashboard_helpers import add_user, make_app, no_exception
from dashboard_seed import seed

from dashboards import insights
from listening.errors import AccountError
from listening.insights.models import Theme, ThemeMember
from listening.settings import get_settings
from listening.store import Store
from listening.taxonomy import load_topics


def _theme(store: Store) -> int:
    ids = seed(store)
    now = datetime.now(UTC)
    with store.session() as s:
        theme = Theme(
            run_id="r1",
            key="k1",
            created_at=now,
            period_start=now - timedelta(days=28),
            period_end=now,
            label="rapidexo · colis perdu · transporteur",
            terms=[["rapidexo", 0.9], ["colis perdu", 0.5], ["transporteur", 0.3]],
            size=5,
            previous_count=1,
            growth=5.0,
            net_sentiment=-0.8,
            sentiments={"negative": 5},
            brands={"Maison Lumière": 5},
            sources={"forum-deco": 5},
            representatives=ids["documents"][:3],
            centroid=[0.0] * 384,
        )
        s.add(theme)
        s.flush()
        s.add_all(
            [
                ThemeMember(theme_id=theme.id, document_id=d, previous=False, distance=0.01 * n)
                for n, d in enumerate(ids["documents"][:6:2])
            ]
        )
        s.add_all(
            [
                ThemeMember(theme_id=theme.id, document_id=d, previous=False, distance=0.1)
                for d in ids["documents"][1:4:2]
            ]
        )
        return int(theme.id)


def _texts(at: Any) -> str:
    return " ".join(
        str(e.value) for e in [*at.markdown, *at.caption, *at.info, *at.success, *at.error]
    )


def test_themes_page_lists_themes_and_admin_promotes(sqlite_store: Store, tmp_path: Path) -> None:
    theme_id = _theme(sqlite_store)
    at = make_app("themes")
    no_exception(at)
    assert at.title[0].value == "Thèmes émergents"
    table = at.dataframe[0].value
    assert table["Thème émergent"].tolist() == ["rapidexo · colis perdu · transporteur"]
    metrics = {m.label: m.value for m in at.metric}
    assert (
        metrics["Volume"] == "5"
        and metrics["Croissance"] == "×5.0"
        and metrics["Sentiment net"] == "-0.80"
    )
    assert "rapidexo, colis perdu, transporteur" in _texts(at)
    at.text_input(key=f"th_topic_{theme_id}").set_value("carrier_rapidexo")
    at.text_input(key=f"th_label_{theme_id}").set_value("Transporteur Rapidexo")
    at.button[0].click().run()
    no_exception(at)
    assert "Thème « carrier_rapidexo » ajouté" in _texts(at), _texts(at)
    path = Path(get_settings().data_dir) / "taxonomy.yaml"
    assert "carrier_rapidexo" in load_topics(path).ids
    assert "Déjà promu en thème « carrier_rapidexo »." in _texts(at)
    at2 = make_app("themes", ui="en")
    no_exception(at2)
    assert at2.title[0].value == "Emerging themes"


def test_themes_page_community_sees_no_promote_button(sqlite_store: Store) -> None:
    theme_id = _theme(sqlite_store)
    add_user(sqlite_store, "cm", "community")
    at = make_app(user="cm")
    at.switch_page("views/themes.py").run()
    no_exception(at)
    assert at.title[0].value == "Thèmes émergents" and at.dataframe
    assert not at.text_input and [b.label for b in at.button] == ["Se déconnecter"]  # no promote
    # and the write itself is refused server-side, the taxonomy untouched
    with pytest.raises(AccountError):
        insights.promote(sqlite_store.url, theme_id, "carrier_x", "Carrier X", "cm")
    with sqlite_store.session() as s:
        assert s.get(Theme, theme_id).promoted_topic is None  # type: ignore[union-attr]


def test_themes_page_without_themes_says_how_to_compute_them(sqlite_store: Store) -> None:
    at = make_app("themes")
    no_exception(at)
    assert "lancez `listening themes`" in _texts(at)
