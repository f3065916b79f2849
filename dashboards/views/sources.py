"""Sources: health per source; add or edit a source; enqueue a crawl (the collector runs it)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from dashboards import actions, calibration, queries, ui
from listening.errors import ListeningError
from listening.store.models import SOURCE_KINDS
from listening.store.sources import SourceSpec

t = ui.t
url = ui.require_store()
st.title(t("page.sources"))
for kind, message in st.session_state.pop("so_flash", []):
    (st.success if kind == "ok" else st.error)(message)

calibration.ratings_notice(url)
health = queries.source_health(url)
st.subheader(t("so.health"))
if health.empty:
    st.info(t("so.none"))
else:
    def state(row: pd.Series) -> str:
        if bool(row["blocked"]):
            return f"{t('so.blocked')}: {row['blocked_reason'] or ''}"
        return str(row["last_error"] or row.get("last_status") or "ok")

    st.dataframe(pd.DataFrame({
        t("so.name"): health["name"], t("kind"): [ui.kind_name(v) for v in health["kind"]], t("brand"): health["brand"],
        t("so.enabled"): health["enabled"].astype(bool), t("so.items"): health["items"],
        t("so.last_run"): [ui.fmt_dt(v) if v is not None else t("so.never") for v in health["last_run_at"]],
        t("so.last_status"): health.get("last_status"), t("so.new_items"): health.get("last_new"),
        t("so.errors"): [len(e) if isinstance(e := ui.as_json(v), list) else 0 for v in health["last_errors"]],
        t("so.next_run"): [ui.fmt_dt(v) for v in health["next_run_at"]],
        t("so.state"): [state(r) for _, r in health.iterrows()],
        t("so.url"): health["url"],
        t("so.updated_by"): [f"{who} · {ui.fmt_dt(at)}" if isinstance(who, str) and who else "—"
                             for who, at in zip(health["updated_by"], health["updated_at"],
                                                strict=True)],
    }), hide_index=True, width="stretch")

work = queries.work_queues(url)
dead = sum(int(q["failures"]) for q in work["queues"].values())
with st.expander(t("so.work"), expanded=dead > 0):
    if dead:
        st.error(t("so.dead_help", n=dead))
    st.dataframe(pd.DataFrame({
        t("so.queue"): list(work["queues"]),
        t("so.pending"): [q["pending"] for q in work["queues"].values()],
        t("so.oldest"): [q["oldest_pending_age_s"] for q in work["queues"].values()],
        t("so.per_min"): [q["done_per_min"] for q in work["queues"].values()],
        t("so.dead"): [q["failures"] for q in work["queues"].values()],
    }), hide_index=True, width="stretch")
    if work["dead_letters"]:
        st.dataframe(pd.DataFrame(work["dead_letters"]), hide_index=True, width="stretch")

if not ui.can("sources"):
    st.caption(t("auth.denied"))
    st.stop()


def flash(kind: str, message: str) -> None:
    st.session_state["so_flash"] = [(kind, message)]
    st.rerun()


if not health.empty:
    names = {int(r.id): str(r.name) for r in health.itertuples()}
    col1, col2 = st.columns([3, 1])
    target: int | None = col1.selectbox(t("source"), list(names),
                                        format_func=lambda i: names.get(i, str(i)),
                                        key="so_enqueue_id")
    if col2.button(t("so.enqueue"), key="so_enqueue") and target is not None:
        try:
            actions.enqueue_crawl(url, int(target), ui.actor())
        except ListeningError as exc:
            st.error(str(exc))
        else:
            flash("ok", t("so.enqueued", name=names[int(target)]))

st.subheader(t("so.add"))
existing_names = [""] + [str(n) for n in health["name"]] if not health.empty else [""]
editing = st.selectbox(t("so.edit"), existing_names, key="so_editing",
                       format_func=lambda n: n or t("so.new"))
current = health[health["name"] == editing].iloc[0] if editing else None
brand_names = [""] + [str(n) for n in queries.brands(url)["name"]]
with st.form("source_form"):
    name = st.text_input(t("so.name"), value=str(current["name"]) if current is not None else "")
    kind = st.selectbox(t("kind"), SOURCE_KINDS,
                        index=SOURCE_KINDS.index(current["kind"]) if current is not None else 0)
    src_url = st.text_input(t("so.url"), value=str(current["url"]) if current is not None else "")
    brand = st.selectbox(
        t("so.brand"), brand_names, accept_new_options=True,
        index=brand_names.index(current["brand"]) if current is not None and current["brand"]
        in brand_names else 0,
    )
    schedule = st.number_input(t("so.schedule"), min_value=1, step=5, value=int(
        current["schedule_minutes"]) if current is not None else 60)
    enabled = st.checkbox(t("so.enabled"), value=bool(current["enabled"]) if current is not None
                          else True)
    submitted = st.form_submit_button(t("so.save"))
if submitted:
    try:
        spec = SourceSpec(name=name.strip(), kind=kind, url=src_url.strip(), brand=brand or None,
                          schedule_minutes=int(schedule), enabled=enabled)
        actions.save_source(url, spec, existing=editing or None, actor=ui.actor())
    except ValidationError as exc:
        err = exc.errors()[0]
        st.error(f"{'.'.join(map(str, err['loc']))}: {err['msg']}")
    except ListeningError as exc:
        st.error(str(exc))
    else:
        flash("ok", t("so.saved", name=spec.name))
