"""A :class:`Report` as an A4 PDF (fpdf2), charts embedded as PNG images.

French text (accents, €, ’, «  ») needs a Unicode TrueType font: the DejaVu Sans files
shipped inside matplotlib's package data are embedded (subset), so the PDF renders the
same everywhere and no system font path is involved.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

from listening.errors import ReportError
from listening.reports.build import Report
from listening.reports.markup import generated_line, period_line, sections, title

FONT = "DejaVu"
MARGIN = 15  # mm


def font_dir() -> Path:
    """matplotlib's ``mpl-data/fonts/ttf`` folder, found without importing matplotlib."""
    spec = importlib.util.find_spec("matplotlib")
    folder = None
    if spec is not None and spec.submodule_search_locations:
        folder = Path(list(spec.submodule_search_locations)[0]) / "mpl-data" / "fonts" / "ttf"
    if folder is None or not (folder / "DejaVuSans.ttf").is_file():
        raise ReportError(
            "the PDF font (DejaVu Sans, shipped by matplotlib) is missing",
            "reinstall listening with its dependencies (pip install matplotlib)",
        )
    return folder


def to_pdf(report: Report, charts: list[bytes] | None = None, tz: str = "UTC") -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    fonts = font_dir()
    pdf.add_font(FONT, "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.add_font(FONT, "I", str(fonts / "DejaVuSans-Oblique.ttf"))
    pdf.set_title(title(report))
    pdf.set_lang(report.lang)
    pdf.set_creator("listening")
    pdf.add_page()
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(0, 8, title(report), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(0, 5, period_line(report), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 5, generated_line(report, tz), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    heading = FontFace(emphasis="BOLD", fill_color=(235, 240, 247))
    for sec in sections(report, tz):
        if pdf.will_page_break(30):
            pdf.add_page()
        pdf.ln(4)
        pdf.set_font(FONT, "B", 12)
        pdf.multi_cell(0, 7, sec.title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 9)
        for note in sec.notes:
            pdf.multi_cell(0, 5, note, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        if sec.rows:
            widths = (1.6,) + (1.0,) * (len(sec.header) - 1)  # names need the room
            with pdf.table(
                headings_style=heading,
                line_height=5,
                text_align="LEFT",
                first_row_as_headings=True,
                col_widths=widths,
            ) as table:
                for row in [sec.header, *sec.rows]:
                    cells = table.row()
                    for value in row:
                        cells.cell(value)
        if sec.charts:
            for png in charts or []:
                pdf.ln(3)
                width = pdf.epw * 0.9
                if pdf.will_page_break(width * 0.55):
                    pdf.add_page()
                pdf.image(io.BytesIO(png), x=MARGIN + pdf.epw * 0.05, w=width)
        for q in sec.quotes:
            if pdf.will_page_break(20):
                pdf.add_page()
            pdf.ln(2)
            pdf.set_font(FONT, "I", 9.5)
            pdf.set_draw_color(31, 95, 168)
            y0 = pdf.get_y()
            pdf.set_x(MARGIN + 4)
            pdf.multi_cell(
                pdf.epw - 4,
                5,
                f"« {q.text}{' …' if q.truncated else ''} »",
                new_x="LMARGIN",
                new_y="NEXT",
            )
            pdf.set_font(FONT, "", 8)
            pdf.set_text_color(90, 90, 90)
            pdf.set_x(MARGIN + 4)
            pdf.multi_cell(pdf.epw - 4, 4.5, f"— {q.meta}", new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
            if pdf.get_y() > y0:
                pdf.set_line_width(0.8)
                pdf.line(MARGIN + 1, y0, MARGIN + 1, pdf.get_y())
    return bytes(pdf.output())
