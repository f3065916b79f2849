"""The store: SQLite by default, PostgreSQL for teams. Stages talk through it."""

from listening.store.database import Store
from listening.store.models import (
    SOURCE_KINDS,
    Analysis,
    Base,
    Brand,
    Correction,
    Document,
    Run,
    Source,
    Ticket,
    TicketEvent,
)

__all__ = [
    "SOURCE_KINDS",
    "Analysis",
    "Base",
    "Brand",
    "Correction",
    "Document",
    "Run",
    "Source",
    "Store",
    "Ticket",
    "TicketEvent",
]
