#!/usr/bin/env python3
"""Ikrar standalone verifier: check an Ikrar ledger export, a certificate, a Surat Rekomendasi or a naskah yourself.

One file; needs only Python 3.11+ and the `cryptography` package (pip install cryptography).
It shares no code with the Ikrar server: it re-implements the public formats — RFC 8785
canonical JSON, the RFC 6962 / RFC 9162 Merkle tree, C2SP signed notes, checkpoints and
tlog-proofs, and the Ikrar entry rules — so that a bug or a lie on the server cannot hide.

Why no shared code: an auditor must be able to read this one file and trust it without
trusting Ikrar's own code. Importing the server's Merkle tree or canonical JSON would make
the verifier agree with the server by construction, bugs included. The duplication of
RFC 6962, C2SP signed notes and RFC 8785 that this file carries is therefore deliberate;
do not factor it out. Its tests (verifier/tests/) check that it agrees with the server.

    python ikrar_verify.py export FOLDER [--vkey KEY_OR_FILE] [--known-checkpoint FILE ...]
    python ikrar_verify.py cert CERTIFICATE_LETTER_OR_NASKAH.pdf [--vkey KEY_OR_FILE]

`export` checks a folder written by `ikrar export`: contiguous indexes, each leaf in
canonical form, the hash chain, every signed checkpoint against the root of its prefix,
that the file `checkpoint` is the checkpoint of all the entries, the ledger rules, and
every official's signature. It names the first broken entry. It reads entries.jsonl and
checkpoints.jsonl strictly (one JSON object a line, exactly its members, each once, plain
integers; see `_json_lines`) and refuses anything else, naming the file and the line.

Ledger rules are versioned. A ledger keeps version 1 unless its `ledger.created` entry
names a later one (`rules`) or a `ledger.rules` entry raises it (`version`); a rule holds
from the entry where its version took effect on, never before, so a ledger made under
version 1 verifies as it always did. Version 2 adds: an entry's time is never before the
time of the entry before it (from entry 1 of a ledger created with `rules: 2`; from the
`ledger.rules` entry itself when one raises the version). Version 3 adds vouching: every
`key.enrolled` carries an active admin's signed attestation (`ikrar/attestation/v1`; the
ledger's own key attests only the first admin, before the ledger ever had one), with an
invitation no earlier key of the official came with (an invitation is used once), and a replacement key or an admin's
key also a second admin's signed approval (`ikrar/approval/v1`) from someone who neither
attested nor revoked the previous key; every `key.revoked` is signed by an active admin key
or the ledger's key (`ikrar/revocation/v1`); every NIP, key and time these entries (and a
`commitment.published`'s `signers`) write has one spelling. See `State._vouched` and
`State._revoked_by_admin`. The entries are checked as Ikrar checks them, in the same order
(the kind's rules, then the order of times, then the signatures), so that both name the
same entry for the same reason. Version 4 adds identities: an official without a NIP is
known by an identifier the system gave (`pn-` and six of `23456789abcdefghjkmnpqrstuvwxyz`);
an enrolment may name a rank and an acting position (`ikrar/attestation/v2`);
`official.updated` records an official's new identity, attested by an admin
(`ikrar/update/v1`); a signature names the signer's name and capacity, which are their
identity in force (`ikrar/signature/v2`); an official may decline (`commitment.declined`,
`ikrar/decline/v1`), finally; a commitment may have a deadline (`deadline`, moved later by
`commitment.extended`), after which nobody signs or declines. See `State._identity_in_force`.
Version 5 adds roles and applications: an admin gives or withdraws a role by a signed entry
(`role.assigned`, `ikrar/role/v1`; one Kepala PD a unit, one Kepala Dinas Kominfo in the
ledger: a grant ends the previous holder's); the Kepala PD signs a request to verify an
application (`app.submitted`, `ikrar/app-request/v1`; the request in canonical JSON,
`check_request`); a reviewer reviews it (`app.reviewed`, `check_checklist`) or returns it for
a revision (`app.returned`); only the Kepala Dinas Kominfo's key signs the decision, after a
review of the same revision (`app.decided`, `ikrar/app-decision/v1`). See `State._role`,
`State._submitted`, `State._reviewed`, `State._decided`.
This verifier knows versions 1 to 5 (RULES); a ledger that names a later version breaks at
that entry, with a message saying this verifier does not know it: get a newer verifier.

`cert` checks a certificate PDF from its attachments: the checkpoint's signature, each
entry's inclusion proof, the official's signature, that the entries belong together and
that the facts the certificate states are the ledger's. A Surat Rekomendasi (Diskominfo's
letter on an application, format ikrar-letter/v1, known by its attachment letter.json) is
checked the same way from the entries it carries (`check_letter`): the key; every entry
well-formed and of the kind its place needs; one checkpoint signed by the key; every entry's
inclusion; one origin; every signature (the Kepala PD's requests, the Kepala Dinas Kominfo's
decision, the admins' attestations of roles and keys); that the entries are one application's
from its first request to its decision, each signer's key enrolled to them and the role it
needs given to them before they signed; and that letter.json states exactly the facts those
entries say — at most 300 entries and 3 MB of evidence a letter. A Naskah Komitmen Bersama
(the joint commitment document, format ikrar-naskah/v1, known by its attachment naskah.json)
is checked from the entries it carries too (`check_naskah`): the key; every entry well-formed,
each signature's four by the certificate's own steps (`SignatureEvidence`), a step passing only
when it passed for every signature; one checkpoint signed by the key; every entry's inclusion;
one origin; every signature; that the blocks are the commitment's required signatories in the
order its `commitment.published` lists them, each signed or declined block that signatory's
signature or decline (a decline's own signature verified), each other block one with neither;
and that naskah.json states exactly the facts those entries say — at most 150 signatories and
640 attachments a naskah. (`cert` does not read a page's text; compare the printed page with
the facts it prints.)

Give --vkey with the ledger key the city publishes (on its website, in a letter): without
it only the key inside the export or the PDF is used, and trust must come from elsewhere.
Exit status: 0 when everything holds, 1 when anything is broken or unreadable.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import math
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover - said plainly to the person running it
    sys.exit("ikrar_verify.py needs the `cryptography` package: pip install cryptography")

VERSION = "5.2"  # 5.2: reads the naskah; 5.1: reads the Surat Rekomendasi; 5: rules version 5 (roles,
# applications and their decisions); 4: rules version 4 (identities, capacity, declines, deadlines); 3: vouching;
# 2: strict export lines


class Broken(Exception):
    """The ledger is not what was signed: `index` is the first entry that breaks."""

    def __init__(self, index: int, reason: str) -> None:
        self.index, self.reason = index, reason
        super().__init__(f"entry {index}: {reason}")


class Invalid(Exception):
    """Input that is malformed: a missing file, a bad line, a bad key, a damaged PDF."""


# -- RFC 8785 canonical JSON ------------------------------------------------------------

_MAX_SAFE = 2**53 - 1
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _jcs_string(s: str) -> str:
    out = ['"']
    for c in s:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif ord(c) < 0x20:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _jcs_number(x: float) -> str:
    """ECMAScript Number.prototype.toString, as RFC 8785 §3.2.2.3 requires."""
    if math.isnan(x) or math.isinf(x):
        raise Invalid(f"{x} cannot be written in canonical JSON")
    if x == 0:
        return "0"
    if x < 0:
        return "-" + _jcs_number(-x)
    _sign, digits_t, exponent = Decimal(repr(x)).as_tuple()
    digits = "".join(map(str, digits_t)).rstrip("0") or "0"
    assert isinstance(exponent, int)  # not 'n', 'N' or 'F': x is finite
    exponent += len(digits_t) - len(digits)
    k = len(digits)
    n = exponent + k  # x = 0.digits × 10**n
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


def _jcs(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE:
            raise Invalid(f"{value} is beyond the integers canonical JSON holds exactly")
        return str(value)
    if isinstance(value, float):
        return _jcs_number(value)
    if isinstance(value, str):
        return _jcs_string(value)
    if isinstance(value, list):
        return "[" + ",".join(_jcs(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass"))  # UTF-16 code unit order
        return "{" + ",".join(_jcs_string(k) + ":" + _jcs(value[k]) for k in keys) + "}"
    raise Invalid(f"a {type(value).__name__} cannot be written in canonical JSON")


def canonical_json(value: object) -> bytes:
    try:
        return _jcs(value).encode("utf-8")
    except UnicodeEncodeError as e:
        raise Invalid("a string holds a lone surrogate") from e


def _bounded_int(text: str) -> int:
    if len(text) > 20:  # far beyond what canonical JSON holds exactly (2**53); never converted
        raise Invalid("a number has more than 20 digits")
    return int(text)


def parse_canonical(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"), parse_int=_bounded_int)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise Invalid(f"not UTF-8 JSON: {e}") from e
    if not isinstance(value, dict):
        raise Invalid("not a JSON object")
    if canonical_json(value) != data:
        raise Invalid("not in canonical form (RFC 8785)")
    return value


# -- RFC 6962 / RFC 9162 Merkle tree ------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class CompactRange:
    """The right edge of a growing tree (perfect subtrees, largest first)."""

    def __init__(self) -> None:
        self.size = 0
        self.stack: list[bytes] = []

    def append(self, leaf: bytes) -> None:
        index, h = self.size, leaf
        while index & 1:
            h = node_hash(self.stack.pop(), h)
            index >>= 1
        self.stack.append(h)
        self.size += 1

    def root(self) -> bytes:
        if not self.stack:
            return hashlib.sha256(b"").digest()
        r = self.stack[-1]
        for h in reversed(self.stack[:-1]):
            r = node_hash(h, r)
        return r


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2; raises Invalid when the proof does not lead to `root`."""
    if any(len(p) != 32 for p in proof) or len(leaf) != 32 or len(root) != 32:
        raise Invalid("a hash in the proof is not 32 bytes")
    if not 0 <= index < size:
        raise Invalid(f"index {index} is not in a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise Invalid("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Invalid("the inclusion proof is shorter than the tree is deep")
    if r != root:
        raise Invalid(f"the inclusion proof for entry {index} does not lead to the root of size {size}")


# -- C2SP signed notes, verifier keys, checkpoints, tlog-proofs --------------------------

SIG_PREFIX = "\u2014 "


def b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as e:
        raise Invalid(f"{what} is not valid base64") from e


@dataclass(frozen=True)
class VKey:
    name: str
    pub: bytes

    @property
    def key_id(self) -> bytes:
        return hashlib.sha256(self.name.encode() + b"\n\x01" + self.pub).digest()[:4]

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.pub).hexdigest()

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([1]) + self.pub).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> None:
        try:
            Ed25519PublicKey.from_public_bytes(self.pub).verify(signature, message)
        except InvalidSignature as e:
            raise Invalid(f"signature by {self.name} does not verify") from e

    @classmethod
    def parse(cls, text: str) -> VKey:
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise Invalid("a verifier key has the form name+keyid+base64key")
        name, hex_id, encoded = parts
        raw = b64(encoded, "the verifier key's key")
        if len(raw) != 33 or raw[0] != 1:
            raise Invalid("the verifier key is not an Ed25519 key (type 0x01 and 32 bytes)")
        if not name or any(c.isspace() or c == "+" for c in name) or not name.isprintable():
            raise Invalid(f"key name {name!r} must be non-empty, printable, with no spaces and no '+'")
        key = cls(name, raw[1:])
        if hex_id != key.key_id.hex():
            raise Invalid("the verifier key's key id does not match its name and key")
        return key


def _note_text_ok(text: str) -> None:
    if not text.endswith("\n") or "\n\n" in text or text.startswith("\n"):
        raise Invalid("the note's text is malformed")
    if any(not c.isprintable() and c != "\n" for c in text):
        raise Invalid("the note's text holds control characters")


MAX_NOTE = 1 << 20


def open_note(note: str, key: VKey) -> str:
    """Verify a C2SP signed note; return its text. Other keys' signatures are ignored."""
    if len(note) > MAX_NOTE:
        raise Invalid("note is too large")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise Invalid("note has no blank line before its signatures")
    text, sig_lines = note[: split + 1], note[split + 2 : -1].split("\n")
    _note_text_ok(text)
    if len(sig_lines) > 100:
        raise Invalid("note has too many signatures")
    verified = False
    for line in sig_lines:
        if not line.startswith(SIG_PREFIX):
            raise Invalid("malformed signature line")
        name, _, encoded = line[len(SIG_PREFIX) :].partition(" ")
        raw = b64(encoded, "a signature")
        if not name or len(raw) < 5:
            raise Invalid("malformed signature line")
        if name == key.name and raw[:4] == key.key_id:
            key.verify(text.encode(), raw[4:])
            verified = True
    if not verified:
        raise Invalid(f"note is not signed by {key.name}+{key.key_id.hex()}")
    return text


_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    note: str


def open_checkpoint(note: str, key: VKey, origin: str | None = None) -> Checkpoint:
    lines = open_note(note, key).split("\n")[:-1]
    if len(lines) != 3:
        raise Invalid(f"a checkpoint body has three lines, this one has {len(lines)}")
    if origin is not None and lines[0] != origin:
        raise Invalid(f"checkpoint is for origin {lines[0]!r}, not {origin!r}")
    if not lines[0]:
        raise Invalid("checkpoint has an empty origin")
    if not _DECIMAL.fullmatch(lines[1]):
        raise Invalid("tree size is not a decimal number")
    root = b64(lines[2], "root hash")
    if len(root) != 32:
        raise Invalid("root hash is not 32 bytes")
    return Checkpoint(lines[0], int(lines[1]), root, note)


@dataclass(frozen=True)
class TlogProof:
    index: int
    hashes: list[bytes]
    checkpoint_note: str


def parse_tlog_proof(text: str) -> TlogProof:
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise Invalid("proof has no blank line before its checkpoint")
    lines = head.split("\n")
    if lines[0] != "c2sp.org/tlog-proof@v1":
        raise Invalid("proof does not start with c2sp.org/tlog-proof@v1")
    rest = lines[1:]
    if rest and rest[0].startswith("extra "):
        rest = rest[1:]
    if not rest or not rest[0].startswith("index ") or not _DECIMAL.fullmatch(rest[0][6:]):
        raise Invalid("proof has no valid index line")
    if len(rest) > 64:
        raise Invalid("proof has too many hashes")
    hashes = [b64(line, f"proof hash {i}") for i, line in enumerate(rest[1:])]
    if any(len(h) != 32 for h in hashes):
        raise Invalid("a proof hash is not 32 bytes")
    return TlogProof(int(rest[0][6:]), hashes, note)


# -- Ikrar entries ----------------------------------------------------------------------

KINDS: dict[str, dict[str, type[Any]]] = {
    "ledger.created": {"org": str, "origin": str, "ledger_key": str},
    "ledger.rules": {"version": int},
    "key.enrolled": {"nip": str, "name": str, "title": str, "unit": str, "key": str},
    "key.revoked": {"nip": str, "key": str, "reason": str, "by": str},
    "commitment.published": {"slug": str, "title": str, "text": str, "text_sha256": str, "signers": list, "by": str},
    "commitment.signed": {
        "slug": str,
        "commitment_sha256": str,
        "commitment_index": int,
        "nip": str,
        "key": str,
        "signature": str,
    },
    "official.updated": {
        "nip": str,
        "name": str,
        "title": str,
        "unit": str,
        "reason": str,
        "attested_by": str,
        "attester": str,
        "attestation": str,
    },
    "commitment.declined": {
        "slug": str,
        "commitment_sha256": str,
        "commitment_index": int,
        "nip": str,
        "key": str,
        "reason": str,
        "signature": str,
    },
    "commitment.extended": {"slug": str, "deadline": str, "by": str, "reason": str},
    # rules version 5: roles given by an entry, and the verification of applications
    "role.assigned": {
        "nip": str,
        "role": str,
        "unit": str,
        "grant": bool,
        "reason": str,
        "attested_by": str,
        "attester": str,
        "attestation": str,
    },
    "app.submitted": {
        "app": str,
        "revision": int,
        "request": str,
        "request_sha256": str,
        "agency": str,
        "nip": str,
        "key": str,
        "name": str,
        "capacity": str,
        "signature": str,
    },
    "app.reviewed": {"app": str, "revision": int, "by": str, "checklist": str},
    "app.returned": {"app": str, "revision": int, "by": str, "reasons": list},
    "app.decided": {
        "app": str,
        "revision": int,
        "request_sha256": str,
        "decision": str,
        "notes": list,
        "nip": str,
        "key": str,
        "name": str,
        "capacity": str,
        "signature": str,
    },
}
# Fields a later version of a kind added: an entry holds them or not. From rules version 3
# on, `key.enrolled` carries an admin's attestation (VOUCHED) and, where one is needed, a
# second admin's approval (APPROVED); `key.revoked` carries the revoker's signature (REVOKER).
VOUCHED: dict[str, type[Any]] = {
    "role": str,
    "invitation": str,
    "invited_at": str,
    "attested_by": str,
    "attester": str,
    "attestation": str,
}
APPROVED: dict[str, type[Any]] = {"approved_by": str, "approver": str, "approved_at": str, "approval": str}
REVOKER: dict[str, type[Any]] = {"revoker": str, "revocation": str}
# From rules version 4: an identity's optional parts, what a signature names, a deadline.
EXTRA: dict[str, type[Any]] = {"rank": str, "acting": str, "appointment": str}
SIGNED_AS: dict[str, type[Any]] = {"name": str, "capacity": str, "unit": str}
OPTIONAL: dict[str, dict[str, type[Any]]] = {
    "ledger.created": {"rules": int},
    "key.enrolled": {**VOUCHED, **APPROVED, **EXTRA},
    "key.revoked": REVOKER,
    "commitment.published": {"deadline": str},
    "commitment.signed": SIGNED_AS,
    "official.updated": EXTRA,
}
# Versions of the ledger's rules. A ledger keeps version 1 unless its `ledger.created` names
# another (`rules`) or a `ledger.rules` entry raises it; a rule applies from there on, never
# to the entries before. Version 2: an entry's time is never before the previous entry's.
# Version 3: keys are vouched for by admins' signed statements (`State._vouched`), and NIPs,
# keys and times in them are written in their one spelling. Version 4: identities, the capacity
# signed, declines, deadlines. Version 5: roles given by an entry and applications verified.
FIRST_RULES = 1
RULES = 5  # the newest version this verifier knows
TIME_ORDER_RULES = 2
VOUCHING_RULES = 3
IDENTITY_RULES = 4
APPS_RULES = 5
KINDS_V5 = ("role.assigned", "app.submitted", "app.reviewed", "app.returned", "app.decided")
ACTING = ("Plt.", "Plh.")
OFFICIAL_ID = re.compile(r"pn-[23456789abcdefghjkmnpqrstuvwxyz]{6}")
LEDGER = "ledger"  # who attested, approved or revoked, when it was the ledger's own key
ROLES = ("official", "admin")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", re.ASCII)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_INVITATION = re.compile(r"[0-9a-f]{32}")
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?")
ZERO = bytes(32)


@dataclass(frozen=True)
class Entry:
    index: int
    kind: str
    time: datetime
    prev: bytes
    fields: dict[str, Any]
    leaf: bytes

    @property
    def hash(self) -> bytes:
        return leaf_hash(self.leaf)


