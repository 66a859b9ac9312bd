"""The standalone verifier (verifier/ikrar_verify.py): one file, only `cryptography`,
and the same verdict as `ikrar audit` and `ikrar verify-export`."""

from __future__ import annotations

import ast
import base64
import importlib.util
import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfWriter
from pypdf.generic import NameObject
from sqlalchemy import text
from typer.testing import CliRunner

from ledger.export import write_export
from tests.certs import attachments, rebuild, signed_certificate
from tests.factories import LedgerFactory
from web import cli
from web.runtime import Runtime
from web.settings import Settings

STANDALONE = Path(__file__).parents[1] / "ikrar_verify.py"


def _load():
    spec = importlib.util.spec_from_file_location("ikrar_verify_under_test", STANDALONE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


iv = _load()


def standalone(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run the verifier as an auditor would: a separate, isolated Python (no project on sys.path)."""
    return subprocess.run(
        [sys.executable, "-I", str(STANDALONE), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def broken_at(output: str) -> int | None:
    for line in output.splitlines():
        if line.startswith("BROKEN at entry "):
            return int(line.split()[3].rstrip(":"))
    return None


def test_it_imports_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse(STANDALONE.read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add((node.module or "").split(".")[0])
    assert roots - set(sys.stdlib_module_names) == {"cryptography"}


# -- agreement with `ikrar audit` and `ikrar verify-export` -------------------------------


@pytest.fixture()
def signed_world(world: LedgerFactory) -> LedgerFactory:
    for n in (1, 2):
        world.sign(n)
    return world


def ikrar_audit(world: LedgerFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("IKRAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(cli, "_runtime", lambda: Runtime.with_context(Settings.from_env(), world.ctx))
    return CliRunner().invoke(cli.app, ["audit", "--vkey", str(world.ledger.verifier)])


def test_agrees_with_ikrar_audit_on_a_clean_ledger(signed_world, monkeypatch, tmp_path) -> None:
    audit = ikrar_audit(signed_world, monkeypatch, tmp_path)
    assert audit.exit_code == 0, audit.output
    write_export(signed_world.ledger, tmp_path / "export")
    result = standalone("export", tmp_path / "export", "--vkey", str(signed_world.ledger.verifier))
    assert result.returncode == 0, result.stderr
    ours = result.stdout.splitlines()[0]
    assert ours in audit.output
    assert (
        ours == f"OK: {signed_world.ledger.size()} entries, 2 signatures, {signed_world.ledger.size()} checkpoints "
        f"verified ({signed_world.ledger.origin})."
    )
    assert signed_world.ledger.checkpoint().note in result.stdout


def _edit_leaf(world: LedgerFactory, index: int, old: bytes, new: bytes, rehash: bool = False) -> None:
    leaf = world.ledger.entry(index).leaf
    assert old in leaf
    leaf = leaf.replace(old, new)
    with world.ledger.engine.begin() as c:
        c.execute(text("UPDATE entry SET leaf = :leaf WHERE idx = :i"), {"leaf": leaf, "i": index})
        if rehash:
            from ledger.merkle import leaf_hash

            c.execute(text("UPDATE entry SET leaf_hash = :h WHERE idx = :i"), {"h": leaf_hash(leaf), "i": index})


def _enrolment(world: LedgerFactory, name: bytes) -> int:
    """The index of the `key.enrolled` entry that names `name` (the founding admin comes first)."""
    return next(
        i
        for i in range(world.ledger.size())
        if world.ledger.entry(i).kind == "key.enrolled" and name in world.ledger.entry(i).leaf
    )


TAMPERS = {
    "an edited name": lambda w: _edit_leaf(w, _enrolment(w, b"Pejabat 2"), b"Pejabat 2", b"Pejabat X"),
    "an edited name with its hash": lambda w: _edit_leaf(
        w, _enrolment(w, b"Pejabat 2"), b"Pejabat 2", b"Pejabat X", rehash=True
    ),
    "an edited signature entry": lambda w: _edit_leaf(w, w.ledger.size() - 1, b"smart-city", b"smart-citx", True),
    "a deleted entry": lambda w: _sql(w, "DELETE FROM entry WHERE idx = 3"),
    "a deleted last entry": lambda w: _sql(w, f"DELETE FROM entry WHERE idx = {w.ledger.size() - 1}"),
    "a deleted checkpoint": lambda w: _sql(w, "DELETE FROM checkpoint WHERE size = 4"),
    "a swapped checkpoint": lambda w: _swap_checkpoint(w),
}


def _sql(world: LedgerFactory, statement: str) -> None:
    with world.ledger.engine.begin() as c:
        c.execute(text(statement))


def _swap_checkpoint(world: LedgerFactory) -> None:
    note = world.ledger.checkpoint(3).note
    with world.ledger.engine.begin() as c:
        c.execute(text("UPDATE checkpoint SET note = :n WHERE size = 5"), {"n": note})


@pytest.mark.parametrize("tamper", list(TAMPERS), ids=list(TAMPERS))
def test_agrees_with_ikrar_audit_on_a_tampered_ledger(signed_world, monkeypatch, tmp_path, tamper) -> None:
    TAMPERS[tamper](signed_world)
    audit = ikrar_audit(signed_world, monkeypatch, tmp_path)
    assert audit.exit_code == 1
    expected = broken_at(audit.output)
    assert expected is not None, audit.output
    write_export(signed_world.ledger, tmp_path / "export")
    result = standalone("export", tmp_path / "export", "--vkey", str(signed_world.ledger.verifier))
    assert result.returncode == 1
    assert broken_at(result.stderr) == expected, (result.stderr, audit.output)
    exported = CliRunner().invoke(cli.app, ["verify-export", str(tmp_path / "export")])
    assert exported.exit_code == 1 and broken_at(exported.output) == expected


def _rewrite_lines(path: Path, fn) -> None:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(fn(lines)))


def _edit_export_leaf(lines: list[str], i: int) -> list[str]:
    row = json.loads(lines[i])
    leaf = base64.b64decode(row["leaf"]).replace(b'"time":"2026', b'"time":"2027')
    row["leaf"] = base64.b64encode(leaf).decode()
    lines[i] = json.dumps(row) + "\n"
    return lines


EXPORT_TAMPERS = {
    "swapped lines": ("entries.jsonl", lambda ls: ls[:2] + [ls[3], ls[2]] + ls[4:]),
    "a line removed": ("entries.jsonl", lambda ls: ls[:4] + ls[5:]),
    "a line doubled": ("entries.jsonl", lambda ls: ls[:4] + [ls[3]] + ls[4:]),
    "an edited leaf": ("entries.jsonl", lambda ls: _edit_export_leaf(ls, 5)),
    "the last checkpoint cut": ("checkpoints.jsonl", lambda ls: ls[:-1]),
    "an extra checkpoint": ("checkpoints.jsonl", lambda ls: ls + [ls[-1].replace('"size": ', '"size": 9')]),
    "checkpoints out of order": ("checkpoints.jsonl", lambda ls: [ls[1], ls[0]] + ls[2:]),
}


@pytest.mark.parametrize("tamper", list(EXPORT_TAMPERS), ids=list(EXPORT_TAMPERS))
def test_agrees_with_verify_export_on_a_tampered_folder(signed_world, tmp_path, tamper) -> None:
    folder = tmp_path / "export"
    write_export(signed_world.ledger, folder)
    name, fn = EXPORT_TAMPERS[tamper]
    _rewrite_lines(folder / name, fn)
    ours = CliRunner().invoke(cli.app, ["verify-export", str(folder)])
    theirs = standalone("export", folder)
    assert ours.exit_code == theirs.returncode == 1, (ours.output, theirs.stderr)
    assert broken_at(theirs.stderr) == broken_at(ours.output) is not None


def test_a_replaced_key_in_the_folder_is_caught_with_the_published_key(signed_world, tmp_path) -> None:
    folder = tmp_path / "export"
    write_export(signed_world.ledger, folder)
    result = standalone(
        "export", folder, "--vkey", "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    )
    assert result.returncode == 1 and broken_at(result.stderr) == 0
    assert "another key than the one trusted" in result.stderr


def test_a_damaged_folder_is_a_clear_error(tmp_path) -> None:
    result = standalone("export", tmp_path)
    assert result.returncode == 1 and "error: vkey is missing from the export" in result.stderr
    (tmp_path / "vkey").write_text("not a key\n")
    assert "error: a verifier key has the form" in standalone("export", tmp_path).stderr


# -- certificates -------------------------------------------------------------------------


def test_a_genuine_certificate(world: LedgerFactory, tmp_path) -> None:
    index, pdf = signed_certificate(world)
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    intact = standalone("cert", path)
    assert intact.returncode == 0 and "INTACT" in intact.stdout and "trust must come from a key" in intact.stdout
    valid = standalone("cert", path, "--vkey", str(world.ledger.verifier))
    assert valid.returncode == 0 and valid.stdout.rstrip().endswith("VALID"), valid.stdout
    assert f"Entry {index}: Pejabat 1" in valid.stdout


def test_an_altered_certificate_fails(world: LedgerFactory, tmp_path) -> None:
    index, pdf = signed_certificate(world)
    leaf = attachments(pdf)[f"entry-{index}.json"].replace(b"smart-city", b"smart-citx")
    path = tmp_path / "c.pdf"
    path.write_bytes(rebuild(pdf, {f"entry-{index}.json": leaf}))
    result = standalone("cert", path)
    assert result.returncode == 1 and "INVALID: inclusion" in result.stderr
    manifest = json.loads(attachments(pdf)["certificate.json"])
    manifest["facts"]["name"] = "Pejabat 9"
    path.write_bytes(rebuild(pdf, {"certificate.json": json.dumps(manifest).encode()}))
    result = standalone("cert", path, "--vkey", str(world.ledger.verifier))
    assert result.returncode == 1
    assert "INVALID: facts: certificate.json says name is Pejabat 9 where the ledger says Pejabat 1" in result.stderr


def test_a_certificate_of_another_ledger_is_refused_with_the_published_key(world, tmp_path) -> None:
    _, pdf = signed_certificate(world)
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    result = standalone("cert", path, "--vkey", "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
    assert result.returncode == 1 and "it comes from another ledger" in result.stderr


def _flate_attachments(pdf: bytes) -> bytes:
    """The same certificate with every attachment Flate-compressed, as other tools write them."""
    writer = PdfWriter()
    files = attachments(pdf)
    import io

    from pypdf import PdfReader

    writer.add_page(PdfReader(io.BytesIO(pdf)).pages[0])
    for name, data in files.items():
        ef = writer.add_attachment(name, data)
        stream = ef.pdf_object["/EF"]["/F"].get_object()
        stream._data = zlib.compress(data)
        stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_compressed_attachments_are_read(world: LedgerFactory, tmp_path) -> None:
    _index, pdf = signed_certificate(world)
    squeezed = _flate_attachments(pdf)
    assert attachments(squeezed) == attachments(pdf)  # pypdf agrees it is the same evidence
    assert iv.read_attachments(squeezed) == attachments(pdf)


def _objstm_pdf(files: dict[str, bytes]) -> bytes:
    """A hand-made PDF 1.5 whose catalog and file specs sit in a compressed object stream."""
    objs = {
        1: "<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 3 0 R >> >>",
        2: "<< /Type /Pages /Kids [] /Count 0 >>",
    }
    names, n = [], 10
    streams = []
    for name, data in files.items():
        objs[n] = f"<< /Type /Filespec /F ({name}) /EF << /F {n + 1} 0 R >> >>"
        streams.append((n + 1, data))
        names.append(f"({name}) {n} 0 R")
        n += 2
    objs[3] = f"<< /Names [{' '.join(names)}] >>"
    body = b" ".join(v.encode() for v in objs.values())
    header, offset = [], 0
    parts = []
    for num, v in objs.items():
        header.append(f"{num} {offset}")
        parts.append(v.encode())
        offset += len(v.encode()) + 1
    first = " ".join(header).encode() + b"\n"
    payload = zlib.compress(first + b" ".join(parts))
    del body
    out = bytearray(b"%PDF-1.5\n")
    out += (
        (
            f"50 0 obj\n<< /Type /ObjStm /N {len(objs)} /First {len(first)} /Filter /FlateDecode "
            f"/Length {len(payload)} >>\nstream\n"
        ).encode()
        + payload
        + b"\nendstream\nendobj\n"
    )
    for num, data in streams:
        packed = zlib.compress(data)
        out += (
            (
                f"{num} 0 obj\n<< /Type /EmbeddedFile /Filter [/FlateDecode] /Length {len(packed)} >>\nstream\r\n"
            ).encode()
            + packed
            + b"\r\nendstream\nendobj\n"
        )
    out += b"60 0 obj\n<< /Type /XRef /Root 1 0 R /Size 61 /W [1 2 1] /Length 0 >>\nstream\n\nendstream\nendobj\n"
    out += b"startxref\n0\n%%EOF\n"
    return bytes(out)


def test_attachments_inside_object_streams_are_found() -> None:
    files = {"entry-1.json": b'{"a":"(b)\\\\"}', "ledger.vkey": b"key\n", "certificate.json": bytes(range(256))}
    assert iv.read_attachments(_objstm_pdf(files)) == files


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=3000),
        st.binary(max_size=3000).map(lambda b: b"%PDF-1.4\n" + b),
        st.lists(
            st.sampled_from(
                [
                    b"1 0 obj",
                    b"<<",
                    b">>",
                    b"/Names",
                    b"[",
                    b"]",
                    b"(",
                    b")",
                    b"stream\n",
                    b"endstream",
                    b"trailer",
                    b"/Root 1 0 R",
                    b"/EF",
                    b"/F 2 0 R",
                    b"/Type",
                    b"/Catalog",
                    b"/EmbeddedFiles",
                    b"2 0 obj",
                    b"\\",
                    b"<",
                    b">",
                    b"0",
                    b"/Filter /FlateDecode",
                    b"/Length 5",
                    b"/ObjStm",
                    b"/N 1 /First 3",
                ]
            ),
            max_size=80,
        ).map(lambda parts: b"%PDF-1.7\n" + b" ".join(parts)),
    )
)
def test_garbage_never_crashes_the_standalone_verifier(data: bytes) -> None:
    try:
        iv.check_certificate(data, None)
    except iv.Invalid as e:
        assert str(e)


# -- RFC 8785, done right ------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_canonical_json_matches_the_reference_implementation(value) -> None:
    try:
        expected = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError):
        with pytest.raises(iv.Invalid):
            iv.canonical_json(value)
        return
    assert iv.canonical_json(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"\U0001f600": 1, "\ue000": 2, "a": 3}, '{"a":3,"\U0001f600":1,"\ue000":2}'),  # UTF-16 order, not code points
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (123.0, "123"),
        (-0.0, "0"),
        (5e-324, "5e-324"),
        ("\u2028\x7f\x1f", '"\u2028\x7f\\u001f"'),
    ],
)
def test_canonical_json_edge_cases(value, expected) -> None:
    assert iv.canonical_json(value) == expected.encode()
