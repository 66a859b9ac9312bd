"""Drawing on a PDF canvas: laid-out text, QR codes, the frame and rules, a certificate page.

`render_page` draws a certificate page from `signing.cert_layout`'s lines and adds what
carries no text: the frame, the rules, the details panel, the QR code and the box of the
honest label. The summary (`signing.summary`) draws with the same primitives.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import qrcode
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from ledger.errors import InvalidInput

from .cert_layout import (
    AMBER,
    AMBER_BG,
    GOLD,
    LABEL_TOP,
    LEFT,
    NAVY,
    PANEL,
    PANEL_EDGE,
    PANEL_TOP,
    QR_SIZE,
    RIGHT,
    ROW,
    H,
    Text,
    W,
    certificate_layout,
)
from .cert_words import Presentation, verify_url, words
from .facts import SignatureFacts


def new_canvas(buf: io.BytesIO) -> Canvas:
    """An A4 canvas that writes the same bytes for the same drawing (no dates, no random ids)."""
    return Canvas(buf, pagesize=A4, invariant=True, pageCompression=True)


def qr_matrix(data: str, mask: int | None = None) -> list[list[bool]]:
    """The QR symbol of `data` (error correction Q: survives a crease or a stamp), no quiet zone.

    `mask`: the mask pattern (0-7); None lets the encoder try all eight and keep the best,
    which costs some 50 ms a symbol (a document of 60 QR codes fixes it)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=0, mask_pattern=mask)
    qr.add_data(data)
    qr.make(fit=True)
    matrix: list[list[bool]] = qr.get_matrix()
    return matrix


def draw_qr(c: Canvas, data: str, x: float, y: float, size: float, mask: int | None = None) -> None:
    """Draw a QR code as vector squares with its four-module white quiet zone around it."""
    matrix = qr_matrix(data, mask)
    n = len(matrix)
    m = size / n
    c.saveState()
    c.setFillColor(white)
    c.rect(x - 4 * m, y - 4 * m, size + 8 * m, size + 8 * m, stroke=0, fill=1)
    c.setFillColor(HexColor("#000000"))
    for r, row in enumerate(matrix):
        start = None
        for col, dark in enumerate([*row, False]):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                c.rect(x + start * m, y + size - (r + 1) * m, (col - start) * m, m, stroke=0, fill=1)
                start = None
    c.restoreState()


def draw_texts(c: Canvas, texts: Sequence[Text]) -> None:
    for t in texts:
        c.setFont(t.font, t.size)
        c.setFillColor(t.color)
        y = H - t.top
        if t.align == "c":
            c.drawCentredString(t.x, y, t.text)
        elif t.align == "r":
            c.drawRightString(t.x, y, t.text)
        else:
            c.drawString(t.x, y, t.text)


def draw_frame(c: Canvas) -> None:
    """The page's double border with gold diamonds at its corners."""
    c.saveState()
    c.setStrokeColor(NAVY)
    c.setLineWidth(1.6)
    c.rect(22, 22, W - 44, H - 44)
    c.setStrokeColor(GOLD)
    c.setLineWidth(0.6)
    c.rect(28, 28, W - 56, H - 56)
    c.setFillColor(GOLD)
    for cx, cy in ((28, 28), (W - 28, 28), (28, H - 28), (W - 28, H - 28)):
        p = c.beginPath()
        p.moveTo(cx, cy - 5)
        p.lineTo(cx + 5, cy)
        p.lineTo(cx, cy + 5)
        p.lineTo(cx - 5, cy)
        p.close()
        c.drawPath(p, stroke=0, fill=1)
    c.restoreState()


def draw_rule(c: Canvas, top: float, half: float, color: Color = GOLD, width: float = 0.8) -> None:
    """A centred horizontal rule `2 * half` wide at `top` (from the page's top)."""
    c.saveState()
    c.setStrokeColor(color)
    c.setLineWidth(width)
    c.line(W / 2 - half, H - top, W / 2 + half, H - top)
    c.restoreState()


def render_page(facts: SignatureFacts, ledger_key_fingerprint: str, pres: Presentation) -> bytes:
    """The certificate's page alone, as a one-page PDF.

    Raises InvalidInput for an unknown language or a title too long for the page.
    """
    layout = certificate_layout(facts, ledger_key_fingerprint, pres)
    buf = io.BytesIO()
    c = new_canvas(buf)
    w = words(pres.lang)
    c.setTitle(f"{w['title'].title()} {facts.index}: {facts.name}")
    c.setAuthor(facts.org)
    c.setSubject(facts.commitment_title)
    c.setCreator("Ikrar")
    draw_frame(c)
    draw_rule(c, 106, 150)
    draw_rule(c, 192, 40, width=1.4)
    if layout.title_bottom > PANEL_TOP - 14:
        raise InvalidInput("the commitment title is too long to print on one page")
    # details panel
    c.saveState()
    c.setFillColor(PANEL)
    c.setStrokeColor(PANEL_EDGE)
    c.setLineWidth(0.6)
    panel_h = 6 * ROW + 12
    c.roundRect(LEFT, H - PANEL_TOP - panel_h, RIGHT - LEFT, panel_h, 6, stroke=1, fill=1)
    c.restoreState()
    qr_x = RIGHT - 14 - QR_SIZE - 8
    draw_qr(c, verify_url(pres.base_url, facts), qr_x, H - PANEL_TOP - 16 - QR_SIZE - 4, QR_SIZE)
    # honest-label box
    label_lines = [t for t in layout.texts if t.top >= LABEL_TOP and t.top < 800]
    box_bottom = max(t.top for t in label_lines) + 7
    c.saveState()
    c.setFillColor(AMBER_BG)
    c.setStrokeColor(AMBER)
    c.setLineWidth(0.8)
    c.roundRect(LEFT + 10, H - box_bottom, RIGHT - LEFT - 20, box_bottom - 698, 5, stroke=1, fill=1)
    c.restoreState()
    draw_texts(c, layout.texts)
    c.showPage()
    c.save()
    return buf.getvalue()
