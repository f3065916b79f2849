"""A :class:`Report` as sections of text and tables, then as Markdown or self-contained HTML.

:func:`sections` formats every figure once (numbers in the report's language); the
Markdown, HTML and PDF renderers only lay them out. User text (verbatims, brand, source
and theme names) is escaped in Markdown and HTML, never interpreted.
"""

from __future__ import annotations

import base64
import html
import math
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from listening.queries.stats import MIN_N
from listening.reports.build import Kpi, Report
from listening.reports.i18n import fmt_day, fmt_number, t


@dataclass
class Quote:
    text: str
    truncated: bool
    meta: str
    url: str | None


@dataclass
class Section:
    title: str
    notes: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    charts: bool = False  # the charts go after this section


def _net(value: float, lang: str) -> str:
    return "–" if math.isnan(value) else fmt_number(value * 100, lang, sign=True)


def _change(cur: float, prev: float, lang: str) -> str:
    diff = fmt_number(cur - prev, lang, sign=True)
    if prev:
        return f"{diff} ({fmt_number((cur - prev) / prev * 100, lang, sign=True)} %)"
    return diff


def _kpi_row(k: Kpi, lang: str) -> list[str]:
    if k.percent:
        return [
            t(f"kpi.{k.key}", lang),
            _net(k.value, lang),
            _net(k.previous, lang),
            "–"
            if math.isnan(k.value - k.previous)
            else fmt_number((k.value - k.previous) * 100, lang, sign=True) + " pts",
        ]
    return [
        t(f"kpi.{k.key}", lang),
        fmt_number(k.value, lang),
        fmt_number(k.previous, lang),
        _change(k.value, k.previous, lang),
    ]


def title(report: Report) -> str:
    return t("title", report.lang, brand=report.brand or t("all_brands", report.lang))


def period_line(report: Report) -> str:
    lang, p, q = report.lang, report.period, report.previous
    return t(
        "period",
        lang,
        start=fmt_day(p.start, lang),
        end=fmt_day(p.end, lang),
        kind=t(f"kind.{p.kind}", lang),
        pstart=fmt_day(q.start, lang),
        pend=fmt_day(q.end, lang),
    )


def generated_line(report: Report, tz: str = "UTC") -> str:
    at = report.generated_at.astimezone(ZoneInfo(tz))
    return t("generated", report.lang, at=f"{fmt_day(at.date(), report.lang)} {at:%H:%M} ({tz})")


def sections(report: Report, tz: str = "UTC") -> list[Section]:
    lang = report.lang
    out: list[Section] = []
    kpis = Section(
        t("kpis", lang),
        header=[
            t("col.figure", lang),
            t("col.value", lang),
            t("col.previous", lang),
            t("col.change", lang),
        ],
    )
    kpis.rows = [_kpi_row(k, lang) for k in report.kpis]
    if report.empty:
        kpis.notes.append(t("no_data", lang))
    out.append(kpis)
    if report.topics:
        topics = Section(
            t("topics", lang),
            charts=True,
            header=[
                t("col.topic", lang),
                t("col.mentions", lang),
                t("col.change", lang),
                t("col.net", lang),
                t("col.net_change", lang),
            ],
        )
        for r in report.topics:
            net_change = (
                "–"
                if math.isnan(r.net) or math.isnan(r.previous_net)
                else (fmt_number((r.net - r.previous_net) * 100, lang, sign=True) + " pts")
            )
            topics.rows.append(
                [
                    r.label,
                    fmt_number(r.n, lang),
                    _change(r.n, r.previous_n, lang),
                    _net(r.net, lang),
                    net_change,
                ]
            )
        out.append(topics)
    if report.reference:
        ref = report.reference
        comp = Section(
            t("competitors", lang), notes=[t("competitors_note", lang, brand=ref, min_n=MIN_N)]
        )
        if report.competitors:
            comp.header = [
                t("col.competitor", lang),
                t("col.topic", lang),
                t("col.theirs", lang),
                t("col.ours", lang, brand=ref),
                t("col.verdict", lang),
            ]
            comp.rows = [
                [
                    d.brand,
                    d.label,
                    f"{_net(d.net, lang)} (n = {d.n})",
                    f"{_net(d.reference_net, lang)} (n = {d.reference_n})",
                    ("▲ " + t("better", lang, brand=ref))
                    if d.better
                    else ("▼ " + t("worse", lang, brand=ref)),
                ]
                for d in report.competitors
            ]
        else:
            comp.notes.append(t("competitors_none", lang))
        out.append(comp)
    if report.sla is not None:
        s = report.sla
        sla = Section(t("sla", lang), header=[t("col.figure", lang), t("col.value", lang)])
        if s.teams:
            sla.notes.append(t("sla.team", lang, team=", ".join(s.teams)))
        median = (
            t("sla.hours", lang, h=fmt_number(s.median_first_response_hours, lang, 1))
            if s.median_first_response_hours is not None
            else t("sla.na", lang)
        )
        sla.rows = [
            [t("sla.opened", lang), fmt_number(s.opened, lang)],
            [t("sla.closed", lang), fmt_number(s.closed, lang)],
            [t("sla.breached", lang), fmt_number(s.breached, lang)],
            [t("sla.median", lang), median],
        ]
        out.append(sla)
    if report.themes:
        out.append(
            Section(
                t("themes", lang),
                header=[t("col.theme", lang), t("col.size", lang)],
                rows=[[th.label, fmt_number(th.size, lang)] for th in report.themes],
            )
        )
    if report.verbatims:
        zone = ZoneInfo(tz)
        verb = Section(
            t("verbatims", lang),
            notes=[t("verbatims_note", lang, method=t(f"method.{report.verbatim_method}", lang))],
        )
        for v in report.verbatims:
            when = fmt_day(v.published_at.astimezone(zone).date(), lang) if v.published_at else "?"
            sentiment = (
                t(f"sentiment.{v.sentiment}", lang)
                if v.sentiment in ("positive", "negative", "neutral")
                else ""
            )
            meta = " · ".join(x for x in (v.topic_label, sentiment, v.brand, v.source, when) if x)
            verb.quotes.append(Quote(v.text, v.truncated, meta, v.url))
        out.append(verb)
    return out


