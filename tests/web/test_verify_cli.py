"""`ikrar certificate` and `ikrar verify-cert` on the command line."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from signing.certificate import signature_indexes
from web import cli
from web.runtime import Runtime
from web.settings import Settings

from ..certs import BASE_URL, attachments, read_qr_codes, rebuild
from ..factories import LedgerFactory
from ..signing.documents import rebuild_pages

runner = CliRunner()


@pytest.fixture()
def ikrar(world: LedgerFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Run `ikrar …` in-process against the `world` ledger."""
    monkeypatch.setenv("IKRAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IKRAR_BASE_URL", BASE_URL + "/")
    monkeypatch.setattr(cli, "_runtime", lambda: Runtime.with_context(Settings.from_env(), world.ctx))

    def run(*args: str | Path):
        return runner.invoke(cli.app, [str(a) for a in args])

    return run


def test_certificate_then_verify_cert(world: LedgerFactory, ikrar, tmp_path: Path) -> None:
    index = world.sign(1).entry.index
    out = tmp_path / "sertifikat.pdf"
    made = ikrar("certificate", index, "-o", out)
    assert made.exit_code == 0, made.output
    assert f"Certificate of entry {index} written to {out}" in made.output
    leaf = world.ledger.entry(index).leaf_hash.hex()
    assert [c.text for c in read_qr_codes(out.read_bytes(), 150)] == [f"{BASE_URL}/v/{index}?h={leaf[:16]}"]

    offline = ikrar("verify-cert", out)
    assert offline.exit_code == 0, offline.output
    assert "INTACT" in offline.output and "Trust must come from a key published elsewhere" in offline.output
    assert "ok   printed page" in offline.output

    vkey = tmp_path / "ledger.vkey"
    vkey.write_text(f"{world.ledger.verifier}\n")
    trusted = ikrar("verify-cert", out, "--vkey", vkey)
    assert trusted.exit_code == 0 and "VALID" in trusted.output


def test_english_and_a_bad_language(world: LedgerFactory, ikrar, tmp_path: Path) -> None:
    index = world.sign(1).entry.index
    assert ikrar("certificate", index, "-o", tmp_path / "en.pdf", "--lang", "en").exit_code == 0
    bad = ikrar("certificate", index, "-o", tmp_path / "fr.pdf", "--lang", "fr")
    assert bad.exit_code == 1 and "language must be one of id, en" in bad.output
    assert not (tmp_path / "fr.pdf").exists()


def test_certificate_errors_are_one_line(world: LedgerFactory, ikrar, tmp_path: Path) -> None:
    result = ikrar("certificate", 1, "-o", tmp_path / "x.pdf")
    assert result.exit_code == 1 and "entry 1 is a key.enrolled entry, not a signature" in result.output
    assert "Traceback" not in result.output
    assert ikrar("certificate", "-o", tmp_path / "x.pdf").exit_code == 2  # neither INDEX nor --commitment
    assert ikrar("certificate", "--all", "-o", tmp_path / "x.pdf", "5").exit_code == 2


@pytest.mark.parametrize("target", ["folder", "certs.zip"])
def test_every_certificate_of_a_commitment(world: LedgerFactory, ikrar, tmp_path: Path, target: str) -> None:
    for n in (1, 2, 3):
        world.sign(n)
    result = ikrar("certificate", "--commitment", "smart-city", "--all", "-o", tmp_path / target)
    assert result.exit_code == 0, result.output
    assert "3 certificates of smart-city and its summary written" in result.output
    expected = {f"certificate-{i}.pdf" for i in signature_indexes(world.ledger, "smart-city")} | {
        "smart-city-summary.pdf"
    }
    if target.endswith(".zip"):
        with zipfile.ZipFile(tmp_path / target) as z:
            assert set(z.namelist()) == expected
    else:
        assert {p.name for p in (tmp_path / target).iterdir()} == expected


def test_summary_of_a_commitment(world: LedgerFactory, ikrar, tmp_path: Path) -> None:
    world.sign(1)
    result = ikrar("certificate", "--commitment", "smart-city", "-o", tmp_path / "summary.pdf")
    assert result.exit_code == 0 and (tmp_path / "summary.pdf").read_bytes().startswith(b"%PDF-")
    unknown = ikrar("certificate", "--commitment", "nope", "-o", tmp_path / "n.pdf")
    assert unknown.exit_code == 1 and "there is no commitment 'nope'" in unknown.output


