"""The city's documents as laid-out pages: text, rules, boxes, QR codes and the emblem.

A document (`Document`) is pages of drawing operations placed on A4, measured with its
`Fonts`; `render` draws it as a PDF, `page_texts` lists each page's lines of text, which a
verifier compares with what a page shows. Laying out is pure (the newer certificate in
`cert_formal`, the naskah in `naskah`); drawing is here, deterministic: the same document
gives the same bytes. Colours are dark enough for a black-and-white office printer.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, TextStringObject
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from .cert_draw import draw_qr, new_canvas
from .doc_fonts import Fonts
from .doc_kop import Letterhead, page_number, placeholder_words

W, H = A4
LEFT, RIGHT = 56.0, W - 56.0
INK = HexColor("#111111")
NAVY = HexColor("#1F3A5F")
GREY = HexColor("#444B55")  # secondary text: still dark on a black-and-white printer
EDGE = HexColor("#5A6270")
QR_MASK = 2  # fixed: choosing the best of eight masks costs 50 ms a code, seconds for a naskah
KOP_BOTTOM = 132.0  # where the letterhead's double rule ends, from the page's top


@dataclass(frozen=True)
class Txt:
    """One line of text: `top` is its baseline measured from the page's top edge."""

    text: str
    role: str
    size: float
    x: float
    top: float
    align: str = "l"  # l, c or r
    color: Color = INK


@dataclass(frozen=True)
class Rule:
    x1: float
    x2: float
    top: float
    width: float = 0.8
    color: Color = INK
    dash: tuple[float, ...] = ()


@dataclass(frozen=True)
class Box:
    x: float
    top: float
    w: float
    h: float
    width: float = 0.8
    color: Color = INK
    dash: tuple[float, ...] = ()
    radius: float = 0.0


@dataclass(frozen=True)
class Qr:
    """A QR code of `data`, `size` wide (without its quiet zone), its top-left at (x, top); a link too."""

    data: str
    x: float
    top: float
    size: float


@dataclass(frozen=True)
class Emblem:
    """The government's emblem (the document's image), or a drawn placeholder, in a `size` square."""

    x: float
    top: float
    size: float


Op = Txt | Rule | Box | Qr | Emblem


@dataclass(frozen=True)
class Document:
    """The laid-out pages of one document, and what its PDF says about itself."""

    pages: tuple[tuple[Op, ...], ...]
    fonts: Fonts
    title: str
    author: str
    subject: str
    lang: str
    created: datetime
    emblem: bytes | None = field(default=None, repr=False)


def page_texts(doc: Document) -> list[list[str]]:
    """Each page's lines of text, in the order drawn, as printed (characters no font has as "?")."""
    return [[doc.fonts.printed(op.text, op.role) for op in page if isinstance(op, Txt)] for page in doc.pages]


def emblem_name(emblem: bytes) -> str:
    return hashlib.sha256(emblem).hexdigest()


def _draw_emblem(c: Canvas, op: Emblem, image: bytes | None) -> None:
    y = H - op.top - op.size
    if image is not None:
        c.drawImage(ImageReader(io.BytesIO(image)), op.x, y, op.size, op.size, preserveAspectRatio=True, mask="auto")
        return
    # the placeholder: a plain shield outline; its words ("LAMBANG", "contoh") are texts of the page
    c.saveState()
    c.setStrokeColor(INK)
    c.setLineWidth(1.0)
    c.setDash(3, 2)
    s, x = op.size, op.x
    p = c.beginPath()
    p.moveTo(x + 0.08 * s, y + 0.95 * s)
    p.lineTo(x + 0.92 * s, y + 0.95 * s)
    p.lineTo(x + 0.92 * s, y + 0.45 * s)
    p.curveTo(x + 0.92 * s, y + 0.2 * s, x + 0.6 * s, y + 0.08 * s, x + 0.5 * s, y + 0.02 * s)
    p.curveTo(x + 0.4 * s, y + 0.08 * s, x + 0.08 * s, y + 0.2 * s, x + 0.08 * s, y + 0.45 * s)
    p.close()
    c.drawPath(p, stroke=1, fill=0)
    c.restoreState()


