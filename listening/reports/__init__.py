"""Reports and digests (docs/INSIGHTS.md): a period's figures as Markdown, HTML or PDF.

- :mod:`listening.reports.build`: :func:`build_report`, the figures as plain data, read
  through :mod:`listening.queries` (no Streamlit, no dashboard);
- :mod:`listening.reports.markup` / :mod:`listening.reports.pdf` / :mod:`listening.reports.charts`:
  Markdown, self-contained HTML, PDF with PNG charts;
- :mod:`listening.reports.digest`: the e-mailed weekly digest per team or role.
"""

from __future__ import annotations

from listening.reports.build import Report, build_report
from listening.reports.period import Period, resolve_period

FORMATS: tuple[str, ...] = ("md", "html", "pdf")


def render(report: Report, fmt: str, tz: str = "UTC") -> bytes:
    """The report as bytes in ``fmt`` (md, html or pdf); HTML and PDF carry the charts."""
    from listening.errors import ReportError
    from listening.reports.markup import to_html, to_markdown

    if fmt not in FORMATS:
        raise ReportError(f"unknown format {fmt!r}", f"valid formats: {', '.join(FORMATS)}")
    if fmt == "md":
        return to_markdown(report, tz).encode("utf-8")
    from listening.reports.charts import charts

    images = charts(report)
    if fmt == "html":
        return to_html(report, images, tz).encode("utf-8")
    from listening.reports.pdf import to_pdf

    return to_pdf(report, images, tz)


__all__ = ["FORMATS", "Period", "Report", "build_report", "render", "resolve_period"]
