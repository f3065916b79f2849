"""Reads of the reports (listening.reports): tickets of a period, emerging themes of a period.

Same conventions as :mod:`listening.queries.reads` (database URL first, plain DataFrames,
bound parameters, the shared read-only engine).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from listening.queries.reads import _frame, has_table
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


def themes_for_period(
    url: str, start: datetime, end: datetime, limit: int = 5, brand_id: int | None = None
) -> pd.DataFrame:
    """The themes of the latest ``listening themes`` run whose period overlaps
    ``[start, end)``, largest first (columns label, size, growth); empty without one.

    Runs over all brands count, and with ``brand_id`` the runs scoped to that brand too.
    """
    empty = pd.DataFrame(columns=["label", "size", "growth"])
    if not has_table(url, "themes"):
        return empty
    w = Where()
    w.add("th.period_end > :p_start AND th.period_start < :p_end", p_start=start, p_end=end)
    if brand_id is None:
        w.add("th.brand_id IS NULL")
    else:
        w.add("(th.brand_id IS NULL OR th.brand_id = :p_brand)", p_brand=brand_id)
    stmt, params = w.statement(
        "SELECT t.label AS label, t.size AS size, t.growth AS growth FROM themes AS t "
        "WHERE t.run_id = (SELECT th.run_id FROM themes AS th WHERE {where} "
        "ORDER BY th.id DESC LIMIT 1) ORDER BY t.size DESC, t.id LIMIT :lim",
        lim=limit,
    )
    df = _frame(url, stmt, params)
    return empty if df.empty else df
