"""Inbox (support): tickets by team, priority and SLA; detail; single and bulk actions."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboards import actions, channels, corrections, queries, ui
from listening.errors import ListeningError
from listening.queries.sql import OPEN_STATUSES, PRIORITIES, TICKET_STATUSES

t = ui.t
url = ui.require_store()
st.title(t("page.inbox"))
for kind, message in st.session_state.pop("in_flash", []):
    (st.success if kind == "ok" else st.error)(message)
qp = st.query_params
warn_hours = ui.settings().dashboard.sla_warning_hours

teams_all = queries.ticket_teams(url)
with st.sidebar:
    st.subheader(t("filters"))
    teams = st.multiselect(t("in.team"), teams_all, placeholder=t("all"), key="in_team",
                           default=[v for v in qp.get_all("team") if v in teams_all])
    prios = st.multiselect(t("in.priority"), PRIORITIES, placeholder=t("all"), key="in_prio",
                           default=[v for v in qp.get_all("prio") if v in PRIORITIES])
    default_status = [v for v in qp.get_all("status") if v in TICKET_STATUSES]
    if "status" not in qp:
        default_status = list(OPEN_STATUSES)
    statuses = st.multiselect(t("in.status"), TICKET_STATUSES, placeholder=t("all"),
                              key="in_status", default=default_status)
qp["team"], qp["prio"], qp["status"] = teams, prios, statuses or [""]

now = queries.now_utc()
key = (tuple(teams), tuple(prios), tuple(statuses))
summary = queries.ticket_summary(url, *key, now, warn_hours)
if not teams_all:
    st.info(t("in.no_tickets"))
    st.stop()

sla_label = {s: t(f"sla.{s}") for s in ("breached", "at_risk", "on_time", "none", "done")}
cols = st.columns(4)
is_open = summary["status"].isin(OPEN_STATUSES)
cols[0].metric(t("in.tickets"), int(summary.loc[is_open, "n"].sum()))
cols[1].metric(sla_label["breached"], int(summary.loc[summary["sla"] == "breached", "n"].sum()))
cols[2].metric(sla_label["at_risk"], int(summary.loc[summary["sla"] == "at_risk", "n"].sum()))
cols[3].metric("P1", int(summary.loc[is_open & (summary["priority"] == "P1"), "n"].sum()))

if summary.empty:
    st.info(t("no_data"))
    st.stop()
pivot = summary.assign(sla=summary["sla"].map(sla_label)).pivot_table(
    index=["team", "priority"], columns="sla", values="n", aggfunc="sum", fill_value=0)
pivot = pivot.rename_axis(index=[t("in.team"), t("in.priority")], columns=t("in.sla"))
st.dataframe(pivot, width="stretch")

tickets = queries.ticket_list(url, *key, now, warn_hours, limit=ui.settings().dashboard.page_size)
listing = pd.DataFrame({
    "#": tickets["id"], t("in.priority"): tickets["priority"], t("in.status"): [ui.label_value("status", v) for v in tickets["status"]],
    t("in.sla"): tickets["sla"].map(sla_label), t("in.due"): [ui.fmt_dt(v) for v in tickets["sla_due_at"]],
    t("in.team"): tickets["team"], t("in.assigned_to"): tickets["assignee"], t("source"): tickets["source"],
    t("verbatims"): [str(v)[:120] for v in tickets["text"]],
})
replies = queries.ticket_reply_actions(url, tuple(int(i) for i in tickets["id"]))
listing.insert(3, t("in.reply"), [
    t(f"in.reply_{state}") if (state := channels.reply_state(replies.get(int(i), []))) else "—"
    for i in tickets["id"]
])
st.dataframe(listing, hide_index=True, width="stretch")

# ------------------------------------------------------------------------ detail
ids = [int(i) for i in tickets["id"]]
labels = {int(r.id): f"#{r.id} {r.priority} {r.team} — {str(r.text)[:60]}" for r in tickets.itertuples()}
wanted = int(qp["ticket"]) if qp.get("ticket", "").isdigit() else None
st.subheader(t("in.detail"))
picked = st.selectbox(t("in.pick"), ids, index=ids.index(wanted) if wanted in ids else 0,
                      format_func=lambda i: labels.get(i, f"#{i}"), key="in_ticket")
if picked is None:
    st.stop()
qp["ticket"] = str(picked)
detail = queries.ticket_detail(url, int(picked))
if detail is None:
    st.warning(t("no_data"))
    st.stop()

left, right = st.columns([3, 2])
with left, st.container(border=True):
    st.caption(ui.escape_markdown(" · ".join(str(p) for p in (
        ui.fmt_dt(detail["published_at"]), detail["source"], channels.with_icon(detail["kind"]), detail["brand"],
        detail["language"] or "?"))))
    if ui.has_text(detail["title"]):
        st.markdown("**" + ui.escape_markdown(str(detail["title"])) + "**")
    st.markdown(ui.highlighted_markdown(str(detail["text"]), detail["topics"], max_chars=5000))
    if isinstance(detail["url"], str) and detail["url"].startswith(("http://", "https://")):
        st.link_button(t("open_source"), detail["url"], key="in_open")
with right:
    st.markdown("**" + t("in.analysis") + "**")
    st.text("\n".join([
        f"{t('in.status')}: {ui.label_value('status', detail['status'])}  ·  {t('in.priority')}: {detail['priority']}",
        f"{t('in.team')}: {detail['team']}  ·  {t('in.assigned_to')}: {detail['assignee'] or '—'}",
        f"SLA: {ui.fmt_dt(detail['sla_due_at'])}",
        f"{t('sentiment')}: {t(str(detail['sentiment'])) if detail['sentiment'] else '—'}"
        f"  ·  {t('in.intent')}: {detail['intent'] or '—'}",
        f"{t('topic')}: {ui.topic_labels(detail['topics']) or '—'}",
        f"{t('in.urgency')}: " + (", ".join(map(str, ui.as_json(detail["urgency"]) or [])) or "—"),
    ]))
    if channels.is_channel(detail["kind"]):
        state = channels.reply_state([str(a) for a in detail["events"]["action"]])
        st.markdown(t("in.reply_state", state=t(f"in.reply_{state or 'none'}")))

if ui.can("label"):
    with st.expander(t("co.title")):
        corrections.correction_form(url, int(detail["document_id"]), corrections.topic_names(detail["topics"]),
                                    key=f"in_{picked}")

thread = detail["thread"]
if not thread.empty:
    with st.expander(f"{t('in.thread')} ({len(thread)})"):
        for row in thread.itertuples():
            st.caption(ui.escape_markdown(f"{ui.fmt_dt(row.published_at)} · {row.author or '?'}"))
            st.text(str(row.text)[:2000])
events = detail["events"]
with st.expander(f"{t('in.history')} ({len(events)})", expanded=True):
    st.dataframe(pd.DataFrame({
        t("in.at"): [ui.fmt_dt(v) for v in events["at"]], t("in.who"): events["actor"],
        t("in.what"): events["action"],
        t("in.details"): [str(ui.as_json(v) or "") for v in events["details"]],
    }), hide_index=True, width="stretch")

# ----------------------------------------------------------------------- actions
if not ui.can("tickets"):
    st.caption(t("auth.denied"))
    st.stop()
try:
    import listening.routing.inbox  # noqa: F401
except ImportError:
    st.warning(t("in.unavailable"))
    st.stop()

action_names = {a: t(f"in.{a}") for a in actions.TICKET_ACTIONS}


actor = ui.actor()  # every action is recorded in the signed-in user's name
users = queries.assignable_users(url)


def run_action(action: str, ticket_ids: list[int], assignee: str, note: str) -> None:
    if action == "assign" and not assignee:
        st.error(t("in.need_assignee"))
        return
    try:
        result = actions.ticket_action(url, action, ticket_ids, actor, assignee=assignee, note=note)
    except ListeningError as exc:  # the role or the assignee was refused: nothing written
        st.error(str(exc))
        return
    flash = [("ok", t("in.done", action=action_names[action], n=len(result.done)))] if result.done else []
    flash += [("error", t("in.failed", id=tid, error=error)) for tid, error in result.failed]
    st.session_state["in_flash"] = flash
    st.rerun()


current_assignee = detail["assignee"] if detail["assignee"] in users else None
with st.form("ticket_action"):
    assignee = st.selectbox(t("in.assignee"), users, key="in_assignee", placeholder="—",
                            index=users.index(current_assignee) if current_assignee else None)
    note = st.text_area(t("in.note"), key="in_note")
    buttons = st.columns(4)
    pressed = [a for i, a in enumerate(actions.TICKET_ACTIONS)
               if buttons[i].form_submit_button(action_names[a])]
if pressed:
    run_action(pressed[0], [int(picked)], assignee or "", note)

if channels.is_channel(detail["kind"]):
    with st.form("ticket_reply"):
        st.markdown("**" + t("in.reply") + "**")
        reply_text = st.text_area(t("in.reply_text"), key="in_reply_text")
        send = st.form_submit_button(t("in.reply_send"))
    if send:
        try:
            sent = actions.reply_ticket(url, int(picked), reply_text, actor)
        except ListeningError as exc:
            st.session_state["in_flash"] = [("error", t("in.failed", id=picked, error=exc))]
        else:
            if sent.get("duplicate"):
                message = t("in.reply_dup")
            elif sent["status"] == "deep_link":
                message = t("in.reply_where", url=sent.get("url") or "?")
            else:
                notes: Any = sent.get("notifications") or {}
                message = t("in.reply_done", id=picked, status=t(
                    "in.reply_posted" if notes.get("sent") else "in.reply_queued"))
            st.session_state["in_flash"] = [("ok", message)]
        st.rerun()

st.subheader(t("in.bulk"))
with st.form("bulk_action"):
    chosen = st.multiselect(t("in.select"), ids, format_func=lambda i: labels.get(i, f"#{i}"),
                            key="in_bulk_ids")
    bulk_action = st.selectbox(t("in.action"), actions.TICKET_ACTIONS,
                               format_func=lambda a: action_names[a], key="in_bulk_action")
    bulk_assignee = st.selectbox(t("in.assignee"), users, key="in_bulk_assignee", index=None,
                                 placeholder="—")
    bulk_note = st.text_input(t("in.note"), key="in_bulk_text")
    apply = st.form_submit_button(t("in.apply"))
if apply and chosen:
    run_action(bulk_action, [int(i) for i in chosen],
               assignee=(bulk_assignee or "") if bulk_action == "assign" else "",
               note=bulk_note if bulk_action != "assign" else "")
