"""Online verification of one signature entry, for the page a certificate's QR code opens.

`examine_entry` answers VALID or INVALID for entry `index`. A signature made while its key
was active stays VALID when the key is revoked later: the report then carries the
revocation (when, why) for the page to say so under the verdict; a signature made with a
key already revoked is INVALID (step 2). `what_is_at` says what stands at an index that is
not a signature, for the page a QR code of no signature opens.

`examine_entry` reads what the checks need from one snapshot of the ledger (`load_entry`:
the entry, the key's record and revocation, the checkpoint signed when the entry was
appended and the latest one, the proofs, the entry before it and the facts of the
signature), then runs each check as a step over it, in the order the page lists them:

    1. statement    the official's Ed25519 signature over the entry verifies
    2. active_key   the key was enrolled before it signed, and not revoked before
    3. inclusion    the entry is in the checkpoint signed when it was appended
    4. consistency  that checkpoint is consistent with the latest one (needs 3)
    5. chain        the entry's prev is the leaf hash of the entry before it
    6. belongs      the enrolment and the commitment behind it belong to this signature
    7. printed      the QR code's `h` begins this entry's leaf hash (when given)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from ledger.checkpoint import Checkpoint
from ledger.entries import Entry
from ledger.merkle import Hash, verify_consistency, verify_inclusion
from ledger.reader import Reader
from ledger.rules import verify as verify_signatures
from ledger.store import Ledger

from .checks import Check, Failed, NotChecked, Read, attempt, got, read_or_none, run
from .errors import NoCertificate
from .facts import Revocation, SignatureFacts, enrolment_index, gather_evidence, revocation_of, signature_entry

_HEX = re.compile(r"[0-9a-f]{8,64}")


class Verdict(StrEnum):
    """A signature's verdict. Until 6 December 2026 a third one, ``key_revoked``, was given for
    a valid signature whose key was revoked later; such a signature is VALID, with the
    revocation beside it (`EntryReport.revoked_later`)."""

    VALID = "valid"
    INVALID = "invalid"


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
    def revoked_later(self) -> Revocation | None:
        """The revocation of the signer's key when it came after this signature; None otherwise."""
        return self.revocation if self.revocation is not None and self.revocation.after(self.index) else None

    @property
    def revoked_before(self) -> Revocation | None:
        """The revocation of the signer's key when it came before this signature (which is then INVALID)."""
        return self.revocation if self.revocation is not None and not self.revocation.after(self.index) else None

    @property
    def printed_mismatch(self) -> bool:
        """True when the QR's `h` was given and is not this entry's: the printed paper is not this entry's."""
        return any(c.name == "printed" and c.failed for c in self.checks)


@dataclass(frozen=True)
class EntrySubject:
    """What the checks of signature entry `index` read, all from one snapshot of the ledger.

    A read that failed holds the error it raised; the step that needs it fails with it.
    """

    index: int
    signed: Entry
    h: str | None  # the QR code's leaf-hash prefix, if the link had one
    origin: str
    ledger_name: str  # the name of the ledger's verifier key
    size: int  # how many entries the snapshot holds
    latest: Checkpoint
    enrolled: Read[int]  # the index of the key's `key.enrolled` entry
    revocation: Read[Revocation | None]
    appended: Read[Checkpoint]  # the checkpoint signed when the entry was appended
    inclusion_proof: Read[list[Hash]]  # of the entry, against `appended`
    consistency_proof: Read[list[Hash]]  # from `appended` to `latest`
    before: Read[Entry]  # entry index - 1
    facts: Read[SignatureFacts]  # from the evidence gathered against `latest`


def load_entry(r: Reader, index: int, h: str | None = None) -> EntrySubject:
    """Read what the checks of signature entry `index` need.

    Raises NotFound (no such entry, or no ledger yet) or NoCertificate (not a signature).
    """
    signed = signature_entry(r, index)
    latest = r.checkpoint()
    key = signed.fields["key"]
    appended = attempt(lambda: r.checkpoint(index + 1))
    return EntrySubject(
        index=index,
        signed=signed,
        h=h,
        origin=r.origin,
        ledger_name=r.verifier.name,
        size=r.size(),
        latest=latest,
        enrolled=attempt(lambda: enrolment_index(r, key)),
        revocation=attempt(lambda: revocation_of(r, key)),
        appended=appended,
        inclusion_proof=attempt(lambda: r.inclusion_proof(index, got(appended).size)),
        consistency_proof=attempt(lambda: r.consistency_proof(got(appended).size, latest.size)),
        before=attempt(lambda: r.entry(index - 1)),
        facts=attempt(lambda: gather_evidence(r, index, latest).facts()),
    )


# -- the steps, in order --------------------------------------------------------------------


