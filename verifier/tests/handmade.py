"""Export folders built by hand, entry by entry, with a ledger key made here.

The leaves are RFC 8785 canonical JSON written by the reference implementation (`rfc8785`),
the tree is RFC 6962's and the checkpoints are C2SP signed notes (the server's stable
`ledger.merkle` and `ledger.checkpoint`). No rule of the server's is asked: a test states
exactly the entries it wants, including ones the server would refuse to append (a time
that goes backwards, a rules version no one knows), and reads the verifiers' verdict.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.checkpoint import Checkpoint
from ledger.merkle import Hash, MemoryTree
from ledger.note import NoteSigner, VerifierKey

ORIGIN = "handmade.example/ikrar"
SIGNER = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
VKEY = str(SIGNER.verifier)
OTHER = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())  # same name, another key
NIP = "198001012005011001"  # born 1980-01-01, appointed 2005-01, male, number 001
T = "2026-01-0{}T00:00:00Z"  # T.format(2) is 2 January 2026


def created(time: str, **extra: Any) -> tuple[str, str, dict[str, Any]]:
    """The first entry; `extra` adds fields (`rules=2`)."""
    return "ledger.created", time, {"org": "Handmade", "origin": ORIGIN, "ledger_key": VKEY, **extra}


def published(time: str, slug: str) -> tuple[str, str, dict[str, Any]]:
    """A commitment: the entry kind with no signature to make."""
    text = f"Text of {slug}."
    return (
        "commitment.published",
        time,
        {
            "slug": slug,
            "title": f"Title {slug}",
            "text": text,
            "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "signers": [NIP],
            "by": "admin",
        },
    )


def rules(time: str, version: Any) -> tuple[str, str, dict[str, Any]]:
    return "ledger.rules", time, {"version": version}


@dataclass
class Export:
    folder: Path
    leaves: list[bytes] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self, name: str) -> list[bytes]:
        return (self.folder / name).read_bytes().splitlines(keepends=True)

    def write(self, name: str, lines: list[bytes]) -> None:
        (self.folder / name).write_bytes(b"".join(lines))


def leaf(index: int, kind: str, time: str, prev: bytes, fields: dict[str, Any]) -> bytes:
    return rfc8785.dumps({"index": index, "kind": kind, "time": time, "prev": prev.hex(), **fields})


def build(folder: Path, entries: list[tuple[str, str, dict[str, Any]]], signer: NoteSigner = SIGNER) -> Export:
    """Write an export folder of `entries` (kind, time, fields), as `ikrar export` lays one out."""
    folder.mkdir(parents=True)
    out = Export(folder)
    prev = bytes(32)
    entry_lines, checkpoint_lines = [], []
    for index, (kind, time, fields) in enumerate(entries):
        raw = leaf(index, kind, time, prev, fields)
        hashed = hashlib.sha256(b"\x00" + raw).digest()
        entry_lines.append(
            json.dumps(
                {
                    "index": index,
                    "kind": kind,
                    "leaf": base64.b64encode(raw).decode(),
                    "leaf_hash": hashed.hex(),
                    "prev": prev.hex(),
                }
            )
            + "\n"
        )
        out.leaves.append(raw)
        prev = hashed
        root = MemoryTree([Hash(hashlib.sha256(b"\x00" + x).digest()) for x in out.leaves]).root()
        note = Checkpoint(ORIGIN, index + 1, root).signed(signer).note
        out.notes.append(note)
        checkpoint_lines.append(json.dumps({"size": index + 1, "note": note}, ensure_ascii=False) + "\n")
    (folder / "entries.jsonl").write_text("".join(entry_lines), encoding="utf-8")
    (folder / "checkpoints.jsonl").write_text("".join(checkpoint_lines), encoding="utf-8")
    (folder / "checkpoint").write_text(out.notes[-1] if out.notes else "", encoding="utf-8")
    (folder / "vkey").write_text(VKEY + "\n", encoding="utf-8")
    return out


def v1_ledger(folder: Path, n: int = 4) -> Export:
    """A well-formed ledger of rules version 1: entry 0 and `n - 1` commitments, a day apart."""
    return build(folder, [created(T.format(1))] + [published(T.format(i + 1), f"c{i}") for i in range(1, n)])


# -- rules version 5 by hand: people with keys, roles, applications -------------------------------
#
# Every statement below is written out line by line from the format the team brief and the main
# README give (ikrar/attestation/v1, ikrar/role/v1, ikrar/app-request/v1, ikrar/app-decision/v1),
# not taken from the verifier: a statement the verifier spells differently fails to verify.


@dataclass(frozen=True)
class Person:
    """An official of a handmade ledger: their NIP, identity and Ed25519 key."""

    nip: str
    name: str
    title: str
    unit: str
    private: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate, repr=False)

    @property
    def key(self) -> str:
        """The official's C2SP verifier key, named as Ikrar names officials' keys."""
        return str(VerifierKey(f"{ORIGIN}/official/{self.nip}", self.private.public_key().public_bytes_raw()))

    def sign(self, text: str) -> str:
        return base64.b64encode(self.private.sign(text.encode())).decode()


def person(n: int, name: str, title: str, unit: str) -> Person:
    """Official number `n` (1-999): born 1980-01-01, appointed 2005-01, sequence `n`."""
    return Person(f"19800101200501{1 if n % 2 else 2}{n:03d}", name, title, unit)


def _sign_as_ledger(text: str) -> str:
    return base64.b64encode(SIGNER.sign_statement(text.encode())).decode()


def enrolled(
    time: str, who: Person, role: str = "official", by: Person | None = None
) -> tuple[str, str, dict[str, Any]]:
    """The `key.enrolled` of `who` under rules version 3 on, attested by the admin `by` (None:
    by the ledger's key, as the first admin is), invited at the entry's time; a second admin's
    key also approved by the ledger's key."""
    invitation = hashlib.sha256(f"invitation {who.nip} {time}".encode()).hexdigest()[:32]
    text = (
        f"ikrar/attestation/v1\norigin {ORIGIN}\ninvitation {invitation}\nnip {who.nip}\nname {who.name}\n"
        f"title {who.title}\nunit {who.unit}\nrole {role}\ntime {time}\n"
    )
    vouched = (
        {"attested_by": "ledger", "attester": VKEY, "attestation": _sign_as_ledger(text)}
        if by is None
        else {"attested_by": by.nip, "attester": by.key, "attestation": by.sign(text)}
    )
    if by is not None and role == "admin":
        approval = (
            f"ikrar/approval/v1\norigin {ORIGIN}\nattestation {hashlib.sha256(text.encode()).hexdigest()}\n"
            f"nip {who.nip}\ntime {time}\n"
        )
        vouched |= {
            "approved_by": "ledger",
            "approver": VKEY,
            "approved_at": time,
            "approval": _sign_as_ledger(approval),
        }
    fields = {"nip": who.nip, "name": who.name, "title": who.title, "unit": who.unit, "key": who.key}
    return "key.enrolled", time, fields | {"role": role, "invitation": invitation, "invited_at": time} | vouched


def role_assigned(
    time: str, who: Person, role: str, unit: str, by: Person, grant: bool = True, reason: str = "Surat Keputusan"
) -> tuple[str, str, dict[str, Any]]:
    """A `role.assigned` of `role` for `unit` to (or, `grant=False`, from) `who`, attested by the admin `by`."""
    text = (
        f"ikrar/role/v1\norigin {ORIGIN}\nnip {who.nip}\nrole {role}\nunit {unit}\n"
        f"grant {'yes' if grant else 'no'}\nreason {reason}\ntime {time}\n"
    )
    fields = {"nip": who.nip, "role": role, "unit": unit, "grant": grant, "reason": reason}
    return "role.assigned", time, fields | {"attested_by": by.nip, "attester": by.key, "attestation": by.sign(text)}


def canonical(obj: dict[str, Any]) -> str:
    """`obj` in RFC 8785 canonical JSON, by the reference implementation."""
    return rfc8785.dumps(obj).decode("utf-8")


def submitted(
    time: str, app: str, revision: int, request: dict[str, Any] | str, head: Person, **changed: Any
) -> tuple[str, str, dict[str, Any]]:
    """An `app.submitted` of `request` (an object, written canonically, or the exact text) signed
    by `head` in their identity; `changed` replaces fields after signing (a forgery)."""
    text = request if isinstance(request, str) else canonical(request)
    sha = hashlib.sha256(text.encode()).hexdigest()
    agency = json.loads(text)["agency"]  # a JSON object with an agency: a forgery changes it after
    statement = (
        f"ikrar/app-request/v1\norigin {ORIGIN}\napplication {app} {revision}\nrequest {sha}\nagency {agency}\n"
        f"signer {head.nip}\nname {head.name}\ncapacity {head.title}\nkey {head.key}\ntime {time}\n"
    )
    fields = {
        "app": app,
        "revision": revision,
        "request": text,
        "request_sha256": sha,
        "agency": agency,
        "nip": head.nip,
        "key": head.key,
        "name": head.name,
        "capacity": head.title,
        "signature": head.sign(statement),
    }
    return "app.submitted", time, fields | changed


def reviewed(
    time: str, app: str, revision: int, by: Person, checklist: dict[str, Any]
) -> tuple[str, str, dict[str, Any]]:
    return "app.reviewed", time, {"app": app, "revision": revision, "by": by.nip, "checklist": canonical(checklist)}


def returned(time: str, app: str, revision: int, by: Person, reasons: list[str]) -> tuple[str, str, dict[str, Any]]:
    return "app.returned", time, {"app": app, "revision": revision, "by": by.nip, "reasons": reasons}


def decided(
    time: str,
    app: str,
    revision: int,
    request_sha256: str,
    decision: str,
    notes: list[str],
    head: Person,
    **changed: Any,
) -> tuple[str, str, dict[str, Any]]:
    """An `app.decided` signed by `head` in their identity; `changed` replaces fields after signing."""
    lines = "".join(f"note {note}\n" for note in notes)
    statement = (
        f"ikrar/app-decision/v1\norigin {ORIGIN}\napplication {app} {revision}\nrequest {request_sha256}\n"
        f"decision {decision}\n{lines}signer {head.nip}\nname {head.name}\ncapacity {head.title}\n"
        f"key {head.key}\ntime {time}\n"
    )
    fields = {
        "app": app,
        "revision": revision,
        "request_sha256": request_sha256,
        "decision": decision,
        "notes": notes,
        "nip": head.nip,
        "key": head.key,
        "name": head.name,
        "capacity": head.title,
        "signature": head.sign(statement),
    }
    return "app.decided", time, fields | changed
