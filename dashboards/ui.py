"""Shared page helpers: language, access control, filters kept in the URL, safe rendering."""

from __future__ import annotations

import functools
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import queries
from dashboards.i18n import LANGUAGES, STRINGS, translate
from listening.accounts import ROLE_ACTIONS, SignedIn
from listening.errors import AccountError
from listening.queries.sql import SENTIMENTS, Filters
from listening.settings import Settings, get_settings
from listening.store.models import SOURCE_KINDS
from listening.store.timezone import local_date
from listening.taxonomy import TopicSet, load_topics

ROLE_PAGES: dict[str, tuple[str, ...]] = {
    "community": ("overview", "explorer", "review", "themes"),
    "support": ("inbox", "explorer", "review"),
    "marketing": ("overview", "competitors", "explorer", "themes"),
    "admin": ("overview", "inbox", "competitors", "explorer", "review", "sources", "themes"),
}


def settings() -> Settings:
    return get_settings()


def db_url() -> str:
    return settings().database_url


def tz() -> str:
    return settings().timezone


# ------------------------------------------------------------------------ language
def lang() -> str:
    value = st.session_state.get("ui_lang") or st.query_params.get("ui") or settings().dashboard.language
    return value if value in LANGUAGES else "fr"


def t(key: str, **values: object) -> str:
    return translate(key, lang(), **values)


def language_picker() -> None:
    current = lang()
    st.session_state.setdefault("ui_lang", current)
    st.sidebar.selectbox(
        "Langue / Language", LANGUAGES, key="ui_lang",
        format_func=lambda code: {"fr": "Français", "en": "English"}[code],
    )


# -------------------------------------------------------------------------- access
def current_user() -> SignedIn | None:
    """Who this run is for (set once per run by dashboards.auth.resolve in app.py)."""
    who = st.session_state.get("auth_current")
    return who if isinstance(who, SignedIn) else None


def current_role() -> str | None:
    """The signed-in user's role (``admin`` in demo mode); None before sign-in."""
    who = current_user()
    return who.role if who is not None else None


def actor() -> str:
    """The username every write records (``demo`` in demo mode)."""
    who = current_user()
    if who is None:
        raise AccountError("not signed in", "sign in again")
    return who.username


def can(action: str) -> bool:
    role = current_role()
    return role is not None and action in ROLE_ACTIONS.get(role, ())


# ----------------------------------------------------------------------- the store
def require_store() -> str:
    """The database URL, or an explanation and a stop when the store is not ready."""
    url = db_url()
    problem = queries.schema_problem(url)
    if problem:
        st.error(t("store_problem", problem=problem))
        st.info(t("store_hint"))
        st.stop()
    return url


# ------------------------------------------------------------------------- filters
def _ints(raw: str | None) -> list[int]:
    return [int(p) for p in (raw or "").split(",") if p.strip().isdigit()]


def _strs(raw: str | None, allowed: tuple[str, ...] | list[str]) -> list[str]:
    return [p for p in (raw or "").split(",") if p in allowed]


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def local_today() -> date:
    """Today where the readers are (date filters are whole days in the settings' zone)."""
    return local_date(datetime.now(UTC), tz())


def filter_sidebar(url: str, show: tuple[str, ...] = ("brand", "kind", "source", "lang", "topic",
                                                       "sent")) -> Filters:
    """Sidebar filters initialised from, and written back to, the URL query parameters."""
    qp = st.query_params
    today = local_today()
    start = _date(qp.get("start")) or today - timedelta(days=settings().dashboard.default_days - 1)
    end = _date(qp.get("end")) or today
    if start > end:
        start, end = end, start
    brand_df = queries.brands(url)
    brand_names = {int(r.id): str(r.name) for r in brand_df.itertuples()}
    source_df = queries.sources(url)
    source_names = {int(r.id): str(r.name) for r in source_df.itertuples()}
    languages = [*settings().collection.languages, "und"]
    topic_ids = taxonomy().ids
    chosen: dict[str, Any] = {}
    with st.sidebar:
        st.subheader(t("filters"))
        all_time = st.checkbox(t("all_time"), value=qp.get("all") == "1", key="f_all",
                               help=t("all_time_help"))
        if all_time:
            first = queries.coverage(url, Filters(start=today, end=today))["first_day"]
            start, end = (date.fromordinal(first) if first else today), today
            st.caption(t("all_time_range", start=start.isoformat(), end=end.isoformat()))
        else:
            picked = st.date_input(t("dates"), value=(start, end), key="f_dates")
            if isinstance(picked, tuple | list) and len(picked) == 2:
                start, end = picked[0], picked[1]
        specs: list[tuple[str, str, list[Any], Any, list[Any]]] = [
            ("brand", "brands", list(brand_names), brand_names.get, _ints(qp.get("brand"))),
            ("kind", "kind", list(SOURCE_KINDS), kind_name, _strs(qp.get("kind"), SOURCE_KINDS)),
            ("source", "source", list(source_names), source_names.get, _ints(qp.get("source"))),
            ("lang", "lang_filter", languages, None, _strs(qp.get("lang"), languages)),
            ("topic", "topic", list(topic_ids), topic_name, _strs(qp.get("topic"), topic_ids)),
            ("sent", "sentiment", list(SENTIMENTS), t, _strs(qp.get("sent"), SENTIMENTS)),
        ]
        for param, label, options, fmt, default in specs:
            if param not in show:
                continue
            default = [d for d in default if d in options]
            chosen[param] = st.multiselect(
                t(label), options, default=default, key=f"f_{param}",
                format_func=fmt or str, placeholder=t("all"),
            )
    qp["start"], qp["end"] = start.isoformat(), end.isoformat()
    if all_time:
        qp["all"] = "1"
    elif "all" in qp:
        del qp["all"]
    for param in ("brand", "kind", "source", "lang", "topic", "sent"):
        values = chosen.get(param)
        if values:
            qp[param] = ",".join(str(v) for v in values)
        elif param in qp:
            del qp[param]
    filters = Filters(
        start=start, end=end,
        brand_ids=tuple(chosen.get("brand", ())), kinds=tuple(chosen.get("kind", ())),
        source_ids=tuple(chosen.get("source", ())), languages=tuple(chosen.get("lang", ())),
        topics=tuple(chosen.get("topic", ())), sentiments=tuple(chosen.get("sent", ())),
        undated=all_time,
    )
    seen = queries.coverage(url, filters)
    hidden = seen["total"] - seen["shown"]
    if hidden:  # never a silent window: say what the filters leave out
        undated = seen["undated"] if not all_time else 0
        st.sidebar.caption(t("hidden", shown=seen["shown"], total=seen["total"], hidden=hidden)
                           + (" " + t("hidden_undated", n=undated) if undated else ""))
    return filters


