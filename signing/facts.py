"""What a signature certificate states, and the ledger entries it is read from.

A certificate prints facts from four entries: the ledger's first entry (who keeps it),
the official's `key.enrolled` (key; from rules version 3 also when the key was enrolled,
the admin who attested it and the one who approved it), the `commitment.published` (title,
text hash) and the `commitment.signed` itself (time, index, leaf hash, NIP). Who signed
(name, position, agency) is what a rules-4 signature names (`name`, `capacity`, `unit`),
else the key's enrolment: the identity in force at a signature made before rules version 4.
The PDF carries all four leaves with their proofs against one checkpoint, so every printed
fact can be checked offline, not only the signature; and, when the signer's key was revoked
after the signature and before that checkpoint, the `key.revoked` entry too (`Evidence`).

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
from .wording import LANGS, format_wib

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
class Difference:
    """How a copy of a certificate differs from the ledger, said for a reader: `fact` names
    the fact that differs (one of `STATED`; None when the text shows no one fact), `printed`
    is what the copy shows (None: the ledger's text is missing from it), `ledger` what the
    ledger says (None: the copy shows text the ledger does not); `place` is where the copy
    shows it: ``page`` (the printed page) or ``data`` (the facts its certificate.json states)."""

    fact: str | None
    printed: str | None
    ledger: str | None
    place: str = "page"


def _plain(text: str) -> str:
    return "".join(text.split()).casefold()


def fact_shown(facts: SignatureFacts, line: str) -> str | None:
    """The fact a line of a certificate's page shows (a `STATED` name): the line is its value,
    or, for the longer ones (a time, a hash, a key, the origin), holds it; None when the line
    shows none, or text of its own (a heading, the label)."""
    plain = _plain(line)
    if not plain:
        return None
    for name in ("name", "position", "agency", "commitment_title", "org", "slug", "index", "nip", "origin"):
        if plain == _plain(str(getattr(facts, name))):
            return name
    held = {
        "time": [format_wib(facts.time, lang) for lang in LANGS] + [format_time(facts.time)],
        "nip": [facts.nip],
        "leaf_hash": [facts.leaf_hash],
        "commitment_sha256": [facts.commitment_sha256],
        "key_fingerprint": [facts.key_fingerprint],
        "checkpoint_root": [facts.checkpoint_root],
        "origin": [facts.origin],
    }
    for name, values in held.items():
        if any(_plain(v) in plain for v in values):
            return name
    return None


def narrowed(printed: str, ledger: str) -> tuple[str, str]:
    """The words in which two versions of a line differ, without the words they share at
    either end ("pukul 09.00.00 WIB" and "pukul 07.58.13 WIB" give "09.00.00" and
    "07.58.13"); the whole lines when one holds no word the other lacks."""
    a, b = printed.split(), ledger.split()
    shortest = min(len(a), len(b))
    head = 0
    while head < shortest and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < shortest - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    ours, theirs = a[head : len(a) - tail], b[head : len(b) - tail]
    if not ours or not theirs:
        return printed, ledger
    return " ".join(ours), " ".join(theirs)


def line_difference(facts: SignatureFacts, printed: str | None, ledger: str | None) -> Difference:
    """The `Difference` of a page whose line `printed` stands where the ledger's line
    `ledger` belongs (either None: a line added or missing). A line that is one fact's
    value is given whole; a longer line that holds a fact, narrowed to the words that differ."""
    fact = fact_shown(facts, ledger) if ledger is not None else None
    if fact is None or printed is None or ledger is None:
        return Difference(fact, printed, ledger)
    if _plain(ledger) == _plain(str(getattr(facts, fact))):
        return Difference(fact, printed, ledger)
    return Difference(fact, *narrowed(printed, ledger))


@dataclass(frozen=True)
class Revocation:
    """The `key.revoked` entry of a key: from then on it signs nothing."""

    index: int
    time: datetime
    reason: str

    def after(self, signature: int) -> bool:
        """Whether the key was revoked after signature entry `signature` (so the signature holds)."""
        return self.index > signature


def revocation_of(r: Reader, key: str) -> Revocation | None:
    """The revocation of an official's key, read from its `key.revoked` entry; None if still
    active (or unknown). Raises NotFound when that entry is missing (a damaged database)."""
    record = r.key(key)
    if record is None or record.revoked_index is None:
        return None
    return revocation_in(r.entry(record.revoked_index))


def revocation_in(entry: Entry) -> Revocation:
    """The revocation a `key.revoked` entry records."""
    return Revocation(entry.index, entry.time, entry.fields["reason"])


def revoked_later(revoked: Entry, signed: Entry, checkpoint: Checkpoint) -> Revocation:
    """The revocation `revoked` records, after checking that it revokes the key that made the
    signature `signed`, after it, inside `checkpoint`. Raises EvidenceMismatch naming what does not fit."""
    f = revoked.fields
    if revoked.kind != "key.revoked":
        raise EvidenceMismatch(f"entry {revoked.index} is {revoked.kind}, where key.revoked was expected")
    if (f["key"], f["nip"]) != (signed.fields["key"], signed.fields["nip"]):
        raise EvidenceMismatch(f"entry {revoked.index} revokes another key than the one that signed")
    if not signed.index < revoked.index < checkpoint.size:
        raise EvidenceMismatch(
            f"entry {revoked.index} is not a revocation after the signature inside the checkpoint of size "
            f"{checkpoint.size}"
        )
    return revocation_in(revoked)


@dataclass(frozen=True)
class Evidence:
    """The four entries behind one signature, each with its proof against one checkpoint; and,
    when the signer's key was revoked after the signature and before that checkpoint, its
    `key.revoked` entry and proof (a certificate of presentation 2 prints the revocation)."""

    created: Entry
    enrolled: Entry
    published: Entry
    signed: Entry
    proofs: tuple[TlogProof, ...]  # in the order of `entries()`
    checkpoint: Checkpoint
    vkey: VerifierKey
    revoked: Entry | None = None
    revoked_proof: TlogProof | None = None

    def entries(self) -> Behind:
        return (self.created, self.enrolled, self.published, self.signed)

    def facts(self) -> SignatureFacts:
        return signature_facts(self.created, self.enrolled, self.published, self.signed, self.checkpoint)

    def revocation(self) -> Revocation | None:
        """The revocation of the signer's key after the signature, inside the checkpoint; None
        when there is none. Raises EvidenceMismatch when the entry is not that."""
        return None if self.revoked is None else revoked_later(self.revoked, self.signed, self.checkpoint)


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
        # who signed: as a rules-4 signature names them (`ikrar/signature/v2`); as the key's
        # enrolment for one made before (v1), which is the identity in force at it (no
        # `official.updated` comes before rules version 4, and an official has one active key)
        name=s.get("name", e["name"]),
        position=s.get("capacity", e["title"]),
        agency=s.get("unit", e["unit"]),
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


def is_signature(entry: Entry) -> bool:
    """Whether `entry` is an official's signature (`commitment.signed`), which has a certificate."""
    return entry.kind == "commitment.signed"


def signature_entry(r: Reader, index: int) -> Entry:
    """Entry `index`, which must be a signature. Raises NotFound or NoCertificate."""
    entry = r.entry(index)
    if not is_signature(entry):
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

    def proof(e: Entry) -> TlogProof:
        return TlogProof(e.index, tuple(r.inclusion_proof(e.index, checkpoint.size)), checkpoint.note)

    signed = entries[3]
    record = r.key(signed.fields["key"])
    revoked = None
    if record is not None and record.revoked_index is not None and index < record.revoked_index < checkpoint.size:
        revoked = r.entry(record.revoked_index)
    evidence = Evidence(
        *entries,
        proofs=tuple(proof(e) for e in entries),
        checkpoint=checkpoint,
        vkey=r.verifier,
        revoked=revoked,
        revoked_proof=proof(revoked) if revoked is not None else None,
    )
    evidence.facts()  # refuse evidence that does not belong together
    evidence.revocation()
    return evidence
