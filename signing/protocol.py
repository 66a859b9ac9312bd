"""Protocol order (urutan protokoler) of a city's signatories, and names sorted without titles.

A joint commitment lists its signatories as a Pemkot seats them: the Wali Kota, the Wakil
Wali Kota, the Sekretaris Daerah, the Asisten (I, II, III), the Staf Ahli, then the heads of
the Perangkat Daerah, then anyone else. Within one rank, by the city's list of agencies
(an agency not on it comes after those that are), then by name without titles. The rank is
read from the position as written under a signature ("Wali Kota Kediri", "Plt. Kepala Dinas
Perhubungan Kota Kediri"): an acting official (Plt., Plh., Pj.) ranks as the position.

`in_protocol_order` is what the publish form applies; the order of `signers` in
`commitment.published` then IS the order every page and document keeps. Pure functions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

__all__ = [
    "ASISTEN",
    "HEAD",
    "OTHER",
    "RANKS",
    "SEKDA",
    "STAF_AHLI",
    "WAKIL_WALI_KOTA",
    "WALI_KOTA",
    "in_protocol_order",
    "name_key",
    "position_rank",
    "protocol_key",
]

T = TypeVar("T")

WALI_KOTA, WAKIL_WALI_KOTA, SEKDA, ASISTEN, STAF_AHLI, HEAD, OTHER = range(7)
RANKS = {
    WALI_KOTA: "wali_kota",
    WAKIL_WALI_KOTA: "wakil_wali_kota",
    SEKDA: "sekda",
    ASISTEN: "asisten",
    STAF_AHLI: "staf_ahli",
    HEAD: "head",
    OTHER: "other",
}

# "Plt.", "Plh.", "Pj.", "Pjs." before a position: acting in it, ranked as it.
_ACTING = re.compile(r"^(?:(?:plt|plh|pjs|pj)\.?\s+)+")
_WALI_KOTA = r"wali\s*kota"
_RULES: tuple[tuple[int, re.Pattern[str]], ...] = (
    (WAKIL_WALI_KOTA, re.compile(rf"^wakil\s+{_WALI_KOTA}\b")),
    (WALI_KOTA, re.compile(rf"^{_WALI_KOTA}\b")),
    (SEKDA, re.compile(r"^(?:sekretaris\s+daerah|sekda)\b")),
    (ASISTEN, re.compile(r"^asisten\b")),
    (STAF_AHLI, re.compile(r"^staf\s+ahli\b")),
    # The heads of Perangkat Daerah: a Kepala of a Dinas, Badan, Satuan, Kantor...; the Sekretaris
    # DPRD, the Inspektur, a Camat, the Direktur of the RSUD. Not the Kepala of a part of one.
    (
        HEAD,
        re.compile(
            r"^(?:kepala\s+(?!bagian|bidang|sub|seksi|upt|unit|sekolah|puskesmas|kelurahan)|"
            r"sekretaris\s+(?:dprd|dewan)\b|inspektur\b(?!\s+pembantu)|camat\b|direktur\b)"
        ),
    ),
)
# Asisten I, II and III, in that order, by their fields (the usual names of a Pemkot's Asisten).
_ASISTEN_ORDER = (
    re.compile(r"\b(?:pemerintahan|asisten\s+i\b|asisten\s+1\b)"),
    re.compile(r"\b(?:perekonomian|ekonomi|pembangunan|asisten\s+ii\b|asisten\s+2\b)"),
    re.compile(r"\b(?:administrasi|umum|asisten\s+iii\b|asisten\s+3\b)"),
)

# Titles before a name (gelar depan, and the hajj titles); academic degrees follow a comma.
_NAME_PREFIX = re.compile(r"^(?:(?:prof|drs|dra|drg|dr|ir|hj|h|kh|apt|ns)\.\s*)+", re.IGNORECASE)


def _plain(text: str) -> str:
    """Lower case, accents off, single spaces."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(folded.lower().split())


def position_rank(position: str) -> int:
    """The protocol rank of a position as written under a signature (`WALI_KOTA` first,
    `OTHER` last): "Plt. Kepala Dinas Perhubungan Kota Kediri" → `HEAD`."""
    text = _ACTING.sub("", _plain(position))
    for rank, pattern in _RULES:
        if pattern.search(text):
            return rank
    return OTHER


def _within_rank(position: str, rank: int) -> int:
    """The order of Asisten I, II, III among themselves (0 for every other position)."""
    if rank != ASISTEN:
        return 0
    text = _ACTING.sub("", _plain(position))
    for n, pattern in enumerate(_ASISTEN_ORDER):
        if pattern.search(text):
            return n
    return len(_ASISTEN_ORDER)


def name_key(name: str) -> str:
    """A name as sorted: without the titles before it (dr., Drs., Ir., H., Hj., Prof. ...) and
    the degrees after a comma, case and accents ignored: "Dr. Ir. H. Budi Santoso, M.T." →
    "budi santoso"."""
    bare = name.split(",", 1)[0].strip()
    bare = _NAME_PREFIX.sub("", bare)
    return _plain(bare) or _plain(name)


def _agency_order(agencies: Sequence[str]) -> Callable[[str], int]:
    places: dict[str, int] = {}
    for n, agency in enumerate(agencies):
        places.setdefault(_plain(agency), n)
    return lambda unit: places.get(_plain(unit), len(places))


Key = tuple[int, int, int, str, str]


def _key(position: str, unit: str, name: str, place: Callable[[str], int]) -> Key:
    rank = position_rank(position)
    return (rank, _within_rank(position, rank), place(unit), _plain(unit), name_key(name))


def protocol_key(position: str, unit: str, name: str, agencies: Sequence[str] = ()) -> Key:
    """The sort key of one signatory: rank, place among the Asisten, place of the agency in
    `agencies` (unlisted agencies after the listed, by name), name without titles."""
    return _key(position, unit, name, _agency_order(agencies))


def in_protocol_order(
    people: Iterable[T],
    position: Callable[[T], str],
    unit: Callable[[T], str],
    name: Callable[[T], str],
    agencies: Sequence[str] = (),
) -> list[T]:
    """`people` in protocol order (a stable sort: equals keep their order)."""
    place = _agency_order(agencies)
    return sorted(people, key=lambda person: _key(position(person), unit(person), name(person), place))