def _draw(c: Canvas, op: Op, doc: Document) -> None:
    if isinstance(op, Txt):
        c.setFillColor(op.color)
        doc.fonts.draw(c, op.x, H - op.top, op.text, op.role, op.size, op.align)
    elif isinstance(op, Rule):
        c.saveState()
        c.setStrokeColor(op.color)
        c.setLineWidth(op.width)
        if op.dash:
            c.setDash(list(op.dash))
        c.line(op.x1, H - op.top, op.x2, H - op.top)
        c.restoreState()
    elif isinstance(op, Box):
        c.saveState()
        c.setStrokeColor(op.color)
        c.setFillColor(white)
        c.setLineWidth(op.width)
        if op.dash:
            c.setDash(list(op.dash))
        if op.radius:
            c.roundRect(op.x, H - op.top - op.h, op.w, op.h, op.radius, stroke=1, fill=0)
        else:
            c.rect(op.x, H - op.top - op.h, op.w, op.h, stroke=1, fill=0)
        c.restoreState()
    elif isinstance(op, Qr):
        draw_qr(c, op.data, op.x, H - op.top - op.size, op.size, QR_MASK)
        c.linkURL(op.data, (op.x, H - op.top - op.size, op.x + op.size, H - op.top), relative=0)
    else:
        _draw_emblem(c, op, doc.emblem)


def pdf_date(moment: datetime) -> str:
    """A PDF date (``D:20260106030000+00'00'``) of an aware `moment`, in UTC."""
    return moment.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")


def render_pages(doc: Document) -> bytes:
    """The document's pages as a PDF, without attachments or metadata beyond reportlab's."""
    buf = io.BytesIO()
    c = new_canvas(buf)
    c.setTitle(doc.title)
    c.setAuthor(doc.author)
    c.setSubject(doc.subject)
    c.setCreator("Ikrar")
    for page in doc.pages:
        for op in page:
            _draw(c, op, doc)
        c.showPage()
    c.save()
    return buf.getvalue()


def finish(pages: bytes, doc: Document, attachments: dict[str, bytes], metadata: dict[str, str]) -> bytes:
    """The PDF file: `pages` with `attachments` embedded, its language, and its creation date
    (the moment it was printed) in its metadata."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pages)))
    for name, data in attachments.items():
        writer.add_attachment(name, data)
    date = pdf_date(doc.created)
    writer.add_metadata({"/CreationDate": date, "/ModDate": date, **metadata})
    writer._root_object[NameObject("/Lang")] = TextStringObject(doc.lang)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def wrap(fonts: Fonts, text: str, role: str, size: float, width: float) -> list[str]:
    """`text` broken into lines no wider than `width`: at spaces, and inside a word wider than
    a line by itself. An empty text is one empty line."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if fonts.width(candidate, role, size) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = word
            while len(line) > 1 and fonts.width(line, role, size) > width:
                k = len(line) - 1
                while k > 1 and fonts.width(line[:k], role, size) > width:
                    k -= 1
                lines.append(line[:k])
                line = line[k:]
        lines.append(line)
    return lines


def fit(fonts: Fonts, text: str, role: str, size: float, width: float, smallest: float) -> float:
    """The largest size, from `size` down in half points to `smallest`, at which `text` fits `width`."""
    while size > smallest and fonts.width(text, role, size) > width:
        size -= 0.5
    return size


def kop(fonts: Fonts, head: Letterhead, government: str, origin_line: str, lang: str) -> list[Op]:
    """The letterhead's drawing: the emblem (or its placeholder) left, the government, the
    office and its address centred right of it, and the double rule under them."""
    ops: list[Op] = [Emblem(LEFT, 34, 74)]
    if head.emblem is None:
        for k, word in enumerate(placeholder_words(lang)):
            ops.append(Txt(word, "sans-bold" if k < 2 else "sans", 6.5, LEFT + 37, 62 + 8.5 * k, "c"))
    left = LEFT + 84
    cx, width = (left + RIGHT) / 2, RIGHT - left
    gov = government.upper()
    ops.append(Txt(gov, "serif-bold", fit(fonts, gov, "serif-bold", 15, width, 9), cx, 58, "c"))
    office = head.office.upper()
    ops.append(Txt(office, "serif-bold", fit(fonts, office, "serif-bold", 17, width, 9), cx, 80, "c"))
    top = 96.0
    for line in wrap(fonts, head.address, "sans", 8.5, width)[:2] if head.address else []:
        ops.append(Txt(line, "sans", 8.5, cx, top, "c"))
        top += 10.5
    ops.append(Txt(origin_line, "sans", 7.5, cx, max(top, 106) + 2, "c"))
    ops += [Rule(LEFT, RIGHT, KOP_BOTTOM - 4, 2.2), Rule(LEFT, RIGHT, KOP_BOTTOM - 0.6, 0.6)]
    return ops


def footed(pages: list[list[Op]], printed: str, lang: str) -> tuple[tuple[Op, ...], ...]:
    """The pages, each with the footer: a rule, `printed` (when and what) and "Halaman n dari N"."""
    total = len(pages)
    return tuple(
        (
            *page,
            Rule(LEFT, RIGHT, 800, 0.5),
            Txt(printed, "sans", 7.5, LEFT, 812),
            Txt(page_number(n, total, lang), "sans", 7.5, RIGHT, 812, "r"),
        )
        for n, page in enumerate(pages, 1)
    )