# ------------------------------------------------------------------------ Markdown
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~$&])")


def md_escape(text: str) -> str:
    """Backslash-escape the Markdown (and HTML) active characters: links, emphasis, code,
    tables, headings, math and raw HTML all need one of them, so none can start."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def to_markdown(report: Report, tz: str = "UTC") -> str:
    lines = [
        f"# {md_escape(title(report))}",
        "",
        md_escape(period_line(report)) + "  ",
        md_escape(generated_line(report, tz)),
        "",
    ]
    for sec in sections(report, tz):
        lines += [f"## {md_escape(sec.title)}", ""]
        lines += [md_escape(n) + "\n" for n in sec.notes]
        if sec.rows:
            lines.append("| " + " | ".join(md_escape(h) for h in sec.header) + " |")
            lines.append("|" + "|".join(" --- " for _ in sec.header) + "|")
            lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in sec.rows]
            lines.append("")
        for q in sec.quotes:
            lines.append(f"> « {md_escape(q.text)}{' …' if q.truncated else ''} »  ")
            lines.append(f"> — {md_escape(q.meta)}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------------------- HTML
_CSS = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;color:#222;max-width:860px;margin:2em auto;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;border-bottom:1px solid #ccc;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #ddd;padding:.3em .6em;text-align:left}
th{background:#f3f5f8}td.num{text-align:right}.meta{color:#666;font-size:.9em}
blockquote{margin:.8em 0;padding:.4em 1em;border-left:4px solid #1f5fa8;background:#f7f9fc}
img{max-width:100%;height:auto;margin:.5em 0}
"""


def _cell(value: str, first: bool) -> str:
    numeric = not first and bool(re.match(r"^[+\-–▲▼0-9]", value))
    cls = ' class="num"' if numeric else ""
    return f"<td{cls}>{html.escape(value)}</td>"


def to_html(report: Report, charts: list[bytes] | None = None, tz: str = "UTC") -> str:
    """One self-contained page: styles inline, charts as ``data:image/png`` URIs."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{report.lang}"><head><meta charset="utf-8">',
        f"<title>{e(title(report))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title(report))}</h1>",
        f'<p class="meta">{e(period_line(report))}<br>{e(generated_line(report, tz))}</p>',
    ]
    for sec in sections(report, tz):
        parts.append(f"<h2>{e(sec.title)}</h2>")
        parts += [f"<p>{e(n)}</p>" for n in sec.notes]
        if sec.rows:
            parts.append(
                "<table><thead><tr>"
                + "".join(f"<th>{e(h)}</th>" for h in sec.header)
                + "</tr></thead><tbody>"
            )
            parts += [
                "<tr>" + "".join(_cell(c, i == 0) for i, c in enumerate(row)) + "</tr>"
                for row in sec.rows
            ]
            parts.append("</tbody></table>")
        if sec.charts:
            for png in charts or []:
                data = base64.b64encode(png).decode("ascii")
                parts.append(f'<img alt="{e(sec.title)}" src="data:image/png;base64,{data}">')
        for q in sec.quotes:
            link = (
                f' <a href="{e(q.url)}">↗</a>'
                if q.url and q.url.startswith(("http://", "https://"))
                else ""
            )
            parts.append(
                f"<blockquote><p>« {e(q.text)}{' …' if q.truncated else ''} »</p>"
                f'<p class="meta">— {e(q.meta)}{link}</p></blockquote>'
            )
    parts.append("</body></html>")
    return "\n".join(parts)
