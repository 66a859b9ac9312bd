"""A ledger as a folder anyone can verify offline, with no database and no server.

entries.jsonl      one entry a line: {"index", "kind", "leaf" (base64 of the exact
                   leaf bytes), "leaf_hash" (hex), "prev" (hex)}
checkpoints.jsonl  every signed checkpoint: {"size", "note"}
checkpoint         the latest checkpoint, verbatim (C2SP signed note): the checkpoint
                   of all the entries in entries.jsonl
vkey               the ledger's verifier key (C2SP); trust it only if it matches
                   the key the city publishes elsewhere
keys.txt           the officials' keys: NIP, verifier key, enrolled at, revoked at
                   (for people to read; not verified, trust nothing in it)
README.txt         how to check all of this

The two JSON-lines files are read strictly, so that no reader can see a line another
reader does not (the README states the rules under "The ledger and how to verify it
independently"; the standalone verifier applies the same ones): every line is one JSON
object in UTF-8 from `{` to `}` followed by one newline (LF; the last line too), never
blank; it holds exactly the members of its file, each once; integers are plain
non-negative integers of at most 20 digits; hashes are 64 lowercase hex digits; the leaf
is padded, canonical standard base64.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .audit import AuditReport, audit
from .checkpoint import Checkpoint
from .errors import ChainBroken, InvalidInput, LedgerError, NoteInvalid
from .note import MAX_NOTE_BYTES, VerifierKey
from .store import Ledger
from .stored import StoredCheckpoint, StoredEntry

README = """This folder is a complete copy of an Ikrar ledger ({origin}), {size} entries.

Check it without trusting the server:
  ikrar verify-export THIS_FOLDER --vkey 'THE_KEY_PUBLISHED_BY_THE_CITY'
or with the standalone verifier (needs only Python and `cryptography`):
  python ikrar_verify.py export THIS_FOLDER --vkey 'THE_KEY_PUBLISHED_BY_THE_CITY'

entries.jsonl holds each entry's exact leaf bytes (base64); its leaf hash is
SHA-256(0x00 || leaf). checkpoints.jsonl holds every signed checkpoint (C2SP
tlog-checkpoint); checkpoint is the latest of them, the one of all {size} entries.
vkey is the key this copy claims; compare it with one published elsewhere before you
trust it. keys.txt lists the officials' keys for reading only; it is not verified.
"""

ENTRY_MEMBERS = ("index", "kind", "leaf", "leaf_hash", "prev")
CHECKPOINT_MEMBERS = ("size", "note")
MAX_LINE_BYTES = 64 << 20  # far above any entry a ledger holds; bounds what one line may cost
MAX_DIGITS = 20  # an integer member has at most this many digits (2**64 has 20)
_PLAIN_INT = re.compile(rf"0|[1-9][0-9]{{0,{MAX_DIGITS - 1}}}")
_HEX_HASH = re.compile(r"[0-9a-f]{64}")


class ExportInvalid(LedgerError):
    """An export folder is missing a file or holds a malformed line or latest checkpoint.

    `params` name the `file` and, for a line, its `line` number.
    """

    code = "export.invalid"


def write_export(ledger: Ledger, directory: Path, progress: Callable[[int], None] | None = None) -> int:
    """Write the whole ledger into `directory` (new or empty). Returns the number of entries.

    The folder is one snapshot of the ledger: entries appended meanwhile are left out, so
    that `checkpoint` is the checkpoint of exactly the entries written. Raises InvalidInput
    when the folder is not empty.
    """
    if directory.exists() and any(directory.iterdir()):
        raise InvalidInput(f"{directory} is not empty; export into a new folder")
    directory.mkdir(parents=True, exist_ok=True)
    size = 0
    with ledger.read() as r:  # one snapshot: the entries, the checkpoints and `checkpoint` agree
        with open(directory / "entries.jsonl", "w", encoding="utf-8", newline="\n") as out:
            for row in r.stored_entries():
                line = {
                    "index": row.index,
                    "kind": row.kind,
                    "leaf": base64.b64encode(row.leaf).decode(),
                    "leaf_hash": bytes(row.leaf_hash or b"").hex(),
                    "prev": bytes(row.prev or b"").hex(),
                }
                out.write(json.dumps(line) + "\n")
                size += 1
                if progress:
                    progress(size)
        with open(directory / "checkpoints.jsonl", "w", encoding="utf-8", newline="\n") as out:
            for cp in r.stored_checkpoints():
                out.write(json.dumps({"size": cp.size, "note": cp.note}, ensure_ascii=False) + "\n")
        (directory / "checkpoint").write_bytes(r.checkpoint().note.encode())
        keys = r.enrolled_keys()
    (directory / "vkey").write_bytes(f"{ledger.verifier}\n".encode())
    with open(directory / "keys.txt", "w", encoding="utf-8", newline="\n") as out:
        out.write("# nip  verifier-key  enrolled-entry  revoked-entry\n")
        for k in keys:
            out.write(f"{k.nip} {k.key} {k.enrolled_index} {'-' if k.revoked_index is None else k.revoked_index}\n")
    (directory / "README.txt").write_bytes(README.format(origin=ledger.origin, size=size).encode())
    for name in os.listdir(directory):
        fd = os.open(directory / name, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    return size


# -- reading, strictly ----------------------------------------------------------------------


class _Number:
    """A JSON number that is not a plain integer of at most MAX_DIGITS digits: kept as its
    text, never converted (a 5000-digit number costs nothing and fails the type check)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class _Duplicate(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for name, member in pairs:
        if name in value:
            raise _Duplicate(name)
        value[name] = member
    return value


def _integer(text: str) -> int | _Number:
    return int(text) if _PLAIN_INT.fullmatch(text) else _Number(text)


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_int=_integer, parse_float=_Number, parse_constant=_Number)


