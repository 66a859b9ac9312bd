"""The fonts of the city's documents: DejaVu, a Unicode TrueType family, embedded (subset).

Names are printed as written: Łukasz, Ṣaṭyā, Nguyễn and the like with DejaVu (Debian's
fonts-dejavu-core, in /usr/share/fonts/truetype/dejavu/; the Makefile installs it). Han
characters, which DejaVu lacks, are drawn with STSong-Light, one of the Adobe Asian fonts
every PDF reader supplies (it is named, not embedded); any other character no font has is
printed as "?".

When the DejaVu files are missing, documents are printed with the PDF standard fonts
(Times, Helvetica, Courier: Windows-1252 only, every other character a "?"), and say so in
their presentation (`fonts`: ``standard``), so that a verifier draws them the same way.
Text is laid out in runs of one font each (`Fonts.runs`); measuring and drawing go through
the same runs, so what is measured is what is drawn.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from .errors import SigningError

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
DEJAVU = "dejavu"
STANDARD = "standard"
ROLES = ("serif", "serif-bold", "serif-italic", "sans", "sans-bold", "mono")
_DEJAVU_FILES = {
    "serif": "DejaVuSerif.ttf",
    "serif-bold": "DejaVuSerif-Bold.ttf",
    "serif-italic": "DejaVuSerif-Italic.ttf",
    "sans": "DejaVuSans.ttf",
    "sans-bold": "DejaVuSans-Bold.ttf",
    "mono": "DejaVuSansMono.ttf",
}
_STANDARD_FONTS = {
    "serif": "Times-Roman",
    "serif-bold": "Times-Bold",
    "serif-italic": "Times-Italic",
    "sans": "Helvetica",
    "sans-bold": "Helvetica-Bold",
    "mono": "Courier",
}
HAN = "STSong-Light"
_HAN_RANGES = (
    (0x2E80, 0x2FDF),
    (0x3000, 0x303F),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFF00, 0xFFEF),
)
_lock = threading.Lock()


class FontMissing(SigningError):
    """The fonts a document was printed with are not installed here."""

    code = "documents.font_missing"


def _is_han(c: str) -> bool:
    o = ord(c)
    return any(a <= o <= b for a, b in _HAN_RANGES)


def dejavu_installed(directory: Path | None = None) -> bool:
    """Whether every DejaVu file the documents use is in `directory` (default DEJAVU_DIR)."""
    d = directory or DEJAVU_DIR
    return all((d / name).is_file() for name in _DEJAVU_FILES.values())


@functools.cache
def _register_han() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(HAN))
    return HAN


def _register_dejavu(directory: Path) -> dict[str, str]:
    names = {}
    with _lock:
        for role, file in _DEJAVU_FILES.items():
            name = f"Ikrar{file.removesuffix('.ttf')}"
            if name not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont(name, str(directory / file)))
            names[role] = name
    return names


@dataclass(frozen=True)
class Fonts:
    """The fonts of one document: DejaVu (`kind` ``dejavu``) or the standard ones (``standard``)."""

    kind: str
    names: tuple[tuple[str, str], ...]  # (role, registered font name)

    def name(self, role: str) -> str:
        return dict(self.names)[role]

    def _covers(self, font: str, c: str) -> bool:
        if not c.isprintable():
            return False
        if self.kind == STANDARD:
            try:
                c.encode("cp1252")
            except UnicodeEncodeError:
                return False
            return True
        return ord(c) in _faces(font)

    def runs(self, text: str, role: str) -> list[tuple[str, str]]:
        """`text` as (font name, text) runs: the role's font where it has the character, the
        Han font for Han characters, and "?" in the role's font for anything else."""
        font = self.name(role)
        out: list[tuple[str, str]] = []
        for c in text:
            if self._covers(font, c):
                f = font
            elif _is_han(c):
                f = _register_han()
            else:
                f, c = font, "?"
            if out and out[-1][0] == f:
                out[-1] = (f, out[-1][1] + c)
            else:
                out.append((f, c))
        return out

    def printed(self, text: str, role: str) -> str:
        """`text` as it is printed: each character no font has replaced by "?"."""
        return "".join(t for _, t in self.runs(text, role))

    def width(self, text: str, role: str, size: float) -> float:
        return float(sum(pdfmetrics.stringWidth(t, f, size) for f, t in self.runs(text, role)))

    def draw(self, c: Canvas, x: float, y: float, text: str, role: str, size: float, align: str = "l") -> None:
        """Draw `text` with its baseline at `y`, left-aligned at `x` (or centred, or right-aligned)."""
        width = self.width(text, role, size)
        if align == "c":
            x -= width / 2
        elif align == "r":
            x -= width
        for f, t in self.runs(text, role):
            c.setFont(f, size)
            c.drawString(x, y, t)
            x += pdfmetrics.stringWidth(t, f, size)


@functools.cache
def _faces(font: str) -> frozenset[int]:
    return frozenset(pdfmetrics.getFont(font).face.charToGlyph)


def fonts(kind: str | None = None, directory: Path | None = None) -> Fonts:
    """The document fonts of `kind`; with None, DejaVu when it is installed, else the standard fonts.

    Raises FontMissing when `kind` is ``dejavu`` and DejaVu is not installed, or is a kind
    Ikrar does not print with.
    """
    d = directory or DEJAVU_DIR
    if kind is None:
        kind = DEJAVU if dejavu_installed(d) else STANDARD
    if kind == STANDARD:
        return Fonts(STANDARD, tuple(_STANDARD_FONTS.items()))
    if kind != DEJAVU:
        raise FontMissing(f"Ikrar prints documents with DejaVu or the standard fonts, not {kind!r}")
    if not dejavu_installed(d):
        raise FontMissing(f"the DejaVu fonts are not installed in {d} (Debian: apt-get install fonts-dejavu-core)")
    return Fonts(DEJAVU, tuple(_register_dejavu(d).items()))