def parse_time(text: object) -> datetime:
    if not isinstance(text, str) or not _TIME.fullmatch(text):
        raise Invalid(f"time {text!r} is not YYYY-MM-DDTHH:MM:SSZ")
    try:  # the pattern fixed each field's place
        return datetime(
            int(text[0:4]),
            int(text[5:7]),
            int(text[8:10]),
            int(text[11:13]),
            int(text[14:16]),
            int(text[17:19]),
            tzinfo=UTC,
        )
    except ValueError as e:
        raise Invalid(f"time {text!r} is not a real time") from e


def parse_entry(leaf: bytes) -> Entry:
    body = parse_canonical(leaf)
    for name in ("index", "kind", "prev", "time"):
        if name not in body:
            raise Invalid(f"entry has no {name!r}")
    index, kind, prev = body.pop("index"), body.pop("kind"), body.pop("prev")
    time = parse_time(body.pop("time"))
    if type(index) is not int or index < 0:
        raise Invalid("entry index must be a non-negative integer")
    if not isinstance(prev, str) or not _HEX64.fullmatch(prev):
        raise Invalid("entry prev must be 64 lowercase hex digits")
    if not isinstance(kind, str):
        raise Invalid("entry kind must be a string")
    if kind not in KINDS:
        raise Invalid(f"unknown entry kind {kind!r}")
    spec, optional = KINDS[kind], OPTIONAL.get(kind, {})
    if not set(spec) <= set(body) <= set(spec) | set(optional):
        raise Invalid(
            f"{kind} fields differ: missing {sorted(set(spec) - set(body))}, "
            f"unexpected {sorted(set(body) - set(spec) - set(optional))}"
        )
    for name, typ in {**spec, **optional}.items():
        if name not in body:
            continue
        value = body[name]
        if type(value) is not typ:
            raise Invalid(f"{kind} field {name!r} must be {typ.__name__}")
        if typ is str and any(not c.isprintable() and c not in "\n\t" for c in value):
            raise Invalid(f"{kind} field {name!r} holds control characters")
        if typ is list and not all(isinstance(v, str) for v in value):
            raise Invalid(f"{kind} field {name!r} must be a list of strings")
    return Entry(index, kind, time, bytes.fromhex(prev), body, leaf)


def validate_nip(nip: str, today: date) -> str:
    """The 18-digit NIP (date of birth, month of appointment, sex, sequence) with any
    whitespace in it taken out; from rules version 3 an entry must write it so already."""
    nip = "".join(nip.split())
    if len(nip) != 18 or not nip.isascii() or not nip.isdigit():
        raise Invalid("NIP must be exactly 18 digits")
    try:
        born = date(int(nip[0:4]), int(nip[4:6]), int(nip[6:8]))
    except ValueError as e:
        raise Invalid(f"NIP digits 1-8 are not a date of birth (YYYYMMDD): {nip[0:8]}") from e
    if not 1940 <= born.year <= today.year - 17:
        raise Invalid(f"NIP date of birth {born.isoformat()} is not plausible for a civil servant")
    year, month = int(nip[8:12]), int(nip[12:14])
    if not 1 <= month <= 12:
        raise Invalid(f"NIP digits 9-14 are not a month of appointment (YYYYMM): {nip[8:14]}")
    if not born.year + 17 <= year <= today.year or (year, month) > (today.year, today.month):
        raise Invalid(f"NIP appointment {year:04d}-{month:02d} is not plausible for that date of birth")
    if nip[14] not in "12":
        raise Invalid("NIP digit 15 must be 1 or 2")
    if nip[15:] == "000":
        raise Invalid("NIP sequence (digits 16-18) cannot be 000")
    return nip


def validate_identifier(nip: str, today: date, ids: bool) -> str:
    """A NIP (`validate_nip`), or with `ids` (rules version 4 on) an identifier the system
    gave an official without a NIP, as written."""
    if ids and OFFICIAL_ID.fullmatch(nip):
        return nip
    if ids and nip.strip().lower().startswith("pn-"):
        raise Invalid(
            f"an identifier without a NIP is pn- and 6 of 23456789abcdefghjkmnpqrstuvwxyz: {nip!r} is not one"
        )
    return validate_nip(nip, today)


def capacity_of(fields: dict[str, Any]) -> str:
    """The capacity an official signs in: the title, or `<acting> <title> (Nomor <appointment>)`."""
    if fields.get("acting") is None:
        return str(fields["title"])
    return f"{fields['acting']} {fields['title']} (Nomor {fields['appointment']})"


IDENTITY = ("name", "title", "unit", "rank", "acting", "appointment")