def _statement(s: EntrySubject) -> str:
    """1. The official's signature over the entry verifies."""
    verify_signatures(s.signed, s.origin)
    return f"the official's Ed25519 signature verifies with the key {s.signed.fields['key']}"


def active_key_step(s: EntrySubject) -> str:
    """2. The key was enrolled before this signature and not revoked before it."""
    enrolled, revocation = got(s.enrolled), got(s.revocation)
    if enrolled >= s.index:
        raise Failed(f"the key was enrolled at entry {enrolled}, after this signature")
    if revocation is not None and revocation.index < s.index:
        raise Failed(f"the key was revoked at entry {revocation.index}, before this signature")
    return f"the key was enrolled at entry {enrolled} and was active when it signed"


def inclusion_step(s: EntrySubject) -> str:
    """3. The entry is in the checkpoint signed when it was appended."""
    at = got(s.appended)
    verify_inclusion(s.signed.leaf_hash, s.index, at.size, got(s.inclusion_proof), at.root)
    return f"the entry is in the checkpoint of size {at.size}, signed by {s.ledger_name}"


def consistency_step(s: EntrySubject) -> str:
    """4. That checkpoint is consistent with the latest one, which covers the whole ledger."""
    latest = s.latest
    if latest.size != s.size:
        raise Failed(f"the latest checkpoint says size {latest.size}, but the ledger holds {s.size} entries")
    at = got(s.appended)
    verify_consistency(at.size, latest.size, at.root, latest.root, got(s.consistency_proof))
    return f"that checkpoint is consistent with the latest one (size {latest.size}): nothing was rewritten since"


def chain_step(s: EntrySubject) -> str:
    """5. The entry's prev is the leaf hash of the entry before it."""
    if s.signed.prev != got(s.before).leaf_hash:
        raise Failed(f"the entry's prev is not the hash of entry {s.index - 1}: the chain is broken")
    return f"prev is the leaf hash of entry {s.index - 1}"


def _belongs(s: EntrySubject) -> str:
    """6. The signer's enrolment and the commitment signed belong to this signature."""
    got(s.facts)
    return "the signer's enrolment and the commitment signed belong to this signature"


def printed_step(s: EntrySubject) -> str:
    """7. The printed certificate (the QR code's `h`) is of this very entry."""
    if s.h is None:
        raise NotChecked("no printed certificate to compare (the link had no h=)")
    given = s.h.strip().lower()
    actual = s.signed.leaf_hash.hex()
    if not _HEX.fullmatch(given) or not actual.startswith(given):
        raise Failed(
            f"the printed certificate does not match entry {s.index}: it shows {s.h[:64]!r}, the entry's "
            f"hash begins {actual[:16]}"
        )
    return f"the printed certificate matches entry {s.index} (hash {actual[:16]}…)"


def _examine(s: EntrySubject) -> EntryReport:
    """Run the steps over `s`, in order, and say what they found."""
    statement = run("statement", _statement, s)
    active_key = run("active_key", active_key_step, s)
    inclusion = run("inclusion", inclusion_step, s)
    consistency = run("consistency", consistency_step, s, needs=(inclusion,))
    chain = run("chain", chain_step, s)
    belongs = run("belongs", _belongs, s)
    printed = run("printed", printed_step, s)
    checks = (statement, active_key, inclusion, consistency, chain, belongs, printed)
    verdict = Verdict.INVALID if any(c.failed for c in checks) else Verdict.VALID
    return EntryReport(s.index, verdict, checks, read_or_none(s.facts), read_or_none(s.revocation), s.latest)


def examine_entry(ledger: Ledger, index: int, h: str | None = None) -> EntryReport:
    """Verify signature entry `index` against one snapshot of the ledger; `h` is the QR
    code's leaf-hash prefix. Every finding is a check in the report.

    Raises NotFound (no such entry) or NoCertificate (the entry is not a signature).
    """
    with ledger.read() as r:
        subject = load_entry(r, index, h)
    return _examine(subject)


@dataclass(frozen=True)
class NoSignature:
    """What stands at an index that is not a signature: an entry of another `kind`, or
    nothing (`kind` None) in a ledger of `size` entries."""

    index: int
    size: int
    kind: str | None


def what_is_at(ledger: Ledger, index: int) -> NoSignature:
    """What stands at `index`, which `examine_entry` refused as no signature.

    Raises ValueError when it is a signature after all: then the refusal had another cause
    (a damaged ledger), which the caller must not hide.
    """
    if index < 0:
        raise ValueError(f"no entry has the index {index}")
    with ledger.read() as r:
        size = r.size()
        if index >= size:
            return NoSignature(index, size, None)
        try:
            signature_entry(r, index)
        except NoCertificate:
            return NoSignature(index, size, r.entry(index).kind)
    raise ValueError(f"entry {index} is a signature")
