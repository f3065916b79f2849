"""Hostile verbatims rendered by every dashboard page (AppTest): no live HTML, javascript:
link, image, colour directive or LaTeX from collected text; search input injection is inert."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dashboard"))
from dashboard_helpers import make_app, no_exception  # noqa: E402
from dashboard_seed import seed  # noqa: E402

from listening.store import Analysis, Document, Store, Ticket  # noqa: E402

PAGES = ["overview", "explorer", "inbox", "competitors", "sources", "review"]
PAYLOADS = [
    "<script>alert('xss1')</script>",
    '<img src=x onerror="alert(2)">',
    "[clique](javascript:alert(1))",
    "![img](http://evil.example/x.png)",
    ":red[ROUGE] :blue-background[fond] :material/warning:",
    "$$ \\frac{a}{b} $$ et $x^2$",
    "<a href='javascript:alert(3)'>lien</a> https://evil.example/auto",
]
HOSTILE = " ".join(PAYLOADS)
MD = MarkdownIt("commonmark")


@pytest.fixture
def hostile(sqlite_store: Store) -> dict[str, Any]:
    ids = seed(sqlite_store)
    docs = ids["documents"][:12]
    with sqlite_store.session() as s:
        s.execute(
            update(Document)
            .where(Document.id.in_(docs))
            .values(
                text=HOSTILE,
                title=PAYLOADS[2] + " " + PAYLOADS[0],
                author=PAYLOADS[4],
                url="javascript:alert('url')",
                published_at=datetime.now(UTC),
            )
        )  # newest: shown
        for a in s.scalars(select(Analysis).where(Analysis.document_id.in_(docs))):
            a.topics = [
                {
                    "topic": "delivery",
                    "sentiment": "negative",
                    "confidence": 0.9,
                    "evidence": [{"start": 0, "end": 40, "text": HOSTILE[:40]}],
                }
            ]
        s.execute(update(Ticket).values(assignee=PAYLOADS[1]))
    return ids


def _elements(at: AppTest) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    # the elements Streamlit renders as markdown (st.text and st.code show plain text)
    for kind in (
        "markdown",
        "caption",
        "info",
        "warning",
        "error",
        "success",
        "title",
        "header",
        "subheader",
        "latex",
        "toast",
    ):
        for el in getattr(at, kind, []):
            out.append((kind, str(el.value)))
    return out


def _live(value: str) -> list[str]:
    """What in this markdown source would render live (HTML, links, images, directives)."""
    problems = []
    for tok in MD.parse(value):
        for child in [tok, *(tok.children or [])]:
            if child.type in ("html_inline", "html_block"):
                problems.append(f"html {child.content!r}")
            if child.type == "image":
                problems.append(f"image {child.attrGet('src')!r}")
            if child.type == "link_open" and not str(child.attrGet("href")).startswith(
                ("https://forum.example", "https://avis.example", "?", "/")
            ):
                problems.append(f"link {child.attrGet('href')!r}")
    import re

    for pattern, what in (
        (r"(?<!\\):(red|blue)(-background)?\[", "colour directive"),
        (r"(?<!\\):material/", "icon directive"),
        (r"(?<!\\)\$", "latex"),
        (r"(?i)(?<![\\\u200b])javascript:", "javascript: URL"),
        (r"(?i)https?://evil", "auto-link"),
    ):
        if re.search(pattern, value):
            problems.append(what)
    return problems


def _check_page(at: AppTest, page: str) -> int:
    no_exception(at)
    shown = 0
    for kind, value in _elements(at):
        if "alert" in value or "evil" in value or "ROUGE" in value:
            shown += 1
            assert not _live(value), (page, kind, value, _live(value))
        if kind == "latex":
            assert "frac" not in value, (page, value)
    return shown


def _table_cells(at: AppTest) -> int:
    """Hostile verbatims shown in tables (st.dataframe cells are plain text, never markup);
    a URL column holds no other scheme (``javascript:``...)."""
    hits = 0
    for table in at.dataframe:
        frame = table.value
        for column in frame.columns:
            values = [str(v) for v in frame[column].tolist() if v is not None]
            hits += sum(1 for v in values if "alert" in v or "evil" in v or "ROUGE" in v)
            if str(column).lower() in ("url", "link", "lien"):
                bad = [v for v in values if ":" in v and not v.startswith(("http://", "https://"))]
                assert not bad, (column, bad)
    return hits


@pytest.mark.parametrize("page", PAGES)
def test_xss_payloads_are_inert_on_every_page(hostile: dict[str, Any], page: str) -> None:
    at = make_app(page)
    shown = _check_page(at, page) + _table_cells(at)
    if page in ("overview", "explorer"):
        assert shown, f"{page} shows no hostile verbatim: the test would prove nothing"
    # no button or link opens a javascript: URL taken from a verbatim
    urls = [str(el.proto.url) for el in at.get("link_button")]
    assert not [u for u in urls if not u.startswith(("http://", "https://"))], (page, urls)


def test_xss_inbox_ticket_detail_is_inert(hostile: dict[str, Any]) -> None:
    at = make_app("inbox", ticket=str(hostile["tickets"][0]))
    assert _check_page(at, "inbox")
    urls = [str(el.proto.url) for el in at.get("link_button")]
    assert not [u for u in urls if not u.startswith(("http://", "https://"))], urls


@pytest.mark.parametrize(
    "query",
    [
        'livraison" OR "1"="1',
        "colis*) OR (text:*",
        "NEAR(livraison colis) AND NOT x",
        "'; DROP TABLE documents; --",
        '"""',
        "text:abc ^x {y} -z +w",
        "%' OR 1=1 --",
        "\\x00 \u0000 ```",
    ],
)
def test_search_injection_returns_normally(
    hostile: dict[str, Any], sqlite_store: Store, query: str
) -> None:
    at = make_app("explorer")
    at.text_input(key="ex_q").set_value(query).run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    _check_page(at, "explorer")
    with sqlite_store.session() as s:  # nothing was dropped or changed
        assert len(list(s.scalars(select(Document.id)))) == 80
    cap = [c.value for c in at.caption if "résultat" in str(c.value).lower()]
    # an injected OR never widens the search to every verbatim
    for c in cap:
        digits = [int(w) for w in str(c).split() if w.isdigit()]
        assert not digits or digits[0] < 50, c
