"""Online verification of one signature entry, for the page a certificate's QR code opens.

`check_entry` answers VALID, INVALID or KEY REVOKED (since when) for entry `index`, after
checking the official's signature, the key (enrolled, not revoked before it signed), the
entry's inclusion in the checkpoint signed when it was appended, that checkpoint's
consistency with the latest one, the hash chain link to the entry before, and — when the
QR code's `h` is given — that the printed certificate is of this very entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import select

from ledger.checkpoint import Checkpoint
from ledger.errors import LedgerError
from ledger.merkle import verify_consistency, verify_inclusion
from ledger.models import OfficialKey
from ledger.store import Ledger

from .checks import Check, Checks, Failed, NotChecked
from .errors import EvidenceMismatch
from .facts import SignatureFacts, enrolment_index, gather_evidence, signature_entry
from .statement import check_signed_entry

_HEX = re.compile(r"[0-9a-f]{8,64}")


class Verdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    KEY_REVOKED = "key_revoked"  # the signature holds, but the key has been revoked since


@dataclass(frozen=True)
class Revocation:
    """The `key.revoked` entry of a key: from then on it signs nothing."""

    index: int
    time: datetime
    reason: str


def revocation_of(ledger: Ledger, key: str) -> Revocation | None:
    """The revocation of an official's key, read from its `key.revoked` entry; None if still active."""
    with ledger.session() as s:
        revoked = s.exec(select(OfficialKey.revoked_index).where(OfficialKey.key == key)).first()
    if revoked is None:
        return None
    entry = ledger.entry(revoked)
    return Revocation(entry.index, entry.time, entry.fields["reason"])


@dataclass(frozen=True)
class EntryReport:
    """What the verify page shows: the verdict, the facts, and each check with its outcome."""

    index: int
    verdict: Verdict
    checks: tuple[Check, ...]
    facts: SignatureFacts | None
    revocation: Revocation | None
    latest: Checkpoint

    @property
    def printed_mismatch(self) -> bool:
        """True when the QR's `h` was given and is not this entry's: the printed paper is not this entry's."""
        return any(c.name == "printed" and c.failed for c in self.checks)


def check_entry(ledger: Ledger, index: int, h: str | None = None) -> EntryReport:
    """Verify signature entry `index` against the ledger; `h` is the QR code's leaf-hash prefix.

    Raises NotFound (no such entry) or NoCertificate (the entry is not a signature).
    """
    signed = signature_entry(ledger, index)
    latest = ledger.checkpoint()
    checks = Checks()
    facts: list[SignatureFacts] = []
    revocations: list[Revocation | None] = []  # read once, by the key check when it gets that far
    included: list[Checkpoint] = []  # the checkpoint the inclusion check opened

    def statement() -> str:
        check_signed_entry(signed, ledger.origin)
        return f"the official's Ed25519 signature verifies with the key {signed.fields['key']}"

    def key() -> str:
        enrolled = enrolment_index(ledger, signed.fields["key"])
        revocation = revocation_of(ledger, signed.fields["key"])
        revocations.append(revocation)
        if enrolled >= index:
            raise Failed(f"the key was enrolled at entry {enrolled}, after this signature")
        if revocation is not None and revocation.index < index:
            raise Failed(f"the key was revoked at entry {revocation.index}, before this signature")
        return f"the key was enrolled at entry {enrolled} and was active when it signed"

    def inclusion() -> str:
        at = ledger.checkpoint(index + 1)  # signed when this entry was appended
        included.append(at)
        verify_inclusion(signed.leaf_hash, index, at.size, ledger.inclusion_proof(index, at.size), at.root)
        return f"the entry is in the checkpoint of size {at.size}, signed by {ledger.verifier.name}"

    def consistency() -> str:
        size = ledger.size()
        if latest.size != size:
            raise Failed(f"the latest checkpoint says size {latest.size}, but the ledger holds {size} entries")
        at = included[0]
        verify_consistency(at.size, latest.size, at.root, latest.root, ledger.consistency_proof(at.size, latest.size))
        return f"that checkpoint is consistent with the latest one (size {latest.size}): nothing was rewritten since"

    def chain() -> str:
        before = ledger.entry(index - 1)
        if signed.prev != before.leaf_hash:
            raise Failed(f"the entry's prev is not the hash of entry {index - 1}: the chain is broken")
        return f"prev is the leaf hash of entry {index - 1}"

    def evidence() -> str:
        try:
            facts.append(gather_evidence(ledger, index, latest).facts())
        except EvidenceMismatch as e:
            raise Failed(str(e)) from e
        return "the signer's enrolment and the commitment signed belong to this signature"

    def printed() -> str:
        if h is None:
            raise NotChecked("no printed certificate to compare (the link had no h=)")
        given = h.strip().lower()
        actual = signed.leaf_hash.hex()
        if not _HEX.fullmatch(given) or not actual.startswith(given):
            raise Failed(
                f"the printed certificate does not match entry {index}: it shows {h[:64]!r}, the entry's "
                f"hash begins {actual[:16]}"
            )
        return f"the printed certificate matches entry {index} (hash {actual[:16]}…)"

    checks.run("statement", statement)
    checks.run("active_key", key)
    checks.run("inclusion", inclusion)
    checks.run("consistency", consistency, needs=("inclusion",))
    checks.run("chain", chain)
    checks.run("belongs", evidence)
    checks.run("printed", printed)
    items = checks.done()
    revocation = revocations[0] if revocations else _revocation(ledger, signed.fields["key"])
    if any(c.failed for c in items):
        verdict = Verdict.INVALID
    elif revocation is not None:
        verdict = Verdict.KEY_REVOKED
    else:
        verdict = Verdict.VALID
    return EntryReport(index, verdict, items, facts[0] if facts else None, revocation, latest)


def _revocation(ledger: Ledger, key: str) -> Revocation | None:
    try:
        return revocation_of(ledger, key)
    except LedgerError:
        return None
