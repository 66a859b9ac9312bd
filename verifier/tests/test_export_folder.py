"""Both readers of an export folder (`ikrar verify-export`, `ledger/export.py`, and the
standalone verifier) read its lines strictly and check its file `checkpoint`, and refuse
the same folders with the same words."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from ledger.checkpoint import Checkpoint
from ledger.errors import ChainBroken, LedgerError
from ledger.export import ExportInvalid, verify_export, write_export
from ledger.merkle import Hash
from ledger.note import NoteSigner, VerifierKey
from tests.factories import LedgerFactory
from web import cli

from .handmade import ORIGIN, OTHER, SIGNER, VKEY, Export, v1_ledger
from .test_ikrar_verify import broken_at, iv, standalone

OURS_KEY = VerifierKey.parse(VKEY)
THEIRS_KEY = iv.VKey.parse(VKEY)


def both(folder: Path) -> tuple[Exception | None, Exception | None]:
    """What each reader raises on `folder` (None when it passes); anything else is a crash."""
    ours: Exception | None = None
    theirs: Exception | None = None
    try:
        verify_export(folder, OURS_KEY)
    except LedgerError as e:
        ours = e
    try:
        iv.verify_export(folder, THEIRS_KEY)
    except (iv.Invalid, iv.Broken) as e:
        theirs = e
    return ours, theirs


@pytest.fixture()
def export(tmp_path: Path) -> Export:
    return v1_ledger(tmp_path / "export")


def test_a_well_formed_folder_passes_both(export: Export) -> None:
    assert both(export.folder) == (None, None)


# -- the line format ---------------------------------------------------------------------------


def _line(export: Export, name: str, number: int, fn: Callable[[bytes], bytes]) -> None:
    lines = export.lines(name)
    lines[number - 1] = fn(lines[number - 1])
    export.write(name, lines)


def _member(raw: bytes, name: str, value: str) -> bytes:
    """The line with member `name`'s JSON text replaced by `value` (written as is)."""
    new, n = re.subn(rf'"{name}": (?:"[^"]*"|[^,}}]*)'.encode(), lambda _: f'"{name}": {value}'.encode(), raw)
    assert n == 1, raw
    return new


def _forged_first(raw: bytes) -> bytes:
    """A forged `leaf` written first, the real one last: a reader that keeps the first sees the forgery."""
    forged = base64.b64encode(b'{"forged":true}').decode()
    return raw.replace(b"{", f'{{"leaf": "{forged}", '.encode(), 1)


def on(file: str, number: int, fn: Callable[[bytes], bytes]) -> Callable[[Export], None]:
    """A tamper: line `number` of `file` changed by `fn`."""
    return lambda x: _line(x, file, number, fn)


def member(file: str, number: int, name: str, value: str) -> Callable[[Export], None]:
    """A tamper: member `name` of line `number` of `file` written as `value`."""
    return on(file, number, lambda r: _member(r, name, value))


def _insert_blank(x: Export) -> None:
    lines = x.lines("entries.jsonl")
    x.write("entries.jsonl", lines[:2] + [b"\n"] + lines[2:])


def _cut_last_newline(x: Export) -> None:
    x.write("entries.jsonl", [b"".join(x.lines("entries.jsonl"))[:-1]])


