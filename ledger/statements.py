"""The statements officials sign, as the ledger's rules verify them.

Every signed statement is a short text whose first line names its purpose and version,
followed by ``key value`` lines, each ending in a newline; no value holds a line break.
The Ed25519 signature is over exactly these bytes, so ``openssl pkeyutl -verify -rawin
-pubin -inkey PUB.pem -in statement.txt -sigfile SIG`` checks it. The purposes:

    ikrar/signature/v1                        an official signs a commitment
    origin kedirikota.go.id/ikrar
    commitment <SHA-256 of the text, hex> <slug>
    signer <NIP>
    key <the official's C2SP verifier key>
    time <UTC, YYYY-MM-DDTHH:MM:SSZ>

    ikrar/attestation/v1                      an admin vouches for a person and invites them
    origin kedirikota.go.id/ikrar
    invitation <32 hex digits, chosen at random>
    nip <NIP>
    name <name>
    title <title>
    unit <unit>
    role <official or admin>
    time <UTC>

    ikrar/approval/v1                         a second admin approves that invitation
    origin kedirikota.go.id/ikrar
    attestation <SHA-256 of the attestation statement, hex>
    nip <NIP>
    time <UTC>

    ikrar/revocation/v1                       an admin withdraws an official's key
    origin kedirikota.go.id/ikrar
    nip <NIP>
    key <the revoked C2SP verifier key>
    reason <reason>
    time <UTC>

The last three are signed by an admin's own key (or, where the rules allow it, the
ledger's key) and carried in `key.enrolled` and `key.revoked` entries from rules
version 3 on (`kinds.ledger_rules`).

From rules version 4 on (`ledger.identity`):

    ikrar/signature/v2                        an official signs a commitment, in a capacity
    origin kedirikota.go.id/ikrar
    commitment <SHA-256 of the text, hex> <slug>
    signer <NIP or identifier>
    name <the signer's name>
    capacity <the capacity they sign in>
    key <the official's C2SP verifier key>
    time <UTC>

    ikrar/attestation/v2                      as v1, for a person with a rank or acting
    ...                                       the lines of v1 up to `unit`, then
    rank <pangkat/golongan>                   (only when the entry has `rank`)
    acting <Plt. or Plh.>                     (only when the entry has `acting`)
    appointment <the letter's number>         (only when the entry has `appointment`)
    role <official or admin>
    time <UTC>

    ikrar/update/v1                           an admin records an official's new identity
    origin kedirikota.go.id/ikrar
    nip <NIP or identifier>
    name <name>
    title <title>
    unit <unit>
    rank / acting / appointment               (each only when the entry has it)
    reason <reason>
    time <UTC, the entry's>

    ikrar/decline/v1                          an official declines to sign a commitment
    origin kedirikota.go.id/ikrar
    commitment <SHA-256 of the text, hex> <slug>
    signer <NIP or identifier>
    key <the official's C2SP verifier key>
    reason <reason>
    time <UTC, the entry's>

From rules version 5 on (`ledger.application`):

    ikrar/role/v1                             an admin gives or withdraws a role
    origin kedirikota.go.id/ikrar
    nip <NIP or identifier>
    role <pd-head, pd-operator, reviewer or kominfo-head>
    unit <the agency or office the role is held for>
    grant <yes or no>
    reason <reason>
    time <UTC, the entry's>

    ikrar/app-request/v1                      a Kepala PD signs a request to verify an application
    origin kedirikota.go.id/ikrar
    application <YYYY-NNNN> <revision>
    request <SHA-256 of the request's canonical JSON, hex>
    agency <the agency>
    signer <NIP or identifier>
    name <the signer's name>
    capacity <the capacity they sign in>
    key <the signer's C2SP verifier key>
    time <UTC, the entry's>

    ikrar/app-decision/v1                     the Kepala Dinas Kominfo signs a decision on it
    origin kedirikota.go.id/ikrar
    application <YYYY-NNNN> <revision>
    request <SHA-256 of that revision's request, hex>
    decision <recommended, recommended_with_notes or not_recommended>
    note <note>                               (one line a note, in order; none for recommended)
    signer <NIP or identifier>
    name <the signer's name>
    capacity <the capacity they sign in>
    key <the signer's C2SP verifier key>
    time <UTC, the entry's>

The ledger checks an entry's statement at every append and in every audit; signing it
(opening an official's key) is `signing`'s part.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import NoteInvalid, SignatureRejected
from .note import VerifierKey
from .times import format_time

SIGNATURE_V1 = "ikrar/signature/v1"
SIGNATURE_V2 = "ikrar/signature/v2"
ATTESTATION_V1 = "ikrar/attestation/v1"
ATTESTATION_V2 = "ikrar/attestation/v2"
UPDATE_V1 = "ikrar/update/v1"
DECLINE_V1 = "ikrar/decline/v1"
APPROVAL_V1 = "ikrar/approval/v1"
REVOCATION_V1 = "ikrar/revocation/v1"
ROLE_V1 = "ikrar/role/v1"
APP_REQUEST_V1 = "ikrar/app-request/v1"
APP_DECISION_V1 = "ikrar/app-decision/v1"


@dataclass(frozen=True)
class Statement:
    """`ikrar/signature/v1`: an official's signature on a commitment's text; with `name` and
    `capacity` (rules version 4 on), `ikrar/signature/v2`, which names them."""

    origin: str
    slug: str
    commitment_sha256: str
    nip: str
    key: VerifierKey
    time: datetime
    name: str | None = None
    capacity: str | None = None

    @property
    def version(self) -> str:
        return SIGNATURE_V1 if self.capacity is None else SIGNATURE_V2

    def text(self) -> str:
        signer = ""
        if self.capacity is not None:
            assert self.name is not None
            signer = f"name {one_line(self.name, 'name')}\ncapacity {one_line(self.capacity, 'capacity')}\n"
        return (
            f"{self.version}\n"
            f"origin {self.origin}\n"
            f"commitment {self.commitment_sha256} {self.slug}\n"
            f"signer {self.nip}\n"
            f"{signer}"
            f"key {self.key}\n"
            f"time {format_time(self.time)}\n"
        )

    def message(self) -> bytes:
        return self.text().encode()

    def verify(self, signature: bytes) -> None:
        """Raise SignatureRejected unless `signature` is the key's signature over this statement."""
        try:
            self.key.verify(self.message(), signature)
        except NoteInvalid as e:
            raise SignatureRejected(
                f"the signature of official {self.nip} does not verify", code="signature.invalid", nip=self.nip
            ) from e

    @classmethod
    def of_fields(cls, origin: str, fields: Mapping[str, Any], time: datetime) -> Statement:
        """The statement a `commitment.signed` entry's fields claim was signed at `time`."""
        return cls(
            origin,
            fields["slug"],
            fields["commitment_sha256"],
            fields["nip"],
            VerifierKey.parse(fields["key"]),
            time,
            fields.get("name") if "capacity" in fields else None,
            fields.get("capacity"),
        )


