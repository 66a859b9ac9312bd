"""The kop naskah dinas (letterhead) and the numbering of the city's documents.

A `Letterhead` is what the settings say about the city's documents: the unit responsible
for the ledger (`office`) and its address, the emblem image (or none: a placeholder is
drawn that says it is one) and the pattern of a document's number. The government's name
is the ledger's own organisation (its first entry), so it is a ledger fact.

A document's number is the pattern filled in with a ledger index and the year (in WIB) of
that entry: it follows from the ledger alone, so the ledger assigns it, and the same
document printed again carries the same number.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ledger.errors import InvalidInput

from .wording import wib

MAX_EMBLEM_BYTES = 512 * 1024
DEFAULT_OFFICE = "Dinas Komunikasi dan Informatika"  # as the settings' default
EMBLEM_FILE = "kop-emblem"  # the attachment holding the emblem image, so a verifier draws the same page
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")

_WORDS: dict[str, dict[str, Any]] = {
    "id": {"placeholder": ("LAMBANG", "DAERAH", "(contoh)"), "page": "Halaman {n} dari {total}"},
    "en": {"placeholder": ("EMBLEM", "OF THE CITY", "(placeholder)"), "page": "Page {n} of {total}"},
}


def placeholder_words(lang: str) -> tuple[str, ...]:
    """The words drawn in the emblem's placeholder: it says that it is one."""
    return tuple(_WORDS[lang]["placeholder"])


def check_pattern(pattern: str) -> str:
    """A number pattern names `{index}` (numbers are unique by it) and may name `{year}`,
    nothing else in braces. Raises InvalidInput."""
    try:
        pattern.format(index=1, year=2026)
    except (KeyError, IndexError, ValueError) as e:
        raise InvalidInput(f"a document number pattern may name only {{index}} and {{year}}: {pattern!r}") from e
    if "{index}" not in pattern:
        raise InvalidInput(f"a document number pattern must name {{index}}: {pattern!r}")
    return pattern


def _check_emblem(data: bytes) -> bytes:
    if len(data) > MAX_EMBLEM_BYTES:
        raise InvalidInput(f"the emblem image is larger than {MAX_EMBLEM_BYTES // 1024} kB")
    if not data.startswith(_IMAGE_MAGIC):
        raise InvalidInput("the emblem image must be a PNG or a JPEG file")
    return data


@dataclass(frozen=True)
class Letterhead:
    """The settings a city's document is printed with (not ledger facts, so a document
    keeps them in its presentation and a verifier draws the page with them)."""

    office: str
    address: str = ""
    number_pattern: str = "{index}/IKRAR/{year}"
    emblem: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_files(cls, office: str, address: str, number_pattern: str, emblem_file: Path | None) -> Letterhead:
        """Raises InvalidInput when the emblem file cannot be read or is not a PNG or JPEG of
        at most MAX_EMBLEM_BYTES, or the pattern is not one."""
        emblem = None
        if emblem_file is not None:
            try:
                emblem = _check_emblem(emblem_file.read_bytes())
            except OSError as e:
                raise InvalidInput(f"the emblem image {emblem_file} cannot be read: {e.strerror}") from e
        return cls(office, address, check_pattern(number_pattern), emblem)

    def number(self, index: int, moment: datetime) -> str:
        """The document number of ledger entry `index`, made at `moment` (its year in WIB)."""
        return self.number_pattern.format(index=index, year=wib(moment).year)

    def to_json(self) -> dict[str, Any]:
        emblem = None if self.emblem is None else hashlib.sha256(self.emblem).hexdigest()
        return {"office": self.office, "address": self.address, "number_pattern": self.number_pattern, "emblem": emblem}

    @classmethod
    def from_json(cls, value: object, attachments: dict[str, bytes]) -> Letterhead:
        """Read back `to_json`, the emblem from its attachment. Raises InvalidInput."""
        if not isinstance(value, dict):
            raise InvalidInput("the letterhead is missing")
        office, address, pattern, emblem = (value.get(k) for k in ("office", "address", "number_pattern", "emblem"))
        if not isinstance(office, str) or not isinstance(address, str) or not isinstance(pattern, str):
            raise InvalidInput("the letterhead's fields are missing")
        image = None
        if emblem is not None:
            image = attachments.get(EMBLEM_FILE)
            if image is None or hashlib.sha256(image).hexdigest() != emblem:
                raise InvalidInput(f"the emblem image ({EMBLEM_FILE}) is missing or not the one named")
            _check_emblem(image)
        return cls(office, address, check_pattern(pattern), image)

    def attachments(self) -> dict[str, bytes]:
        return {} if self.emblem is None else {EMBLEM_FILE: self.emblem}


def page_number(n: int, total: int, lang: str) -> str:
    """``Halaman 1 dari 2`` / ``Page 1 of 2``."""
    return str(_WORDS[lang]["page"]).format(n=n, total=total)