def test_the_naskah_of_a_commitment_is_written_and_verifies_offline(
    world: LedgerFactory, ikrar, tmp_path: Path
) -> None:
    for n in (1, 2):
        world.sign(n)
    out = tmp_path / "naskah.pdf"
    made = ikrar("certificate", "--commitment", "smart-city", "--naskah", "-o", out)
    assert made.exit_code == 0, made.output
    assert f"Naskah komitmen bersama of smart-city written to {out}" in made.output
    assert len(read_qr_codes(out.read_bytes(), 150)) == 2  # one a signature; the third signatory has none yet
    checked = ikrar("verify-cert", out)
    assert checked.exit_code == 0, checked.output
    edited = tmp_path / "edited.pdf"
    edited.write_bytes(rebuild(out.read_bytes(), drop=("naskah.json",)))
    assert ikrar("verify-cert", edited).exit_code == 1
    assert ikrar("certificate", "--commitment", "smart-city", "--naskah", "--all", "-o", out).exit_code == 2
    assert ikrar("certificate", "1", "--naskah", "-o", out).exit_code == 2


@pytest.fixture()
def genuine(world: LedgerFactory, ikrar, tmp_path: Path) -> tuple[int, bytes]:
    index = world.sign(1).entry.index
    assert ikrar("certificate", index, "-o", tmp_path / "c.pdf").exit_code == 0
    return index, (tmp_path / "c.pdf").read_bytes()


def _tampered(pdf: bytes, index: int, what: str) -> bytes:
    files = attachments(pdf)
    if what == "proof":
        proof = files[f"entry-{index}.tlog-proof"].decode().split("\n")
        proof[2] = ("B" if proof[2][0] != "B" else "C") + proof[2][1:]
        return rebuild(pdf, {f"entry-{index}.tlog-proof": "\n".join(proof).encode()})
    if what == "leaf":
        return rebuild(pdf, {f"entry-{index}.json": files[f"entry-{index}.json"].replace(b"smart-city", b"smart-citx")})
    if what == "checkpoint":
        replace = {}
        for name, data in files.items():
            if name.endswith(".tlog-proof"):
                head, _, note = data.decode().partition("\n\n")
                lines = note.split("\n")
                lines[2] = ("B" if lines[2][0] != "B" else "C") + lines[2][1:]  # another root
                replace[name] = (head + "\n\n" + "\n".join(lines)).encode()
        return rebuild(pdf, replace)
    if what == "page":  # the certificate the command writes is the government document, of two pages
        return rebuild_pages(pdf, b"(Pejabat 1)", b"(Pejabat 9)")
    raise AssertionError(what)


@pytest.mark.parametrize(
    ("what", "says"),
    [
        ("proof", "inclusion in checkpoint"),
        ("leaf", "inclusion in checkpoint"),
        ("checkpoint", "checkpoint signature"),
        ("page", "printed page: the page says 'Pejabat 9' where the ledger says 'Pejabat 1'"),
    ],
)
def test_verify_cert_fails_on_an_altered_certificate(genuine, ikrar, tmp_path: Path, what: str, says: str) -> None:
    index, pdf = genuine
    path = tmp_path / f"{what}.pdf"
    path.write_bytes(_tampered(pdf, index, what))
    result = ikrar("verify-cert", path)
    assert result.exit_code == 1
    assert "INVALID (edited)" in result.output and says in result.output, result.output
    assert "FAIL" in result.output


def test_verify_cert_on_a_foreign_key_and_on_junk(genuine, ikrar, tmp_path: Path) -> None:
    _index, pdf = genuine
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    other = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    foreign = ikrar("verify-cert", path, "--vkey", other)
    assert foreign.exit_code == 1 and "INVALID (foreign)" in foreign.output
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"\x00" * 100)
    result = ikrar("verify-cert", junk)
    assert result.exit_code == 1 and "INVALID (not pdf): the file is not a PDF" in result.output
    stripped = tmp_path / "printed.pdf"
    stripped.write_bytes(rebuild(pdf, drop=tuple(attachments(pdf))))
    result = ikrar("verify-cert", stripped)
    assert result.exit_code == 1 and "INVALID (not certificate)" in result.output