def decode_signature(text: str) -> bytes:
    """The 64 raw bytes of a base64 Ed25519 signature; raises SignatureRejected otherwise."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise SignatureRejected("the signature is not valid base64", code="signature.base64") from e
    if len(raw) != 64:
        raise SignatureRejected("an Ed25519 signature is 64 bytes", code="signature.length")
    return raw


def encode_signature(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def one_line(value: str, what: str) -> str:
    """`value`, refused (NoteInvalid) when it would break a statement's lines."""
    if "\n" in value or "\r" in value:
        raise NoteInvalid(f"the {what} holds a line break", code="statement.line_break", what=what)
    return value


def _verify(text: str, key: VerifierKey, signature: bytes, what: str, nip: str) -> None:
    try:
        key.verify(text.encode(), signature)
    except NoteInvalid as e:
        raise SignatureRejected(
            f"the {what} for official {nip} does not verify", code="statement.signature", what=what, nip=nip
        ) from e


@dataclass(frozen=True)
class Attestation:
    """`ikrar/attestation/v1`: an admin has checked this person and invites them to enrol;
    `ikrar/attestation/v2` when the person has a rank or acts (rules version 4 on)."""

    origin: str
    invitation: str
    nip: str
    name: str
    title: str
    unit: str
    role: str
    time: datetime
    rank: str | None = None
    acting: str | None = None
    appointment: str | None = None

    def text(self) -> str:
        for what in ("name", "title", "unit", "role"):
            one_line(getattr(self, what), what)
        extra = _extra_lines(self.rank, self.acting, self.appointment)
        return (
            f"{ATTESTATION_V2 if extra else ATTESTATION_V1}\n"
            f"origin {self.origin}\n"
            f"invitation {self.invitation}\n"
            f"nip {self.nip}\n"
            f"name {self.name}\n"
            f"title {self.title}\n"
            f"unit {self.unit}\n"
            f"{extra}"
            f"role {self.role}\n"
            f"time {format_time(self.time)}\n"
        )

    def sha256(self) -> str:
        return hashlib.sha256(self.text().encode()).hexdigest()

    def verify(self, key: VerifierKey, signature: bytes) -> None:
        _verify(self.text(), key, signature, "attestation", self.nip)