NOT_ONE_OBJECT = "the line is not one JSON object from '{' to '}' followed by a newline"
E, C = "entries.jsonl", "checkpoints.jsonl"
LINE_CASES: dict[str, tuple[Callable[[Export], None], str]] = {
    "a member written twice, the forged one first": (on(E, 3, _forged_first), "line 3: member 'leaf' appears twice"),
    "a blank line": (_insert_blank, "line 3: the line is blank"),
    "no newline after the last line": (
        _cut_last_newline,
        "line 4: the line does not end with a newline: the file was cut short",
    ),
    "a byte that is not UTF-8": (
        on(E, 2, lambda r: r.replace(b'"kind": "', b'"kind": "\xff', 1)),
        "line 2: the line is not UTF-8",
    ),
    "a CR before the newline": (on(E, 2, lambda r: r[:-1] + b"\r\n"), f"line 2: {NOT_ONE_OBJECT}"),
    "a space before the object": (on(E, 1, lambda r: b" " + r), f"line 1: {NOT_ONE_OBJECT}"),
    "an array": (on(E, 2, lambda r: b"[" + r[:-1] + b"]\n"), f"line 2: {NOT_ONE_OBJECT}"),
    "two objects on one line": (on(E, 2, lambda r: r[:-1] + b" " + r), "line 2: the line is not JSON"),
    "a member too many": (
        on(E, 2, lambda r: r.replace(b"{", b'{"note": "x", ', 1)),
        "line 2: member 'note' is not one of index, kind, leaf, leaf_hash, prev",
    ),
    "a member missing": (on(E, 2, lambda r: re.sub(rb', "kind": "[^"]*"', b"", r)), "line 2: member 'kind' is missing"),
    "a kind that is not a string": (member(E, 2, "kind", "null"), "line 2: member 'kind' is not a string"),
    "a kind with a lone surrogate": (
        member(E, 2, "kind", '"\\ud800"'),
        "line 2: member 'kind' holds a lone surrogate",
    ),
    "an upper-case hash": (
        on(E, 2, lambda r: _member(r, "leaf_hash", f'"{json.loads(r)["leaf_hash"].upper()}"')),
        "line 2: member 'leaf_hash' is not 64 lowercase hex digits",
    ),
    "a short prev": (member(E, 2, "prev", '"00"'), "line 2: member 'prev' is not 64 lowercase hex digits"),
    "a leaf that is not base64": (member(E, 2, "leaf", '"not base64!"'), "line 2: member 'leaf' is not base64"),
    "a leaf in base64 with an unused bit set": (  # b"{}" is e30=; e31= is the same bytes to a lenient reader
        member(E, 2, "leaf", '"e31="'),
        "line 2: member 'leaf' is not canonical base64 (padded, unused bits zero)",
    ),
    "a checkpoint of size 0": (member(C, 1, "size", "0"), "line 1: member 'size' is 0, less than 1"),
    "a size written twice": (
        on(C, 2, lambda r: r.replace(b"{", b'{"size": 3, ', 1)),
        "line 2: member 'size' appears twice",
    ),
    "a note that is not a string": (
        on(C, 2, lambda r: re.sub(rb'"note": ".*"}', b'"note": 7}', r)),
        "line 2: member 'note' is not a string",
    ),
    "a note missing": (on(C, 2, lambda r: re.sub(rb', "note": ".*"}', b"}", r)), "line 2: member 'note' is missing"),
    "a deeply nested member": (
        on(C, 2, lambda r: r.replace(b"{", b'{"x": ' + b"[" * 100000 + b"]" * 100000 + b", ", 1)),
        "line 2: ",
    ),
}


def _refused_alike(export: Export, message: str) -> None:
    ours, theirs = both(export.folder)
    assert isinstance(ours, ExportInvalid), ours
    assert isinstance(theirs, iv.Invalid), theirs
    assert str(ours) == str(theirs), (ours, theirs)
    assert message in str(ours), ours
    file, line = ours.params["file"], ours.params["line"]
    assert str(ours).startswith(f"{file} line {line}: ")


@pytest.mark.parametrize("case", list(LINE_CASES), ids=list(LINE_CASES))
def test_a_line_outside_the_format_is_refused_by_both_naming_file_and_line(export: Export, case: str) -> None:
    tamper, message = LINE_CASES[case]
    tamper(export)
    _refused_alike(export, message)


@pytest.mark.parametrize(("file", "name"), [(E, "index"), (C, "size")])
@pytest.mark.parametrize("value", ["1.0", "1e0", "-0", "-1", "true", '"1"', "null", "NaN", "1" * 5000, "1" + "0" * 20])
def test_an_integer_member_is_a_plain_integer_of_at_most_20_digits(
    export: Export, file: str, name: str, value: str
) -> None:
    member(file, 2, name, value)(export)
    _refused_alike(export, f"{file} line 2: member {name!r} is not a plain integer of at most 20 digits")


