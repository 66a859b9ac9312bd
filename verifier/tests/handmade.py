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
from ledger.note import NoteSigner

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
