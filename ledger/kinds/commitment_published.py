"""`commitment.published`: a commitment's full text, the text's SHA-256 (hex) and the
NIPs of its required signatories, in the order published (the protocol order: the order
shown and printed).

From rules version 4 on (`kinds.ledger_rules`) a signatory may be an identifier the system
gave an official without a NIP, and the entry may carry a `deadline` (UTC, in the ledger's
one spelling of a time, after the entry's own time): no signature or decline is appended
after it; `commitment.extended` moves it later."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import TYPE_CHECKING

from ..errors import Conflict
from ..nip import validate_identifier
from ..state import IDENTITY_RULES, VOUCHING_RULES, Published
from ..times import format_time, parse_time
from . import Kind

if TYPE_CHECKING:
    from ..entries import Entry
    from ..state import State

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?")
DEADLINE = {"deadline": str}


def check(entry: Entry, state: State) -> None:
    f = entry.fields
    if not SLUG.fullmatch(f["slug"]):
        raise Conflict("slug must be 1-80 lowercase letters, digits and inner hyphens", code="commitment.slug")
    if state.commitment(f["slug"]) is not None:
        raise Conflict(f"commitment {f['slug']!r} is already published", code="commitment.slug_taken", slug=f["slug"])
    if not f["title"].strip() or not f["text"].strip():
        raise Conflict("a commitment needs a title and a text", code="commitment.empty")
    if hashlib.sha256(f["text"].encode()).hexdigest() != f["text_sha256"]:
        raise Conflict("text_sha256 is not the SHA-256 of the text", code="commitment.text_sha256")
    signers = f["signers"]
    if not signers:
        raise Conflict("a commitment needs at least one required signatory", code="commitment.no_signers")
    if len(set(signers)) != len(signers):
        raise Conflict("a signatory is listed twice", code="commitment.signer_twice")
    ids = state.rules >= IDENTITY_RULES
    for nip in signers:
        if validate_identifier(nip, entry.time.date(), ids) != nip and state.rules >= VOUCHING_RULES:
            raise Conflict(f"the NIP {nip!r} is not written as 18 digits alone", code="key.nip_form")
    if "deadline" in f:
        if not ids:
            raise Conflict("a deadline before rules version 4", code="deadline.early")
        later_deadline(f["deadline"], entry.time)


def later_deadline(text: str, after: datetime) -> datetime:
    """The deadline `text` names, refused (Conflict) unless written as Ikrar writes times and
    later than `after`."""
    moment = parse_time(text)
    if format_time(moment) != text:
        raise Conflict("the deadline is not written YYYY-MM-DDTHH:MM:SSZ", code="key.time_form", what="deadline")
    if moment <= after:
        raise Conflict(
            f"the deadline {text} is not after {format_time(after)}", code="deadline.not_later", deadline=moment
        )
    return moment


def apply(entry: Entry, state: State) -> None:
    f = entry.fields
    deadline = parse_time(f["deadline"]) if "deadline" in f else None
    state.add_commitment(
        Published(
            f["slug"], f["title"], f["text"], f["text_sha256"], entry.index, entry.time, tuple(f["signers"]), deadline
        )
    )


KIND = Kind(
    "commitment.published",
    {"slug": str, "title": str, "text": str, "text_sha256": str, "signers": list, "by": str},
    check,
    apply,
    optional=DEADLINE,
)
