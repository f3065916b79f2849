"""Markdown, HTML and PDF renderings: the numbers of the report, user text escaped, PDF pages
rendered to PNG (pypdfium2) to check size, text and the chart pixels."""

from __future__ import annotations

import base64
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from dashboard_seed import HOSTILE

from listening.queries import reads
from listening.queries.sql import Filters
from listening.reports import build_report, render
from listening.reports.build import Report, Verbatim
from listening.reports.period import Period
from listening.settings import load_settings
from listening.store import Store

A4 = (595.28, 841.89)  # points


def _report(store: Store, now: datetime, lang: str, **kw: Any) -> Report:
    settings = load_settings(insights={"report_centrality": "tfidf", "report_verbatims": 10})
    return build_report(
        store,
        since=(now - timedelta(days=25)).date(),
        until=now.date(),
        now=now,
        lang=lang,
        settings=settings,
        **kw,
    )


def test_reports_markdown_and_html_carry_the_query_numbers(
    seeded_sqlite: tuple[Store, dict[str, Any]], now: datetime
) -> None:
    store, ids = seeded_sqlite
    report = _report(store, now, "fr")
    p = report.period
    kpis = reads.overview_kpis(
        store.url, Filters(start=p.start, end=p.end, brand_ids=(ids["own_brand"],))
    )
    md = render(report, "md").decode()
    assert md.startswith("# Rapport d’écoute client — Maison Lumière\n")
    assert f"| Verbatims | {kpis['documents']} | 0 | +{kpis['documents']} |" in md
    assert f"| Négatifs | {kpis['negative']} |" in md
    assert "| Sentiment net | +2 | – | – |" in md  # (21 - 20) / 41; no previous data: no change
    assert (
        "| Luminéo | Livraison | +100 (n = 10) | -100 (n = 10) | ▲ meilleur que Maison Lumière |"
        in md
    )
    assert "| Tickets ouverts | 4 |" in md and "| Délais dépassés | 1 |" in md
    assert "| Délai médian de première réponse | 2,0 h |" in md
    assert "Thèmes émergents" not in md
    assert "plus proches du centre des vecteurs TF-IDF" in md
    assert "> « Frais de port à 4,90 € : c’est l’idéal, « livraison » soignée. »" in md
    html = render(report, "html").decode()
    assert html.startswith("<!DOCTYPE html>") and '<html lang="fr">' in html
    assert f'<td>Verbatims</td><td class="num">{kpis["documents"]}</td>' in html
    [png] = re.findall(r'src="data:image/png;base64,([^"]+)"', html)[:1]
    assert base64.b64decode(png).startswith(b"\x89PNG")
    assert len(re.findall(r"data:image/png;base64,", html)) == 2  # volume and net charts
    assert "http" not in html.replace("https://forum.example", "")  # self-contained: no fetch


def test_reports_english_labels(seeded_sqlite: tuple[Store, dict[str, Any]], now: datetime) -> None:
    store, _ = seeded_sqlite
    md = render(_report(store, now, "en"), "md").decode()
    assert "# Customer listening report — Maison Lumière" in md
    assert (
        "| Luminéo | Delivery | +100 (n = 10) | -100 (n = 10) | ▲ better than Maison Lumière |"
        in md
    )
    assert "| Median time to first response | 2.0 h |" in md and "Livraison |" not in md


def test_reports_user_text_is_escaped(
    seeded_sqlite: tuple[Store, dict[str, Any]], now: datetime
) -> None:
    store, _ = seeded_sqlite
    report = _report(store, now, "fr", brand="Luminéo")
    assert HOSTILE in [v.text for v in report.verbatims]  # the hostile verbatim is quoted...
    html = render(report, "html").decode()
    assert "<script>" not in html and "<img src=x" not in html  # ...as text
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in html
    md = render(report, "md").decode()
    assert r"\<script\>window.\_\_xss = 1\</script\>" in md
    assert r"\*\*gras\*\* \[lien\](http://evil.example) :red\[rouge\] \$x\$" in md
    assert "<script>" not in md and "**gras**" not in md


def _hand_report(lang: str) -> Report:
    p = Period("week", date(2026, 3, 2), date(2026, 3, 8))
    v = Verbatim(
        1,
        "<b>x</b> & y",
        False,
        datetime(2026, 3, 3, tzinfo=UTC),
        "src <i>",
        "B & <C>",
        "delivery",
        "Livraison",
        "negative",
        "javascript:alert(1)",
    )
    return Report(
        brand="B & <C>",
        reference=None,
        lang=lang,
        period=p,
        previous=p.previous(),
        generated_at=datetime(2026, 3, 9, tzinfo=UTC),
        verbatims=[v],
    )


def test_reports_hostile_names_and_links_are_inert() -> None:
    html = render(_hand_report("en"), "html").decode()
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt; &amp; y" in html
    assert "B &amp; &lt;C&gt;" in html and "javascript:" not in html


def _image_boxes(page: Any) -> list[tuple[float, float, float, float]]:
    return [obj.get_bounds() for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_reports_pdf_pages_text_and_charts(
    seeded_sqlite: tuple[Store, dict[str, Any]], now: datetime, lang: str
) -> None:
    store, _ = seeded_sqlite
    data = render(_report(store, now, lang), "pdf")
    assert data.startswith(b"%PDF-")
    pdf = pdfium.PdfDocument(data)
    assert 1 <= len(pdf) <= 4
    text = ""
    boxes: list[tuple[int, tuple[float, float, float, float]]] = []
    for i in range(len(pdf)):
        page = pdf[i]
        assert page.get_size() == pytest.approx(A4, abs=0.5)
        text += page.get_textpage().get_text_range()
        boxes += [(i, box) for box in _image_boxes(page)]
    flat = " ".join(text.split())
    title = "Rapport d’écoute client" if lang == "fr" else "Customer listening report"
    assert f"{title} — Maison Lumière" in flat
    assert "4,90 € : c’est l’idéal" in flat  # Unicode through the embedded DejaVu font
    assert ("Délais dépassés" if lang == "fr" else "SLA breaches") in flat
    assert len(boxes) == 2  # the two charts
    for index, (left, bottom, right, top) in boxes:
        assert right - left > 300 and top - bottom > 60
        bitmap = pdf[index].render(scale=1).to_numpy()  # rows from the top, RGB(A)
        height = bitmap.shape[0]
        chart = bitmap[int(height - top) : int(height - bottom), int(left) : int(right), :3]
        ink = (chart.min(axis=2) < 200).mean()
        assert ink > 0.05, f"chart area nearly blank ({ink:.3f})"
        colours = {tuple(px) for px in chart.reshape(-1, 3)[::7]}
        assert len(colours) > 20  # bars, axes, labels: not a flat fill
    margin = pdf[0].render(scale=1).to_numpy()[:, :30, :3]  # the left margin stays white
    assert np.all(margin > 250)
    pdf.close()
