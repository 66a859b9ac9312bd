"""A ledger as a folder anyone can verify offline, with no database and no server.

entries.jsonl      one entry a line: {"index", "kind", "leaf" (base64 of the exact
                   leaf bytes), "leaf_hash" (hex), "prev" (hex)}
checkpoints.jsonl  every signed checkpoint: {"size", "note"}
checkpoint         the latest checkpoint, verbatim (C2SP signed note)
vkey               the ledger's verifier key (C2SP); trust it only if it matches
                   the key the city publishes elsewhere
keys.txt           the officials' keys: NIP, verifier key, enrolled at, revoked at
README.txt         how to check all of this
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .audit import AuditReport, StoredCheckpoint, StoredEntry, audit
from .errors import InvalidInput, LedgerError
from .note import VerifierKey
from .store import Ledger

README = """This folder is a complete copy of an Ikrar ledger ({origin}), {size} entries.

Check it without trusting the server:
  ikrar verify-export THIS_FOLDER --vkey 'THE_KEY_PUBLISHED_BY_THE_CITY'
or with the standalone verifier (needs only Python and `cryptography`):
  python ikrar_verify.py export THIS_FOLDER --vkey 'THE_KEY_PUBLISHED_BY_THE_CITY'

entries.jsonl holds each entry's exact leaf bytes (base64); its leaf hash is
SHA-256(0x00 || leaf). checkpoints.jsonl holds every signed checkpoint (C2SP
tlog-checkpoint). vkey is the key this copy claims; compare it with one published
elsewhere before you trust it.
"""


class ExportInvalid(LedgerError):
    """An export folder is missing a file or holds a malformed line."""


def write_export(ledger: Ledger, directory: Path, progress: Callable[[int], None] | None = None) -> int:
    """Write the whole ledger into `directory` (new or empty). Returns the number of entries."""
    if directory.exists() and any(directory.iterdir()):
        raise InvalidInput(f"{directory} is not empty; export into a new folder")
    directory.mkdir(parents=True, exist_ok=True)
    size = 0
    with open(directory / "entries.jsonl", "w") as out:
        for row in ledger.iter_rows():
            line = {
                "index": row.idx,
                "kind": row.kind,
                "leaf": base64.b64encode(row.leaf).decode(),
                "leaf_hash": row.leaf_hash.hex(),
                "prev": row.prev.hex(),
            }
            out.write(json.dumps(line) + "\n")
            size += 1
            if progress:
                progress(size)
    with open(directory / "checkpoints.jsonl", "w") as out:
        for cp in ledger.iter_checkpoints():
            out.write(json.dumps({"size": cp.size, "note": cp.note}, ensure_ascii=False) + "\n")
    (directory / "checkpoint").write_text(ledger.checkpoint().note)
    (directory / "vkey").write_text(f"{ledger.verifier}\n")
    with ledger.read() as r:
        keys = r.enrolled_keys()
    with open(directory / "keys.txt", "w") as out:
        out.write("# nip  verifier-key  enrolled-entry  revoked-entry\n")
        for k in keys:
            out.write(f"{k.nip} {k.key} {k.enrolled_index} {'-' if k.revoked_index is None else k.revoked_index}\n")
    (directory / "README.txt").write_text(README.format(origin=ledger.origin, size=size))
    for name in os.listdir(directory):
        fd = os.open(directory / name, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    return size


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise ExportInvalid(f"{path.name} is missing from the export")
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            try:
                value = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
                raise ExportInvalid(f"{path.name} line {number} is not UTF-8 JSON") from e
            if not isinstance(value, dict):
                raise ExportInvalid(f"{path.name} line {number} is not a JSON object")
            yield number, value


def _hex(value: object, where: str) -> bytes:
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ExportInvalid(f"{where} is not a 32-byte hex hash")
    return raw


def read_entries(directory: Path) -> Iterator[StoredEntry]:
    for number, v in _lines(directory / "entries.jsonl"):
        where = f"entries.jsonl line {number}"
        if type(v.get("index")) is not int or not isinstance(v.get("leaf"), str):
            raise ExportInvalid(f"{where} lacks an integer index or a base64 leaf")
        try:
            leaf = base64.b64decode(v["leaf"], validate=True)
        except (binascii.Error, ValueError) as e:
            raise ExportInvalid(f"{where}: the leaf is not base64") from e
        kind = v.get("kind")
        yield StoredEntry(
            v["index"],
            leaf,
            kind if isinstance(kind, str) else None,
            _hex(v.get("leaf_hash"), where),
            _hex(v.get("prev"), where),
        )


def read_checkpoints(directory: Path) -> Iterator[StoredCheckpoint]:
    for number, v in _lines(directory / "checkpoints.jsonl"):
        if type(v.get("size")) is not int or not isinstance(v.get("note"), str):
            raise ExportInvalid(f"checkpoints.jsonl line {number} lacks an integer size or a note")
        yield StoredCheckpoint(v["size"], v["note"])


def export_verifier(directory: Path) -> VerifierKey:
    """The verifier key the export claims for itself (not a reason to trust it)."""
    if not directory.is_dir():
        raise ExportInvalid(f"{directory} is not a folder")
    path = directory / "vkey"
    if not path.is_file():
        raise ExportInvalid("vkey is missing from the export")
    return VerifierKey.parse(path.read_text())


def verify_export(
    directory: Path,
    verifier: VerifierKey,
    progress: Callable[[int], None] | None = None,
    known_checkpoints: tuple[str, ...] = (),
) -> AuditReport:
    """Audit an export folder against a trusted verifier key. Raises ChainBroken or ExportInvalid."""
    if not directory.is_dir():
        raise ExportInvalid(f"{directory} is not a folder")
    return audit(read_entries(directory), read_checkpoints(directory), verifier, progress, known_checkpoints)
