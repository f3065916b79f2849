"""Helpers shared by the collection tests (not fixtures: plain functions)."""

from __future__ import annotations

from sqlalchemy import select

from listening.store import Document, Store
from listening.store.sources import SourceSpec, add_source


def make_source(
    store: Store,
    name: str = "src",
    kind: str = "feed",
    url: str = "http://127.0.0.1:9/feed",
    brand: str | None = "Maison Lumière",
    **extra: object,
) -> int:
    spec = SourceSpec(name=name, kind=kind, url=url, brand=brand, **extra)  # type: ignore[arg-type]
    with store.session() as session:
        source, _ = add_source(session, spec)
        return source.id


def documents(store: Store, source_id: int | None = None) -> list[Document]:
    with store.session() as session:
        query = select(Document).order_by(Document.id)
        if source_id is not None:
            query = query.where(Document.source_id == source_id)
        return list(session.scalars(query))
