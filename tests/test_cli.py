"""The `ikrar` command line, end to end on SQLite, as an operator and an auditor use it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.checkpoint import Checkpoint, TlogProof
from ledger.note import VerifierKey
from tests.factories import FAST_KDF, nip
from web.cli import app

ORG = "Pemerintah Kota Kediri"


@pytest.fixture()
def ikrar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    for name in ("IKRAR_DATABASE_URL", "IKRAR_LEDGER_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IKRAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IKRAR_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("IKRAR_KDF_ITERATIONS", str(FAST_KDF))
    monkeypatch.setenv("COLUMNS", "200")  # tables on one line each
    runner = CliRunner()

    def run(*args: str, ok: bool = True, stdin: str | None = None):
        result = runner.invoke(app, list(args), input=stdin)
        assert (result.exit_code == 0) == ok, f"{args}: exit {result.exit_code}\n{result.output}\n{result.exception!r}"
        return result

    return run


def _setup(ikrar, tmp_path: Path) -> None:
    ikrar("init", "--org", ORG, "--origin", "kedirikota.go.id/ikrar")
    for n in (1, 2):  # official 1 is the first admin (the ledger's key attests them); they vouch for 2
        role = "admin" if n == 1 else "official"
        ikrar(
            "official", "add", "--nip", nip(n), "--name", f"Pejabat {n}", "--title", "Kepala", "--unit", f"Dinas {n}",
            "--role", role,
        )  # fmt: skip
        (tmp_path / f"pass{n}").write_text(f"sandi-rahasia-{n}-panjang\n")
        if n == 2:
            ikrar("official", "invite", "--nip", nip(2), "--by", nip(1), "--passphrase-file", str(tmp_path / "pass1"))
        ikrar("official", "enrol", "--nip", nip(n), "--passphrase-file", str(tmp_path / f"pass{n}"))
    (tmp_path / "komitmen.txt").write_text("Kami berkomitmen mewujudkan Kediri kota cerdas.\n")
    ikrar(
        "commitment",
        "publish",
        str(tmp_path / "komitmen.txt"),
        "--slug",
        "smart-city",
        "--title",
        "Komitmen",
        "--signer",
        nip(1),
        "--signer",
        nip(2),
    )


def test_the_operator_flow(ikrar, tmp_path: Path) -> None:
    _setup(ikrar, tmp_path)
    assert "already exists" in ikrar("init", "--org", ORG, ok=False).output
    signed = ikrar("sign", "--commitment", "smart-city", "--nip", nip(1), "--passphrase-file", str(tmp_path / "pass1"))
    assert "entry 4" in signed.output
    assert (
        "already signed"
        in ikrar(
            "sign",
            "--commitment",
            "smart-city",
            "--nip",
            nip(1),
            "--passphrase-file",
            str(tmp_path / "pass1"),
            ok=False,
        ).output
    )
    (tmp_path / "wrong").write_text("bukan-sandinya-123\n")
    assert (
        "does not open"
        in ikrar(
            "sign",
            "--commitment",
            "smart-city",
            "--nip",
            nip(2),
            "--passphrase-file",
            str(tmp_path / "wrong"),
            ok=False,
        ).output
    )
    # the passphrase may also come on standard input, for scripts
    ikrar("sign", "--commitment", "smart-city", "--nip", nip(2), stdin="sandi-rahasia-2-panjang\n")
    assert (
        "NIP must be exactly 18 digits"
        in ikrar("official", "add", "--nip", "123", "--name", "a", "--title", "b", "--unit", "c", ok=False).output
    )
    listing = ikrar("official", "list").output
    assert "active (entry 2)" in listing and "Pejabat 2" in listing
    assert "2/2" in ikrar("commitment", "list").output
    ikrar(
        "revoke",
        "--nip",
        nip(2),
        "--reason",
        "perangkat hilang",
        "--by",
        nip(1),
        "--passphrase-file",
        str(tmp_path / "pass1"),
    )
    assert "revoked (entry 6)" in ikrar("official", "list").output
    audit = ikrar("audit")
    assert "OK: 7 entries, 2 signatures, 7 checkpoints verified" in audit.output


def test_the_auditor_commands(ikrar, tmp_path: Path) -> None:
    _setup(ikrar, tmp_path)
    vkey = VerifierKey.parse(ikrar("vkey").stdout)
    note = ikrar("checkpoint").stdout
    checkpoint = Checkpoint.open(note, vkey, "kedirikota.go.id/ikrar")
    assert checkpoint.size == 4
    proof = TlogProof.parse(ikrar("proof", "2").stdout)
    db = sqlite3.connect(tmp_path / "data" / "ikrar.db")
    leaf_hash = db.execute("SELECT leaf_hash FROM entry WHERE idx = 2").fetchone()[0]
    assert proof.verify(leaf_hash, vkey).size == 4
    assert TlogProof.parse(ikrar("proof", "2", "--size", "3").stdout).verify(leaf_hash, vkey).size == 3
    assert len(ikrar("consistency", "2", "4").stdout.split()) >= 1
    assert "not in a tree of size 4" in ikrar("proof", "4", ok=False).output
    assert "need 0 < old <= new" in ikrar("consistency", "0", "4", ok=False).output

    ikrar("export", str(tmp_path / "ex"))
    assert json.loads((tmp_path / "ex" / "entries.jsonl").read_text().splitlines()[0])["index"] == 0
    ikrar("verify-export", str(tmp_path / "ex"), "--vkey", str(vkey))
    known = tmp_path / "seen.checkpoint"
    known.write_text(note)
    ikrar("audit", "--vkey", str(vkey), "--known-checkpoint", str(known))


def test_audit_and_verify_export_exit_1_naming_the_entry(ikrar, tmp_path: Path) -> None:
    _setup(ikrar, tmp_path)
    ikrar("export", str(tmp_path / "ex"))
    db = sqlite3.connect(tmp_path / "data" / "ikrar.db")
    leaf = db.execute("SELECT leaf FROM entry WHERE idx = 2").fetchone()[0]
    db.execute("UPDATE entry SET leaf = ? WHERE idx = 2", (leaf.replace(b"Pejabat 2", b"Pejabat X"),))
    db.commit()
    broken = ikrar("audit", ok=False)
    assert broken.exit_code == 1 and "BROKEN at entry 2" in broken.output

    lines = (tmp_path / "ex" / "entries.jsonl").read_text().splitlines()
    lines[1], lines[2] = lines[2], lines[1]
    (tmp_path / "ex" / "entries.jsonl").write_text("\n".join(lines) + "\n")
    broken = ikrar("verify-export", str(tmp_path / "ex"), ok=False)
    assert broken.exit_code == 1 and "BROKEN at entry 1" in broken.output
    other = ikrar("verify-export", str(tmp_path / "nowhere"), ok=False)
    assert "not a folder" in other.output


def test_audit_names_a_damaged_derived_table_and_rebuild_repairs_it(ikrar, tmp_path: Path) -> None:
    _setup(ikrar, tmp_path)
    (tmp_path / "pass1").write_text("sandi-rahasia-1-panjang\n")
    ikrar("sign", "--commitment", "smart-city", "--nip", nip(1), "--passphrase-file", str(tmp_path / "pass1"))
    db = sqlite3.connect(tmp_path / "data" / "ikrar.db")
    db.execute("UPDATE signature SET nip = ? WHERE nip = ?", (nip(2), nip(1)))  # a forged "who signed"
    db.commit()
    broken = ikrar("audit", ok=False)
    assert "BROKEN derived table signature, row idx=4: nip differs from the entries" in broken.output
    assert "ikrar rebuild" in broken.output
    rebuilt = ikrar("rebuild")
    assert "Rebuilt the derived tables from 5 entries" in rebuilt.output
    assert db.execute("SELECT nip FROM signature").fetchall() == [(nip(1),)]
    assert "OK: 5 entries" in ikrar("audit").output
    db.execute("UPDATE entry SET leaf = ? WHERE idx = 4", (b"{}",))
    db.commit()
    refused = ikrar("rebuild", ok=False)
    assert "BROKEN at entry 4" in refused.output


def test_commands_before_init_say_what_to_do(ikrar) -> None:
    for args in (["audit"], ["checkpoint"], ["official", "list"]):
        result = ikrar(*args, ok=False)
        assert "ikrar init" in result.output


def test_reading_needs_no_ledger_passphrase(ikrar, tmp_path: Path) -> None:
    """An auditor with a copy of the database and no ledger secret can still check it."""
    _setup(ikrar, tmp_path)
    (tmp_path / "data" / "ledger-passphrase").rename(tmp_path / "elsewhere")
    for args in (["audit"], ["checkpoint"], ["vkey"], ["proof", "1"], ["official", "list"], ["commitment", "list"]):
        ikrar(*args)
    assert (
        "passphrase is needed" in ikrar("revoke", "--nip", nip(1), "--reason", "x", "--by", "ledger", ok=False).output
    )


def test_one_admin_cannot_replace_a_key_and_two_can(ikrar, tmp_path: Path) -> None:
    """Issue 10 on the command line: revoke → invite → enrol is refused at the enrolment,
    with nothing written, until a second admin approves."""
    _setup(ikrar, tmp_path)
    admin = ["--by", nip(1), "--passphrase-file", str(tmp_path / "pass1")]
    ikrar("revoke", "--nip", nip(2), "--reason", "ponsel hilang", *admin)
    invited = ikrar("official", "invite", "--nip", nip(2), *admin)
    assert "waits for a second admin's approval" in invited.output and "/enrol/" in invited.stdout
    (tmp_path / "new2").write_text("sandi-baru-penyerang-2\n")
    refused = ikrar("official", "enrol", "--nip", nip(2), "--passphrase-file", str(tmp_path / "new2"), ok=False)
    assert refused.exit_code == 1 and "needs a second admin's approval first; nothing was written" in refused.output
    assert "OK: 5 entries" in ikrar("audit").output, "nothing appended"
    # the inviting admin cannot approve their own invitation
    same = ikrar("official", "approve", "--nip", nip(2), *admin, ok=False)
    assert same.exit_code == 1 and "second admin" in same.output

    # a second admin: invited by the first, approved with the ledger's key, enrolled
    ikrar("official", "add", "--nip", nip(3), "--name", "Admin Dua", "--title", "Pranata", "--unit", "Kominfo",
          "--role", "admin")  # fmt: skip
    (tmp_path / "pass3").write_text("sandi-admin-dua-panjang\n")
    ikrar("official", "invite", "--nip", nip(3), *admin)
    ikrar("official", "approve", "--nip", nip(3), "--by", "ledger")
    ikrar("official", "enrol", "--nip", nip(3), "--passphrase-file", str(tmp_path / "pass3"))
    ikrar("official", "approve", "--nip", nip(2), "--by", nip(3), "--passphrase-file", str(tmp_path / "pass3"))
    enrolled = ikrar("official", "enrol", "--nip", nip(2), "--passphrase-file", str(tmp_path / "new2"))
    assert f"attested by {nip(1)}, approved by {nip(3)}" in enrolled.output
    ikrar("sign", "--commitment", "smart-city", "--nip", nip(2), "--passphrase-file", str(tmp_path / "new2"))
    assert "OK: 8 entries, 1 signatures" in ikrar("audit").output


# -- rules version 4: officials without a NIP, identities updated, declines, deadlines ------------


def test_an_official_without_a_nip_is_added_updated_and_signs_by_id(ikrar, tmp_path: Path) -> None:
    _setup(ikrar, tmp_path)
    added = ikrar(
        "official", "add", "--name", "Abdullah Abu Bakar, S.E.", "--position", "Wali Kota Kediri",
        "--unit", "Pemerintah Kota Kediri",
    ).output  # fmt: skip
    identifier = added.split("the identifier of Abdullah Abu Bakar, S.E. is ")[1].split()[0]
    assert identifier.startswith("pn-") and len(identifier) == 9 and "NIP" not in added.split("No NIP")[0]
    ikrar("official", "invite", "--id", identifier, "--by", nip(1), "--passphrase-file", str(tmp_path / "pass1"))
    (tmp_path / "pass-wali").write_text("sandi-wali-kota-panjang\n")
    ikrar("official", "enrol", "--id", identifier, "--passphrase-file", str(tmp_path / "pass-wali"))
    (tmp_path / "kedua.txt").write_text("Komitmen kedua.\n")
    published = ikrar(
        "commitment", "publish", str(tmp_path / "kedua.txt"), "--slug", "kedua", "--title", "Kedua",
        "--signer", identifier, "--signer", nip(2), "--deadline", "2099-12-31T16:59:00Z",
    ).output  # fmt: skip
    assert "deadline 2099-12-31T16:59:00Z" in published
    signed = ikrar(
        "sign", "--commitment", "kedua", "--id", identifier.upper(), "--passphrase-file", str(tmp_path / "pass-wali")
    )
    assert "as Wali Kota Kediri" in signed.output
    # a mutasi of official 2, attested by admin 1: the next signature names the new capacity
    updated = ikrar(
        "official", "update", "--id", nip(2), "--position", "Kepala Dinas Perhubungan Kota Kediri",
        "--unit", "Dinas Perhubungan", "--acting", "Plt.", "--appointment", "800/5/419.022/2026",
        "--reason", "Penunjukan Plt.", "--by", nip(1), "--passphrase-file", str(tmp_path / "pass1"),
    ).output  # fmt: skip
    assert "Plt. Kepala Dinas Perhubungan Kota Kediri (Nomor 800/5/419.022/2026)" in updated
    assert "attested by " + nip(1) in updated
    declined = ikrar(
        "decline", "--commitment", "kedua", "--nip", nip(2), "--reason", "Sedang tugas luar",
        "--passphrase-file", str(tmp_path / "pass2"),
    )  # fmt: skip
    assert "Declined by Pejabat 2" in declined.output
    after = ikrar(
        "sign", "--commitment", "kedua", "--nip", nip(2), "--passphrase-file", str(tmp_path / "pass2"), ok=False
    )
    assert "has declined 'kedua'" in after.output
    extended = ikrar(
        "commitment",
        "extend",
        "--commitment",
        "kedua",
        "--deadline",
        "2100-01-31T16:59:00Z",
        "--reason",
        "Diperpanjang",
    )
    assert "Extended kedua to 2100-01-31T16:59:00Z" in extended.output
    earlier = ikrar(
        "commitment", "extend", "--commitment", "kedua", "--deadline", "2099-01-01T00:00:00Z", "--reason", "x", ok=False
    )
    assert "is not after" in earlier.output
    assert (
        "is not a time"
        in ikrar(
            "commitment", "extend", "--commitment", "kedua", "--deadline", "besok", "--reason", "x", ok=False
        ).output
    )
    assert "OK" in ikrar("audit").output


def test_a_unit_outside_the_citys_list_is_recorded_with_a_warning(ikrar, tmp_path: Path) -> None:
    ikrar("init", "--org", ORG, "--origin", "kedirikota.go.id/ikrar")
    listed = ikrar(
        "official", "add", "--nip", nip(3), "--name", "A", "--title", "Kepala Dinas", "--unit", "Dinas Sosial"
    )
    assert "warning" not in listed.output
    unlisted = ikrar("official", "add", "--nip", nip(4), "--name", "B", "--title", "Kepala", "--unit", "Dinas Khayalan")
    assert "warning: 'Dinas Khayalan' is not one of the city's Perangkat Daerah" in unlisted.output
    bad = ikrar("official", "add", "--name", "C", "--position", "Wali Kota", "--unit", "Pemerintah Kota Kediri",
                "--acting", "Plt.", ok=False)  # fmt: skip
    assert "come together" in bad.output


def test_the_help_of_the_commands_of_rules_4(ikrar) -> None:
    add = ikrar("official", "add", "--help").output
    assert "--position" in add and "--title" in add and "--rank" in add and "identifier" in add
    update = ikrar("official", "update", "--help").output
    assert "--reason" in update and "--by" in update and "--acting" in update and "mutasi" in update
    for command in (
        ("sign",),
        ("revoke",),
        ("official", "enrol"),
        ("official", "invite"),
        ("official", "set-password"),
    ):
        assert "--id" in ikrar(*command, "--help").output, command
    assert "--deadline" in ikrar("commitment", "publish", "--help").output
    assert "--reason" in ikrar("decline", "--help").output
