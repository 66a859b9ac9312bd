"""Where each line of a certificate goes: the page's geometry, colours, and every line of text.

`certificate_layout` places every line of text of a certificate page (font, size, colour,
position), fitting long names and titles to the width they have; `page_lines` is that
text alone, which a verifier compares with what a page shows. Measuring text uses the
standard fonts' metrics; nothing here draws (that is `signing.cert_draw`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth

from ledger.entries import format_time
from ledger.nip import is_nip

from .cert_words import Presentation, format_nip, verify_url, vouching_words, words
from .facts import SignatureFacts
from .wording import format_short_wib, format_wib

W, H = A4
LEFT, RIGHT = 62.0, W - 62.0
QR_SIZE = 3.8 * cm  # the symbol without its quiet zone: scans off paper from a phone at arm's length
PANEL_TOP = 488.0  # the details panel's top edge, from the page's top
ROW = 27.0  # one label and its value in the details panel
LABEL_TOP = 712.0  # the honest label's first line

NAVY = HexColor("#1F3A5F")
GOLD = HexColor("#B08D3C")
GREY = HexColor("#5A6270")
INK = HexColor("#1B1F24")
PANEL = HexColor("#F5F7FA")
PANEL_EDGE = HexColor("#C9D3E0")
AMBER_BG = HexColor("#FFF6E0")
AMBER = HexColor("#C8912A")
ROW_RULE = HexColor("#D5DCE6")


@dataclass(frozen=True)
class Text:
    """One line of text on the page: `top` is its baseline measured from the top edge."""

    text: str
    font: str
    size: float
    top: float
    x: float = W / 2
    align: str = "c"  # c, l or r
    color: Color = INK


@dataclass(frozen=True)
class Layout:
    """Every line of a certificate page, in the order drawn, and where its title block ends."""

    texts: tuple[Text, ...]
    title_bottom: float


def drawable(text: str) -> str:
    """The page's standard fonts hold Windows-1252; anything else is printed as '?'."""
    return "".join(c if _encodable(c) else "?" for c in text)


def _encodable(c: str) -> bool:
    try:
        c.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return c.isprintable()


def fit(text: str, font: str, size: float, width: float, smallest: float) -> float:
    """The largest size, from `size` down in half points to `smallest`, at which `text` fits `width`."""
    while size > smallest and stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """`text` broken into lines no wider than `width` (one empty line for empty text): at
    spaces, and within a word that is wider than the line by itself."""
    lines: list[str] = []
    for line in simpleSplit(text, font, size, width) or [""]:
        while len(line) > 1 and stringWidth(line, font, size) > width:
            k = len(line) - 1
            while k > 1 and stringWidth(line[:k], font, size) > width:
                k -= 1
            lines.append(line[:k])
            line = line[k:]
        lines.append(line)
    return lines


# From the most generous down: the sizes (and their smallest) of the name, the position and
# unit, and the commitment's title. The first that keeps the title block above the details
# panel is used, so that every name, position, unit and title Ikrar accepts is printed.
SCALES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4)
TITLE_BLOCK_END = PANEL_TOP - 14


def _title_block(facts: SignatureFacts, w: dict[str, Any], lang: str, scale: float) -> tuple[list[Text], float]:
    """The lines from the signer's name down to the signing time (and, from rules version 3
    on, how the signer's key was vouched for), at `scale`; and where they end."""
    t: list[Text] = []
    d = drawable
    top = 266.0
    name = d(facts.name)
    size = fit(name, "Times-Bold", 25 * scale, 460, 16 * scale)
    for line in wrap(name, "Times-Bold", size, 460):
        t.append(Text(line, "Times-Bold", size, top, color=NAVY))
        top += size + 3 * scale
    top += 2
    for value in (facts.position, facts.agency):
        value = d(value)
        size = fit(value, "Times-Roman", 13 * scale, 460, 10 * scale)
        for line in wrap(value, "Times-Roman", size, 460):
            t.append(Text(line, "Times-Roman", size, top))
            top += size + 3 * scale
    if is_nip(facts.nip):  # every identifier was a NIP before rules version 4; one that is none is not printed
        t.append(Text(f"NIP {format_nip(facts.nip)}", "Helvetica", 10, top + 1, color=GREY))
    top += 36 * max(scale, 0.7)
    t.append(Text(w["signed"], "Times-Roman", 12, top, color=GREY))
    top += 28 * max(scale, 0.7)
    title = d(facts.commitment_title)
    size = 17.0 * scale
    lines = wrap(title, "Times-Bold", size, 440)
    while len(lines) > 3 and size > 11 * scale:
        size -= 1
        lines = wrap(title, "Times-Bold", size, 440)
    for line in lines:
        t.append(Text(line, "Times-Bold", size, top, color=NAVY))
        top += size + 4 * scale
    top += 8 * scale
    t.append(Text(w["on"].format(when=format_wib(facts.time, lang)), "Times-Roman", 12, top))
    vouching = vouching_words(facts, lang)  # None before rules version 3: such a page is as it always was
    if vouching is not None:
        top += 5 * scale
        for line in wrap(drawable(vouching), "Helvetica", 7.4, 440):
            top += 9.4
            t.append(Text(line, "Helvetica", 7.4, top, color=GREY))
    return t, top


