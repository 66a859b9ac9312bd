"""NIP (Nomor Induk Pegawai), the 18-digit number of an Indonesian civil servant.

Layout: YYYYMMDD (date of birth) · YYYYMM (month of appointment) · G (1 male, 2 female)
· NNN (sequence). We check that it is 18 digits and that each part is plausible.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Callable
from datetime import date

from .errors import InvalidInput


def is_nip(identifier: str) -> bool:
    """Whether an official's identifier is a NIP (18 ASCII digits), to be printed as one.

    From rules version 4 an official without a NIP (the Wali Kota and Wakil Wali Kota are
    pejabat negara, not civil servants) is known by an identifier the system gives; such
    an identifier is never shown as a NIP."""
    return len(identifier) == 18 and identifier.isascii() and identifier.isdigit()


def validate_nip(nip: str, today: date | None = None) -> str:
    """Return the NIP with spaces removed, or raise InvalidInput saying what is wrong."""
    return _validate("".join(nip.split()), today or date.today())


@functools.lru_cache(maxsize=4096)
def _validate(nip: str, today: date) -> str:
    # Cached: an audit checks every signatory of every commitment, the same few NIPs again
    # and again. A pure function of its arguments; a refusal (an exception) is not cached.
    if len(nip) != 18 or not nip.isascii() or not nip.isdigit():
        raise InvalidInput("NIP must be exactly 18 digits", code="nip.digits")
    try:
        born = date(int(nip[0:4]), int(nip[4:6]), int(nip[6:8]))
    except ValueError as e:
        part = nip[0:8]
        raise InvalidInput(
            f"NIP digits 1-8 are not a date of birth (YYYYMMDD): {part}", code="nip.birth", part=part
        ) from e
    if not 1940 <= born.year <= today.year - 17:
        born_on = born.isoformat()
        raise InvalidInput(
            f"NIP date of birth {born_on} is not plausible for a civil servant",
            code="nip.birth_implausible",
            date=born_on,
        )
    year, month = int(nip[8:12]), int(nip[12:14])
    if not 1 <= month <= 12:
        part = nip[8:14]
        raise InvalidInput(
            f"NIP digits 9-14 are not a month of appointment (YYYYMM): {part}", code="nip.appointment", part=part
        )
    if not born.year + 17 <= year <= today.year or (year, month) > (today.year, today.month):
        appointed = f"{year:04d}-{month:02d}"
        raise InvalidInput(
            f"NIP appointment {appointed} is not plausible for that date of birth",
            code="nip.appointment_implausible",
            month=appointed,
        )
    if nip[14] not in "12":
        raise InvalidInput("NIP digit 15 must be 1 or 2", code="nip.gender")
    if nip[15:] == "000":
        raise InvalidInput("NIP sequence (digits 16-18) cannot be 000", code="nip.sequence")
    return nip


# -- officials without a NIP (rules version 4) ---------------------------------------------

OFFICIAL_ID_PREFIX = "pn-"  # pejabat negara: the Wali Kota, the Wakil Wali Kota
OFFICIAL_ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0, 1, i, l, o: never misread
OFFICIAL_ID_LENGTH = 6
_OFFICIAL_ID = re.compile(rf"{OFFICIAL_ID_PREFIX}[{OFFICIAL_ID_ALPHABET}]{{{OFFICIAL_ID_LENGTH}}}")


def is_official_id(identifier: str) -> bool:
    """Whether `identifier` is an identifier the system gives an official without a NIP:
    ``pn-`` and six of ``23456789abcdefghjkmnpqrstuvwxyz``, e.g. ``pn-7kq3xa``."""
    return _OFFICIAL_ID.fullmatch(identifier) is not None


def new_official_id(choose: Callable[[str], str] = secrets.choice) -> str:
    """A new identifier for an official without a NIP (`is_official_id`); `choose` picks one
    character of a string (random by default; a test passes its own)."""
    return OFFICIAL_ID_PREFIX + "".join(choose(OFFICIAL_ID_ALPHABET) for _ in range(OFFICIAL_ID_LENGTH))


def clean_identifier(text: str) -> str:
    """What a person typed as an NIP or identifier, as the register keeps it: without spaces,
    and an identifier in lower case (``PN-7KQ3XA`` is ``pn-7kq3xa``)."""
    joined = "".join(text.split())
    lowered = joined.lower()
    return lowered if is_official_id(lowered) else joined


def validate_identifier(identifier: str, today: date | None = None, ids: bool = True) -> str:
    """An official's identifier checked: a NIP (`validate_nip`, spaces removed), or with `ids`
    (rules version 4 on) an identifier the system gave (`is_official_id`, as written).
    Raises InvalidInput saying what is wrong."""
    if ids and is_official_id(identifier):
        return identifier
    if ids and identifier.strip().lower().startswith(OFFICIAL_ID_PREFIX):
        raise InvalidInput(
            f"an identifier without a NIP is {OFFICIAL_ID_PREFIX} and {OFFICIAL_ID_LENGTH} of "
            f"{OFFICIAL_ID_ALPHABET}: {identifier!r} is not one",
            code="nip.identifier",
            identifier=identifier,
        )
    return validate_nip(identifier, today)
