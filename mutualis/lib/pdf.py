"""Letters as PDF (fpdf2): the sender, the recipient's address in the window of a DL envelope,
the date, the subject, the body, a footer. Only the PDF standard fonts are used, so the text is
written in Windows-1252 (what those fonts can show): every French character is in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from fpdf import FPDF


def pdf_text(text: str) -> str:
    """Text the standard fonts can write; a character outside Windows-1252 becomes "?"."""
    text = text.replace("\u202f", "\u00a0").replace("\u2019", "'")
    return text.encode("cp1252", "replace").decode("cp1252")


@dataclass(frozen=True)
class Letter:
    sender: str  # several lines
    address: list[str]
    date_line: str  # "Paris, le 5 février 2027"
    subject: str
    body: str  # paragraphs separated by blank lines
    footer: str = ""
    table: list[tuple[str, str]] | None = None  # two columns after the body (label, amount)


def render(letters: list[Letter], *, title: str, author: str) -> bytes:
    """One page (or more) per letter, in one PDF."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_title(pdf_text(title))
    pdf.set_author(pdf_text(author))
    for letter in letters:
        pdf.add_page()
        pdf.set_font("helvetica", size=10)
        pdf.set_xy(20, 15)
        pdf.multi_cell(85, 5, pdf_text(letter.sender))
        pdf.set_font("helvetica", size=11)
        pdf.set_xy(110, 50)  # the window of a DL envelope
        pdf.multi_cell(85, 5.5, pdf_text("\n".join(line for line in letter.address if line)))
        pdf.set_xy(20, 90)
        pdf.cell(0, 6, pdf_text(letter.date_line), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_x(20)
        pdf.set_font("helvetica", style="B", size=11)
        pdf.multi_cell(170, 6, pdf_text(f"Objet : {letter.subject}"))
        pdf.ln(3)
        pdf.set_font("helvetica", size=11)
        for paragraph in letter.body.strip().split("\n\n"):
            pdf.set_x(20)
            pdf.multi_cell(170, 5.5, pdf_text(" ".join(paragraph.split())))
            pdf.ln(2.5)
        if letter.table:
            pdf.ln(2)
            for label, value in letter.table:
                pdf.set_x(20)
                pdf.cell(120, 6, pdf_text(label), border="B")
                pdf.cell(
                    50, 6, pdf_text(value), border="B", align="R", new_x="LMARGIN", new_y="NEXT"
                )
            pdf.ln(4)
        if letter.footer:
            pdf.ln(4)
            pdf.set_font("helvetica", size=8)
            pdf.set_x(20)
            pdf.multi_cell(170, 4, pdf_text(letter.footer))
    return bytes(pdf.output())