@dataclass(frozen=True)
class Approval:
    """`ikrar/approval/v1`: a second admin approves the invitation an attestation made."""

    origin: str
    attestation_sha256: str
    nip: str
    time: datetime

    def text(self) -> str:
        return (
            f"{APPROVAL_V1}\n"
            f"origin {self.origin}\n"
            f"attestation {self.attestation_sha256}\n"
            f"nip {self.nip}\n"
            f"time {format_time(self.time)}\n"
        )

    def verify(self, key: VerifierKey, signature: bytes) -> None:
        _verify(self.text(), key, signature, "approval", self.nip)


@dataclass(frozen=True)
class Revocation:
    """`ikrar/revocation/v1`: an admin withdraws an official's key, for a reason."""

    origin: str
    nip: str
    key: str
    reason: str
    time: datetime

    def text(self) -> str:
        one_line(self.reason, "reason")
        return (
            f"{REVOCATION_V1}\n"
            f"origin {self.origin}\n"
            f"nip {self.nip}\n"
            f"key {self.key}\n"
            f"reason {self.reason}\n"
            f"time {format_time(self.time)}\n"
        )

    def verify(self, key: VerifierKey, signature: bytes) -> None:
        _verify(self.text(), key, signature, "revocation", self.nip)


def _extra_lines(rank: str | None, acting: str | None, appointment: str | None) -> str:
    """The `rank`, `acting` and `appointment` lines of a rules-4 statement, each when set."""
    named = (("rank", rank), ("acting", acting), ("appointment", appointment))
    return "".join(f"{what} {one_line(value, what)}\n" for what, value in named if value is not None)


@dataclass(frozen=True)
class Update:
    """`ikrar/update/v1`: an admin records an official's new name, position or unit (a
    mutasi, a promotion, a corrected name); `time` is the `official.updated` entry's."""

    origin: str
    nip: str
    name: str
    title: str
    unit: str
    rank: str | None
    acting: str | None
    appointment: str | None
    reason: str
    time: datetime

    def text(self) -> str:
        for what in ("name", "title", "unit", "reason"):
            one_line(getattr(self, what), what)
        return (
            f"{UPDATE_V1}\n"
            f"origin {self.origin}\n"
            f"nip {self.nip}\n"
            f"name {self.name}\n"
            f"title {self.title}\n"
            f"unit {self.unit}\n"
            f"{_extra_lines(self.rank, self.acting, self.appointment)}"
            f"reason {self.reason}\n"
            f"time {format_time(self.time)}\n"
        )

    @classmethod
    def of_fields(cls, origin: str, fields: Mapping[str, Any], time: datetime) -> Update:
        f = fields
        return cls(
            origin,
            f["nip"],
            f["name"],
            f["title"],
            f["unit"],
            f.get("rank"),
            f.get("acting"),
            f.get("appointment"),
            f["reason"],
            time,
        )

    def verify(self, key: VerifierKey, signature: bytes) -> None:
        _verify(self.text(), key, signature, "update", self.nip)


@dataclass(frozen=True)
class Decline:
    """`ikrar/decline/v1`: an official declines to sign a commitment, for a reason; `time` is
    the `commitment.declined` entry's."""

    origin: str
    slug: str
    commitment_sha256: str
    nip: str
    key: VerifierKey
    reason: str
    time: datetime

    def text(self) -> str:
        one_line(self.reason, "reason")
        return (
            f"{DECLINE_V1}\n"
            f"origin {self.origin}\n"
            f"commitment {self.commitment_sha256} {self.slug}\n"
            f"signer {self.nip}\n"
            f"key {self.key}\n"
            f"reason {self.reason}\n"
            f"time {format_time(self.time)}\n"
        )

    def message(self) -> bytes:
        return self.text().encode()

    @classmethod
    def of_fields(cls, origin: str, fields: Mapping[str, Any], time: datetime) -> Decline:
        f = fields
        return cls(origin, f["slug"], f["commitment_sha256"], f["nip"], VerifierKey.parse(f["key"]), f["reason"], time)

    def verify(self, signature: bytes) -> None:
        _verify(self.text(), self.key, signature, "decline", self.nip)


