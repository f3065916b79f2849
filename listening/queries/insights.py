"""Reads of the reports (listening.reports): tickets of a period, emerging themes of a period.

Same conventions as :mod:`listening.queries.reads` (database URL first, plain DataFrames,
bound parameters, the shared read-only engine).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import inspect

from listening.queries.reads import _frame, has_table, read_store
from listening.queries.sql import Where


def ticket_period(
    url: str,
    start: datetime,
    end: datetime,
    teams: tuple[str, ...] = (),
    brand_ids: tuple[int, ...] = (),
) -> pd.DataFrame:
    """Tickets opened, due or closed in ``[start, end)``, with their first answer and closing.

    Columns: id, team, priority, status, created_at, sla_due_at, first_response_at (first
    ``answered`` / ``reply_posted`` event), closed_at (first ``closed`` event). The reports'
    SLA figures (opened, closed, breached, median first response) derive from it.
    """
    w = Where()
    w.add(
        "(tk.created_at >= :p_start AND tk.created_at < :p_end OR "
        "tk.sla_due_at >= :p_start AND tk.sla_due_at < :p_end OR "
        "EXISTS (SELECT 1 FROM ticket_events AS e_c WHERE e_c.ticket_id = tk.id "
        "AND e_c.action = 'closed' AND e_c.at >= :p_start AND e_c.at < :p_end))",
        p_start=start,
        p_end=end,
    )
    if teams:
        w.add("tk.team IN :teams", teams=teams)
    if brand_ids:
        w.add(
            "tk.document_id IN (SELECT d_b.id FROM documents AS d_b WHERE d_b.brand_id IN :brands)",
            brands=brand_ids,
        )
    stmt, params = w.statement(
        "SELECT tk.id AS id, tk.team AS team, tk.priority AS priority, tk.status AS status, "
        "tk.created_at AS created_at, tk.sla_due_at AS sla_due_at, "
        "(SELECT min(e.at) FROM ticket_events AS e WHERE e.ticket_id = tk.id "
        "AND e.action IN ('answered', 'reply_posted')) AS first_response_at, "
        "(SELECT min(e.at) FROM ticket_events AS e WHERE e.ticket_id = tk.id "
        "AND e.action = 'closed') AS closed_at FROM tickets AS tk WHERE {where} ORDER BY tk.id"
    )
    df = _frame(url, stmt, params)
    for col in ("created_at", "sla_due_at", "first_response_at", "closed_at"):
        df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601", errors="coerce")
    return df


def themes_for_period(url: str, start: datetime, end: datetime, limit: int = 5) -> pd.DataFrame:
    """Emerging themes active in ``[start, end)``, largest first; empty without a themes table.

    Reads the ``themes`` table when it exists, with the columns it has: a label (``label``,
    ``name`` or ``title``), a time (``last_seen_at``, ``last_seen``, ``period_end``,
    ``window_end``, ``detected_at``, ``updated_at`` or ``created_at``) and a size (``size``,
    ``n``, ``count``, ``volume``, ``members``, ``n_members``, ``n_documents``; else the rows
    of ``theme_members`` per ``theme_id``). Columns returned: label, size.
    """
    empty = pd.DataFrame(columns=["label", "size"])
    if not has_table(url, "themes"):
        return empty
    with read_store(url).engine.connect() as conn:
        cols = {c["name"] for c in inspect(conn).get_columns("themes")}
        members = inspect(conn).has_table("theme_members") and "theme_id" in {
            c["name"] for c in inspect(conn).get_columns("theme_members")
        }

    def first(*names: str) -> str | None:
        return next((n for n in names if n in cols), None)

    label = first("label", "name", "title")
    when = first(
        "last_seen_at",
        "last_seen",
        "period_end",
        "window_end",
        "detected_at",
        "updated_at",
        "created_at",
    )
    size_col = first("size", "n", "count", "volume", "members", "n_members", "n_documents")
    if size_col:
        size = f"th.{size_col}"
    elif members and "id" in cols:
        size = "(SELECT count(*) FROM theme_members AS tm WHERE tm.theme_id = th.id)"
    else:
        size = None
    if label is None or size is None or when is None:
        return empty
    w = Where()
    w.add(f"th.{when} >= :p_start AND th.{when} < :p_end", p_start=start, p_end=end)
    stmt, params = w.statement(
        f"SELECT th.{label} AS label, {size} AS size FROM themes AS th WHERE {{where}} "
        "ORDER BY 2 DESC LIMIT :lim",
        lim=limit,
    )
    return _frame(url, stmt, params)
