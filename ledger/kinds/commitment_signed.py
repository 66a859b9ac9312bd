"""`commitment.signed`: an official's signature over the statement `ikrar/signature/v1`
(see `ledger.statements`) built from these fields, the ledger's origin and the entry's
time; `signature` is base64 Ed25519. The signature is verified at every append and in
every audit.

From rules version 4 on (`ledger.identity`) the statement is `ikrar/signature/v2`: the entry
carries the signer's `name`, `capacity` and `unit`, which are their identity in force (their
enrolment, or the latest `official.updated` before), and the statement names `name` and
`capacity`. An official who declined the commitment does not sign it, and no signature is
appended after the commitment's deadline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Conflict
from ..state import IDENTITY_RULES
from ..statements import Statement, decode_signature
from ..times import format_time
from . import Kind

if TYPE_CHECKING:
    from ..entries import Entry
    from ..state import State

SIGNED_AS = {"name": str, "capacity": str, "unit": str}  # rules version 4 on


def check_answer(entry: Entry, state: State, what: str) -> None:
    """The rules a signature and a decline share: the commitment and its text, the list, one
    answer an official (no signing after a decline, no decline after a signature), the active
    key, and (rules version 4 on) the deadline. `what` names the entry: signature, decline."""
    f = entry.fields
    slug, nip = f["slug"], f["nip"]
    c = state.commitment(slug)
    if c is None:
        raise Conflict(f"commitment {slug!r} is not published", code="commitment.not_published", slug=slug)
    if (c.index, c.text_sha256) != (f["commitment_index"], f["commitment_sha256"]):
        raise Conflict(f"{what} names another text of commitment {slug!r}", code="commitment.other_text", slug=slug)
    if nip not in c.signers:
        raise Conflict(
            f"official {nip} is not a required signatory of {slug!r}", code="sign.not_signatory", nip=nip, slug=slug
        )
    if state.has_signed(slug, nip):
        raise Conflict(f"official {nip} has already signed {slug!r}", code="sign.already", nip=nip, slug=slug)
    if state.rules >= IDENTITY_RULES and state.has_declined(slug, nip):
        raise Conflict(f"official {nip} has declined {slug!r}", code="sign.declined", nip=nip, slug=slug)
    active = state.active_key(nip)
    if active is None or active != f["key"]:
        raise Conflict(
            f"the key is not the active key of official {nip} (revoked or never enrolled)",
            code="sign.key_inactive",
            nip=nip,
        )
    deadline = state.deadline(slug) if state.rules >= IDENTITY_RULES else None
    if deadline is not None and entry.time > deadline:
        raise Conflict(
            f"the deadline of {slug!r} passed at {format_time(deadline)}",
            code="sign.deadline_passed",
            slug=slug,
            deadline=deadline,
        )


def check(entry: Entry, state: State) -> None:
    f = entry.fields
    check_answer(entry, state, "signature")
    nip = f["nip"]
    given = f.keys() & SIGNED_AS.keys()
    if state.rules < IDENTITY_RULES:
        if given:
            raise Conflict("a signer's name and capacity before rules version 4", code="sign.capacity_early", nip=nip)
        return
    if given != SIGNED_AS.keys():
        raise Conflict(
            f"the signature of official {nip} does not name their name, capacity and unit (rules version 4)",
            code="sign.capacity_missing",
            nip=nip,
        )
    identity = state.identity(nip)
    if identity is None or (f["name"], f["capacity"], f["unit"]) != (
        identity.name,
        identity.capacity,
        identity.unit,
    ):
        raise Conflict(
            f"the name, capacity or unit signed is not official {nip}'s identity in force",
            code="sign.capacity_differs",
            nip=nip,
        )


def verify(entry: Entry, origin: str) -> None:
    """Raises SignatureRejected unless the official's signature verifies."""
    Statement.of_fields(origin, entry.fields, entry.time).verify(decode_signature(entry.fields["signature"]))


def apply(entry: Entry, state: State) -> None:
    f = entry.fields
    signed_as = (f["name"], f["capacity"], f["unit"]) if "capacity" in f else None
    state.add_signature(f["slug"], f["nip"], f["key"], entry.index, entry.time, signed_as)


KIND = Kind(
    "commitment.signed",
    {
        "slug": str,
        "commitment_sha256": str,
        "commitment_index": int,
        "nip": str,
        "key": str,
        "signature": str,
    },
    check,
    apply,
    verify,
    optional=SIGNED_AS,
)