@functools.lru_cache(maxsize=4)
def _topics(path: str) -> TopicSet:
    return load_topics(path or None)


def taxonomy() -> TopicSet:
    """Topics of the active taxonomy (``nlp.taxonomy``): filter options and labels."""
    return _topics(settings().nlp.taxonomy)


def kind_name(kind: str) -> str:
    """A source kind in the UI language ("review_site" -> "Site d'avis"); platforms as named."""
    return label_value("kind", kind)


def topic_name(topic: str) -> str:
    """A topic's label in the UI language (from the taxonomy's descriptions)."""
    return taxonomy().label(str(topic), lang())


# --------------------------------------------------------------- values and dates
def as_json(value: Any) -> Any:
    """JSON columns come back parsed (PostgreSQL) or as text (SQLite)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def to_local(values: Any) -> pd.Series:
    """Store datetimes (aware, or SQLite text in UTC) as local times in the settings' zone."""
    series = pd.Series(values)
    parsed = pd.to_datetime(series, utc=True, format="ISO8601", errors="coerce")
    return parsed.dt.tz_convert(tz())


def fmt_dt(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    local = to_local([value]).iloc[0]
    return "—" if pd.isna(local) else local.strftime("%Y-%m-%d %H:%M")


# ------------------------------------------------------------------ safe rendering
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")


_AUTOLINK = re.compile(r"(?i)(https?|ftp|www|@)")
_LEADING_SPACE = re.compile(r"^[ \t]+")


def _nbsp(match: re.Match[str]) -> str:
    """Leading spaces as no-break spaces: kept visible, never an indented code block."""
    return "\u00a0" * len(match.group(0))


def escape_markdown(value: str, line_start: bool = True) -> str:
    """Backslash-escape every ASCII punctuation character: no markup, link, HTML or directive.

    A zero-width space after ``http``/``www``/``@`` also stops GFM from turning bare URLs
    and e-mail addresses of untrusted text into clickable links.
    """
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _AUTOLINK.sub(lambda m: m.group(0)[0] + "\u200b" + m.group(0)[1:], value)
    lines = value.split("\n")
    out = [
        _MD_SPECIAL.sub(r"\\\1", _LEADING_SPACE.sub(_nbsp, line) if i or line_start else line)
        for i, line in enumerate(lines)
    ]
    return "  \n".join(out)


def evidence_spans(topics: Any, length: int) -> list[tuple[int, int, str]]:
    """Valid, non-overlapping (start, end, topic) evidence spans, sorted."""
    spans: list[tuple[int, int, str]] = []
    for item in as_json(topics) or []:
        if not isinstance(item, dict):
            continue
        for ev in item.get("evidence") or []:
            try:
                start, end = int(ev["start"]), int(ev["end"])
            except (KeyError, TypeError, ValueError):
                continue
            if 0 <= start < end <= length:
                spans.append((start, end, str(item.get("topic", ""))))
    spans.sort()
    merged: list[tuple[int, int, str]] = []
    for start, end, topic in spans:
        if merged and start < merged[-1][1]:
            continue
        merged.append((start, end, topic))
    return merged


def highlighted_markdown(value: str, topics: Any, max_chars: int = 800) -> str:
    """Escaped text with evidence spans as ``:orange-background[...]`` directives."""
    shown = value[:max_chars]
    out: list[str] = []
    cursor = 0
    for start, end, _topic in evidence_spans(topics, len(shown)):
        out.append(escape_markdown(shown[cursor:start], line_start=cursor == 0))
        inner = escape_markdown(shown[start:end].replace("\n", " "), line_start=start == 0)
        out.append(f":orange-background[{inner}]")
        cursor = end
    out.append(escape_markdown(shown[cursor:], line_start=cursor == 0))
    if len(value) > max_chars:
        out.append("…")
    return "".join(out)


def has_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def routing_note(outcome: str, reason: Any) -> str:
    """Why a verbatim opened no ticket, in the UI language ("Pas de ticket : hors sujet — ...")."""
    label = t(f"routing.{outcome}") if f"routing.{outcome}" in STRINGS else outcome
    why = f" — {reason}" if has_text(reason) else ""
    return f"{t('routing.no_ticket')}: {label}{why}"


def topic_labels(topics: Any) -> str:
    parts = []
    for item in as_json(topics) or []:
        if isinstance(item, dict) and item.get("topic"):
            parts.append(f"{topic_name(item['topic'])} ({t(str(item.get('sentiment') or 'neutral'))})")
    return ", ".join(parts)


def verbatim_cards(df: pd.DataFrame, key: str = "v") -> None:
    """Verbatims as bordered cards: metadata, escaped text with evidence highlighted, link."""
    for row in df.itertuples():
        with st.container(border=True):
            from dashboards.channels import icon

            meta = " · ".join(str(p) for p in (
                fmt_dt(row.published_at), f"{icon(getattr(row, 'kind', ''))} {row.source}".strip(),
                row.brand, row.language or "?",
                t(str(row.sentiment)) if row.sentiment else "—",
            ))
            st.caption(escape_markdown(meta))
            if has_text(row.title):
                st.markdown("**" + escape_markdown(str(row.title)) + "**")
            st.markdown(highlighted_markdown(str(row.text), row.topics))
            labels = topic_labels(row.topics)
            if labels:
                st.caption(escape_markdown(labels))
            if isinstance(row.url, str) and row.url.startswith(("http://", "https://")):
                st.link_button(t("open_source"), row.url, key=f"lnk_{key}_{row.id}")


def marked_text(value: str, topics: Any, max_chars: int = 500) -> str:
    """Plain text with the evidence spans between ⟦ ⟧, on one line (for table cells, which
    show text as typed: no markup, link or HTML is ever rendered)."""
    shown = value[:max_chars]
    out: list[str] = []
    cursor = 0
    for start, end, _topic in evidence_spans(topics, len(shown)):
        out += [shown[cursor:start], "⟦", shown[start:end], "⟧"]
        cursor = end
    out.append(shown[cursor:])
    text = " ".join("".join(out).split())
    return text + ("…" if len(value) > max_chars else "")


def label_value(prefix: str, value: Any) -> str:
    """A stored code in the UI language (``status.new`` -> "Nouveau"), else as stored."""
    key = f"{prefix}.{value}"
    return t(key) if key in STRINGS else str(value)


def verbatim_table(df: pd.DataFrame, key: str = "v") -> None:
    """Verbatims as one dense, sortable table: date, source, brand, sentiment, topic labels,
    text with the evidence marked ⟦ ⟧ and a link to the source (http/https only)."""
    from dashboards.channels import icon

    titles = [f"{title} — " if has_text(title) else "" for title in df["title"]]
    table = pd.DataFrame({
        "date": to_local(df["published_at"]).dt.tz_localize(None).to_numpy(),
        "source": [f"{icon(str(k))} {s}".strip() for k, s in zip(df["kind"], df["source"],
                                                                 strict=True)],
        "brand": df["brand"].to_numpy(),
        "sentiment": [t(str(v)) if has_text(v) else "—" for v in df["sentiment"]],
        "topics": [topic_labels(v) for v in df["topics"]],
        "text": [head + marked_text(str(text), topics) for head, text, topics in
                 zip(titles, df["text"], df["topics"], strict=True)],
        "url": [u if isinstance(u, str) and u.startswith(("http://", "https://")) else None
                for u in df["url"]],
    })
    config = st.column_config
    st.dataframe(table, hide_index=True, width="stretch", key=f"{key}_verbatims", column_config={
        "date": config.DatetimeColumn(t("date"), format="YYYY-MM-DD HH:mm"),
        "source": config.TextColumn(t("source")),
        "brand": config.TextColumn(t("brand")),
        "sentiment": config.TextColumn(t("sentiment")),
        "topics": config.TextColumn(t("topics")),
        "text": config.TextColumn(t("text"), width="large"),
        "url": config.LinkColumn(t("link"), display_text=t("open_source")),
    })


def export_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy fit for CSV: topics as labels, dates local."""
    out = df.copy()
    if "topics" in out:
        out["topics"] = [topic_labels(v) for v in out["topics"]]
    if "published_at" in out:
        out["published_at"] = [fmt_dt(v) for v in out["published_at"]]
    return out


def fold(value: str) -> str:
    """Lower case without accents, same length as ``value`` (for highlighting matches)."""
    import unicodedata

    out = []
    for ch in value:
        base = unicodedata.normalize("NFD", ch)[0]
        out.append(base.lower() if len(base.lower()) == 1 else ch)
    return "".join(out)