def test_the_forged_member_is_named_on_the_command_line_by_both(export: Export) -> None:
    _line(export, "entries.jsonl", 3, _forged_first)
    ours = CliRunner().invoke(cli.app, ["verify-export", str(export.folder), "--vkey", VKEY])
    theirs = standalone("export", export.folder, "--vkey", VKEY)
    said = "error: entries.jsonl line 3: member 'leaf' appears twice"
    assert ours.exit_code == 1 and said in ours.output, ours.output
    assert theirs.returncode == 1 and said in theirs.stderr, theirs.stderr


def test_a_lenient_reader_would_see_the_forgery() -> None:
    """Why duplicates are refused: a reader keeping the first member and one keeping the last disagree."""
    raw = _forged_first(b'{"index": 0, "leaf": "e30=", "kind": "k"}\n')
    last = json.loads(raw)["leaf"]
    first = json.loads(raw, object_pairs_hook=lambda pairs: dict(reversed(pairs)))["leaf"]
    assert first != last


# -- the file `checkpoint` ------------------------------------------------------------------


def _checkpoint(export: Export, note: str | bytes) -> None:
    (export.folder / "checkpoint").write_bytes(note.encode() if isinstance(note, str) else note)


def _size_and_root(export: Export, extra: int = 0, fork: bool = False) -> str:
    note = export.notes[-1]
    cp = Checkpoint.open(note, SIGNER.verifier)
    root = Hash(bytes(32)) if fork else cp.root
    return Checkpoint(ORIGIN, cp.size + extra, root).signed(SIGNER).note


def _cosigned(export: Export) -> str:
    """The latest checkpoint with a second signature by another key (a witness): still valid."""
    witness = NoteSigner("witness.example/w", Ed25519PrivateKey.generate())
    cosigned = witness.sign(export.notes[-1].split("\n\n")[0] + "\n")
    return export.notes[-1] + cosigned.split("\n\n")[1]


def _folder_in_place(export: Export) -> None:
    (export.folder / "checkpoint").unlink()
    (export.folder / "checkpoint").mkdir()


NOT_SIGNED = "checkpoint: the file is not a checkpoint signed by the trusted key for handmade.example/ikrar: "
CHECKPOINT_CASES: dict[str, tuple[Callable[[Export], object], str | int]] = {
    "missing": (lambda x: (x.folder / "checkpoint").unlink(), "checkpoint is missing from the export"),
    "a folder in its place": (_folder_in_place, "checkpoint is missing from the export"),
    "empty": (lambda x: _checkpoint(x, b""), NOT_SIGNED),
    "garbage": (lambda x: _checkpoint(x, "this is not a checkpoint\n"), NOT_SIGNED),
    "not UTF-8": (lambda x: _checkpoint(x, b"\xff\xfe" + x.notes[-1].encode()), NOT_SIGNED),
    "too large": (lambda x: _checkpoint(x, b"x" * (2 << 20)), NOT_SIGNED),
    "a wrong signature": (
        lambda x: _checkpoint(x, x.notes[-1][:-8] + ("A" if x.notes[-1][-8] != "A" else "B") + x.notes[-1][-7:]),
        NOT_SIGNED,
    ),
    "signed by another key of the same name": (
        lambda x: _checkpoint(x, Checkpoint.open(x.notes[-1], SIGNER.verifier).signed(OTHER).note),
        NOT_SIGNED,
    ),
    "for another origin": (
        lambda x: _checkpoint(x, Checkpoint("elsewhere.example/log", 4, Hash(bytes(32))).signed(SIGNER).note),
        NOT_SIGNED,
    ),
    "stale: an older checkpoint": (
        lambda x: _checkpoint(x, x.notes[-2]),
        "checkpoint: the latest checkpoint has size 3, but the export holds 4 entries: it is stale",
    ),
    "one entry ahead: the entries were cut off": (lambda x: _checkpoint(x, _size_and_root(x, extra=1)), 4),
    "another root for the same size: a fork": (lambda x: _checkpoint(x, _size_and_root(x, fork=True)), 3),
}


