"""Blog posts and articles: reader comments as verbatims, the article optionally.

Comments are read with the WordPress, Drupal and SPIP comment profiles (and blocks with
``id="comment-N"``); threaded replies keep their parent. Comments loaded by JavaScript
(Disqus, Facebook, Discourse embeds) are not in the HTML: the page then gives no
comment, and no error. The article itself (main text, author, date via trafilatura) is
added when ``include_article`` is set.
"""

from __future__ import annotations

from typing import Any

from lxml.etree import _Element

from listening.collection.extract.common import stable_id, to_date
from listening.collection.extract.posts import COMMENT_PROFILES, detect_and_extract, extract_posts
from listening.store.documents import DocumentIn


def extract_article(html: str, url: str, language: str | None) -> DocumentIn | None:
    """The main text of the page with its metadata (trafilatura), or ``None``."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(html, url=url, include_comments=False, with_metadata=True)
    except Exception:  # trafilatura raises on some odd pages
        return None
    if not doc:
        return None
    data: dict[str, Any] = doc if isinstance(doc, dict) else doc.as_dict()
    text = (data.get("text") or "").strip()
    if not text:
        return None
    raw_date = data.get("date")
    return DocumentIn(
        external_id=f"{url.split('#')[0]}#article",
        text=text,
        url=url,
        thread_id=url.split("#")[0],
        author=data.get("author"),
        title=data.get("title"),
        published_at=to_date(raw_date, language),
        raw={"kind": "article", "date_raw": raw_date, "sitename": data.get("sitename")},
    )


def extract_blog(
    root: _Element,
    html: str,
    url: str,
    language: str | None,
    include_article: bool = False,
    selectors: dict[str, Any] | None = None,
) -> list[DocumentIn]:
    if selectors:
        items = extract_posts(root, url, selectors, language, kind="comment")
    else:
        _name, items = detect_and_extract(root, url, COMMENT_PROFILES, language, kind="comment")
    if include_article:
        article = extract_article(html, url, language)
        if article is not None:
            items.insert(0, article)
    for item in items:
        if not item.external_id:
            item.external_id = stable_id(url, item.author, item.text[:200])
    return items