class _Line:
    """One line of a JSON-lines file, where its problems are named."""

    def __init__(self, file: str, number: int, value: dict[str, Any]) -> None:
        self.file, self.number, self.value = file, number, value

    def invalid(self, problem: str) -> ExportInvalid:
        return _invalid(self.file, self.number, problem)

    def count(self, name: str, least: int = 0) -> int:
        value = self.value[name]
        if type(value) is not int:
            raise self.invalid(f"member {name!r} is not a plain integer of at most {MAX_DIGITS} digits")
        if value < least:
            raise self.invalid(f"member {name!r} is {value}, less than {least}")
        return value

    def text(self, name: str) -> str:
        value = self.value[name]
        if not isinstance(value, str):
            raise self.invalid(f"member {name!r} is not a string")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise self.invalid(f"member {name!r} holds a lone surrogate") from e
        return value

    def hash(self, name: str) -> bytes:
        value = self.text(name)
        if not _HEX_HASH.fullmatch(value):
            raise self.invalid(f"member {name!r} is not 64 lowercase hex digits")
        return bytes.fromhex(value)

    def base64(self, name: str) -> bytes:
        value = self.text(name)
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as e:
            raise self.invalid(f"member {name!r} is not base64") from e
        if base64.b64encode(raw).decode() != value:
            raise self.invalid(f"member {name!r} is not canonical base64 (padded, unused bits zero)")
        return raw


def _invalid(file: str, number: int, problem: str) -> ExportInvalid:
    return ExportInvalid(f"{file} line {number}: {problem}", file=file, line=number)


def _parse_line(raw: bytes, file: str, number: int, members: tuple[str, ...]) -> _Line:
    if len(raw) > MAX_LINE_BYTES:
        raise _invalid(file, number, f"the line is longer than {MAX_LINE_BYTES >> 20} MiB")
    if not raw.endswith(b"\n"):
        raise _invalid(file, number, "the line does not end with a newline: the file was cut short")
    if raw == b"\n":
        raise _invalid(file, number, "the line is blank")
    try:
        text = raw[:-1].decode("utf-8")
    except UnicodeDecodeError as e:
        raise _invalid(file, number, "the line is not UTF-8") from e
    if not (text.startswith("{") and text.endswith("}")):
        raise _invalid(file, number, "the line is not one JSON object from '{' to '}' followed by a newline")
    try:
        value = _DECODER.decode(text)
    except _Duplicate as e:
        raise _invalid(file, number, f"member {e.name!r} appears twice") from e
    except (json.JSONDecodeError, RecursionError) as e:
        raise _invalid(file, number, "the line is not JSON") from e
    if not isinstance(value, dict):  # pragma: no cover - a text from '{' to '}' that parses is an object
        raise _invalid(file, number, "the line is not a JSON object")
    for name in members:
        if name not in value:
            raise _invalid(file, number, f"member {name!r} is missing")
    for name in value:
        if name not in members:
            raise _invalid(file, number, f"member {name!r} is not one of {', '.join(members)}")
    return _Line(file, number, value)