@pytest.mark.parametrize("case", list(CHECKPOINT_CASES), ids=list(CHECKPOINT_CASES))
def test_the_file_checkpoint_is_checked_by_both(export: Export, case: str) -> None:
    tamper, expected = CHECKPOINT_CASES[case]
    tamper(export)
    ours, theirs = both(export.folder)
    if isinstance(expected, int):
        assert isinstance(ours, ChainBroken) and isinstance(theirs, iv.Broken), (ours, theirs)
        assert ours.index == theirs.index == expected
        assert ours.reason == theirs.reason
    else:
        assert isinstance(ours, ExportInvalid) and isinstance(theirs, iv.Invalid), (ours, theirs)
        assert str(ours).startswith(expected) and str(theirs).startswith(expected), (ours, theirs)


def test_a_cosigned_latest_checkpoint_passes_both(export: Export) -> None:
    _checkpoint(export, _cosigned(export))
    assert both(export.folder) == (None, None)


def test_a_broken_entry_is_named_before_the_file_checkpoint(export: Export) -> None:
    """The audit's finding comes first: with the wrong key trusted, entry 0 is named."""
    _checkpoint(export, "garbage\n")
    stranger = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    theirs = standalone("export", export.folder, "--vkey", stranger)
    ours = CliRunner().invoke(cli.app, ["verify-export", str(export.folder), "--vkey", stranger])
    assert broken_at(theirs.stderr) == broken_at(ours.output) == 0, (theirs.stderr, ours.output)


def test_a_cut_off_export_is_broken_on_the_command_line_of_both(export: Export) -> None:
    _checkpoint(export, _size_and_root(export, extra=3))
    ours = CliRunner().invoke(cli.app, ["verify-export", str(export.folder), "--vkey", VKEY])
    theirs = standalone("export", export.folder, "--vkey", VKEY)
    assert ours.exit_code == theirs.returncode == 1
    assert broken_at(ours.output) == broken_at(theirs.stderr) == 4
    assert "the latest checkpoint (the file checkpoint) has size 7: entries from 4 on are missing" in theirs.stderr


# -- what `ikrar export` writes ----------------------------------------------------------------


def test_an_export_is_the_ledger_as_of_its_latest_checkpoint_when_it_starts(
    world: LedgerFactory, tmp_path: Path
) -> None:
    """Entries appended while an export runs are left out: its `checkpoint` signs exactly its entries."""
    ledger = world.ledger
    full = ledger.size()
    before = ledger.checkpoint(full)
    appended: list[int] = []

    def sign_meanwhile(done: int) -> None:  # an official signs while the export is being written
        if done == 1:
            appended.append(world.sign(1).entry.index)

    assert write_export(ledger, tmp_path / "export", sign_meanwhile) == full
    assert appended == [full] and ledger.size() == full + 1
    folder = tmp_path / "export"
    assert len((folder / "entries.jsonl").read_bytes().splitlines()) == full
    assert (folder / "checkpoint").read_text() == before.note
    report = verify_export(folder, ledger.verifier)
    assert report.size == full
    theirs, _ = iv.verify_export(folder, iv.VKey.parse(str(ledger.verifier)))
    assert theirs.size == full
    for line in (folder / "keys.txt").read_text().splitlines()[1:]:
        assert int(line.split()[2]) < full


def test_a_leaf_with_a_number_of_5000_digits_breaks_its_entry_in_the_standalone_verifier(export: Export) -> None:
    """The number inside the leaf is refused before it is converted (Python refuses to convert
    more than 4300 digits with a ValueError, which must not escape as a crash)."""
    lines = export.lines("entries.jsonl")
    row = json.loads(lines[2])
    leaf = base64.b64decode(row["leaf"]).replace(b'"index":2', b'"index":' + b"2" * 5000)
    row["leaf"] = base64.b64encode(leaf).decode()
    row["leaf_hash"] = hashlib.sha256(b"\x00" + leaf).hexdigest()
    lines[2] = (json.dumps(row) + "\n").encode()
    export.write("entries.jsonl", lines)
    with pytest.raises(iv.Broken, match="entry 2: the leaf is not a valid entry: a number has more than 20 digits"):
        iv.verify_export(export.folder, THEIRS_KEY)
