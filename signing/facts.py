"""What a signature certificate states, and the ledger entries it is read from.

A certificate prints facts from four entries: the ledger's first entry (who keeps it),
the official's `key.enrolled` (name, position, agency, NIP, key; from rules version 3 also
when the key was enrolled, the admin who attested it and the one who approved it), the
`commitment.published` (title, text hash) and the `commitment.signed` itself (time,
index, leaf hash). The PDF carries all four leaves with their proofs against one
checkpoint, so every printed fact can be checked offline, not only the signature.

Evidence and facts are read through a `ledger.reader.Reader`, so from one snapshot of
the ledger: the entries and the proofs always belong to the same tree.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from ledger.checkpoint import Checkpoint, TlogProof
from ledger.entries import Entry, format_time, parse_time
from ledger.errors import InvalidInput, LedgerError, NotFound
from ledger.note import VerifierKey
from ledger.reader import Reader

from .errors import EvidenceMismatch, NoCertificate

KINDS = ("ledger.created", "key.enrolled", "commitment.published", "commitment.signed")

Behind = tuple[Entry, Entry, Entry, Entry]
"""The four entries behind a signature, in the order of `KINDS`."""


@dataclass(frozen=True)
class Vouching:
    """How the signer's key entered the ledger, as its `key.enrolled` entry records it from
    rules version 3 on: when, on whose attestation and, for a replacement key or an admin's,
    with whose approval. Admins are named by NIP, or ``ledger`` for the ledger's own key."""

    enrolled_at: datetime
    role: str  # official or admin
    attested_by: str
    approved_by: str | None = None


def vouching_of(enrolled: Entry) -> Vouching | None:
    """The vouching a `key.enrolled` entry records; None for one made before rules version 3."""
    f = enrolled.fields
    if "attested_by" not in f:
        return None
    return Vouching(enrolled.time, f["role"], f["attested_by"], f.get("approved_by"))


@dataclass(frozen=True)
class SignatureFacts:
    """Everything a certificate prints about one signature (times in UTC).

    `certificate.json` states every fact but `vouching` (`STATED`), as it did before rules
    version 3: the vouching is read from the `key.enrolled` entry the certificate carries, so
    a certificate's manifest keeps the one format every verifier reads, and a certificate
    of an older ledger (no vouching) is printed exactly as it always was.
    """

    org: str
    origin: str
    index: int
    leaf_hash: str  # hex
    time: datetime
    slug: str
    commitment_title: str
    commitment_sha256: str
    commitment_index: int
    nip: str
    name: str
    position: str
    agency: str
    key: str  # the official's C2SP verifier key
    key_fingerprint: str  # SHA-256 of the raw public key, hex
    enrolled_index: int
    checkpoint_size: int
    checkpoint_root: str  # base64, as in the checkpoint
    vouching: Vouching | None = None  # printed, but not in certificate.json (read from the enrolment)

    @property
    def short_hash(self) -> str:
        """The leaf-hash prefix printed in the QR link (`?h=`)."""
        return self.leaf_hash[:16]

    def to_json(self) -> dict[str, Any]:
        """The facts `certificate.json` states (`STATED`)."""
        value = {name: v for name, v in asdict(self).items() if name in STATED}
        value["time"] = format_time(self.time)
        return value

    @classmethod
    def from_json(cls, value: object) -> SignatureFacts:
        """Read facts back from `to_json`; raises InvalidInput when a field is missing or mistyped."""
        if not isinstance(value, dict) or set(value) != set(STATED):
            raise InvalidInput("the printed facts are not a complete set of certificate fields")
        out: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in STATED:
                continue
            v = value[f.name]
            if f.name == "time":
                out[f.name] = parse_time(v)
            elif f.type == "int":
                if type(v) is not int:
                    raise InvalidInput(f"printed fact {f.name!r} is not a whole number")
                out[f.name] = v
            else:
                if not isinstance(v, str):
                    raise InvalidInput(f"printed fact {f.name!r} is not text")
                out[f.name] = v
        return cls(**out)


STATED = tuple(f.name for f in fields(SignatureFacts) if f.name != "vouching")
"""The facts a certificate's `certificate.json` states, and a verifier compares with the ledger's."""


@dataclass(frozen=True)
class Evidence:
    """The four entries behind one signature, each with its proof against one checkpoint."""

    created: Entry
    enrolled: Entry
    published: Entry
    signed: Entry
    proofs: tuple[TlogProof, ...]  # in the order of `entries()`
    checkpoint: Checkpoint
    vkey: VerifierKey

    def entries(self) -> Behind:
        return (self.created, self.enrolled, self.published, self.signed)

    def facts(self) -> SignatureFacts:
        return signature_facts(self.created, self.enrolled, self.published, self.signed, self.checkpoint)