@dataclass(frozen=True)
class Role:
    """`ikrar/role/v1`: an admin gives (`grant`) or withdraws a role held for a unit, for a
    reason, with their own key (rules version 5 on); `time` is the `role.assigned` entry's."""

    origin: str
    nip: str
    role: str
    unit: str
    grant: bool
    reason: str
    time: datetime

    def text(self) -> str:
        for what in ("role", "unit", "reason"):
            one_line(getattr(self, what), what)
        return (
            f"{ROLE_V1}\n"
            f"origin {self.origin}\n"
            f"nip {self.nip}\n"
            f"role {self.role}\n"
            f"unit {self.unit}\n"
            f"grant {'yes' if self.grant else 'no'}\n"
            f"reason {self.reason}\n"
            f"time {format_time(self.time)}\n"
        )

    def message(self) -> bytes:
        return self.text().encode()

    @classmethod
    def of_fields(cls, origin: str, fields: Mapping[str, Any], time: datetime) -> Role:
        """The statement a `role.assigned` entry's fields claim its attester signed at `time`."""
        f = fields
        return cls(origin, f["nip"], f["role"], f["unit"], f["grant"], f["reason"], time)

    def verify(self, key: VerifierKey, signature: bytes) -> None:
        _verify(self.text(), key, signature, "role", self.nip)


def _application_lines(purpose: str, origin: str, app: str, revision: int, request_sha256: str) -> str:
    """The first lines of a statement on an application's revision (rules version 5)."""
    return f"{purpose}\norigin {origin}\napplication {app} {revision}\nrequest {request_sha256}\n"


def _signer_lines(nip: str, name: str, capacity: str, key: VerifierKey, time: datetime) -> str:
    """The last lines of a statement an official signs in a capacity (rules version 5)."""
    return (
        f"signer {nip}\n"
        f"name {one_line(name, 'name')}\n"
        f"capacity {one_line(capacity, 'capacity')}\n"
        f"key {key}\n"
        f"time {format_time(time)}\n"
    )


@dataclass(frozen=True)
class AppRequest:
    """`ikrar/app-request/v1`: a Kepala PD signs revision `revision` of the request to verify
    application `app`, named by the SHA-256 of its canonical JSON (`ledger.application`), in
    the capacity they hold; `time` is the `app.submitted` entry's."""

    origin: str
    app: str
    revision: int
    request_sha256: str
    agency: str
    nip: str
    name: str
    capacity: str
    key: VerifierKey
    time: datetime

    def text(self) -> str:
        return (
            _application_lines(APP_REQUEST_V1, self.origin, self.app, self.revision, self.request_sha256)
            + f"agency {one_line(self.agency, 'agency')}\n"
            + _signer_lines(self.nip, self.name, self.capacity, self.key, self.time)
        )

    def message(self) -> bytes:
        return self.text().encode()

    @classmethod
    def of_fields(cls, origin: str, fields: Mapping[str, Any], time: datetime) -> AppRequest:
        """The statement an `app.submitted` entry's fields claim was signed at `time`."""
        f = fields
        return cls(
            origin,
            f["app"],
            f["revision"],
            f["request_sha256"],
            f["agency"],
            f["nip"],
            f["name"],
            f["capacity"],
            VerifierKey.parse(f["key"]),
            time,
        )

    def verify(self, signature: bytes) -> None:
        _verify(self.text(), self.key, signature, "request", self.nip)


@dataclass(frozen=True)
class AppDecision:
    """`ikrar/app-decision/v1`: the Kepala Dinas Kominfo signs the decision on revision
    `revision` of application `app` (named again by its request's SHA-256), with its notes,
    one line each, in order; `time` is the `app.decided` entry's."""

    origin: str
    app: str
    revision: int
    request_sha256: str
    decision: str
    notes: tuple[str, ...]
    nip: str
    name: str
    capacity: str
    key: VerifierKey
    time: datetime

    def text(self) -> str:
        notes = "".join(f"note {one_line(note, 'note')}\n" for note in self.notes)
        return (
            _application_lines(APP_DECISION_V1, self.origin, self.app, self.revision, self.request_sha256)
            + f"decision {one_line(self.decision, 'decision')}\n"
            + notes
            + _signer_lines(self.nip, self.name, self.capacity, self.key, self.time)
        )

    def message(self) -> bytes:
        return self.text().encode()

    @classmethod
    def of_fields(cls, origin: str, fields: Mapping[str, Any], time: datetime) -> AppDecision:
        """The statement an `app.decided` entry's fields claim was signed at `time`."""
        f = fields
        return cls(
            origin,
            f["app"],
            f["revision"],
            f["request_sha256"],
            f["decision"],
            tuple(f["notes"]),
            f["nip"],
            f["name"],
            f["capacity"],
            VerifierKey.parse(f["key"]),
            time,
        )

    def verify(self, signature: bytes) -> None:
        _verify(self.text(), self.key, signature, "decision", self.nip)
