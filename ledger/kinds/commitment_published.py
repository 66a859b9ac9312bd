"""`commitment.published`: a commitment's full text, the text's SHA-256 (hex) and the
NIPs of its required signatories, in the order published."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from ..errors import Conflict
from ..nip import validate_nip
from ..state import VOUCHING_RULES, Published
from . import Kind

if TYPE_CHECKING:
    from ..entries import Entry
    from ..state import State

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?")


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
    for nip in signers:
        if validate_nip(nip, entry.time.date()) != nip and state.rules >= VOUCHING_RULES:
            raise Conflict(f"the NIP {nip!r} is not written as 18 digits alone", code="key.nip_form")


def apply(entry: Entry, state: State) -> None:
    f = entry.fields
    state.add_commitment(
        Published(f["slug"], f["title"], f["text"], f["text_sha256"], entry.index, entry.time, tuple(f["signers"]))
    )


KIND = Kind(
    "commitment.published",
    {"slug": str, "title": str, "text": str, "text_sha256": str, "signers": list, "by": str},
    check,
    apply,
)