def signature_facts(
    created: Entry, enrolled: Entry, published: Entry, signed: Entry, checkpoint: Checkpoint
) -> SignatureFacts:
    """The facts of a signature, after checking that the four entries belong together.

    Raises EvidenceMismatch naming what does not fit (another key, text, official or ledger).
    """
    for entry, kind in zip((created, enrolled, published, signed), KINDS, strict=True):
        if entry.kind != kind:
            raise EvidenceMismatch(f"entry {entry.index} is {entry.kind}, where {kind} was expected")
    if created.index != 0:
        raise EvidenceMismatch("the ledger's first entry is not entry 0")
    s, e, p = signed.fields, enrolled.fields, published.fields
    if e["key"] != s["key"] or e["nip"] != s["nip"]:
        raise EvidenceMismatch(f"entry {enrolled.index} enrols another key or official than the one that signed")
    if not enrolled.index < signed.index:
        raise EvidenceMismatch("the key was enrolled after the signature")
    if (p["slug"], p["text_sha256"], published.index) != (s["slug"], s["commitment_sha256"], s["commitment_index"]):
        raise EvidenceMismatch(f"entry {published.index} publishes another commitment than the one signed")
    if created.fields["origin"] != checkpoint.origin:
        raise EvidenceMismatch("the checkpoint is of another ledger than the first entry names")
    if signed.index >= checkpoint.size:
        raise EvidenceMismatch(f"entry {signed.index} is not in the checkpoint of size {checkpoint.size}")
    key = VerifierKey.parse(s["key"])
    return SignatureFacts(
        org=created.fields["org"],
        origin=created.fields["origin"],
        index=signed.index,
        leaf_hash=signed.leaf_hash.hex(),
        time=signed.time,
        slug=s["slug"],
        commitment_title=p["title"],
        commitment_sha256=s["commitment_sha256"],
        commitment_index=published.index,
        nip=s["nip"],
        name=e["name"],
        position=e["title"],
        agency=e["unit"],
        key=s["key"],
        key_fingerprint=key.fingerprint,
        enrolled_index=enrolled.index,
        checkpoint_size=checkpoint.size,
        checkpoint_root=base64.b64encode(checkpoint.root).decode(),
        vouching=vouching_of(enrolled),
    )


def enrolment_index(r: Reader, key: str) -> int:
    """The index of the `key.enrolled` entry of an official's key; raises LedgerError if unknown."""
    record = r.key(key)
    if record is None:
        raise LedgerError(f"the key {key} is not enrolled in this ledger: the database is damaged, run `ikrar audit`")
    return record.enrolled_index


def signature_entry(r: Reader, index: int) -> Entry:
    """Entry `index`, which must be a signature. Raises NotFound or NoCertificate."""
    entry = r.entry(index)
    if entry.kind != "commitment.signed":
        raise NoCertificate(f"entry {index} is a {entry.kind} entry, not a signature: it has no certificate")
    return entry


def _entries_behind(r: Reader, index: int, checkpoint: Checkpoint | None) -> tuple[Behind, Checkpoint]:
    signed = signature_entry(r, index)
    checkpoint = checkpoint or r.checkpoint()
    if index >= checkpoint.size:
        raise NotFound(f"entry {index} is not in the checkpoint of size {checkpoint.size}")
    entries = (
        r.entry(0),
        r.entry(enrolment_index(r, signed.fields["key"])),
        r.entry(signed.fields["commitment_index"]),
        signed,
    )
    return entries, checkpoint


def gather_facts(r: Reader, index: int, checkpoint: Checkpoint | None = None) -> SignatureFacts:
    """The facts of signature `index` as of `checkpoint` (default: the reader's latest), without proofs.

    Raises like `gather_evidence`.
    """
    entries, checkpoint = _entries_behind(r, index, checkpoint)
    return signature_facts(*entries, checkpoint)


def gather_evidence(r: Reader, index: int, checkpoint: Checkpoint | None = None) -> Evidence:
    """The evidence of signature `index`, proven against `checkpoint` (default: the reader's latest).

    Everything is read through `r`, so from one snapshot of the ledger. Raises NotFound (no
    such entry), NoCertificate (not a signature), EvidenceMismatch, or LedgerError (a damaged
    database).
    """
    entries, checkpoint = _entries_behind(r, index, checkpoint)
    proofs = tuple(
        TlogProof(e.index, tuple(r.inclusion_proof(e.index, checkpoint.size)), checkpoint.note) for e in entries
    )
    evidence = Evidence(*entries, proofs=proofs, checkpoint=checkpoint, vkey=r.verifier)
    evidence.facts()  # refuse evidence that does not belong together
    return evidence