def certificate_layout(facts: SignatureFacts, ledger_key_fingerprint: str, pres: Presentation) -> Layout:
    """Every line of text of the certificate of `facts`, printed as `pres` says.

    Raises InvalidInput for a language Ikrar does not print.
    """
    w = words(pres.lang)
    t: list[Text] = []
    d = drawable
    org = d(facts.org.upper())
    t.append(Text(org, "Times-Bold", fit(org, "Times-Bold", 16, 460, 10), 80, color=NAVY))
    t.append(Text(d(f"{w['ledger']} · {facts.origin}"), "Helvetica", 8.5, 96, color=GREY))
    t.append(Text(w["title"], "Times-Bold", 32, 158, color=NAVY))
    t.append(Text(w["subtitle"], "Times-Italic", 13, 180, color=GREY))
    t.append(Text(w["certify"], "Times-Roman", 12, 228, color=GREY))
    for scale in SCALES:
        block, title_bottom = _title_block(facts, w, pres.lang, scale)
        if title_bottom <= TITLE_BLOCK_END:
            break
    t.extend(block)

    # the details panel, left of the QR code
    x = LEFT + 14
    row = PANEL_TOP + 16
    details = [
        (w["index"], str(facts.index), "Helvetica-Bold", 10),
        (w["leaf"], facts.leaf_hash, "Courier", 7.6),
        (w["text_sha"], facts.commitment_sha256, "Courier", 7.6),
        (w["fingerprint"], facts.key_fingerprint, "Courier", 7.6),
        (
            w["checkpoint"],
            w["checkpoint_value"].format(size=facts.checkpoint_size, root=facts.checkpoint_root),
            "Courier",
            7.6,
        ),
        (w["utc"], d(f"{format_time(facts.time)} · {facts.origin}"), "Courier", 7.6),
    ]
    for label, value, font, size in details:
        t.append(Text(label, "Helvetica", 6.8, row, x, "l", GREY))
        size = fit(value, font, size, 300, 5.5)
        t.append(Text(value, font, size, row + 11, x, "l", INK))
        row += ROW
    qr_center = RIGHT - 14 - QR_SIZE / 2 - 8
    t.append(Text(w["scan"], "Helvetica-Bold", 8, PANEL_TOP + 16 + QR_SIZE + 34, qr_center, "c", NAVY))

    url = verify_url(pres.base_url, facts)
    online = d(w["online"].format(url=url))
    t.append(Text(online, "Helvetica", fit(online, "Helvetica", 8.5, 470, 5), 678, color=NAVY))

    # the honest label
    top = LABEL_TOP
    t.append(Text(d(w["label"]), "Helvetica-Bold", 9.5, top, color=INK))
    top += 13
    explain = d(w["explain"].format(org=facts.org, base=pres.base_url.rstrip("/")))
    for line in wrap(explain, "Helvetica", 7.4, 440):
        t.append(Text(line, "Helvetica", 7.4, top, color=INK))
        top += 9.4
    t.append(Text(w["ledger_key"].format(fp=ledger_key_fingerprint), "Helvetica", 6.6, 800, color=GREY))
    printed = w["printed"].format(
        when=format_short_wib(pres.printed_at, pres.lang), index=facts.index, short=facts.short_hash
    )
    t.append(Text(printed, "Helvetica", 6.6, 810, color=GREY))
    return Layout(tuple(t), title_bottom)


def page_lines(facts: SignatureFacts, ledger_key_fingerprint: str, pres: Presentation) -> list[str]:
    """Every line of text the certificate page shows, in the order it is drawn."""
    return [t.text for t in certificate_layout(facts, ledger_key_fingerprint, pres).texts]