def identity_of(fields: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(fields.get(what) for what in IDENTITY)


def check_identity(fields: dict[str, Any], nip: str) -> None:
    """Rules version 4 for the identity an entry records: name, title, unit (and rank) not
    blank, no line break; acting Plt. or Plh., with an appointment, and an appointment only with it."""
    for what in ("name", "title", "unit", "rank", "appointment"):
        value = fields.get(what)
        if value is None:
            continue
        if not value.strip():
            raise Invalid(f"the {what} of official {nip} is blank")
        _one_line(value, what)
    acting = fields.get("acting")
    if acting is not None and acting not in ACTING:
        raise Invalid(f"acting {acting!r} is not one of {', '.join(ACTING)}")
    if (acting is None) != (fields.get("appointment") is None):
        raise Invalid(f"official {nip}'s acting position and the number of its appointment letter come together")


def _extra_lines(fields: dict[str, Any]) -> str:
    return "".join(f"{what} {_one_line(fields[what], what)}\n" for what in EXTRA if fields.get(what) is not None)


def _signature(text: str) -> bytes:
    """The 64 raw bytes of a base64 Ed25519 signature."""
    signature = b64(text, "the signature")
    if len(signature) != 64:
        raise Invalid("an Ed25519 signature is 64 bytes")
    return signature


def statement_text(origin: str, entry: Entry) -> str:
    """The exact text an official signs: ikrar/signature/v1, or ikrar/signature/v2 (rules
    version 4 on: the entry names the signer's `capacity`), which adds their name and capacity."""
    f = entry.fields
    key = VKey.parse(f["key"])
    version, signer = "v1", ""
    if "capacity" in f:
        version = "v2"
        signer = f"name {_one_line(f['name'], 'name')}\ncapacity {_one_line(f['capacity'], 'capacity')}\n"
    return (
        f"ikrar/signature/{version}\norigin {origin}\ncommitment {f['commitment_sha256']} {f['slug']}\n"
        f"signer {f['nip']}\n{signer}key {key}\ntime {entry.time.strftime(TIME_FORMAT)}\n"
    )


def decline_text(origin: str, entry: Entry) -> str:
    """The exact text an official signs to decline a commitment (ikrar/decline/v1)."""
    f = entry.fields
    _one_line(f["reason"], "reason")
    return (
        f"ikrar/decline/v1\norigin {origin}\ncommitment {f['commitment_sha256']} {f['slug']}\n"
        f"signer {f['nip']}\nkey {VKey.parse(f['key'])}\nreason {f['reason']}\n"
        f"time {entry.time.strftime(TIME_FORMAT)}\n"
    )


def update_text(origin: str, entry: Entry) -> str:
    """The exact text an admin signs to record an official's new identity (ikrar/update/v1)."""
    f = entry.fields
    for what in ("name", "title", "unit", "reason"):
        _one_line(f[what], what)
    return (
        f"ikrar/update/v1\norigin {origin}\nnip {f['nip']}\nname {f['name']}\ntitle {f['title']}\n"
        f"unit {f['unit']}\n{_extra_lines(f)}reason {f['reason']}\ntime {entry.time.strftime(TIME_FORMAT)}\n"
    )


def check_statement(entry: Entry, origin: str) -> None:
    """Raise Invalid unless the official's Ed25519 signature over the statement verifies."""
    key = VKey.parse(entry.fields["key"])
    signature = _signature(entry.fields["signature"])
    try:
        key.verify(statement_text(origin, entry).encode(), signature)
    except Invalid as e:
        raise Invalid(f"the signature of official {entry.fields['nip']} does not verify") from e


# -- rules version 3: what admins sign to vouch for a key, or to revoke one --------------------


def _one_line(value: str, what: str) -> str:
    """`value`, refused when it would break a statement's lines."""
    if "\n" in value or "\r" in value:
        raise Invalid(f"the {what} holds a line break")
    return value


def attestation_text(origin: str, fields: dict[str, Any]) -> str:
    """The exact text an admin signs to vouch for a person (ikrar/attestation/v1), from the
    fields of the `key.enrolled` entry that carries it; its time is `invited_at`."""
    f = fields
    for what in ("name", "title", "unit", "role"):
        _one_line(f[what], what)
    extra = _extra_lines(f)  # rules version 4: a rank or an acting position makes it ikrar/attestation/v2
    return (
        f"ikrar/attestation/{'v2' if extra else 'v1'}\norigin {origin}\ninvitation {f['invitation']}\n"
        f"nip {f['nip']}\nname {f['name']}\ntitle {f['title']}\nunit {f['unit']}\n{extra}role {f['role']}\n"
        f"time {parse_time(f['invited_at']).strftime(TIME_FORMAT)}\n"
    )


def approval_text(origin: str, fields: dict[str, Any]) -> str:
    """The exact text a second admin signs to approve an attestation (ikrar/approval/v1):
    it names the attestation by the SHA-256 of its exact text; its time is `approved_at`."""
    attestation = hashlib.sha256(attestation_text(origin, fields).encode()).hexdigest()
    return (
        f"ikrar/approval/v1\norigin {origin}\nattestation {attestation}\nnip {fields['nip']}\n"
        f"time {parse_time(fields['approved_at']).strftime(TIME_FORMAT)}\n"
    )


def revocation_text(origin: str, entry: Entry) -> str:
    """The exact text an admin signs to revoke a key (ikrar/revocation/v1); its time is the entry's."""
    f = entry.fields
    _one_line(f["reason"], "reason")
    return (
        f"ikrar/revocation/v1\norigin {origin}\nnip {f['nip']}\nkey {f['key']}\nreason {f['reason']}\n"
        f"time {entry.time.strftime(TIME_FORMAT)}\n"
    )


def _check_signed(text: str, key: str, signature: str, what: str, nip: str) -> None:
    signer = VKey.parse(key)
    raw = _signature(signature)
    try:
        signer.verify(text.encode(), raw)
    except Invalid as e:
        raise Invalid(f"the {what} for official {nip} does not verify") from e


def check_vouchers(entry: Entry, origin: str) -> None:
    """Raise Invalid unless every admin's signature a `key.enrolled` or `key.revoked` entry
    carries verifies over its statement's exact bytes: the attestation when all six of its
    fields are there, the approval when all four of its fields are there, the revocation when
    both of its fields are. Fields in part check nothing here: the rules refuse them
    (`State._vouched`, `State._revoked_by_admin`), and they are asked first."""
    f = entry.fields
    if entry.kind == "official.updated":
        _check_signed(update_text(origin, entry), f["attester"], f["attestation"], "update", f["nip"])
        return
    if entry.kind == "commitment.declined":
        key, signature = VKey.parse(f["key"]), _signature(f["signature"])
        try:
            key.verify(decline_text(origin, entry).encode(), signature)
        except Invalid as e:
            raise Invalid(f"the decline for official {f['nip']} does not verify") from e
        return
    if entry.kind == "key.revoked":
        if f.keys() >= REVOKER.keys():
            _check_signed(revocation_text(origin, entry), f["revoker"], f["revocation"], "revocation", f["nip"])
        return
    if entry.kind != "key.enrolled" or not f.keys() >= VOUCHED.keys():
        return
    _check_signed(attestation_text(origin, f), f["attester"], f["attestation"], "attestation", f["nip"])
    if f.keys() >= APPROVED.keys():
        _check_signed(approval_text(origin, f), f["approver"], f["approval"], "approval", f["nip"])


def _named(named: str, actual: str, what: str) -> None:
    if named != actual:
        raise Invalid(f"the {what} is named {named!r} but the key is {actual!r}'s")


def _not_after(moment: datetime, entry_time: datetime, what: str) -> datetime:
    if moment > entry_time:
        raise Invalid(f"the {what} is dated after the entry")
    return moment


def _one_spelling(key: str, what: str) -> str:
    """`key`, refused unless written exactly as the C2SP form of the key it parses to prints
    it (no space around it, no extra padding): one spelling per key, so that `key`, `attester`,
    `approver` and `revoker` compare as strings."""
    if str(VKey.parse(key)) != key:
        raise Invalid(f"the {what} is not written in its one C2SP spelling")
    return key


def _later_deadline(text: str, after: datetime) -> datetime:
    """The deadline `text` names, written as Ikrar writes times and later than `after`."""
    moment = parse_time(text)
    if moment.year < 1000 or moment.strftime(TIME_FORMAT) != text:
        raise Invalid("the deadline is not written YYYY-MM-DDTHH:MM:SSZ")
    if moment <= after:
        raise Invalid(f"the deadline {text} is not after {after.strftime(TIME_FORMAT)}")
    return moment


def _time_form(text: str, what: str) -> datetime:
    """The time `text` names, refused unless written as Ikrar writes times. Ikrar writes a
    time with strftime, which on the servers it runs on (glibc) writes a year before 1000 with
    fewer than four digits: such a time has no spelling the pattern takes, so it is refused
    here whatever this machine's strftime does."""
    moment = parse_time(text)
    if moment.year < 1000 or moment.strftime(TIME_FORMAT) != text:
        raise Invalid(f"{what} is not written YYYY-MM-DDTHH:MM:SSZ")
    return moment


# -- rules version 5: roles given by an entry, and the verification of applications -----------

# The roles a `role.assigned` entry gives or withdraws, each for a `unit`: the Kepala Perangkat
# Daerah of the agency named (one holder a unit), an agency's operators, Diskominfo's
# reviewers, and the Kepala Dinas Kominfo (one holder in the whole ledger).
PD_HEAD, PD_OPERATOR, REVIEWER, KOMINFO_HEAD = "pd-head", "pd-operator", "reviewer", "kominfo-head"
APP_ROLES = (PD_HEAD, PD_OPERATOR, REVIEWER, KOMINFO_HEAD)
REVIEWERS = (REVIEWER, KOMINFO_HEAD)  # who may review or return a request
APP_ID = re.compile(r"[0-9]{4}-[0-9]{4}", re.ASCII)
KINDS_OF_APP = ("new", "development", "licence", "subscription")
DECISIONS = ("recommended", "recommended_with_notes", "not_recommended")
CHECKLIST = ("architecture", "duplication", "hosting", "integration", "security", "personal_data")
FINDINGS = ("fits", "concern", "does_not_fit")
REQUEST_ATTACHMENTS = 10  # at most, in one request
REQUEST_ATTACHMENT_BYTES = 10 * 1024 * 1024  # at most, one attachment
MAX_ITEMS = 20  # reasons for a return, notes of a decision
MAX_ITEM = 2000  # characters, one reason, note, or checklist note
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_NIP_FORM = re.compile(r"[0-9]{18}", re.ASCII)
_JSON_TYPES = {str: "string", int: "integer", bool: "boolean", list: "list", dict: "object"}


@dataclass(frozen=True)
class Member:
    """One member of an object a rules-5 entry carries as canonical JSON: its JSON type (or
    `date`, a string YYYY-MM-DD), and its bounds: a text of `least` to `most` characters (not
    blank when `least` is 1), on one `line` when asked; a number from `least` to `most`; one of
    `choices`."""

    type: type
    least: int = 0
    most: int = 0
    line: bool = False
    choices: tuple[str, ...] = ()


def _text(least: int, most: int, line: bool = False) -> Member:
    return Member(str, least, most, line)


def _choice(*choices: str) -> Member:
    return Member(str, choices=choices)


_FLAG = Member(bool)

# The request object (`app.submitted`'s `request`): exactly these members, checked in this order.
REQUEST: dict[str, Member] = {
    "name": _text(1, 120, True),
    "description": _text(1, 2000),
    "agency": _text(1, 200, True),
    "developer_unit": _text(0, 200, True),
    "user_unit": _text(0, 200, True),
    "contact": _text(1, 300, True),
    "legal_basis": _text(1, 2000),
    "problem": _text(1, 4000),
    "need": _text(1, 4000),
    "kind": _choice(*KINDS_OF_APP),
    "shared_app": _text(0, 200, True),
    "shared_why_not": _text(0, 2000),
    "goals": _text(1, 4000),
    "users_internal": _FLAG,
    "users_external": _FLAG,
    "users_count": Member(int, 0, 100_000_000),
    "target_date": Member(date),
    "budget_amount": Member(int, 0, 10**15),
    "budget_source": _text(1, 200, True),
    "fiscal_year": Member(int, 2000, 2100),
    "builder": _choice("in_house", "vendor"),
    "vendor": _text(0, 200, True),
    "data_processed": _text(1, 4000),
    "personal_data": _FLAG,
    "specific_personal_data": _FLAG,
    "dpia_done": _FLAG,
    "hosting": _choice("pdn", "city_dc", "other"),
    "hosting_reason": _text(0, 2000),
    "splp": _FLAG,
    "sso": _FLAG,
    "integration_note": _text(0, 2000),
    "security_testing": _text(1, 4000),
    "attachments": Member(list),
    "prepared_by": Member(str),  # empty (the Kepala PD prepared it), a NIP or an identifier
}
ATTACHMENT: dict[str, Member] = {
    "title": _text(1, 200, True),
    "file": _text(1, 200, True),
    "sha256": Member(str),
    "bytes": Member(int, 1, REQUEST_ATTACHMENT_BYTES),
    "internal": _FLAG,
}
FINDING: dict[str, Member] = {"finding": _choice(*FINDINGS), "note": _text(0, MAX_ITEM)}


def _check_text(value: str, spec: Member, where: str) -> None:
    """A text's bounds, and no character that cannot be shown (but a line break or a tab), as
    an entry's own text fields."""
    if spec.least and not value.strip():
        raise Invalid(f"{where} is blank")
    if spec.most and len(value) > spec.most:
        raise Invalid(f"{where} is longer than {spec.most} characters")
    if spec.line and ("\n" in value or "\r" in value):
        raise Invalid(f"{where} holds a line break")
    if not value.replace("\n", "").replace("\t", "").isprintable():
        raise Invalid(f"{where} holds characters that cannot be shown")


def _check_member(value: object, spec: Member, where: str) -> None:
    if spec.type is date:
        if type(value) is not str:
            raise Invalid(f"{where} must be of JSON type string")
        try:
            if not _DATE.fullmatch(value):
                raise ValueError(value)
            date.fromisoformat(value)
        except ValueError:
            raise Invalid(f"{where} is not a date written YYYY-MM-DD") from None
        return
    if type(value) is not spec.type:  # a bool is no integer here, nor an integer a bool
        raise Invalid(f"{where} must be of JSON type {_JSON_TYPES[spec.type]}")
    if spec.choices:
        if value not in spec.choices:
            raise Invalid(f"{where} is not one of {', '.join(spec.choices)}")
    elif isinstance(value, str) and (spec.least or spec.most):
        _check_text(value, spec, where)
    elif type(value) is int and not spec.least <= value <= spec.most:
        raise Invalid(f"{where} is not within {spec.least}..{spec.most}")


def _check_object(obj: object, spec: dict[str, Member], what: str, prefix: str = "") -> dict[str, Any]:
    """`obj`, refused unless it is an object of exactly the members of `spec`, each as it says;
    a refusal names the member as `the <what>'s <prefix><member>`."""
    if not isinstance(obj, dict):
        raise Invalid(f"the {what}'s {prefix.rstrip('.') or what} must be of JSON type object")
    for name in spec:
        if name not in obj:
            raise Invalid(f"the {what}'s {prefix}{name} is missing")
    for name in obj:
        if name not in spec:
            raise Invalid(f"the {what}'s {prefix}{name} is not a field of it")
    for name, member in spec.items():
        _check_member(obj[name], member, f"the {what}'s {prefix}{name}")
    return obj


def check_request(obj: object) -> None:
    """Raise Invalid unless `obj` is a request object (rules version 5): exactly the members
    of REQUEST, each of its type and within its bounds; the answers another answer asks for
    (`shared_why_not` when a shared application is named, `vendor` when a vendor builds it,
    `hosting_reason` when it is hosted elsewhere; no specific personal data without personal
    data); at most ten attachments, each exactly the members of ATTACHMENT, its `sha256` 64
    lowercase hex digits, no file twice; `prepared_by` empty, a NIP or an identifier."""
    r = _check_object(obj, REQUEST, "request")
    if r["shared_app"].strip() and not r["shared_why_not"].strip():
        raise Invalid("the request's shared_why_not is required when a shared application is named")
    if r["builder"] == "vendor" and not r["vendor"].strip():
        raise Invalid("the request's vendor is required when a vendor builds it")
    if r["hosting"] == "other" and not r["hosting_reason"].strip():
        raise Invalid("the request's hosting_reason is required when it is hosted elsewhere")
    if r["specific_personal_data"] and not r["personal_data"]:
        raise Invalid("the request's specific_personal_data is true although personal_data is false")
    if len(r["attachments"]) > REQUEST_ATTACHMENTS:
        raise Invalid(f"the request's attachments holds more than {REQUEST_ATTACHMENTS}")
    seen: set[str] = set()
    for n, item in enumerate(r["attachments"]):
        a = _check_object(item, ATTACHMENT, "request", f"attachments.{n}.")
        if not _HEX64.fullmatch(a["sha256"]):
            raise Invalid(f"the request's attachments.{n}.sha256 is not 64 lowercase hex digits")
        if a["sha256"] in seen:
            raise Invalid(f"the request's attachments.{n}.sha256 names a file attached before")
        seen.add(a["sha256"])
    if r["prepared_by"] and not (_NIP_FORM.fullmatch(r["prepared_by"]) or OFFICIAL_ID.fullmatch(r["prepared_by"])):
        raise Invalid("the request's prepared_by is neither a NIP nor an identifier Ikrar gives")


def check_checklist(obj: object) -> None:
    """Raise Invalid unless `obj` is a review's checklist: exactly the points of CHECKLIST,
    each exactly `{"finding": one of FINDINGS, "note": at most 2000 characters}`, the note
    not blank unless the finding is "fits"."""
    points = _check_object(obj, dict.fromkeys(CHECKLIST, Member(dict)), "checklist")
    for point in CHECKLIST:
        item = _check_object(points[point], FINDING, "checklist", f"{point}.")
        if item["finding"] != "fits" and not item["note"].strip():
            raise Invalid(f"the checklist's {point}.note is required when the finding is not 'fits'")


def _whole_number(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:  # never converted
        raise ValueError(f"a number of {len(text)} digits")
    return int(text)


def _no_fraction(text: str) -> Any:
    raise ValueError(f"{text} is not an integer")


def _canonical_object(text: str, what: str) -> Any:
    """The object `text` holds, refused unless it is JSON of an object, with integers only,
    written in its canonical form (RFC 8785): one spelling, so that its SHA-256 names it."""
    try:
        value = json.loads(text, parse_int=_whole_number, parse_float=_no_fraction, parse_constant=_no_fraction)
    except (ValueError, RecursionError) as e:  # a JSONDecodeError is a ValueError
        raise Invalid(f"the {what} is not JSON: {e}") from e
    if not isinstance(value, dict):
        raise Invalid(f"the {what} is not a JSON object")
    if canonical_json(value) != text.encode("utf-8"):
        raise Invalid(f"the {what} is not written in its canonical JSON (RFC 8785)")
    return value


def _check_items(items: list[str], what: str, line: bool) -> None:
    """The reasons of a return or the notes of a decision: at most MAX_ITEMS, each not blank, at
    most MAX_ITEM characters (and on one line, when the statement names each)."""
    if len(items) > MAX_ITEMS:
        raise Invalid(f"{what} are more than {MAX_ITEMS}")
    for n, item in enumerate(items):
        _check_text(item, _text(1, MAX_ITEM, line), f"{what}.{n}")


def check_reasons(reasons: list[str]) -> None:
    """Raise Invalid unless a return's reasons are 1 to MAX_ITEMS texts, as `_check_items`."""
    if not reasons:
        raise Invalid("a request is returned with at least one reason")
    _check_items(reasons, "reasons", line=False)


def check_notes(decision: str, notes: list[str]) -> None:
    """Raise Invalid unless `decision` is one of DECISIONS and `notes` suit it: none for
    "recommended"; otherwise 1 to MAX_ITEMS, each on one line (`_check_items`)."""
    if decision not in DECISIONS:
        raise Invalid(f"decision {decision!r} is not one of {', '.join(DECISIONS)}")
    if decision == "recommended":
        if notes:
            raise Invalid("a decision 'recommended' carries no notes (choose 'recommended_with_notes')")
        return
    if not notes:
        raise Invalid(f"a decision {decision!r} needs at least one note")
    _check_items(notes, "notes", line=True)


def role_text(origin: str, entry: Entry) -> str:
    """The exact text an admin signs to give or withdraw a role (ikrar/role/v1); its time is the entry's."""
    f = entry.fields
    for what in ("nip", "role", "unit", "reason"):
        _one_line(f[what], what)
    return (
        f"ikrar/role/v1\norigin {origin}\nnip {f['nip']}\nrole {f['role']}\nunit {f['unit']}\n"
        f"grant {'yes' if f['grant'] else 'no'}\nreason {f['reason']}\ntime {entry.time.strftime(TIME_FORMAT)}\n"
    )


def _signer_lines(f: dict[str, Any]) -> str:
    for what in ("nip", "name", "capacity"):
        _one_line(f[what], what)
    return f"signer {f['nip']}\nname {f['name']}\ncapacity {f['capacity']}\nkey {VKey.parse(f['key'])}\n"


def app_request_text(origin: str, entry: Entry) -> str:
    """The exact text a Kepala PD signs to submit a request (ikrar/app-request/v1)."""
    f = entry.fields
    _one_line(f["agency"], "agency")
    return (
        f"ikrar/app-request/v1\norigin {origin}\napplication {f['app']} {f['revision']}\n"
        f"request {f['request_sha256']}\nagency {f['agency']}\n{_signer_lines(f)}"
        f"time {entry.time.strftime(TIME_FORMAT)}\n"
    )


def app_decision_text(origin: str, entry: Entry) -> str:
    """The exact text the Kepala Dinas Kominfo signs to decide (ikrar/app-decision/v1): one
    `note` line a note, in order, none for "recommended"."""
    f = entry.fields
    notes = "".join(f"note {_one_line(note, 'note')}\n" for note in f["notes"])
    return (
        f"ikrar/app-decision/v1\norigin {origin}\napplication {f['app']} {f['revision']}\n"
        f"request {f['request_sha256']}\ndecision {_one_line(f['decision'], 'decision')}\n{notes}"
        f"{_signer_lines(f)}time {entry.time.strftime(TIME_FORMAT)}\n"
    )


def check_app_signatures(entry: Entry, origin: str) -> None:
    """Raise Invalid unless the signature a rules-5 entry carries verifies over its statement's
    exact bytes: the admin's attestation of a role, the Kepala PD's request, the Kepala Dinas
    Kominfo's decision. Asked after the rules (`State.check`), which name the signer."""
    f = entry.fields
    if entry.kind == "role.assigned":
        _check_signed(role_text(origin, entry), f["attester"], f["attestation"], "role", f["nip"])
    elif entry.kind == "app.submitted":
        _check_signed(app_request_text(origin, entry), f["key"], f["signature"], "request", f["nip"])
    elif entry.kind == "app.decided":
        _check_signed(app_decision_text(origin, entry), f["key"], f["signature"], "decision", f["nip"])


@dataclass
class Application:
    """What the rules need of an application: its revision now, its status, the SHA-256 of that
    revision's request, its agency, and whether that revision has been reviewed."""

    revision: int
    status: str
    request_sha256: str
    agency: str
    reviewed: bool = False


class State:
    """What the rules need to know of the entries before: also the version of the rules in
    force, the time of the entry before, and (for rules version 3) the ledger's key, the time
    of each official's last key, the active admin keys and who revoked each official's last
    revoked key.

    `check` asks, as Ikrar does (`ledger.rules.admit`), first the rules of the entry's kind,
    then (from version 2) the order of times, then the signatures the entry carries, so that
    an entry that breaks several is refused with the same reason as Ikrar's audit gives."""

    def __init__(self, origin: str, ledger_key: str, rules: int, time: datetime) -> None:
        self.origin = origin
        self.ledger_key = ledger_key
        self.rules = rules
        self.last_time = time
        self.active: dict[str, str] = {}  # NIP -> the official's active key
        self.keys: set[str] = set()  # every key ever enrolled
        self.enrolled_at: dict[str, datetime] = {}  # NIP as written -> the time of its last key.enrolled
        self.invitations: set[str] = set()  # the invitation of every vouched key: each is used once
        self.admins: dict[str, str] = {}  # active admin key -> its NIP
        self.ever_admin = False  # an admin key was ever enrolled (rules version 3)
        self.revokers: dict[str, str] = {}  # NIP -> `by` of the revocation of its last revoked key
        self.commitments: dict[str, tuple[int, str, tuple[str, ...]]] = {}
        self.signed: set[tuple[str, str]] = set()
        self.identities: dict[str, dict[str, Any]] = {}  # NIP -> its identity in force (rules version 4)
        self.deadlines: dict[str, datetime] = {}  # slug -> its deadline, as last extended
        self.declined: set[tuple[str, str]] = set()
        self.grants: set[tuple[str, str, str]] = set()  # (NIP, role, unit) of every role in force (rules version 5)
        self.apps: dict[str, Application] = {}  # application id -> what the rules need of it

    def check(self, e: Entry) -> None:
        """Raise Invalid when `e` may not follow the entries before it."""
        f = e.fields
        rules = self.rules
        if e.kind == "ledger.rules":  # the new version holds from this entry on, this entry included
            rules = f["version"]
            if rules > RULES:
                raise Invalid(
                    f"it raises the ledger's rules to version {rules}, which this verifier does not know "
                    f"(it knows up to {RULES})"
                )
            if rules <= self.rules:
                raise Invalid(f"rules version {rules} is not above the version in force, {self.rules}")
        elif e.kind == "ledger.created":
            raise Invalid("a ledger is created once, by its first entry")
        elif e.kind == "key.enrolled":
            self._enrolled(e, rules)
        elif e.kind == "key.revoked":
            self._revoked(e, rules)
        elif e.kind == "commitment.published":
            self._published(e, rules)
        elif e.kind == "commitment.signed":
            self._signed(e)
        elif e.kind == "official.updated":
            self._updated(e)
        elif e.kind == "commitment.declined":
            self._declined(e)
        elif e.kind == "commitment.extended":
            self._extended(e)
        elif e.kind == "role.assigned":
            self._role(e)
        elif e.kind == "app.submitted":
            self._submitted(e)
        elif e.kind in ("app.reviewed", "app.returned"):
            self._reviewed(e)
        elif e.kind == "app.decided":
            self._decided(e)
        if rules >= TIME_ORDER_RULES and e.time < self.last_time:
            raise Invalid(
                f"its time {e.time.strftime(TIME_FORMAT)} is before the time of entry {e.index - 1}, "
                f"{self.last_time.strftime(TIME_FORMAT)}"
            )
        if e.kind == "commitment.signed":
            check_statement(e, self.origin)
        elif e.kind in ("key.enrolled", "key.revoked", "official.updated", "commitment.declined"):
            check_vouchers(e, self.origin)  # only what the rules above let through: version 3, all fields
        elif e.kind in ("role.assigned", "app.submitted", "app.decided"):
            check_app_signatures(e, self.origin)

    def _enrolled(self, e: Entry, rules: int) -> None:
        f = e.fields
        nip = validate_identifier(f["nip"], e.time.date(), rules >= IDENTITY_RULES)
        name = VKey.parse(f["key"]).name
        expected = f"{self.origin}/official/{nip}"
        if name != expected:
            raise Invalid(f"key name {name!r} is not {expected!r}")
        if nip in self.active:
            raise Invalid(f"official {nip} already has an active key; revoke it first")
        if f["key"] in self.keys:
            raise Invalid("this key was enrolled before; a key is enrolled once")
        if rules < IDENTITY_RULES and f.keys() & EXTRA.keys():
            raise Invalid("a rank or an acting position before rules version 4, which no statement would sign")
        if rules >= VOUCHING_RULES:
            if nip != f["nip"]:
                raise Invalid(f"the NIP {f['nip']!r} is not written as 18 digits alone")
            _one_spelling(f["key"], "key")
            if rules >= IDENTITY_RULES:
                check_identity(f, nip)
            self._vouched(e)
        elif f.keys() & (VOUCHED.keys() | APPROVED.keys()):
            raise Invalid("an attestation or approval before rules version 3, which would check neither")

    def _vouched(self, e: Entry) -> None:
        """Rules version 3 for `key.enrolled`: an active admin's attestation (or the ledger's
        key's, for the first admin while there is none), not the invitation of an earlier key;
        and for a replacement key or an admin's key a second admin's approval (or the ledger
        key's, for an admin key): the approver is neither the attester, nor the official, nor
        whoever revoked the official's previous key (an admin, or the ledger's key)."""
        f, nip = e.fields, e.fields["nip"]
        if not f.keys() >= VOUCHED.keys():
            raise Invalid(f"official {nip}'s key comes without an admin's signed attestation (rules version 3)")
        role = f["role"]
        if role not in ROLES:
            raise Invalid(f"role {role!r} is not one of {', '.join(ROLES)}")
        if not _INVITATION.fullmatch(f["invitation"]):
            raise Invalid("the invitation is not 32 hex digits")
        for what in ("name", "title", "unit"):
            _one_line(f[what], what)
        invited = _not_after(_time_form(f["invited_at"], "invited_at"), e.time, "invitation")
        if f["invitation"] in self.invitations:
            raise Invalid(f"the invitation of official {nip} enrolled an earlier key: an invitation is used once")
        attester, by = _one_spelling(f["attester"], "attester"), f["attested_by"]
        if attester == self.ledger_key:
            _named(by, LEDGER, "attester")
            if role != "admin" or self.ever_admin:
                raise Invalid("the ledger's own key attests only the first admin, before the ledger ever had one")
        else:
            _named(by, self._admin(attester, nip), "attester")
            if by == nip:
                raise Invalid(f"official {nip} attests their own key")
        replacement = nip in self.enrolled_at
        given = f.keys() & APPROVED.keys()
        if attester == self.ledger_key or not (replacement or role == "admin"):
            if given:
                raise Invalid("an approval where none is asked")
            return
        if given != APPROVED.keys():
            what = "replacement" if replacement else "admin"
            raise Invalid(f"official {nip}'s {what} key lacks a second admin's signed approval")
        approved = _not_after(_time_form(f["approved_at"], "approved_at"), e.time, "approval")
        if approved < invited:
            raise Invalid("the approval is older than the invitation it approves")
        approver, approved_by = _one_spelling(f["approver"], "approver"), f["approved_by"]
        if approver == self.ledger_key:
            _named(approved_by, LEDGER, "approver")
            if role != "admin":
                raise Invalid("the ledger's own key approves only admin keys")
        else:
            _named(approved_by, self._admin(approver, nip), "approver")
        if approved_by in (by, nip, self.revokers.get(nip)):
            raise Invalid(
                f"the approval of official {nip}'s key must come from a second admin: not the attester, not the "
                "official, not the admin who revoked the previous key"
            )

    def _admin(self, key: str, nip: str) -> str:
        admin = self.admins.get(key)
        if admin is None:
            raise Invalid(f"the key vouching for official {nip} is not an active admin key at this point of the ledger")
        return admin

    def _revoked(self, e: Entry, rules: int) -> None:
        f = e.fields
        if self.active.get(f["nip"]) != f["key"]:
            raise Invalid(f"official {f['nip']} has no active key {f['key']!r} to revoke")
        if not f["reason"].strip():
            raise Invalid("a revocation needs a reason")
        if rules >= VOUCHING_RULES:
            self._revoked_by_admin(e)
        elif f.keys() & REVOKER.keys():
            raise Invalid("a signed revocation before rules version 3")

    def _revoked_by_admin(self, e: Entry) -> None:
        """Rules version 3 for `key.revoked`: signed by an active admin key, `by` naming that
        admin, or by the ledger's key, `by` naming ``ledger``."""
        f = e.fields
        if not f.keys() >= REVOKER.keys():
            raise Invalid(f"the revocation of official {f['nip']}'s key is not signed by an admin (rules version 3)")
        _one_line(f["reason"], "reason")
        revoker = _one_spelling(f["revoker"], "revoker")
        actual = LEDGER if revoker == self.ledger_key else self.admins.get(revoker)
        if actual is None:
            raise Invalid("the key that signed the revocation is not an active admin key at this point of the ledger")
        _named(f["by"], actual, "revoker")

    def _published(self, e: Entry, rules: int) -> None:
        f = e.fields
        if not _SLUG.fullmatch(f["slug"]):
            raise Invalid("slug must be 1-80 lowercase letters, digits and inner hyphens")
        if f["slug"] in self.commitments:
            raise Invalid(f"commitment {f['slug']!r} is already published")
        if not f["title"].strip() or not f["text"].strip():
            raise Invalid("a commitment needs a title and a text")
        if hashlib.sha256(f["text"].encode()).hexdigest() != f["text_sha256"]:
            raise Invalid("text_sha256 is not the SHA-256 of the text")
        signers = f["signers"]
        if not signers:
            raise Invalid("a commitment needs at least one required signatory")
        if len(set(signers)) != len(signers):
            raise Invalid("a signatory is listed twice")
        ids = rules >= IDENTITY_RULES
        for nip in signers:
            if validate_identifier(nip, e.time.date(), ids) != nip and rules >= VOUCHING_RULES:
                raise Invalid(f"the NIP {nip!r} is not written as 18 digits alone")
        if "deadline" in f:
            if not ids:
                raise Invalid("a deadline before rules version 4")
            _later_deadline(f["deadline"], e.time)

    def _answer(self, e: Entry, what: str) -> None:
        """What a signature and a decline share: the commitment and its text, the list, one
        answer an official, the active key, and (rules version 4 on) the deadline."""
        f = e.fields
        slug, nip = f["slug"], f["nip"]
        c = self.commitments.get(slug)
        if c is None:
            raise Invalid(f"commitment {slug!r} is not published")
        if (c[0], c[1]) != (f["commitment_index"], f["commitment_sha256"]):
            raise Invalid(f"{what} names another text of commitment {slug!r}")
        if nip not in c[2]:
            raise Invalid(f"official {nip} is not a required signatory of {slug!r}")
        if (slug, nip) in self.signed:
            raise Invalid(f"official {nip} has already signed {slug!r}")
        if self.rules >= IDENTITY_RULES and (slug, nip) in self.declined:
            raise Invalid(f"official {nip} has declined {slug!r}")
        if self.active.get(nip) != f["key"]:
            raise Invalid(f"the key is not the active key of official {nip} (revoked or never enrolled)")
        deadline = self.deadlines.get(slug) if self.rules >= IDENTITY_RULES else None
        if deadline is not None and e.time > deadline:
            raise Invalid(f"the deadline of {slug!r} passed at {deadline.strftime(TIME_FORMAT)}")

    def _signed(self, e: Entry) -> None:
        """A signature; from rules version 4 it names the signer's name, capacity and unit,
        which are their identity in force (`_identity_in_force`)."""
        self._answer(e, "signature")
        f, nip = e.fields, e.fields["nip"]
        given = f.keys() & SIGNED_AS.keys()
        if self.rules < IDENTITY_RULES:
            if given:
                raise Invalid("a signer's name and capacity before rules version 4")
            return
        if given != SIGNED_AS.keys():
            raise Invalid(
                f"the signature of official {nip} does not name their name, capacity and unit (rules version 4)"
            )
        identity = self._identity_in_force(nip)
        if identity is None or (f["name"], f["capacity"], f["unit"]) != (
            identity["name"],
            capacity_of(identity),
            identity["unit"],
        ):
            raise Invalid(f"the name, capacity or unit signed is not official {nip}'s identity in force")

    def _identity_in_force(self, nip: str) -> dict[str, Any] | None:
        """An official's identity: their last `key.enrolled`, or a later `official.updated`."""
        return self.identities.get(nip)

    def _updated(self, e: Entry) -> None:
        """Rules version 4: an official's new identity, attested by an active admin who is not them."""
        f = e.fields
        if self.rules < IDENTITY_RULES:
            raise Invalid("an official's identity is updated from rules version 4 on")
        nip = f["nip"]
        if validate_identifier(nip, e.time.date(), True) != nip:
            raise Invalid(f"the NIP {nip!r} is not written as 18 digits alone")
        current = self._identity_in_force(nip)
        if current is None:
            raise Invalid(f"official {nip} was never enrolled: nothing to update")
        check_identity(f, nip)
        if not f["reason"].strip():
            raise Invalid("an update of an official needs a reason")
        _one_line(f["reason"], "reason")
        if identity_of(f) == identity_of(current):
            raise Invalid(f"the update of official {nip} changes nothing")
        attester = _one_spelling(f["attester"], "attester")
        _named(f["attested_by"], self._admin(attester, nip), "attester")
        if f["attested_by"] == nip:
            raise Invalid(f"official {nip} attests their own update")

    def _declined(self, e: Entry) -> None:
        """Rules version 4: a required signatory declines, finally, with a reason."""
        if self.rules < IDENTITY_RULES:
            raise Invalid("a commitment is declined from rules version 4 on")
        self._answer(e, "decline")
        if not e.fields["reason"].strip():
            raise Invalid("a decline needs a reason")
        _one_line(e.fields["reason"], "reason")

    def _extended(self, e: Entry) -> None:
        """Rules version 4: a commitment's deadline moved later, with a reason."""
        f = e.fields
        if self.rules < IDENTITY_RULES:
            raise Invalid("a deadline is extended from rules version 4 on")
        slug = f["slug"]
        if slug not in self.commitments:
            raise Invalid(f"commitment {slug!r} is not published")
        current = self.deadlines.get(slug)
        if current is None:
            raise Invalid(f"commitment {slug!r} has no deadline to extend")
        _later_deadline(f["deadline"], max(current, e.time))
        if not f["reason"].strip():
            raise Invalid("an extension needs a reason")
        _one_line(f["reason"], "reason")

    # -- rules version 5 ----------------------------------------------------------------------

    def holds(self, nip: str, role: str, unit: str | None = None) -> bool:
        """Whether `nip` holds `role` for `unit` (None: for any unit) at this point of the ledger."""
        return any(g[0] == nip and g[1] == role and unit in (None, g[2]) for g in self.grants)

    def _role(self, e: Entry) -> None:
        """Rules version 5 for `role.assigned`, in Ikrar's order: the NIP in its one spelling;
        an enrolled official, with an active key for a grant; a known role; a unit and a reason
        not blank, on one line; a grant of a role not held for that unit, a withdrawal of one
        held; attested by an active admin (never the ledger's key) who is not the official."""
        f = e.fields
        if self.rules < APPS_RULES:
            raise Invalid("a role is given by an entry from rules version 5 on")
        nip, role, unit = f["nip"], f["role"], f["unit"]
        if validate_identifier(nip, e.time.date(), True) != nip:
            raise Invalid(f"the NIP {nip!r} is not written as 18 digits alone")
        if self._identity_in_force(nip) is None:
            raise Invalid(f"official {nip} was never enrolled: no role for them")
        if f["grant"] and nip not in self.active:
            raise Invalid(f"official {nip} holds no active key: no role for them")
        if role not in APP_ROLES:
            raise Invalid(f"role {role!r} is not one of {', '.join(APP_ROLES)}")
        for what in ("unit", "reason"):
            if not f[what].strip():
                raise Invalid(f"the {what} is blank")
            _one_line(f[what], what)
        held = self.holds(nip, role, unit)
        if f["grant"] and held:
            raise Invalid(f"official {nip} already holds {role} for {unit!r}")
        if not f["grant"] and not held:
            raise Invalid(f"official {nip} does not hold {role} for {unit!r}: nothing to withdraw")
        attester = _one_spelling(f["attester"], "attester")
        _named(f["attested_by"], self._admin(attester, nip), "attester")
        if f["attested_by"] == nip:
            raise Invalid(f"official {nip} attests their own role")

    def _signer(self, e: Entry) -> None:
        """What a request and a decision share: the signer's `key` is their active key, and the
        `name` and `capacity` signed are their identity in force."""
        f, nip = e.fields, e.fields["nip"]
        if self.active.get(nip) != f["key"]:
            raise Invalid(f"the key is not the active key of official {nip} (revoked or never enrolled)")
        identity = self._identity_in_force(nip)
        if identity is None or (f["name"], f["capacity"]) != (identity["name"], capacity_of(identity)):
            raise Invalid(f"the name or capacity signed is not official {nip}'s identity in force")

    def _submitted(self, e: Entry) -> None:
        """Rules version 5 for `app.submitted`, in Ikrar's order: an id YYYY-NNNN; revision 1 of
        an unused id, or the revision after the one returned, of the same agency; a canonical
        request (`check_request`) whose SHA-256 and agency the entry names; signed by the
        agency's Kepala PD (pd-head) with their active key, in their identity in force."""
        f = e.fields
        if self.rules < APPS_RULES:
            raise Invalid("applications are kept on the ledger from rules version 5 on")
        app, revision = f["app"], f["revision"]
        if not APP_ID.fullmatch(app):
            raise Invalid(f"application id {app!r} is not YYYY-NNNN")
        current = self.apps.get(app)
        if revision < 1:
            raise Invalid(f"revision {revision} of application {app!r} is below 1")
        if revision == 1 and current is not None:
            raise Invalid(f"application id {app!r} is taken")
        if revision > 1:
            if current is None:
                raise Invalid(f"application {app!r} was never submitted")
            if current.status != "returned":
                raise Invalid(f"application {app!r} is {current.status}: only a returned request is revised")
            if revision != current.revision + 1:
                raise Invalid(
                    f"application {app!r} was returned at revision {current.revision}: "
                    f"the next is {current.revision + 1}"
                )
            if f["agency"] != current.agency:
                raise Invalid(f"application {app!r} belongs to {current.agency!r}")
        request = _canonical_object(f["request"], "request")
        check_request(request)
        if hashlib.sha256(f["request"].encode("utf-8")).hexdigest() != f["request_sha256"]:
            raise Invalid("request_sha256 is not the SHA-256 of the request")
        if request["agency"] != f["agency"]:
            raise Invalid("agency is not the request's agency")
        if not self.holds(f["nip"], PD_HEAD, f["agency"]):
            raise Invalid(f"official {f['nip']} is not the Kepala PD of {f['agency']!r} (role pd-head)")
        self._signer(e)

    def _waiting(self, e: Entry) -> Application:
        """The application a review, a return or a decision names: submitted, waiting (status
        submitted) at the revision the entry names."""
        f = e.fields
        app = self.apps.get(f["app"])
        if app is None:
            raise Invalid(f"application {f['app']!r} was never submitted")
        if app.status != "submitted":
            raise Invalid(
                f"application {f['app']!r} is {app.status}: only a request that waits is reviewed, returned or decided"
            )
        if f["revision"] != app.revision:
            raise Invalid(f"application {f['app']!r} waits at revision {app.revision}, not {f['revision']}")
        return app

    def _reviewed(self, e: Entry) -> None:
        """Rules version 5 for `app.reviewed` and `app.returned`: the application waits at that
        revision; `by` holds reviewer or kominfo-head (for any unit); a canonical checklist
        (`check_checklist`), or the reasons for returning it (`check_reasons`)."""
        f = e.fields
        if self.rules < APPS_RULES:
            raise Invalid("applications are kept on the ledger from rules version 5 on")
        self._waiting(e)
        if not any(self.holds(f["by"], role) for role in REVIEWERS):
            raise Invalid(f"official {f['by']} is not a reviewer of Diskominfo (role reviewer or kominfo-head)")
        if e.kind == "app.reviewed":
            check_checklist(_canonical_object(f["checklist"], "checklist"))
        else:
            check_reasons(f["reasons"])

    def _decided(self, e: Entry) -> None:
        """Rules version 5 for `app.decided`: the application waits at that revision, whose
        request it names and which was reviewed; a decision with the notes it takes
        (`check_notes`); signed by the Kepala Dinas Kominfo (kominfo-head) with their active
        key, in their identity in force."""
        f = e.fields
        if self.rules < APPS_RULES:
            raise Invalid("applications are kept on the ledger from rules version 5 on")
        app = self._waiting(e)
        if f["request_sha256"] != app.request_sha256:
            raise Invalid(
                f"the decision names another request than revision {app.revision} of application {f['app']!r}"
            )
        if not app.reviewed:
            raise Invalid(f"revision {app.revision} of application {f['app']!r} was not reviewed yet")
        check_notes(f["decision"], f["notes"])
        if not self.holds(f["nip"], KOMINFO_HEAD):
            raise Invalid(f"official {f['nip']} is not the Kepala Dinas Kominfo (role kominfo-head): only they decide")
        self._signer(e)

    def _apply_v5(self, e: Entry) -> None:
        f = e.fields
        if e.kind == "role.assigned":
            granted = (f["nip"], f["role"], f["unit"])
            if not f["grant"]:
                self.grants.discard(granted)
                return
            if f["role"] == PD_HEAD:  # one Kepala PD a unit: the grant ends the previous holder's
                self.grants = {g for g in self.grants if (g[1], g[2]) != (PD_HEAD, f["unit"])}
            elif f["role"] == KOMINFO_HEAD:  # one Kepala Dinas Kominfo in the whole ledger
                self.grants = {g for g in self.grants if g[1] != KOMINFO_HEAD}
            self.grants.add(granted)
        elif e.kind == "app.submitted":
            self.apps[f["app"]] = Application(f["revision"], "submitted", f["request_sha256"], f["agency"])
        elif e.kind == "app.reviewed":
            self.apps[f["app"]].reviewed = True
        elif e.kind == "app.returned":
            self.apps[f["app"]].status = "returned"
        elif e.kind == "app.decided":
            self.apps[f["app"]].status = f["decision"]

    def apply(self, e: Entry) -> None:
        f = e.fields
        self.last_time = e.time
        if e.kind in KINDS_V5:
            self._apply_v5(e)
        if e.kind == "ledger.rules":
            self.rules = f["version"]
        elif e.kind == "key.enrolled":
            self.identities[f["nip"]] = f
            self.active[f["nip"]] = f["key"]
            self.keys.add(f["key"])
            self.enrolled_at[f["nip"]] = e.time
            if "invitation" in f:
                self.invitations.add(f["invitation"])
            if f.get("role") == "admin":
                self.admins[f["key"]] = f["nip"]
                self.ever_admin = True
        elif e.kind == "key.revoked":
            del self.active[f["nip"]]
            self.admins.pop(f["key"], None)
            self.revokers[f["nip"]] = f["by"]
        elif e.kind == "commitment.published":
            self.commitments[f["slug"]] = (e.index, f["text_sha256"], tuple(f["signers"]))
            if "deadline" in f:
                self.deadlines[f["slug"]] = parse_time(f["deadline"])
        elif e.kind == "commitment.signed":
            self.signed.add((f["slug"], f["nip"]))
        elif e.kind == "official.updated":
            self.identities[f["nip"]] = f
        elif e.kind == "commitment.declined":
            self.declined.add((f["slug"], f["nip"]))
        elif e.kind == "commitment.extended":
            self.deadlines[f["slug"]] = parse_time(f["deadline"])


# -- an export folder -------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    index: int
    leaf: bytes
    kind: str
    leaf_hash: bytes
    prev: bytes


# The two JSON-lines files are read strictly, so that no other reader can see a line this one
# does not: every line is one JSON object in UTF-8, from `{` to `}`, followed by one newline
# (LF; the last line too), never blank; it holds exactly the members of its file, each once;
# integers are plain non-negative integers of at most 20 digits (never converted when longer);
# hashes are 64 lowercase hex digits; the leaf is padded, canonical standard base64.
ENTRY_MEMBERS = ("index", "kind", "leaf", "leaf_hash", "prev")
CHECKPOINT_MEMBERS = ("size", "note")
MAX_LINE = 64 << 20
MAX_DIGITS = 20
_PLAIN_INT = re.compile(rf"0|[1-9][0-9]{{0,{MAX_DIGITS - 1}}}")


class _Number:
    """A JSON number that is not a plain integer of at most MAX_DIGITS digits, kept as text."""

    def __init__(self, text: str) -> None:
        self.text = text


class _Twice(Exception):
    pass


def _members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise _Twice(name)
        out[name] = value
    return out


def _plain_int(text: str) -> int | _Number:
    return int(text) if _PLAIN_INT.fullmatch(text) else _Number(text)


_LINE_JSON = json.JSONDecoder(
    object_pairs_hook=_members, parse_int=_plain_int, parse_float=_Number, parse_constant=_Number
)


def _json_lines(path: Path, members: tuple[str, ...]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each line of a JSON-lines file as (where, object); raises Invalid naming the line."""
    if not path.is_file():
        raise Invalid(f"{path.name} is missing from the export")
    with open(path, "rb") as f:
        number = 0
        while raw := f.readline(MAX_LINE + 1):
            number += 1
            where = f"{path.name} line {number}"
            if len(raw) > MAX_LINE:
                raise Invalid(f"{where}: the line is longer than {MAX_LINE >> 20} MiB")
            if not raw.endswith(b"\n"):
                raise Invalid(f"{where}: the line does not end with a newline: the file was cut short")
            if raw == b"\n":
                raise Invalid(f"{where}: the line is blank")
            try:
                text = raw[:-1].decode("utf-8")
            except UnicodeDecodeError as e:
                raise Invalid(f"{where}: the line is not UTF-8") from e
            if not (text.startswith("{") and text.endswith("}")):
                raise Invalid(f"{where}: the line is not one JSON object from '{{' to '}}' followed by a newline")
            try:
                value = _LINE_JSON.decode(text)
            except _Twice as e:
                raise Invalid(f"{where}: member {e.args[0]!r} appears twice") from e
            except (json.JSONDecodeError, RecursionError) as e:
                raise Invalid(f"{where}: the line is not JSON") from e
            if not isinstance(value, dict):
                raise Invalid(f"{where}: the line is not a JSON object")
            for name in members:
                if name not in value:
                    raise Invalid(f"{where}: member {name!r} is missing")
            for name in value:
                if name not in members:
                    raise Invalid(f"{where}: member {name!r} is not one of {', '.join(members)}")
            yield where, value


def _count(v: dict[str, Any], name: str, where: str, least: int = 0) -> int:
    value = v[name]
    if type(value) is not int:
        raise Invalid(f"{where}: member {name!r} is not a plain integer of at most {MAX_DIGITS} digits")
    if value < least:
        raise Invalid(f"{where}: member {name!r} is {value}, less than {least}")
    return value


def _string(v: dict[str, Any], name: str, where: str) -> str:
    value = v[name]
    if not isinstance(value, str):
        raise Invalid(f"{where}: member {name!r} is not a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise Invalid(f"{where}: member {name!r} holds a lone surrogate") from e
    return value


def _hex32(v: dict[str, Any], name: str, where: str) -> bytes:
    value = _string(v, name, where)
    if not _HEX64.fullmatch(value):
        raise Invalid(f"{where}: member {name!r} is not 64 lowercase hex digits")
    return bytes.fromhex(value)


def _base64(v: dict[str, Any], name: str, where: str) -> bytes:
    value = _string(v, name, where)
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as e:
        raise Invalid(f"{where}: member {name!r} is not base64") from e
    if base64.b64encode(raw).decode() != value:
        raise Invalid(f"{where}: member {name!r} is not canonical base64 (padded, unused bits zero)")
    return raw


def read_entries(folder: Path) -> Iterator[Stored]:
    for where, v in _json_lines(folder / "entries.jsonl", ENTRY_MEMBERS):
        yield Stored(
            _count(v, "index", where),
            _base64(v, "leaf", where),
            _string(v, "kind", where),
            _hex32(v, "leaf_hash", where),
            _hex32(v, "prev", where),
        )


def read_checkpoints(folder: Path) -> Iterator[tuple[int, str]]:
    for where, v in _json_lines(folder / "checkpoints.jsonl", CHECKPOINT_MEMBERS):
        yield _count(v, "size", where, least=1), _string(v, "note", where)


def read_latest_checkpoint(folder: Path) -> bytes:
    """The file `checkpoint`, as stored (at most a note's size and one byte more)."""
    path = folder / "checkpoint"
    if not path.is_file():
        raise Invalid("checkpoint is missing from the export")
    with open(path, "rb") as f:
        return f.read(MAX_NOTE + 1)


def open_latest_checkpoint(raw: bytes, key: VKey) -> Checkpoint:
    """The file `checkpoint`, opened: it must be a checkpoint signed by `key`, for its origin."""
    try:
        if len(raw) > MAX_NOTE:
            raise Invalid("note is too large")
        return open_checkpoint(raw.decode("utf-8"), key, key.name)
    except (Invalid, UnicodeDecodeError) as e:
        why = e if isinstance(e, Invalid) else "note is not UTF-8"
        raise Invalid(
            f"checkpoint: the file is not a checkpoint signed by the trusted key for {key.name}: {why}"
        ) from e


@dataclass(frozen=True)
class Report:
    size: int
    checkpoints: int
    signatures: int
    origin: str
    latest: str
    root: bytes
    rules: int


def _entry_problem(stored: Stored, expected: int, prev: bytes) -> tuple[Entry, str | None]:
    try:
        entry = parse_entry(stored.leaf)
    except Invalid as e:
        raise Broken(expected, f"the leaf is not a valid entry: {e}") from e
    if entry.index != expected:
        return entry, f"the leaf says it is entry {entry.index}: entries were inserted, deleted or reordered"
    if stored.kind != entry.kind:
        return entry, f"the stored kind {stored.kind!r} is not the leaf's kind {entry.kind!r}"
    if stored.leaf_hash != entry.hash:
        return entry, "the stored leaf hash is not the hash of the leaf: the entry was edited"
    if stored.prev != entry.prev:
        return entry, "the stored previous hash differs from the leaf's"
    if entry.prev != prev:
        return entry, "the hash chain is broken: prev is not the hash of the entry before"
    return entry, None


def _genesis(entry: Entry, key: VKey) -> State:
    if entry.kind != "ledger.created":
        raise Broken(0, f"the first entry is {entry.kind}, not ledger.created")
    if entry.prev != ZERO:
        raise Broken(0, "the first entry's prev is not the zero hash")
    if entry.fields["ledger_key"] != str(key):
        raise Broken(0, "the ledger was created with another key than the one trusted")
    if entry.fields["origin"] != key.name:
        raise Broken(0, "the ledger's origin is not the name of its key")
    rules = entry.fields.get("rules", FIRST_RULES)  # absent: the first rules, as every ledger made before
    if rules > RULES:
        raise Broken(
            0, f"the ledger uses rules version {rules}, which this verifier does not know (it knows up to {RULES})"
        )
    if "rules" in entry.fields and rules <= FIRST_RULES:
        raise Broken(
            0, f"the ledger names rules version {rules}: a ledger names version {FIRST_RULES + 1} or later, or none"
        )
    return State(entry.fields["origin"], entry.fields["ledger_key"], rules, entry.time)


def audit(
    entries: Iterable[Stored], checkpoints: Iterable[tuple[int, str]], key: VKey, known: Sequence[str] = ()
) -> Report:
    """Verify a whole ledger, streaming; raise Broken naming the first entry that breaks."""
    tree, state, prev = CompactRange(), None, ZERO
    cps = iter(checkpoints)
    pending = next(cps, None)
    try:
        known_cps = [open_checkpoint(note, key) for note in known]
    except Invalid as e:
        raise Invalid(f"a known checkpoint does not verify: {e}") from e
    roots: dict[int, bytes] = {}
    n_cps = n_sigs = 0
    latest = ""
    for stored in entries:
        expected = tree.size
        if stored.index != expected:
            what = "is missing" if stored.index > expected else "is stored twice or out of order"
            raise Broken(expected, f"entry {expected} {what}")
        entry, problem = _entry_problem(stored, expected, prev)
        if problem:
            raise Broken(expected, problem)
        if expected == 0:
            state = _genesis(entry, key)
        else:
            assert state is not None  # set by entry 0
            try:
                state.check(entry)
            except Invalid as e:
                raise Broken(expected, f"{entry.kind} breaks a rule: {e}") from e
            state.apply(entry)
        n_sigs += entry.kind == "commitment.signed"
        tree.append(entry.hash)
        prev = entry.hash
        if any(cp.size == tree.size for cp in known_cps):
            roots[tree.size] = tree.root()
        covered = False
        while pending is not None and pending[0] <= tree.size:
            size, note = pending
            pending = next(cps, None)
            if size < tree.size:
                raise Broken(size - 1, f"checkpoint of size {size} is stored twice or out of order")
            try:
                cp = open_checkpoint(note, key, state.origin)
            except Invalid as e:
                raise Broken(size - 1, f"checkpoint of size {size} is not validly signed: {e}") from e
            if cp.size != size:
                raise Broken(size - 1, f"checkpoint stored as size {size} says size {cp.size}")
            if cp.root != tree.root():
                raise Broken(
                    size - 1,
                    f"the entries do not match the signed checkpoint of size {size}: "
                    f"entry {size - 1} or one before it was changed",
                )
            covered, latest = True, note
            n_cps += 1
        if not covered:
            raise Broken(expected, f"no signed checkpoint of size {tree.size} was stored with it")
    if pending is not None:
        raise Broken(
            tree.size, f"a checkpoint of size {pending[0]} signs entries from {tree.size} on, which are missing"
        )
    if tree.size == 0 or state is None:
        raise Broken(0, "the ledger is empty: its first entry is missing")
    for cp in known_cps:
        if cp.size > tree.size:
            raise Broken(
                tree.size, f"a checkpoint seen earlier has size {cp.size}: entries from {tree.size} on were cut off"
            )
        if roots[cp.size] != cp.root:
            raise Broken(
                cp.size - 1,
                f"the ledger was rewritten: it no longer matches the checkpoint of size {cp.size} seen earlier",
            )
    return Report(tree.size, n_cps, n_sigs, state.origin, latest, tree.root(), state.rules)


def verify_export(folder: Path, key: VKey | None, known: Sequence[str] = ()) -> tuple[Report, VKey]:
    """Verify an export folder: every entry and checkpoint (`audit`), and that the file
    `checkpoint` is the trusted key's checkpoint of all the entries. Raises Invalid for a
    missing file, a malformed line, or a `checkpoint` that is not one of this ledger or is
    stale; Broken naming the first broken entry, also when `checkpoint` signs entries the
    folder lacks or another root for its size."""
    if not folder.is_dir():
        raise Invalid(f"{folder} is not a folder")
    if key is None:
        if not (folder / "vkey").is_file():
            raise Invalid("vkey is missing from the export")
        try:
            key = VKey.parse((folder / "vkey").read_bytes().decode("utf-8"))
        except UnicodeDecodeError as e:
            raise Invalid("vkey is not UTF-8") from e
    raw = read_latest_checkpoint(folder)
    report = audit(read_entries(folder), read_checkpoints(folder), key, known)
    latest = open_latest_checkpoint(raw, key)  # after the audit, whose findings come first
    size = report.size
    if latest.size > size:
        raise Broken(
            size,
            f"the latest checkpoint (the file checkpoint) has size {latest.size}: entries from {size} on are missing",
        )
    if latest.size < size:
        raise Invalid(
            f"checkpoint: the latest checkpoint has size {latest.size}, "
            f"but the export holds {size} entries: it is stale"
        )
    if latest.root != report.root:
        raise Broken(
            size - 1,
            f"the latest checkpoint (the file checkpoint) signs another root for size {size} than checkpoints.jsonl: "
            "the ledger was forked or rewritten",
        )
    return report, key


# -- PDF: just enough to read a certificate's embedded files ------------------------------

MAX_PDF = 10 * 1024 * 1024
MAX_STREAM = 1024 * 1024  # decoded, one stream; a certificate's largest attachment is some 3 kB
MAX_DECODED = 4 * 1024 * 1024  # decoded, every stream of the file together
MAX_ATTACHMENTS = 32  # a certificate carries ten
# A Surat Rekomendasi carries more (`check_letter`): the ledger's first entry and at most
# MAX_LETTER_ENTRIES more, two files each (the leaf and its tlog-proof), ledger.vkey, letter.json
# and the letterhead's emblem. A naskah komitmen bersama (`check_naskah`) carries, for each of at
# most MAX_NASKAH_SIGNATORIES signatories, the leaf and proof of their signature (and key
# enrolment) or decline: at most MAX_NASKAH_ATTACHMENTS, as Ikrar's own reader allows a
# document that names its manifest. Only a PDF that carries letter.json or naskah.json (and no
# certificate.json) may carry more than MAX_ATTACHMENTS, each up to its own limit.
MAX_LETTER_ENTRIES = 300  # the entries a letter names besides the first: its history, two a signature
MAX_LETTER_ATTACHMENTS = 2 * (MAX_LETTER_ENTRIES + 1) + 3
MAX_LETTER_EVIDENCE = 3 * 1024 * 1024  # bytes, every attachment of a letter together (as Ikrar writes one)
MAX_NASKAH_SIGNATORIES = 150  # the blocks a naskah prints, as Ikrar prints at most
MAX_NASKAH_ATTACHMENTS = 640  # as Ikrar reads at most: some four files a signatory, 150 of them
CERT_MANIFEST = "certificate.json"
LETTER_MANIFEST = "letter.json"
NASKAH_MANIFEST = "naskah.json"
_WS = b"\x00\t\n\x0c\r "
_DELIMS = b"()<>[]{}/%"
_OBJ = re.compile(rb"(?<![0-9])(\d{1,10})[ \t\r\n\x00\x0c]+(\d{1,5})[ \t\r\n\x00\x0c]+obj(?![A-Za-z])")
_TRAILER = re.compile(rb"trailer[ \t\r\n\x00\x0c]*<<")


class Name(str):
    """A PDF name (without its slash)."""


@dataclass(frozen=True)
class Ref:
    num: int
    gen: int


@dataclass
class Stream:
    attrs: dict[str, Any]
    raw: bytes


class _Parser:
    def __init__(self, data: bytes) -> None:
        self.d = data

    def ws(self, i: int) -> int:
        d = self.d
        while i < len(d):
            if d[i] in _WS:
                i += 1
            elif d[i] == 0x25:  # % comment to end of line
                while i < len(d) and d[i] not in b"\r\n":
                    i += 1
            else:
                break
        return i

    def token_end(self, i: int) -> int:
        d = self.d
        while i < len(d) and d[i] not in _WS and d[i] not in _DELIMS:
            i += 1
        return i

    def value(self, i: int, depth: int = 0) -> tuple[object, int]:
        if depth > 64:
            raise Invalid("the PDF nests too deeply")
        d = self.d
        i = self.ws(i)
        if i >= len(d):
            raise Invalid("the PDF ends in the middle of an object")
        c = d[i]
        if d.startswith(b"<<", i):
            out: dict[str, object] = {}
            i += 2
            while True:
                i = self.ws(i)
                if d.startswith(b">>", i):
                    return out, i + 2
                key, i = self.value(i, depth + 1)
                if not isinstance(key, Name):
                    raise Invalid("a PDF dictionary key is not a name")
                val, i = self.value(i, depth + 1)
                out[str(key)] = val
        if c == 0x5B:  # [
            arr: list[object] = []
            i += 1
            while True:
                i = self.ws(i)
                if i >= len(d):
                    raise Invalid("the PDF ends inside an array")
                if d[i] == 0x5D:
                    return arr, i + 1
                item, i = self.value(i, depth + 1)
                arr.append(item)
        if c == 0x28:  # (
            return self.literal(i + 1)
        if c == 0x3C:  # <hex>
            end = d.find(b">", i)
            if end < 0:
                raise Invalid("unterminated hex string")
            hexd = bytes(b for b in d[i + 1 : end] if b not in _WS)
            if len(hexd) % 2:
                hexd += b"0"
            try:
                return bytes.fromhex(hexd.decode("ascii")), end + 1
            except (ValueError, UnicodeDecodeError) as e:
                raise Invalid("bad hex string") from e
        if c == 0x2F:  # /Name
            end = self.token_end(i + 1)
            raw = d[i + 1 : end]
            name = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)
            return Name(name.decode("latin-1")), end
        end = self.token_end(i)
        if end == i:
            raise Invalid(f"unexpected byte {d[i : i + 1]!r} in the PDF")
        tok = d[i:end]
        if tok in (b"true", b"false"):
            return tok == b"true", end
        if tok == b"null":
            return None, end
        if re.fullmatch(rb"\d+", tok):
            # an indirect reference "num gen R"?
            j = self.ws(end)
            k = self.token_end(j)
            if re.fullmatch(rb"\d+", d[j:k] or b"x"):
                m = self.ws(k)
                if d.startswith(b"R", m) and (m + 1 == len(d) or d[m + 1] in _WS or d[m + 1] in _DELIMS):
                    return Ref(int(tok), int(d[j:k])), m + 1
            return int(tok), end
        if re.fullmatch(rb"[+-]?(\d+\.?\d*|\.\d+)", tok):
            return (float(tok) if b"." in tok else int(tok)), end
        return Name(tok.decode("latin-1")), end  # a bare keyword; never a value we read

    def literal(self, i: int) -> tuple[bytes, int]:
        d, out, depth = self.d, bytearray(), 1
        esc = {
            ord("n"): b"\n",
            ord("r"): b"\r",
            ord("t"): b"\t",
            ord("b"): b"\b",
            ord("f"): b"\f",
            ord("("): b"(",
            ord(")"): b")",
            ord("\\"): b"\\",
        }
        while i < len(d):
            c = d[i]
            if c == 0x5C:
                i += 1
                if i >= len(d):
                    break
                n = d[i]
                if n in esc:
                    out += esc[n]
                    i += 1
                elif 0x30 <= n <= 0x37:
                    j = i
                    while j < len(d) and j < i + 3 and 0x30 <= d[j] <= 0x37:
                        j += 1
                    out.append(int(d[i:j], 8) & 0xFF)
                    i = j
                elif n == 0x0D:
                    i += 2 if d.startswith(b"\r\n", i) else 1
                elif n == 0x0A:
                    i += 1
                else:
                    out.append(n)
                    i += 1
                continue
            if c == 0x28:
                depth += 1
            elif c == 0x29:
                depth -= 1
                if depth == 0:
                    return bytes(out), i + 1
            out.append(c)
            i += 1
        raise Invalid("unterminated string in the PDF")


class _Budget:
    """The decoded bytes a file may still cost: decoding stops as soon as it passes a limit."""

    def __init__(self) -> None:
        self.left = MAX_DECODED

    def take(self, n: int) -> None:
        if n > self.left:
            raise Invalid(f"the PDF decodes to more than {MAX_DECODED // (1024 * 1024)} MB: not a certificate")
        self.left -= n


def _decode(stream: Stream, budget: _Budget) -> bytes:
    """A stream's bytes, decoded lazily: at most one /FlateDecode (so a stream compressed twice
    is refused unread), stopping at MAX_STREAM or the file's budget, whichever comes first."""
    filters = stream.attrs.get("Filter")
    filters = [] if filters is None else filters if isinstance(filters, list) else [filters]
    if len(filters) > 2 or sum(f in ("FlateDecode", "Fl") for f in filters) > 1:
        raise Invalid(
            f"a stream in the PDF is packed with the filters {' '.join(map(str, filters))[:80]}: not a certificate"
        )
    data = stream.raw
    for f in filters:
        if f in ("FlateDecode", "Fl"):
            cap = min(MAX_STREAM, budget.left)
            z = zlib.decompressobj()
            try:
                data = z.decompress(data, cap + 1)
            except zlib.error as e:
                raise Invalid("a compressed stream in the PDF is damaged") from e
            if len(data) > MAX_STREAM:
                raise Invalid(f"a stream in the PDF is larger than {MAX_STREAM // 1024} kB decoded: not a certificate")
        elif f in ("ASCIIHexDecode", "AHx"):
            text = bytes(b for b in data if b not in _WS).split(b">")[0]
            try:
                data = bytes.fromhex((text + b"0" * (len(text) % 2)).decode("ascii"))
            except (ValueError, UnicodeDecodeError) as e:
                raise Invalid("bad hex stream") from e
        elif f in ("ASCII85Decode", "A85"):
            try:
                data = base64.a85decode(data.strip().removesuffix(b"~>"), adobe=False)
            except ValueError as e:
                raise Invalid("bad ASCII85 stream") from e
        else:
            raise Invalid(f"the PDF uses a filter this verifier does not read ({f})")
    budget.take(len(data))
    return data


MAX_NAMED = 1024  # names read in a name tree at most: beyond any document Ikrar makes (a naskah, 640)
MAX_KEPT = max(MAX_LETTER_ATTACHMENTS, MAX_NASKAH_ATTACHMENTS) + 1


def document_of(manifests: Iterable[str]) -> str:
    """Which document a PDF is by the manifests it carries: a certificate (certificate.json, or
    none), else a letter (letter.json), else a naskah (naskah.json)."""
    named = set(manifests)
    if CERT_MANIFEST in named or not named & {LETTER_MANIFEST, NASKAH_MANIFEST}:
        return "certificate"
    return "letter" if LETTER_MANIFEST in named else "naskah"


ATTACHMENT_LIMITS = {
    "certificate": MAX_ATTACHMENTS,
    "letter": MAX_LETTER_ATTACHMENTS,
    "naskah": MAX_NASKAH_ATTACHMENTS,
}


class _Named:
    """The files a PDF's name tree names: the first MAX_KEPT kept (none decoded yet), up to
    MAX_NAMED counted, and which manifests are among them, wherever they come."""

    def __init__(self) -> None:
        self.files: list[tuple[str, Stream]] = []
        self.count = 0
        self.manifests: set[str] = set()

    def add(self, name: str, stream: Stream) -> None:
        self.count += 1
        if name in (CERT_MANIFEST, LETTER_MANIFEST, NASKAH_MANIFEST):
            self.manifests.add(name)
        if len(self.files) < MAX_KEPT:
            self.files.append((name, stream))
        if self.count > MAX_NAMED:
            raise self.refusal()

    @property
    def document(self) -> str:
        return document_of(self.manifests)

    def refusal(self) -> Invalid:
        """Why the files are not read: more of them than the document its manifest names carries."""
        document = self.document
        return Invalid(f"the PDF has more than {ATTACHMENT_LIMITS[document]} attachments: not a {document}")


class Pdf:
    """The indirect objects of a PDF, found by scanning (later definitions win, as in updates)."""

    def __init__(self, data: bytes) -> None:
        if len(data) > MAX_PDF:
            raise Invalid("the file is too large to be a certificate")
        if b"%PDF-" not in data[:1024]:
            raise Invalid("the file is not a PDF")
        self.data, self.p = data, _Parser(data)
        self.budget = _Budget()
        self.objects: dict[int, object] = {}
        self.roots: list[Ref] = []
        spans = []
        for m in _OBJ.finditer(data):
            try:
                value, end = self.p.value(m.end())
            except (Invalid, RecursionError, ValueError):
                continue
            spans.append((m.start(), int(m.group(1)), value, end))
        lengths = {num: v for _, num, v, _ in spans if isinstance(v, int)}
        for _, num, value, end in spans:
            j = self.p.ws(end)
            if isinstance(value, dict) and data.startswith(b"stream", j):
                value = Stream(value, self._stream_bytes(value, j + 6, lengths))
                if value.attrs.get("Type") == "XRef" and isinstance(value.attrs.get("Root"), Ref):
                    self.roots.append(value.attrs["Root"])
            self.objects[num] = value
        for value in list(self.objects.values()):
            if isinstance(value, Stream) and value.attrs.get("Type") == "ObjStm":
                self._expand(value)
        for m in _TRAILER.finditer(data):
            try:
                trailer, _ = self.p.value(m.end() - 2)
            except (Invalid, RecursionError, ValueError):
                continue
            if isinstance(trailer, dict) and isinstance(trailer.get("Root"), Ref):
                self.roots.append(trailer["Root"])

    def _stream_bytes(self, attrs: dict[str, object], i: int, lengths: dict[int, int]) -> bytes:
        d = self.data
        if d.startswith(b"\r\n", i):
            i += 2
        elif d.startswith(b"\n", i) or d.startswith(b"\r", i):
            i += 1
        length = attrs.get("Length")
        if isinstance(length, Ref):
            length = lengths.get(length.num)
        if (
            isinstance(length, int)
            and 0 <= length <= MAX_STREAM
            and d[i + length : i + length + 12].lstrip(_WS).startswith(b"endstream")
        ):
            return d[i : i + length]
        end = d.find(b"endstream", i)
        if end < 0:
            raise Invalid("a stream in the PDF has no end")
        raw = d[i:end]
        return raw[:-2] if raw.endswith(b"\r\n") else raw[:-1] if raw.endswith((b"\n", b"\r")) else raw

    def _expand(self, stream: Stream) -> None:
        try:
            body = _decode(stream, self.budget)
            n, first = stream.attrs.get("N"), stream.attrs.get("First")
            if not isinstance(n, int) or not isinstance(first, int) or n > 100000:
                return
            p = _Parser(body)
            header, i = [], 0
            for _ in range(2 * n):
                v, i = p.value(i)
                header.append(v)
            for k in range(n):
                num, off = header[2 * k], header[2 * k + 1]
                if isinstance(num, int) and isinstance(off, int):
                    self.objects[num] = p.value(first + off)[0]
        except (RecursionError, ValueError, IndexError):
            return

    def get(self, value: object, depth: int = 0) -> object:
        while isinstance(value, Ref) and depth < 32:
            value = self.objects.get(value.num)
            depth += 1
        return value

    def attachments(self) -> dict[str, bytes]:
        """The files in the document's EmbeddedFiles name tree, by name."""
        catalog = None
        for ref in reversed(self.roots):
            catalog = self.get(ref)
            if isinstance(catalog, dict):
                break
        if not isinstance(catalog, dict):
            catalogs = [v for v in self.objects.values() if isinstance(v, dict) and v.get("Type") == "Catalog"]
            catalog = catalogs[-1] if catalogs else None
        if not isinstance(catalog, dict):
            raise Invalid("the PDF has no document catalog: it is damaged")
        names = self.get(catalog.get("Names"))
        tree = self.get(names.get("EmbeddedFiles")) if isinstance(names, dict) else None
        found = _Named()
        if isinstance(tree, dict):
            self._walk(tree, found, set(), 0)
        if found.count > ATTACHMENT_LIMITS[found.document]:
            raise found.refusal()  # before any file is decoded
        out: dict[str, bytes] = {}
        for name, stream in found.files:  # all named first, then decoded: none past the count
            if name in out:
                raise Invalid(f"the attachment {name} is there twice")
            out[name] = _decode(stream, self.budget)
        return out

    def _walk(self, node: dict[str, object], out: _Named, seen: set[int], depth: int) -> None:
        if depth > 16 or id(node) in seen:
            return
        seen.add(id(node))
        pairs = self.get(node.get("Names"))
        if isinstance(pairs, list):
            for k in range(0, len(pairs) - 1, 2):
                key, spec = self.get(pairs[k]), self.get(pairs[k + 1])
                if not isinstance(key, bytes) or not isinstance(spec, dict):
                    continue
                name = key[2:].decode("utf-16-be", "replace") if key.startswith(b"\xfe\xff") else key.decode("latin-1")
                ef = self.get(spec.get("EF"))
                stream = self.get(ef.get("F") or ef.get("UF")) if isinstance(ef, dict) else None
                if not isinstance(stream, Stream):
                    continue
                out.add(name, stream)
        kids = self.get(node.get("Kids"))
        if isinstance(kids, list):
            for kid in kids:
                kid = self.get(kid)
                if isinstance(kid, dict):
                    self._walk(kid, out, seen, depth + 1)


def read_attachments(data: bytes) -> dict[str, bytes]:
    """A PDF's embedded files; raises Invalid (and only Invalid) for anything unreadable."""
    try:
        return Pdf(data).attachments()
    except (RecursionError, MemoryError, ValueError, IndexError, KeyError, TypeError) as e:
        raise Invalid(f"the PDF is damaged and cannot be read ({type(e).__name__})") from e


# -- a certificate ----------------------------------------------------------------------

CERT_KINDS = ("ledger.created", "key.enrolled", "commitment.published", "commitment.signed")


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool | None  # None: not checked
    detail: str


def _manifest(files: dict[str, bytes], name: str) -> Any:
    """The JSON value of the attachment `name` (integers of at most 20 digits); raises Invalid."""
    try:
        return json.loads(files[name].decode("utf-8"), parse_int=_bounded_int)
    except Invalid as e:
        raise Invalid(f"{name}: {e}") from e
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise Invalid(f"{name} is not JSON") from e


def _ledger_vkey(files: dict[str, bytes]) -> VKey:
    try:
        return VKey.parse(files["ledger.vkey"].decode("utf-8"))
    except UnicodeDecodeError as e:
        raise Invalid("ledger.vkey is not text") from e


def key_finding(vkey: VKey, trusted: VKey | None, document: str) -> Finding:
    """Step `key`: the ledger key embedded in the `document` is the trusted one (not checked without one)."""
    if trusted is None:
        return Finding(
            "key",
            None,
            f"only the key embedded in the PDF was used ({vkey}): trust must come "
            "from a key published elsewhere; compare it, or give it with --vkey",
        )
    if trusted != vkey:
        return Finding(
            "key",
            False,
            f"the {document}'s ledger key {vkey} is not the trusted key {trusted}: it comes from another ledger",
        )
    return Finding("key", True, "the embedded ledger key is the trusted key")


def check_certificate(data: bytes, trusted: VKey | None) -> tuple[list[Finding], dict[str, object]]:
    """Check a certificate from its attachments; return the findings and the ledger's facts."""
    return certificate_findings(read_attachments(data), trusted)


def certificate_findings(files: dict[str, bytes], trusted: VKey | None) -> tuple[list[Finding], dict[str, object]]:
    """Check a certificate's attachments `files`; return the findings and the ledger's facts."""
    if CERT_MANIFEST not in files:
        if not any(n == "ledger.vkey" or n.startswith("entry-") for n in files):
            raise Invalid(
                "the PDF carries no Ikrar evidence: not an Ikrar certificate, or a copy that lost its attachments"
            )
        raise Invalid("the certificate lacks its attachment certificate.json")
    manifest = _manifest(files, CERT_MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != "ikrar-certificate/v1":
        raise Invalid("certificate.json is not an Ikrar certificate of format ikrar-certificate/v1")
    indexes = manifest.get("entries")
    if (
        not isinstance(indexes, list)
        or len(indexes) != 4
        or any(type(i) is not int for i in indexes)
        or indexes[-1] != manifest.get("index")
        or not isinstance(manifest.get("facts"), dict)
    ):
        raise Invalid("certificate.json does not name the four entries behind the signature")
    for name in [f"entry-{i}.json" for i in indexes] + [f"entry-{i}.tlog-proof" for i in indexes] + ["ledger.vkey"]:
        if name not in files:
            raise Invalid(f"the certificate lacks its attachment {name}")
    vkey = _ledger_vkey(files)
    sig = SignatureEvidence(files, tuple(indexes), manifest["facts"], vkey, CERT_MANIFEST)
    findings: list[Finding] = [key_finding(vkey, trusted, "certificate")]

    def step(name: str, fn: Callable[[], str]) -> bool:
        try:
            findings.append(Finding(name, True, fn()))
            return True
        except Invalid as e:
            findings.append(Finding(name, False, str(e)))
            return False

    ok = step("entries", sig.parse_entries)
    ok = step("checkpoint", sig.open_checkpoint) and ok
    ok = ok and step("inclusion", sig.inclusion)
    ok = ok and step("signature", sig.belongs)
    ok = ok and step("facts", sig.stated)
    return findings, dict(sig.facts) if ok else {}


class SignatureEvidence:
    """The four entries behind one official's signature (`ledger.created`, their key's
    `key.enrolled`, the `commitment.published` and the `commitment.signed`), named by
    `indexes` among the attachments `files`, and the facts `claimed` for it in `manifest`:
    what a certificate carries, and a naskah once for each of its signatures.

    Its methods are a certificate's steps, each returning what it found or raising Invalid,
    each needing the ones before it to have passed: `parse_entries` (entries),
    `open_checkpoint` (checkpoint), `inclusion`, `belongs` (signature) and `stated` (facts)."""

    def __init__(
        self,
        files: dict[str, bytes],
        indexes: tuple[int, ...],
        claimed: dict[str, Any],
        vkey: VKey,
        manifest: str,
        parsed: dict[int, Entry] | None = None,
    ) -> None:
        self.files, self.indexes, self.claimed, self.vkey, self.manifest = files, indexes, claimed, vkey, manifest
        # entries already parsed from these `files`, by index: a naskah's signatures share the
        # first entry and the commitment (whose text may be long), read once for all of them
        self.parsed = {} if parsed is None else parsed
        self.entries: list[Entry] = []
        self.proofs: list[TlogProof] = []
        self.checkpoint: Checkpoint | None = None
        self.facts: dict[str, object] = {}  # the ledger's, once `stated` found them stated exactly

    @property
    def index(self) -> int:
        """The signature's entry."""
        return self.indexes[-1]

    def parse_entries(self) -> str:
        """Step `entries`: each attached entry is a well-formed ledger entry of its index and kind."""
        self.entries = []
        for i, kind in zip(self.indexes, CERT_KINDS, strict=True):
            e = self.parsed.get(i)
            if e is None:
                try:
                    e = self.parsed[i] = parse_entry(self.files[f"entry-{i}.json"])
                except Invalid as err:
                    raise Invalid(f"entry-{i}.json is not a valid ledger entry: {err}") from err
            if e.index != i or e.kind != kind:
                raise Invalid(f"entry-{i}.json is entry {e.index} ({e.kind}), not entry {i} ({kind})")
            self.entries.append(e)
        return f"entries {', '.join(map(str, self.indexes))} are well-formed ledger entries"

    def open_checkpoint(self) -> str:
        """Step `checkpoint`: the proofs prove their entries, against one checkpoint the key signed."""
        self.proofs = []
        for i in self.indexes:
            try:
                p = parse_tlog_proof(self.files[f"entry-{i}.tlog-proof"].decode("utf-8"))
            except UnicodeDecodeError as e:
                raise Invalid(f"entry-{i}.tlog-proof is not text") from e
            if p.index != i:
                raise Invalid(f"entry-{i}.tlog-proof proves entry {p.index}")
            self.proofs.append(p)
        if len({p.checkpoint_note for p in self.proofs}) != 1:
            raise Invalid("the proofs are against different checkpoints")
        self.checkpoint = open_checkpoint(self.proofs[0].checkpoint_note, self.vkey)
        return f"the checkpoint of size {self.checkpoint.size} is signed by {self.vkey.name}"

    def _checkpoint(self) -> Checkpoint:
        if self.checkpoint is None:
            raise Invalid("the checkpoint was not opened")
        return self.checkpoint

    def inclusion(self) -> str:
        """Step `inclusion`: every entry is in the checkpoint."""
        cp = self._checkpoint()
        for e, p in zip(self.entries, self.proofs, strict=True):
            verify_inclusion(e.hash, e.index, cp.size, p.hashes, cp.root)
        return f"all four entries are in the checkpoint of size {cp.size}"

    def belongs(self) -> str:
        """Step `signature`: one ledger; the key that signed was enrolled to the signer before
        it; the commitment published is the one signed; the official's signature verifies."""
        cp = self._checkpoint()
        created, enrolled, published, signed = self.entries
        s, n, p = signed.fields, enrolled.fields, published.fields
        if (
            created.fields["ledger_key"] != str(self.vkey)
            or not created.fields["origin"] == cp.origin == self.vkey.name
        ):
            raise Invalid("the first entry, the checkpoint and the key do not name the same ledger")
        if n["key"] != s["key"] or n["nip"] != s["nip"] or not enrolled.index < signed.index:
            raise Invalid("the key that signed is not the one enrolled to this official before it signed")
        if (p["slug"], p["text_sha256"], published.index) != (s["slug"], s["commitment_sha256"], s["commitment_index"]):
            raise Invalid("the commitment published is not the one signed")
        check_statement(signed, cp.origin)
        return "the official's Ed25519 signature verifies; the key, the commitment and the ledger belong together"

    def ledger_facts(self) -> dict[str, object]:
        """What the four entries say: the facts a certificate prints."""
        cp = self._checkpoint()
        created, enrolled, published, signed = self.entries
        return {
            "org": created.fields["org"],
            "origin": created.fields["origin"],
            "index": signed.index,
            "leaf_hash": signed.hash.hex(),
            "time": signed.time.strftime(TIME_FORMAT),
            "slug": signed.fields["slug"],
            "commitment_title": published.fields["title"],
            "commitment_sha256": signed.fields["commitment_sha256"],
            "commitment_index": published.index,
            "nip": signed.fields["nip"],
            # who signed, as a rules-4 signature names them (ikrar/signature/v2); a v1 signature
            # (made before rules version 4, so before any official.updated) as its key's enrolment
            "name": signed.fields.get("name", enrolled.fields["name"]),
            "position": signed.fields.get("capacity", enrolled.fields["title"]),
            "agency": signed.fields.get("unit", enrolled.fields["unit"]),
            "key": signed.fields["key"],
            "key_fingerprint": VKey.parse(signed.fields["key"]).fingerprint,
            "enrolled_index": enrolled.index,
            "checkpoint_size": cp.size,
            "checkpoint_root": base64.b64encode(cp.root).decode(),
        }

    def stated(self) -> str:
        """Step `facts`: the manifest states exactly the ledger's facts of this signature."""
        actual = self.ledger_facts()
        for k, v in actual.items():
            if self.claimed.get(k) != v:
                raise Invalid(
                    f"{self.manifest} says {k} is {self.claimed.get(k)!s:.80} where the ledger says {v!s:.80}"
                )
        if set(self.claimed) != set(actual):
            raise Invalid(f"{self.manifest} states facts the ledger does not")
        self.facts = actual
        return f"{self.manifest} states exactly the ledger's facts"


# -- a Surat Rekomendasi ----------------------------------------------------------------
#
# Diskominfo's letter on an application request (`ikrar app letter ID -o FILE`) carries, like a
# certificate, its evidence as attachments: the leaf (entry-N.json) and tlog-proof
# (entry-N.tlog-proof) of the ledger's first entry, of every entry of the application up to its
# decision, and of each signed entry's key enrolment and role grant, all against one checkpoint;
# ledger.vkey; and letter.json (format ikrar-letter/v1), which names those entries and states the
# facts the letter prints:
#
#     {"format": "ikrar-letter/v1", "app", "decision_index", "checkpoint_size", <how it was printed>,
#      "history": [index, ...],                           the application's entries, in ledger order
#      "signed": [{"entry", "enrolled", "granted"}, ...], each request and the decision
#      "facts": {...}}                                     every fact printed (LETTER_FACTS)
#
# `check_letter` re-reads it from those entries alone by the steps key, entries, checkpoint,
# inclusion, origin, signatures, letter and facts, each named in its docstring.

LETTER_FORMAT = "ikrar-letter/v1"
SUBMITTED, REVIEWED, RETURNED, DECIDED = "app.submitted", "app.reviewed", "app.returned", "app.decided"
APP_KINDS = (SUBMITTED, REVIEWED, RETURNED, DECIDED)
SIGNER_ROLE = {SUBMITTED: PD_HEAD, DECIDED: KOMINFO_HEAD}  # the role the signer of each signed kind holds
SIGNED_FIELDS = ("entry", "enrolled", "granted")
# The facts letter.json states, in the order they are compared: every fact the letter prints.
LETTER_FACTS = (
    "org",
    "origin",
    "app",
    "revision",
    "name",
    "agency",
    "kind",
    "budget_amount",
    "budget_source",
    "fiscal_year",
    "builder",
    "vendor",
    "hosting",
    "hosting_reason",
    "personal_data",
    "specific_personal_data",
    "dpia_done",
    "shared_app",
    "shared_why_not",
    "request_sha256",
    "submitted_index",
    "submitted_time",
    "applicant_nip",
    "applicant_name",
    "applicant_capacity",
    "reviewed_index",
    "reviewed_time",
    "reviewer",
    "checklist",
    "decision",
    "notes",
    "decided_index",
    "decided_time",
    "leaf_hash",
    "signer_nip",
    "signer_name",
    "signer_capacity",
    "signer_key_fingerprint",
    "history",
    "authorities",
    "checkpoint_size",
    "checkpoint_root",
    "ledger_key_fingerprint",
)
REQUEST_FACTS = LETTER_FACTS[LETTER_FACTS.index("name") : LETTER_FACTS.index("request_sha256")]
DECISION_WORDS = {  # as the letter prints them, in Indonesian and in English
    "recommended": "DIREKOMENDASIKAN (recommended)",
    "recommended_with_notes": "DIREKOMENDASIKAN DENGAN CATATAN (recommended with notes)",
    "not_recommended": "TIDAK DIREKOMENDASIKAN (not recommended)",
}


@dataclass(frozen=True)
class SignedBy:
    """A signed entry of a letter's history (a request, the decision) and the entries behind its
    signer, as letter.json names them: their key's `key.enrolled` and their role's `role.assigned`."""

    entry: int
    enrolled: int
    granted: int


@dataclass(frozen=True)
class LetterFiles:
    """A letter's attachments once letter.json is read: what it names, not yet verified."""

    app: str
    decision_index: int
    history: tuple[int, ...]
    signed: tuple[SignedBy, ...]
    claimed: dict[str, Any]  # the facts letter.json states
    vkey: VKey
    leaves: dict[int, bytes]
    proofs: dict[int, bytes]

    def kind_at(self, index: int) -> str:
        """The kind entry `index` must have, by its place in the letter ("app" for the history)."""
        if index == 0:
            return "ledger.created"
        if index in self.history:
            return "app"
        return "key.enrolled" if index in {s.enrolled for s in self.signed} else "role.assigned"


def _indexes(value: object) -> bool:
    return isinstance(value, list) and all(type(i) is int and i >= 0 for i in value)


def read_letter(files: dict[str, bytes]) -> LetterFiles:
    """letter.json and the attachments it names; raises Invalid for a letter.json that is not
    one, more than MAX_LETTER_ENTRIES entries or MAX_LETTER_EVIDENCE bytes, or a missing file."""
    manifest = _manifest(files, LETTER_MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != LETTER_FORMAT:
        raise Invalid(f"letter.json is not an Ikrar letter of format {LETTER_FORMAT}")
    weight = sum(len(data) for data in files.values())
    if weight > MAX_LETTER_EVIDENCE:
        raise Invalid(
            f"the letter carries {weight // 1024} kB of evidence, more than a letter carries "
            f"({MAX_LETTER_EVIDENCE // 1024} kB)"
        )
    app, index, history, signed, claimed = (
        manifest.get(k) for k in ("app", "decision_index", "history", "signed", "facts")
    )
    if (
        not isinstance(app, str)
        or type(index) is not int
        or not _indexes(history)
        or not isinstance(signed, list)
        or not all(isinstance(s, dict) and _indexes([s.get(k) for k in SIGNED_FIELDS]) for s in signed)
        or not isinstance(claimed, dict)
    ):
        raise Invalid("letter.json does not name the application, its entries and its facts")
    assert isinstance(history, list)
    named = len(history) + 2 * len(signed)
    if named > MAX_LETTER_ENTRIES:
        raise Invalid(
            f"letter.json names {named} entries (its history and two for each signature): a letter carries at most "
            f"{MAX_LETTER_ENTRIES}"
        )
    by = tuple(SignedBy(s["entry"], s["enrolled"], s["granted"]) for s in signed)
    wanted = sorted({0, *history, *(i for s in by for i in (s.enrolled, s.granted))})
    for name in [f"entry-{i}.json" for i in wanted] + [f"entry-{i}.tlog-proof" for i in wanted] + ["ledger.vkey"]:
        if name not in files:
            raise Invalid(f"the letter lacks its attachment {name}")
    leaves = {i: files[f"entry-{i}.json"] for i in wanted}
    proofs = {i: files[f"entry-{i}.tlog-proof"] for i in wanted}
    return LetterFiles(app, index, tuple(history), by, claimed, _ledger_vkey(files), leaves, proofs)


def attached_entry(i: int, leaf: bytes) -> Entry:
    """The attachment entry-`i`.json (`leaf`): a well-formed ledger entry, and entry `i`; raises Invalid."""
    try:
        e = parse_entry(leaf)
    except Invalid as err:
        raise Invalid(f"entry-{i}.json is not a valid ledger entry: {err}") from err
    if e.index != i:
        raise Invalid(f"entry-{i}.json is entry {e.index} ({e.kind}), not entry {i}")
    return e


def _letter_entries(lf: LetterFiles) -> dict[int, Entry]:
    """Step `entries`: every attached entry is a well-formed ledger entry of its index, of the
    kind its place in the letter needs (one of APP_KINDS for the history)."""
    out = {}
    for i, leaf in lf.leaves.items():
        e = attached_entry(i, leaf)
        needed = lf.kind_at(i)
        if e.kind != needed and not (needed == "app" and e.kind in APP_KINDS):
            where = "an entry of the application (app.*)" if needed == "app" else needed
            raise Invalid(f"entry-{i}.json is a {e.kind} entry, where the letter needs {where}")
        out[i] = e
    return out


def proven_checkpoint(raw: dict[int, bytes], vkey: VKey) -> tuple[Checkpoint, dict[int, TlogProof]]:
    """Step `checkpoint` of a document that carries many entries: every proof (`raw`, by the
    entry it must prove) proves its entry, all against one checkpoint, which `vkey` signed."""
    proofs = {}
    for i, data in raw.items():
        try:
            p = parse_tlog_proof(data.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise Invalid(f"entry-{i}.tlog-proof is not text") from e
        except Invalid as e:
            raise Invalid(f"entry-{i}.tlog-proof is not a tlog-proof: {e}") from e
        if p.index != i:
            raise Invalid(f"entry-{i}.tlog-proof proves entry {p.index}")
        proofs[i] = p
    if len({p.checkpoint_note for p in proofs.values()}) != 1:
        raise Invalid("the proofs are against different checkpoints")
    note = next(iter(proofs.values())).checkpoint_note
    try:
        return open_checkpoint(note, vkey), proofs
    except Invalid as e:
        raise Invalid(f"the checkpoint is not signed by the ledger key: {e}") from e


def all_included(entries: dict[int, Entry], cp: Checkpoint, proofs: dict[int, TlogProof]) -> str:
    """Step `inclusion` of a document that carries many entries: every entry is in the checkpoint."""
    for i, e in entries.items():
        try:
            verify_inclusion(e.hash, i, cp.size, proofs[i].hashes, cp.root)
        except Invalid as err:
            raise Invalid(f"entry {i} ({e.kind}) is not in the signed checkpoint: {err}") from err
    return f"all {len(entries)} entries are in the checkpoint of size {cp.size} (RFC 6962 inclusion proofs)"


def one_origin(created: Entry, cp: Checkpoint, vkey: VKey) -> str:
    """Step `origin` of a document that carries many entries: the ledger's first entry
    `created` names `vkey`, and it, the checkpoint and the key name one origin."""
    if created.fields["ledger_key"] != str(vkey):
        raise Invalid(f"the ledger's first entry names the key {created.fields['ledger_key']}, not the embedded {vkey}")
    if not created.fields["origin"] == cp.origin == vkey.name:
        raise Invalid(
            f"the origins differ: first entry {created.fields['origin']!r}, checkpoint {cp.origin!r}, key {vkey.name!r}"
        )
    return f"the first entry, the checkpoint and the key all name the origin {cp.origin}"


def _letter_signatures(entries: dict[int, Entry], origin: str) -> str:
    """Step `signatures`: every signature an attached entry carries verifies over its statement's
    exact bytes: the Kepala PD's requests (ikrar/app-request/v1), the Kepala Dinas Kominfo's
    decision (ikrar/app-decision/v1), the admins' attestations of the roles (ikrar/role/v1) and
    of the keys (ikrar/attestation/v1 or v2, and a second admin's ikrar/approval/v1)."""
    for i, e in entries.items():
        try:
            if e.kind in ("role.assigned", SUBMITTED, DECIDED):
                check_app_signatures(e, origin)
            elif e.kind == "key.enrolled":
                check_vouchers(e, origin)
        except Invalid as err:
            raise Invalid(f"entry {i} ({e.kind}): {err}") from err
    requests = sum(e.kind == SUBMITTED for e in entries.values())
    return (
        f"the {requests} signed request{'s' if requests != 1 else ''} and the decision, and every role's and key's "
        "attestation, verify"
    )


def _not_together(message: str) -> Invalid:
    return Invalid(f"the letter's entries do not belong together: {message}")


def _letter_history(app: str, history: list[Entry], size: int) -> Entry:
    """The history is application `app`'s, in ledger order, from its first request to its
    decision, inside the checkpoint; returns the decision."""
    if not history:
        raise _not_together("it carries no entry of the application")
    for before, after in zip(history, history[1:], strict=False):
        if before.index >= after.index:
            raise _not_together(f"entry {after.index} is not after entry {before.index}")
    for e in history:
        if e.kind not in APP_KINDS or e.fields.get("app") != app:
            raise _not_together(f"entry {e.index} is a {e.kind} entry, not one of application {app}")
        if e.index >= size:
            raise _not_together(f"entry {e.index} is not inside the checkpoint of size {size}")
    first, last = history[0], history[-1]
    if first.kind != SUBMITTED or first.fields["revision"] != 1:
        raise _not_together(f"the history does not begin with the first request of application {app}")
    if last.kind != DECIDED or any(e.kind == DECIDED for e in history[:-1]):
        raise _not_together(f"the history does not end with the decision on application {app}")
    return last


def _authority(e: Entry, by: SignedBy, entries: dict[int, Entry]) -> dict[str, Any]:
    """The signer of `e` enrolled the key that signed it, and was given the role it needs
    (`pd-head` of the request's agency, `kominfo-head` for the decision), before it."""
    f, role = e.fields, SIGNER_ROLE[e.kind]
    enrolled, grant = entries.get(by.enrolled), entries.get(by.granted)
    if enrolled is None or enrolled.kind != "key.enrolled" or enrolled.index >= e.index:
        raise _not_together(f"entry {by.enrolled} is not an enrolment before entry {e.index}")
    if (enrolled.fields["key"], enrolled.fields["nip"]) != (f["key"], f["nip"]):
        raise _not_together(f"entry {enrolled.index} enrolled another key than the one that signed entry {e.index}")
    if grant is None or grant.kind != "role.assigned" or grant.index >= e.index:
        raise _not_together(f"entry {by.granted} is not a role given before entry {e.index}")
    g = grant.fields
    if not g["grant"] or g["nip"] != f["nip"] or g["role"] != role or (role == PD_HEAD and g["unit"] != f["agency"]):
        raise _not_together(f"entry {grant.index} does not give {f['nip']} the role {role} that entry {e.index} needs")
    return {
        "index": e.index,
        "nip": f["nip"],
        "name": f["name"],
        "role": role,
        "unit": g["unit"],
        "granted": grant.index,
        "attested_by": g["attested_by"],
        "enrolled": enrolled.index,
    }


def _step_of(e: Entry) -> dict[str, Any]:
    """One entry of the history, as the letter's appendix lists it."""
    f, signed = e.fields, e.kind in SIGNER_ROLE
    return {
        "index": e.index,
        "time": e.time.strftime(TIME_FORMAT),
        "kind": e.kind,
        "revision": f["revision"],
        "by": f["nip"] if signed else f["by"],
        "name": f["name"] if signed else "",
        "capacity": f["capacity"] if signed else "",
        "decision": f.get("decision", ""),
        "reasons": list(f.get("reasons", [])),
    }


def letter_facts(lf: LetterFiles, entries: dict[int, Entry], cp: Checkpoint) -> dict[str, Any]:
    """Step `letter`: the entries belong together, and what the letter prints, read from them.

    They are one application's, from its first request to its decision in ledger order; the
    decided revision has one request, whose SHA-256 the decision names, and a review (the latest
    is the one printed); the request and checklist are ones the rules take; letter.json names,
    once each, the entries behind every signature (`_authority`) and the application and decision
    the entries are. Raises Invalid naming what does not belong together."""
    history = [entries[i] for i in lf.history]
    app = str(history[-1].fields.get("app", "")) if history else ""
    decided = _letter_history(app, history, cp.size)
    d, revision = decided.fields, decided.fields["revision"]
    requests = [e for e in history if e.kind == SUBMITTED and e.fields["revision"] == revision]
    reviews = [e for e in history if e.kind == REVIEWED and e.fields["revision"] == revision]
    if len(requests) != 1 or not reviews:
        raise _not_together(f"the history does not hold one request and a review of revision {revision}")
    submitted, reviewed = requests[0], reviews[-1]
    s = submitted.fields
    if (
        s["request_sha256"] != d["request_sha256"]
        or hashlib.sha256(s["request"].encode()).hexdigest() != d["request_sha256"]
    ):
        raise _not_together(f"the decision at entry {decided.index} names another request than entry {submitted.index}")
    try:
        request = _canonical_object(s["request"], "request")
        check_request(request)
        checklist = _canonical_object(reviewed.fields["checklist"], "checklist")
        check_checklist(checklist)
    except Invalid as e:
        raise _not_together(f"an entry holds no request or checklist the rules take ({e})") from e
    by_entry = {x.entry: x for x in lf.signed}
    wanted = [e for e in history if e.kind in SIGNER_ROLE]
    if sorted(by_entry) != [e.index for e in wanted] or len(by_entry) != len(lf.signed):
        raise _not_together("letter.json does not name the entries behind each signature of the history, once each")
    authorities = [_authority(e, by_entry[e.index], entries) for e in wanted]
    if (app, decided.index) != (lf.app, lf.decision_index):
        raise Invalid(
            f"letter.json names application {lf.app!s:.20} decided at entry {lf.decision_index}, where its "
            f"entries are application {app}'s decided at entry {decided.index}"
        )
    created = entries[0].fields
    return {
        "org": created["org"],
        "origin": created["origin"],
        "app": app,
        "revision": revision,
        **{name: request[name] for name in REQUEST_FACTS},
        "request_sha256": s["request_sha256"],
        "submitted_index": submitted.index,
        "submitted_time": submitted.time.strftime(TIME_FORMAT),
        "applicant_nip": s["nip"],
        "applicant_name": s["name"],
        "applicant_capacity": s["capacity"],
        "reviewed_index": reviewed.index,
        "reviewed_time": reviewed.time.strftime(TIME_FORMAT),
        "reviewer": reviewed.fields["by"],
        "checklist": [
            {"point": p, "finding": checklist[p]["finding"], "note": checklist[p]["note"]} for p in CHECKLIST
        ],
        "decision": d["decision"],
        "notes": list(d["notes"]),
        "decided_index": decided.index,
        "decided_time": decided.time.strftime(TIME_FORMAT),
        "leaf_hash": decided.hash.hex(),
        "signer_nip": d["nip"],
        "signer_name": d["name"],
        "signer_capacity": d["capacity"],
        "signer_key_fingerprint": VKey.parse(d["key"]).fingerprint,
        "history": [_step_of(e) for e in history],
        "authorities": authorities,
        "checkpoint_size": cp.size,
        "checkpoint_root": base64.b64encode(cp.root).decode(),
        "ledger_key_fingerprint": lf.vkey.fingerprint,
    }


def _as_json(value: object) -> str:
    """`value` as JSON, so that true is not 1 and 1 is not 1.0 when two facts are compared."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _said(value: object) -> str:
    return value if isinstance(value, str) else _as_json(value)


def check_stated(claimed: dict[str, Any], actual: dict[str, Any]) -> str:
    """Step `facts`: letter.json states exactly the facts read from the entries; raises Invalid
    naming the first fact that differs (in LETTER_FACTS order) or those it states besides."""
    for name in LETTER_FACTS:
        if name not in claimed:
            raise Invalid(f"letter.json does not state {name}, where the ledger says {_said(actual[name]):.80}")
        if _as_json(claimed[name]) != _as_json(actual[name]):
            raise Invalid(
                f"letter.json says {name} is {_said(claimed[name]):.80} where the ledger says {_said(actual[name]):.80}"
            )
    extra = sorted(set(claimed) - set(LETTER_FACTS))
    if extra:
        raise Invalid(f"letter.json states facts the ledger does not: {', '.join(extra):.80}")
    return "letter.json states exactly the ledger's facts"


class _Steps:
    """Findings of steps run in order; a step whose `needs` did not all pass is not run (`--`)."""

    def __init__(self, first: Finding) -> None:
        self.findings = [first]
        self.passed: set[str] = set()

    def run(self, name: str, fn: Callable[[], str], needs: tuple[str, ...] = ()) -> bool:
        missing = [n for n in needs if n not in self.passed]
        if missing:
            self.findings.append(Finding(name, None, f"not checked: {', '.join(missing)} did not pass"))
            return False
        try:
            detail = fn()
        except Invalid as e:
            self.findings.append(Finding(name, False, str(e)))
            return False
        self.findings.append(Finding(name, True, detail))
        self.passed.add(name)
        return True


def check_letter(files: dict[str, bytes], trusted: VKey | None) -> tuple[list[Finding], dict[str, Any]]:
    """Check a Surat Rekomendasi from its attachments `files` by the steps key, entries,
    checkpoint, inclusion, origin, signatures, letter and facts; return the findings and, when
    every step after `key` holds, the facts read from its entries (which letter.json states).
    Raises Invalid when the files are not a letter's (`read_letter`)."""
    lf = read_letter(files)
    steps = _Steps(key_finding(lf.vkey, trusted, "letter"))
    entries: dict[int, Entry] = {}
    opened: list[tuple[Checkpoint, dict[int, TlogProof]]] = []
    facts: dict[str, Any] = {}

    def parse() -> str:
        entries.update(_letter_entries(lf))
        return f"the {len(entries)} entries are well-formed ledger entries of the kinds the letter needs"

    def checkpoint() -> str:
        opened.append(proven_checkpoint(lf.proofs, lf.vkey))
        return f"the checkpoint of size {opened[0][0].size} is signed by {lf.vkey.name}"

    def inclusion() -> str:
        return all_included(entries, *opened[0])

    def origin() -> str:
        return one_origin(entries[0], opened[0][0], lf.vkey)

    def belongs() -> str:
        facts.update(letter_facts(lf, entries, opened[0][0]))
        return (
            f"the {len(lf.history)} entries of application {facts['app']} run from its first request to its "
            f"decision at entry {facts['decided_index']}; each signer's key and role were theirs before they signed"
        )

    steps.run("entries", parse)
    steps.run("checkpoint", checkpoint)
    steps.run("inclusion", inclusion, needs=("entries", "checkpoint"))
    steps.run("origin", origin, needs=("entries", "checkpoint"))
    steps.run("signatures", lambda: _letter_signatures(entries, opened[0][0].origin), needs=("inclusion", "origin"))
    steps.run("letter", belongs, needs=("inclusion", "origin"))
    steps.run("facts", lambda: check_stated(lf.claimed, facts), needs=("letter",))
    held = all(f.ok for f in steps.findings[1:])  # the facts are summed up, as a certificate's, whatever the key
    return steps.findings, facts if held else {}


# -- a naskah komitmen bersama ------------------------------------------------------------
#
# The joint commitment document (`ikrar certificate --commitment SLUG --naskah -o FILE`, or
# /commitments/{slug}/naskah.pdf) carries, like a certificate, its evidence as attachments: the
# leaf (entry-N.json) and tlog-proof (entry-N.tlog-proof) of the ledger's first entry, of the
# commitment's `commitment.published`, of each signature with its key's enrolment (the four
# entries a certificate carries) and of each decline, all against one checkpoint; ledger.vkey;
# and naskah.json (format ikrar-naskah/v1), which states the blocks and the facts printed:
#
#     {"format": "ikrar-naskah/v1", "slug", "commitment_index", "checkpoint_size", <how it was printed>,
#      "blocks": [{"nip", "status", "name", "capacity", "unit", "index"?, "reason"?}, ...],
#                                                         one a required signatory, in the published order
#      "signatures": [{"entries": [0, enrolment, commitment, signature], "facts": {...}}, ...],
#      "declines": [index, ...]}
#
# `check_naskah` re-reads it from those entries alone by the steps key, entries, checkpoint,
# inclusion, origin, signature, naskah and facts; each signature by a certificate's own steps
# (`SignatureEvidence`), a step passing only when it passed for every signature. A block "not
# signed yet" means: no signature or decline as of the checkpoint the naskah carries; the name
# and position it prints for it (and for a decline) are the register's, which the ledger does
# not hold, so they are read as naskah.json states them.

NASKAH_FORMAT = "ikrar-naskah/v1"
SIGNED_KIND, DECLINED_KIND = "commitment.signed", "commitment.declined"
SIGNED_BLOCK, PENDING_BLOCK, DECLINED_BLOCK = "signed", "pending", "declined"
BLOCK_MEMBERS = ("nip", "status", "name", "capacity", "unit", "index", "reason")  # in the order compared
REGISTER = ("name", "capacity", "unit")  # what a block not signed names, from the register
BLOCK_WORDS = {SIGNED_BLOCK: "signed", DECLINED_BLOCK: "declined", PENDING_BLOCK: "not signed yet"}


@dataclass(frozen=True)
class NaskahFiles:
    """A naskah's attachments once naskah.json is read: what it names, not yet verified."""

    stated: dict[str, Any]  # naskah.json
    commitment_index: int
    blocks: tuple[dict[str, Any], ...]
    signatures: tuple[SignatureEvidence, ...]
    declines: tuple[int, ...]
    vkey: VKey
    leaves: dict[int, bytes]
    proofs: dict[int, bytes]

    def kind_at(self, index: int) -> str | None:
        """The kind entry `index` must have as the naskah's own (its signatures' entries are a
        certificate's, `SignatureEvidence`): None for those."""
        if index == 0:
            return "ledger.created"
        if index == self.commitment_index:
            return "commitment.published"
        return DECLINED_KIND if index in self.declines else None


def read_naskah(files: dict[str, bytes]) -> NaskahFiles:
    """naskah.json and the attachments it names; raises Invalid for a naskah.json that is not
    one, more than MAX_NASKAH_SIGNATORIES signatories, or a missing file."""
    manifest = _manifest(files, NASKAH_MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != NASKAH_FORMAT:
        raise Invalid(f"naskah.json is not an Ikrar naskah of format {NASKAH_FORMAT}")
    index, blocks, signatures, declines = (
        manifest.get(k) for k in ("commitment_index", "blocks", "signatures", "declines")
    )
    if (
        type(index) is not int
        or index < 0
        or not isinstance(blocks, list)
        or not all(isinstance(b, dict) for b in blocks)
        or not isinstance(signatures, list)
        or not all(isinstance(x, dict) for x in signatures)
        or not _indexes(declines)
    ):
        raise Invalid("naskah.json does not name the commitment, its blocks, its signatures and its declines")
    assert isinstance(declines, list)
    named = max(len(blocks), len(signatures) + len(declines))
    if named > MAX_NASKAH_SIGNATORIES:
        raise Invalid(f"naskah.json names {named} signatories: a naskah prints at most {MAX_NASKAH_SIGNATORIES}")
    parsed: list[tuple[tuple[int, ...], dict[str, Any]]] = []
    for x in signatures:
        indexes, claimed = x.get("entries"), x.get("facts")
        if not _indexes(indexes) or len(indexes) != 4 or not isinstance(claimed, dict):
            raise Invalid("naskah.json does not name the four entries behind each signature and its facts")
        parsed.append((tuple(indexes), claimed))
    wanted = sorted({0, index, *declines, *(i for ix, _ in parsed for i in ix)})
    for name in [f"entry-{i}.json" for i in wanted] + [f"entry-{i}.tlog-proof" for i in wanted] + ["ledger.vkey"]:
        if name not in files:
            raise Invalid(f"the naskah lacks its attachment {name}")
    vkey = _ledger_vkey(files)
    shared: dict[int, Entry] = {}
    return NaskahFiles(
        manifest,
        index,
        tuple(blocks),
        tuple(SignatureEvidence(files, ix, claimed, vkey, NASKAH_MANIFEST, shared) for ix, claimed in parsed),
        tuple(declines),
        vkey,
        {i: files[f"entry-{i}.json"] for i in wanted},
        {i: files[f"entry-{i}.tlog-proof"] for i in wanted},
    )


def _every(nf: NaskahFiles, step: Callable[[SignatureEvidence], str]) -> None:
    """A certificate's `step` on every signature of the naskah; raises Invalid naming the first
    signature it fails for."""
    for sig in nf.signatures:
        try:
            step(sig)
        except Invalid as e:
            raise Invalid(f"signature {sig.index}: {e}") from e


def _naskah_entries(nf: NaskahFiles) -> dict[int, Entry]:
    """Step `entries`: every signature's four entries are a certificate's (`SignatureEvidence`),
    and every attached entry is a well-formed ledger entry of its index, the naskah's own of the
    kind its place needs (the first entry, the commitment, each decline)."""
    _every(nf, SignatureEvidence.parse_entries)
    out = {}
    for i, leaf in nf.leaves.items():
        e = attached_entry(i, leaf)
        needed = nf.kind_at(i)
        if needed is not None and e.kind != needed:
            raise Invalid(f"entry-{i}.json is a {e.kind} entry, where the naskah needs {needed}")
        out[i] = e
    return out


def _not_its(message: str) -> Invalid:
    return Invalid(f"the naskah's entries are not its commitment's: {message}")


def _answers(nf: NaskahFiles, entries: dict[int, Entry], origin: str) -> dict[str, Entry]:
    """Each required signatory's answer the naskah carries: their signature or their decline (its
    own signature verified), each of the commitment, after it, one a signatory."""
    published = entries[nf.commitment_index]
    p = published.fields
    named = [sig.entries[3] for sig in nf.signatures if sig.indexes[0] == 0 and sig.indexes[2] == published.index]
    if len(named) != len(nf.signatures):
        wrong = next(sig.index for sig in nf.signatures if sig.entries[3] not in named)
        raise _not_its(f"signature {wrong} is not named with the ledger's first entry and entry {published.index}")
    answered: dict[str, Entry] = {}
    for e in named + [entries[i] for i in nf.declines]:
        f, what = e.fields, "signature" if e.kind == SIGNED_KIND else "decline"
        if (f["slug"], f["commitment_sha256"], f["commitment_index"]) != (p["slug"], p["text_sha256"], published.index):
            raise _not_its(f"the {what} at entry {e.index} answers another commitment than entry {published.index}")
        if e.index <= published.index:
            raise _not_its(f"the {what} at entry {e.index} comes before the commitment at entry {published.index}")
        if f["nip"] not in p["signers"]:
            raise _not_its(f"the {what} at entry {e.index} is by {_who(f['nip'])}, not a required signatory")
        if f["nip"] in answered:
            raise _not_its(f"{_who(f['nip'])} answers twice, at entries {answered[f['nip']].index} and {e.index}")
        if e.kind == DECLINED_KIND:
            try:
                check_vouchers(e, origin)
            except Invalid as err:
                raise Invalid(f"the decline at entry {e.index}: {err}") from err
        answered[f["nip"]] = e
    return answered


def naskah_blocks(nf: NaskahFiles, entries: dict[int, Entry], cp: Checkpoint) -> list[dict[str, Any]]:
    """Step `naskah`: the blocks are the commitment's required signatories in the order its
    `commitment.published` lists them; each signed or declined block is that signatory's
    signature or decline the naskah carries (`_answers`), each other block one with neither.
    Returns each block as the ledger says it (a signature's name, capacity and unit as it names
    them, or as its key's enrolment did before rules version 4; the register's, as naskah.json
    states them, for a block not signed). Raises Invalid naming the block."""
    published = entries[nf.commitment_index]
    signers = list(published.fields["signers"])
    if len(signers) > MAX_NASKAH_SIGNATORIES:
        raise Invalid(
            f"the commitment at entry {published.index} names {len(signers)} signatories; a naskah prints at most "
            f"{MAX_NASKAH_SIGNATORIES}"
        )
    stated = [b.get("nip") for b in nf.blocks]
    if stated != signers:
        if len(stated) != len(signers):
            raise Invalid(
                f"naskah.json has {len(stated)} blocks where the commitment at entry {published.index} lists "
                f"{len(signers)} required signatories"
            )
        k = next(k for k, (a, b) in enumerate(zip(stated, signers, strict=True)) if a != b)
        raise Invalid(
            f"the blocks are not the commitment's required signatories in its published order: block {k + 1} is "
            f"{_said(stated[k]):.40} where entry {published.index} lists {signers[k]}"
        )
    answered = _answers(nf, entries, cp.origin)
    by_signature = {sig.index: sig for sig in nf.signatures}
    out = []
    for k, (b, nip) in enumerate(zip(nf.blocks, signers, strict=True), 1):
        e = answered.get(nip)
        status = PENDING_BLOCK if e is None else SIGNED_BLOCK if e.kind == SIGNED_KIND else DECLINED_BLOCK
        if b.get("status") != status:
            raise Invalid(f"block {k} ({_who(nip)}) says {_said(b.get('status')):.20} where the ledger says {status}")
        index = None if e is None else e.index
        if _as_json(b.get("index")) != _as_json(index):
            named = "no entry" if b.get("index") is None else f"entry {_said(b.get('index')):.20}"
            where = (
                "the naskah carries no signature or decline of theirs"
                if e is None
                else f"their {'signature' if e.kind == SIGNED_KIND else 'decline'} is entry {index}"
            )
            raise Invalid(f"block {k} ({_who(nip)}) names {named} where {where}")
        ours: dict[str, Any] = {"nip": nip, "status": status}
        if e is not None and e.kind == SIGNED_KIND:
            facts = by_signature[e.index].ledger_facts()
            ours |= {"name": facts["name"], "capacity": facts["position"], "unit": facts["agency"], "index": e.index}
        else:
            ours |= {what: b.get(what) for what in REGISTER}
        if e is not None and e.kind == DECLINED_KIND:
            ours |= {"index": e.index, "reason": e.fields["reason"]}
        out.append(ours)
    return out


def naskah_stated(nf: NaskahFiles, published: Entry, cp: Checkpoint, blocks: list[dict[str, Any]]) -> str:
    """Step `facts`: naskah.json states the commitment, the checkpoint, every signature's facts
    (a certificate's, `SignatureEvidence.stated`) and every block exactly as the entries say;
    raises Invalid naming the first fact that differs."""
    for name, actual in (("slug", published.fields["slug"]), ("checkpoint_size", cp.size)):
        if _as_json(nf.stated.get(name)) != _as_json(actual):
            raise Invalid(
                f"naskah.json says {name} is {_said(nf.stated.get(name)):.80} where the ledger says {_said(actual):.80}"
            )
    _every(nf, SignatureEvidence.stated)
    for k, (b, ours) in enumerate(zip(nf.blocks, blocks, strict=True), 1):
        who = f"block {k} ({_who(ours['nip'])})"
        for what in REGISTER:
            if not isinstance(b.get(what), str):
                raise Invalid(f"naskah.json states no text as the {what} of {who}")
        for what in BLOCK_MEMBERS:
            if what not in ours and what in b:
                raise Invalid(f"naskah.json states a {what} of {who}, where the ledger has none")
            if what in ours and what not in b:
                raise Invalid(
                    f"naskah.json does not state the {what} of {who}, where the ledger says {_said(ours[what]):.80}"
                )
            if what in ours and _as_json(b[what]) != _as_json(ours[what]):
                raise Invalid(
                    f"naskah.json says the {what} of {who} is {_said(b[what]):.80} where the ledger says "
                    f"{_said(ours[what]):.80}"
                )
        extra = sorted(set(b) - set(BLOCK_MEMBERS))
        if extra:
            raise Invalid(f"naskah.json states of {who} what the ledger does not: {', '.join(extra):.80}")
    return (
        f"naskah.json states exactly the ledger's facts: the commitment, {len(nf.signatures)} signature(s) and "
        f"{len(blocks)} blocks"
    )


def check_naskah(files: dict[str, bytes], trusted: VKey | None) -> tuple[list[Finding], dict[str, Any]]:
    """Check a Naskah Komitmen Bersama from its attachments `files` by the steps key, entries,
    checkpoint, inclusion, origin, signature, naskah and facts; return the findings and, when
    every step after `key` holds, the facts read from its entries (which naskah.json states).
    Raises Invalid when the files are not a naskah's (`read_naskah`)."""
    nf = read_naskah(files)
    steps = _Steps(key_finding(nf.vkey, trusted, "naskah"))
    entries: dict[int, Entry] = {}
    opened: list[tuple[Checkpoint, dict[int, TlogProof]]] = []
    blocks: list[dict[str, Any]] = []

    def parse() -> str:
        entries.update(_naskah_entries(nf))
        return f"the {len(entries)} entries are well-formed ledger entries of the kinds the naskah needs"

    def checkpoint() -> str:
        _every(nf, SignatureEvidence.open_checkpoint)
        opened.append(proven_checkpoint(nf.proofs, nf.vkey))
        return f"the checkpoint of size {opened[0][0].size} is signed by {nf.vkey.name}"

    def inclusion() -> str:
        _every(nf, SignatureEvidence.inclusion)
        return all_included(entries, *opened[0])

    def signature() -> str:
        if not nf.signatures:
            return "the naskah carries no signature yet"
        _every(nf, SignatureEvidence.belongs)
        return (
            f"every signature ({len(nf.signatures)}): the official's Ed25519 signature verifies; the key, the "
            "commitment and the ledger belong together"
        )

    def naskah() -> str:
        blocks.extend(naskah_blocks(nf, entries, opened[0][0]))
        signed = sum(b["status"] == SIGNED_BLOCK for b in blocks)
        declined = sum(b["status"] == DECLINED_BLOCK for b in blocks)
        return (
            f"the {len(blocks)} blocks are the commitment's signatories in its published order: {signed} signed, "
            f"{declined} declined, {len(blocks) - signed - declined} not yet (as of checkpoint size "
            f"{opened[0][0].size}); each decline's signature verifies"
        )

    steps.run("entries", parse)
    steps.run("checkpoint", checkpoint)
    steps.run("inclusion", inclusion, needs=("entries", "checkpoint"))
    steps.run("origin", lambda: one_origin(entries[0], opened[0][0], nf.vkey), needs=("entries", "checkpoint"))
    steps.run("signature", signature, needs=("inclusion", "origin"))
    steps.run("naskah", naskah, needs=("inclusion", "origin"))
    steps.run(
        "facts",
        lambda: naskah_stated(nf, entries[nf.commitment_index], opened[0][0], blocks),
        needs=("signature", "naskah"),
    )
    if not all(f.ok for f in steps.findings[1:]):  # the facts are summed up, as a certificate's, whatever the key
        return steps.findings, {}
    cp, published = opened[0][0], entries[nf.commitment_index]
    return steps.findings, {
        "org": entries[0].fields["org"],
        "origin": entries[0].fields["origin"],
        "slug": published.fields["slug"],
        "title": published.fields["title"],
        "commitment_index": published.index,
        "published_time": published.time.strftime(TIME_FORMAT),
        "blocks": blocks,
        "signatures": [sig.facts for sig in nf.signatures],
        "checkpoint_size": cp.size,
        "checkpoint_root": base64.b64encode(cp.root).decode(),
    }


@dataclass(frozen=True)
class Checked:
    """What `cert` found in a PDF: which `document` it is (certificate, letter or naskah), its findings,
    and its facts once they are the ledger's (empty otherwise)."""

    document: str
    findings: list[Finding]
    facts: dict[str, Any]


def check_pdf(data: bytes, trusted: VKey | None) -> Checked:
    """Check a certificate, a Surat Rekomendasi (a PDF that carries letter.json, and no
    certificate.json) or a Naskah Komitmen Bersama (naskah.json, and neither of the others) from
    its attachments (`document_of`). Raises Invalid for a PDF that is none of them."""
    files = read_attachments(data)
    document = document_of(name for name in files if name in (CERT_MANIFEST, LETTER_MANIFEST, NASKAH_MANIFEST))
    if document == "letter":
        return Checked("letter", *check_letter(files, trusted))
    if document == "naskah":
        return Checked("naskah", *check_naskah(files, trusted))
    return Checked("certificate", *certificate_findings(files, trusted))


def _who(nip: str) -> str:
    return f"NIP {nip}" if _NIP_FORM.fullmatch(nip) else f"identifier {nip}"


def letter_summary(facts: dict[str, Any]) -> list[str]:
    """The lines that sum a verified letter up, to compare with its printed page."""
    notes = len(facts["notes"])
    return [
        f"Application {facts['app']}, revision {facts['revision']}: {facts['name']} ({facts['agency']})",
        f"decision: {DECISION_WORDS.get(facts['decision'], facts['decision'])}"
        + (f", with {notes} note{'s' if notes != 1 else ''}" if notes else ""),
        f"decided at entry {facts['decided_index']}, {facts['decided_time']} (UTC), signed by {facts['signer_name']} "
        f"({facts['signer_capacity']}, {_who(facts['signer_nip'])})",
        f"entry hash {facts['leaf_hash']}; checkpoint size {facts['checkpoint_size']} root {facts['checkpoint_root']}",
    ]


def naskah_summary(facts: dict[str, Any]) -> list[str]:
    """The lines that sum a verified naskah up, to compare with its printed page: the commitment,
    how many signed, and one line per block in the published order."""
    blocks = facts["blocks"]
    signed = sum(b["status"] == SIGNED_BLOCK for b in blocks)
    declined = sum(b["status"] == DECLINED_BLOCK for b in blocks)
    lines = [
        f"Commitment {facts['title']!r} ({facts['slug']}), published at entry {facts['commitment_index']}",
        f"{signed} of {len(blocks)} signed"
        + (f", {declined} declined" if declined else "")
        + f", as of checkpoint size {facts['checkpoint_size']} root {facts['checkpoint_root']}",
    ]
    width = max(len(w) for w in BLOCK_WORDS.values())
    for k, b in enumerate(blocks, 1):
        line = f"  {k:>3}. {BLOCK_WORDS[b['status']]:<{width}}  {b['name']}, {b['capacity']} ({_who(b['nip'])})"
        if b["status"] == SIGNED_BLOCK:
            line += f": entry {b['index']}"
        elif b["status"] == DECLINED_BLOCK:
            line += f": entry {b['index']}, reason: {b['reason']}"
        lines.append(line)
    if signed < len(blocks):
        lines.append(
            "The name and capacity of a block not signed are the register's, as naskah.json states them: the "
            "ledger does not hold them."
        )
    return lines


# -- command line -----------------------------------------------------------------------


def _key_arg(value: str | None) -> VKey | None:
    if value is None:
        return None
    path = Path(value)
    return VKey.parse(path.read_text() if path.is_file() else value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ikrar_verify.py",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"ikrar_verify {VERSION} (ledger rules up to version {RULES})"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("export", help="verify a folder written by `ikrar export`")
    ex.add_argument("folder", type=Path)
    ex.add_argument("--vkey", help="the ledger key published by the city (or a file holding it)")
    ex.add_argument(
        "--known-checkpoint",
        action="append",
        type=Path,
        default=[],
        help="a checkpoint seen earlier; the ledger must still contain it (repeat)",
    )
    ce = sub.add_parser(
        "cert",
        help="verify a certificate PDF, a Surat Rekomendasi (letter.json) or a Naskah Komitmen Bersama "
        "(naskah.json) from its attachments",
        description="Verify a signature's certificate (certificate.json), a Surat Rekomendasi (letter.json) or a "
        "Naskah Komitmen Bersama (naskah.json) from the evidence it carries, without the page: compare the facts "
        "it prints with the printed page.",
    )
    ce.add_argument("pdf", type=Path, help="the PDF: a certificate, a Surat Rekomendasi or a naskah")
    ce.add_argument("--vkey", help="the ledger key published by the city (or a file holding it)")
    args = parser.parse_args(argv)
    try:
        trusted = _key_arg(args.vkey)
        if args.command == "export":
            if trusted is None:
                print(
                    "note: trusting the key stored in the folder itself; give --vkey with the key the city "
                    "publishes to rule out a replaced key.",
                    file=sys.stderr,
                )
            known = [p.read_text() for p in args.known_checkpoint]
            report, _ = verify_export(args.folder, trusted, known)
            print(
                f"OK: {report.size} entries, {report.signatures} signatures, {report.checkpoints} checkpoints "
                f"verified ({report.origin})."
            )
            sys.stdout.write(report.latest)
            return 0
        if args.pdf.stat().st_size > MAX_PDF:
            raise Invalid("the file is too large to be a certificate")
        checked = check_pdf(args.pdf.read_bytes(), trusted)
    except Broken as e:
        print(f"BROKEN at entry {e.index}: {e.reason}", file=sys.stderr)
        return 1
    except (Invalid, OSError, UnicodeDecodeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return print_verdict(checked)


def print_verdict(checked: Checked) -> int:
    """Print the findings of `cert`, a summary of the facts, and the verdict; return the exit status."""
    findings, facts = checked.findings, checked.facts
    marks = {True: "ok  ", False: "FAIL", None: "--  "}
    for f in findings:
        print(f"  {marks[f.ok]} {f.name:<11} {f.detail}")
    broken = [f for f in findings if f.ok is False]
    if facts and checked.document == "letter":
        print("\n" + "\n".join(letter_summary(facts)))
    elif facts and checked.document == "naskah":
        print("\n" + "\n".join(naskah_summary(facts)))
    elif facts:
        print(f"\nEntry {facts['index']}: {facts['name']} ({facts['position']}, {facts['agency']}, NIP {facts['nip']})")
        print(f"signed {facts['commitment_title']!r} (sha256 {facts['commitment_sha256']}) at {facts['time']}")
        print(
            f"entry hash {facts['leaf_hash']}; checkpoint size {facts['checkpoint_size']} root "
            f"{facts['checkpoint_root']}"
        )
    if facts:
        print("Compare these facts with the printed page: this verifier reads the attachments, not the page.")
    if broken:
        print(f"INVALID: {broken[0].name}: {broken[0].detail}", file=sys.stderr)
        return 1
    if findings[0].ok is None:
        print(
            f"INTACT: the {checked.document} holds together under the key embedded in it; check that key against the "
            "one the city publishes (--vkey)."
        )
    else:
        print("VALID")
    return 0


if __name__ == "__main__":
    sys.exit(main())