def _lines(path: Path, members: tuple[str, ...]) -> Iterator[_Line]:
    if not path.is_file():
        raise ExportInvalid(f"{path.name} is missing from the export", file=path.name)
    with open(path, "rb") as f:
        number = 0
        while raw := f.readline(MAX_LINE_BYTES + 1):
            number += 1
            yield _parse_line(raw, path.name, number, members)


def read_entries(directory: Path) -> Iterator[StoredEntry]:
    """The lines of entries.jsonl, one by one; raises ExportInvalid at the first malformed one."""
    for line in _lines(directory / "entries.jsonl", ENTRY_MEMBERS):
        yield StoredEntry(
            line.count("index"),
            line.base64("leaf"),
            line.text("kind"),
            line.hash("leaf_hash"),
            line.hash("prev"),
        )


def read_checkpoints(directory: Path) -> Iterator[StoredCheckpoint]:
    """The lines of checkpoints.jsonl, one by one; raises ExportInvalid at the first malformed one."""
    for line in _lines(directory / "checkpoints.jsonl", CHECKPOINT_MEMBERS):
        yield StoredCheckpoint(line.count("size", least=1), line.text("note"))


def read_latest_checkpoint(directory: Path) -> bytes:
    """The file `checkpoint`, as stored (at most a note's size and one byte more).

    Raises ExportInvalid when it is missing.
    """
    path = directory / "checkpoint"
    if not path.is_file():
        raise ExportInvalid("checkpoint is missing from the export", file="checkpoint")
    with open(path, "rb") as f:
        return f.read(MAX_NOTE_BYTES + 1)


def export_verifier(directory: Path) -> VerifierKey:
    """The verifier key the export claims for itself (not a reason to trust it).

    Raises ExportInvalid when the folder or its vkey is missing or not UTF-8, NoteInvalid
    when the key is malformed.
    """
    if not directory.is_dir():
        raise ExportInvalid(f"{directory} is not a folder")
    path = directory / "vkey"
    if not path.is_file():
        raise ExportInvalid("vkey is missing from the export", file="vkey")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise ExportInvalid("vkey is not UTF-8", file="vkey") from e
    return VerifierKey.parse(text)


def verify_export(
    directory: Path,
    verifier: VerifierKey,
    progress: Callable[[int], None] | None = None,
    known_checkpoints: tuple[str, ...] = (),
) -> AuditReport:
    """Audit an export folder against a trusted verifier key.

    Checks every entry and checkpoint (`audit`), and that the file `checkpoint` is the
    trusted key's checkpoint of all the entries. Raises ExportInvalid for a missing file, a
    malformed line or a `checkpoint` that is not a checkpoint of this ledger or is stale;
    ChainBroken naming the first entry that breaks, also when `checkpoint` signs entries
    the folder lacks or another root for its size.
    """
    if not directory.is_dir():
        raise ExportInvalid(f"{directory} is not a folder")
    latest = read_latest_checkpoint(directory)
    report = audit(read_entries(directory), read_checkpoints(directory), verifier, progress, known_checkpoints)
    _check_latest(latest, report, verifier)
    return report


def _check_latest(note: bytes, report: AuditReport, verifier: VerifierKey) -> None:
    """After the audit (whose findings come first): the file `checkpoint` is the trusted key's
    checkpoint of all the entries the audit read."""
    try:
        latest = Checkpoint.open(note, verifier, verifier.name)
    except NoteInvalid as e:
        raise ExportInvalid(
            f"checkpoint: the file is not a checkpoint signed by the trusted key for {verifier.name}: {e}",
            file="checkpoint",
        ) from e
    size = report.size
    if latest.size > size:
        raise ChainBroken(
            size,
            f"the latest checkpoint (the file checkpoint) has size {latest.size}: entries from {size} on are missing",
        )
    if latest.size < size:
        raise ExportInvalid(
            f"checkpoint: the latest checkpoint has size {latest.size}, "
            f"but the export holds {size} entries: it is stale",
            file="checkpoint",
        )
    if latest.root != report.root:
        raise ChainBroken(
            size - 1,
            f"the latest checkpoint (the file checkpoint) signs another root for size {size} than checkpoints.jsonl: "
            "the ledger was forked or rewritten",
        )
