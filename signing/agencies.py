"""The city's Perangkat Daerah: the units an official's position may name.

One text file, UTF-8, one agency a line, blank lines and lines starting with ``#``
skipped: by default the shipped list of Kota Kediri (`DEFAULT_FILE`), or the file a
deployment names (`web.settings.Settings.agencies_file`, ``IKRAR_AGENCIES_FILE``), which
the web and the command line pass in. The ledger does not know the list (an auditor cannot
check it): the register keeps people to it when they are added or their position changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ledger.errors import InvalidInput

DEFAULT_FILE = Path(__file__).parent / "data" / "agencies-kota-kediri.txt"


def load_agencies(path: Path | None = None) -> tuple[str, ...]:
    """The agencies of `path` (default: Kota Kediri's), in order, each once. Raises
    InvalidInput when the file cannot be read or names none."""
    source = path or DEFAULT_FILE
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidInput(
            f"the list of agencies {source} cannot be read: {e}", code="agencies.unreadable", path=str(source)
        ) from e
    agencies = tuple(
        dict.fromkeys(" ".join(line.split()) for line in lines if line.strip() and not line.lstrip().startswith("#"))
    )
    if not agencies:
        raise InvalidInput(f"the list of agencies {source} names none", code="agencies.unreadable", path=str(source))
    return agencies


def check_unit(unit: str, agencies: Sequence[str]) -> str:
    """`unit` (spaces tidied), refused with InvalidInput unless it is one of `agencies`."""
    tidy = " ".join(unit.split())
    if tidy not in agencies:
        raise InvalidInput(f"{tidy!r} is not an agency of the city's list", code="official.unit_unknown", unit=tidy)
    return tidy
