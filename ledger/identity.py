"""Who an official is, on the ledger (rules version 4): the identity in force.

An official's identity is what their `key.enrolled` entry records (`name`, `title` — the
full position as written under a signature — and `unit`, their Perangkat Daerah; from rules
version 4 on also `rank`, `acting` and `appointment`), until an `official.updated` entry
records a new one (a mutasi, a promotion, a corrected name); the key stays. A signature made
under rules version 4 names the signer's `name` and `capacity` in its statement
(`ikrar/signature/v2`); one made earlier was made in the identity in force at its entry.

The capacity is the position an official signs in: their `title`, or when they are acting
(`acting` is ``Plt.`` or ``Plh.``) ``<acting> <title> (Nomor <appointment>)``, e.g.
``Plt. Kepala Dinas Perhubungan Kota Kediri (Nomor 800.1.3.3/45/419.022/2026)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import Conflict

ACTING = ("Plt.", "Plh.")  # pelaksana tugas, pelaksana harian
EXTRA: dict[str, type] = {"rank": str, "acting": str, "appointment": str}  # optional, from rules version 4


def capacity_of(title: str, acting: str | None = None, appointment: str | None = None) -> str:
    """The capacity an official signs in (see the module's text)."""
    if acting is None:
        return title
    return f"{acting} {title} (Nomor {appointment})"


@dataclass(frozen=True)
class Identity:
    """An official's name, position and unit as an entry records them."""

    name: str
    title: str
    unit: str
    rank: str | None = None  # pangkat/golongan
    acting: str | None = None  # Plt. or Plh.
    appointment: str | None = None  # the number of the acting appointment's letter

    @property
    def capacity(self) -> str:
        return capacity_of(self.title, self.acting, self.appointment)

    @classmethod
    def of_fields(cls, fields: Mapping[str, Any]) -> Identity:
        """The identity a `key.enrolled` or `official.updated` entry's fields record."""
        f = fields
        return cls(f["name"], f["title"], f["unit"], f.get("rank"), f.get("acting"), f.get("appointment"))

    def fields(self) -> dict[str, str]:
        """The entry fields of this identity (the optional ones only when set)."""
        out = {"name": self.name, "title": self.title, "unit": self.unit}
        out |= {k: v for k in EXTRA if (v := getattr(self, k)) is not None}
        return out


def check_identity(fields: Mapping[str, Any], nip: str) -> None:
    """Rules version 4 for the identity an entry records: `name`, `title` and `unit` are not
    blank and hold no line break; `rank`, when there, likewise; `acting` is ``Plt.`` or
    ``Plh.`` and comes with `appointment` (not blank, one line), and `appointment` only with
    it. Raises Conflict."""
    for what in ("name", "title", "unit", "rank", "appointment"):
        value = fields.get(what)
        if value is None:
            continue
        if not value.strip():
            raise Conflict(f"the {what} of official {nip} is blank", code="identity.blank", what=what, nip=nip)
        if "\n" in value or "\r" in value:
            raise Conflict(f"the {what} holds a line break", code="statement.line_break", what=what)
    acting = fields.get("acting")
    if acting is not None and acting not in ACTING:
        raise Conflict(f"acting {acting!r} is not one of {', '.join(ACTING)}", code="identity.acting", acting=acting)
    if (acting is None) != (fields.get("appointment") is None):
        raise Conflict(
            f"official {nip}'s acting position and the number of its appointment letter come together",
            code="identity.appointment",
            nip=nip,
        )
