"""The verification of applications through the `ikrar` command line, end to end on SQLite and
PostgreSQL: roles given by an admin, a request with its PDFs submitted by the Kepala PD,
returned, revised, reviewed and decided, the register listed and shown, and the Surat
Rekomendasi written and verified offline; every mistake one line on stderr and exit 1."""

from __future__ import annotations

import gc
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ledger.application import CHECKLIST, MAX_ATTACHMENT, check_checklist, check_request
from tests.factories import FAST_KDF, nip
from web.cli import app
from web.demo import RME, SPMB, DemoDocument, demo_pdf

ORG = "Pemerintah Kota Kediri"
ADMIN, DECIDER, REVIEWER, HEAD, OPERATOR, OTHER_HEAD = 1, 2, 3, 4, 5, 6
AGENCY = "Dinas Kesehatan"
KAK = DemoDocument("Kerangka Acuan Kerja", "kak.pdf", "kak")
RAB = DemoDocument("Rencana Anggaran Biaya", "rab.pdf", "budget", internal=True)


class Ikrar:
    """`ikrar ARGS...` in a scratch folder, against the ledger of `IKRAR_DATABASE_URL`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.runner = CliRunner()

    def __call__(self, *args: str, ok: bool = True, stdin: str | None = None) -> Any:
        result = self.runner.invoke(app, list(args), input=stdin)
        gc.collect()  # each command's engine and its pooled connections (PostgreSQL allows a hundred)
        assert (result.exit_code == 0) == ok, f"{args}: exit {result.exit_code}\n{result.output}\n{result.exception!r}"
        return result

    def refused(self, *args: str) -> str:
        """The one line of stderr with which `ikrar ARGS` exits 1."""
        result = self(*args, ok=False)
        assert result.exit_code == 1, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        return str(lines[0])

    def secret(self, n: int) -> str:
        """The file holding official n's signing passphrase."""
        return str(self.folder / f"pass{n}")

    def write_json(self, name: str, value: Any) -> Path:
        path = self.folder / name
        path.write_text(json.dumps(value, ensure_ascii=False, indent=2), encoding="utf-8")
        return path


@pytest.fixture()
def ikrar(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Ikrar:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("IKRAR_LEDGER_PASSPHRASE", raising=False)
    monkeypatch.setenv("IKRAR_DATABASE_URL", db_url)
    monkeypatch.setenv("IKRAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IKRAR_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("IKRAR_KDF_ITERATIONS", str(FAST_KDF))
    monkeypatch.setenv("COLUMNS", "250")  # tables on one line each
    return Ikrar(tmp_path)


PEOPLE = {
    ADMIN: (
        "Admin Diskominfo",
        "Pranata Komputer Dinas Komunikasi dan Informatika",
        "Dinas Komunikasi dan Informatika",
    ),
    DECIDER: ("Kepala Kominfo", "Kepala Dinas Komunikasi dan Informatika", "Dinas Komunikasi dan Informatika"),
    REVIEWER: ("Penelaah", "Pranata Komputer Ahli Madya", "Dinas Komunikasi dan Informatika"),
    HEAD: ("Kepala Dinkes", "Kepala Dinas Kesehatan", AGENCY),
    OPERATOR: ("Operator Dinkes", "Pranata Komputer Ahli Pertama", AGENCY),
    OTHER_HEAD: ("Kepala Dishub", "Kepala Dinas Perhubungan", "Dinas Perhubungan"),
}


def _setup(ikrar: Ikrar) -> None:
    """A ledger, its admin and five enrolled officials (no roles yet)."""
    ikrar("init", "--org", ORG, "--origin", "kedirikota.go.id/ikrar")
    for n, (name, title, unit) in PEOPLE.items():
        role = "admin" if n == ADMIN else "official"
        ikrar("official", "add", "--nip", nip(n), "--name", name, "--title", title, "--unit", unit, "--role", role)
        Path(ikrar.secret(n)).write_text(f"sandi-rahasia-{n}-panjang\n")
        if n != ADMIN:
            ikrar("official", "invite", "--nip", nip(n), "--by", nip(ADMIN), "--passphrase-file", ikrar.secret(ADMIN))
        ikrar("official", "enrol", "--nip", nip(n), "--passphrase-file", ikrar.secret(n))


def _grant(ikrar: Ikrar, n: int, role: str, unit: str) -> Any:
    return ikrar(
        "role", "grant", nip(n), role, "--unit", unit, "--by", nip(ADMIN), "--reason", "Surat tugas",
        "--passphrase-file", ikrar.secret(ADMIN),
    )  # fmt: skip


def _request_file(ikrar: Ikrar, base: dict[str, Any], name: str, **changes: Any) -> Path:
    """A request of the Dinas Kesehatan in FILE.json, its KAK named by path beside it and its
    RAB by the sha256 of a file given with --attach (rab.pdf)."""
    request = {k: v for k, v in base.items() if k not in ("attachments", "prepared_by")}  # both may be left out
    request.update(agency=AGENCY, **changes)
    (ikrar.folder / "lampiran").mkdir(exist_ok=True)
    (ikrar.folder / "lampiran" / "kak.pdf").write_bytes(demo_pdf(KAK, request))
    rab = demo_pdf(RAB, request)
    (ikrar.folder / "rab.pdf").write_bytes(rab)
    request["attachments"] = [
        {"title": KAK.title, "path": "lampiran/kak.pdf"},
        {"title": RAB.title, "sha256": hashlib.sha256(rab).hexdigest(), "internal": True},
    ]
    return ikrar.write_json(name, request)


def _checklist(**concerns: str) -> dict[str, dict[str, str]]:
    return {
        p: {"finding": "concern", "note": concerns[p]} if p in concerns else {"finding": "fits", "note": ""}
        for p in CHECKLIST
    }


def _submit(ikrar: Ikrar, file: Path, *more: str, by: int = HEAD, ok: bool = True) -> Any:
    return ikrar("app", "submit", str(file), "--by", nip(by), "--passphrase-file", ikrar.secret(by), *more, ok=ok)


def test_roles_are_given_withdrawn_and_listed(ikrar: Ikrar) -> None:
    _setup(ikrar)
    granted = _grant(ikrar, DECIDER, "kominfo-head", "Dinas Komunikasi dan Informatika")
    assert f"Granted kominfo-head for Dinas Komunikasi dan Informatika to Kepala Kominfo ({nip(DECIDER)})" in (
        granted.output
    )
    _grant(ikrar, HEAD, "pd-head", AGENCY)
    # one Kepala a PD: a grant to another ends the previous holder's, and says so
    moved = _grant(ikrar, OTHER_HEAD, "pd-head", AGENCY)
    assert f"It ends the grant of {nip(HEAD)}" in moved.output
    held = json.loads(ikrar("role", "list", "--json").stdout)
    assert [(h["nip"], h["role"], h["unit"]) for h in held] == [
        (nip(DECIDER), "kominfo-head", "Dinas Komunikasi dan Informatika"),
        (nip(OTHER_HEAD), "pd-head", AGENCY),
    ]
    assert held[1]["name"] == "Kepala Dishub"
    ikrar(
        "role", "withdraw", nip(OTHER_HEAD), "pd-head", "--unit", AGENCY, "--by", nip(ADMIN),
        "--reason", "Mutasi", "--passphrase-file", ikrar.secret(ADMIN),
    )  # fmt: skip
    listing = ikrar("role", "list").stdout
    assert "kominfo-head" in listing and "pd-head" not in listing
    history = json.loads(ikrar("role", "list", "--history", "--role", "pd-head", "--json").stdout)
    assert [(e["nip"], e["grant"], e["reason"]) for e in history] == [
        (nip(HEAD), True, "Surat tugas"),
        (nip(OTHER_HEAD), True, "Surat tugas"),
        (nip(OTHER_HEAD), False, "Mutasi"),
    ]
    assert history[0]["ended_index"] == history[1]["index"]

    assert "role 'lurah' is not one of pd-head, pd-operator, reviewer, kominfo-head" in ikrar.refused(
        "role", "grant", nip(HEAD), "lurah", "--unit", AGENCY, "--by", nip(ADMIN), "--reason", "x",
        "--passphrase-file", ikrar.secret(ADMIN),
    )  # fmt: skip
    assert "'Dinas Kesehatan Hewan' is not an agency of the city's list" in ikrar.refused(
        "role", "grant", nip(HEAD), "pd-head", "--unit", "Dinas Kesehatan Hewan", "--by", nip(ADMIN),
        "--reason", "x", "--passphrase-file", ikrar.secret(ADMIN),
    )  # fmt: skip
    not_admin = ikrar.refused(
        "role", "grant", nip(REVIEWER), "reviewer", "--unit", "Diskominfo", "--by", nip(HEAD), "--reason", "x",
        "--passphrase-file", ikrar.secret(HEAD),
    )  # fmt: skip
    assert "is not an active admin key" in not_admin
    assert "--role 'camat' is not one of" in ikrar.refused("role", "list", "--role", "camat")


def test_the_whole_flow_of_two_requests(ikrar: Ikrar) -> None:
    _setup(ikrar)
    _grant(ikrar, DECIDER, "kominfo-head", "Dinas Komunikasi dan Informatika")
    _grant(ikrar, REVIEWER, "reviewer", "Dinas Komunikasi dan Informatika")
    _grant(ikrar, HEAD, "pd-head", AGENCY)
    _grant(ikrar, OPERATOR, "pd-operator", AGENCY)

    # A request prepared by the PD's operator, signed by its Kepala, with two PDFs.
    first = _request_file(ikrar, RME, "rme.json", prepared_by=nip(OPERATOR))
    assert "is not the Kepala of Dinas Kesehatan" in ikrar.refused(
        "app", "submit", str(first), "--by", nip(OPERATOR), "--attach", "rab.pdf",
        "--passphrase-file", ikrar.secret(OPERATOR),
    )  # fmt: skip
    submitted = _submit(ikrar, first, "--attach", "rab.pdf")
    app_id = submitted.stdout.strip()
    assert len(app_id) == 9 and app_id.endswith("-0001"), submitted.output
    assert f"Submitted {app_id} revision 1" in submitted.stderr and "as Kepala Dinas Kesehatan" in submitted.stderr

    # A second, signed by the Kepala who prepared it themself; its PDFs are kept already.
    second = _request_file(ikrar, SPMB, "spmb.json")
    other_id = _submit(ikrar, second, "--attach", "rab.pdf").stdout.strip()
    assert other_id.endswith("-0002")

    listed = json.loads(ikrar("app", "list", "--json").stdout)
    assert [(a["app"], a["status"], a["revision"]) for a in listed] == [
        (other_id, "submitted", 1),
        (app_id, "submitted", 1),
    ]
    table = ikrar("app", "list", "--status", "submitted", "--agency", AGENCY).stdout
    assert app_id in table and RME["name"] in table
    assert json.loads(ikrar("app", "list", "--status", "returned", "--json").stdout) == []

    # Returned with reasons; the Kepala resubmits the request `app show --json` prints, edited.
    reasons = ("Lampirkan DPIA (UU 27/2022).", "Uraikan uji penetrasi sebelum go-live.")
    returned = ikrar("app", "return", app_id, "--by", nip(REVIEWER), "--reason", reasons[0], "--reason", reasons[1])
    assert f"Returned {app_id} revision 1 to its PD with 2 reason(s)" in returned.output
    shown = json.loads(ikrar("app", "show", app_id, "--json").stdout)
    assert shown["status"] == "returned" and shown["history"][-1]["reasons"] == list(reasons)
    assert shown["request"]["prepared_by"] == nip(OPERATOR)
    assert [a["internal"] for a in shown["request"]["attachments"]] == [False, True]
    revised = ikrar.write_json("revisi.json", {**shown["request"], "dpia_done": True})
    assert f"application {app_id} is returned" in ikrar.refused(
        "app", "review", app_id, "--by", nip(REVIEWER), "--checklist", str(ikrar.write_json("c.json", _checklist()))
    )
    resubmitted = _submit(ikrar, revised, "--revise", app_id)  # the attachments by sha256: kept since revision 1
    assert resubmitted.stdout.strip() == app_id and "revision 2" in resubmitted.stderr

    # Reviewed, then decided by the Kepala Dinas Kominfo, with notes.
    checklist = ikrar.write_json("telaah.json", _checklist(integration="Jadwal integrasi SATUSEHAT belum ada."))
    reviewed = ikrar("app", "review", app_id, "--by", nip(REVIEWER), "--checklist", str(checklist), "--revision", "2")
    assert f"Reviewed {app_id} revision 2" in reviewed.output and "integration concern" in reviewed.output
    assert "is not the Kepala Dinas Kominfo" in ikrar.refused(
        "app", "decide", app_id, "--decision", "recommended", "--by", nip(REVIEWER),
        "--passphrase-file", ikrar.secret(REVIEWER),
    )  # fmt: skip
    assert "carries no notes" in ikrar.refused(
        "app", "decide", app_id, "--decision", "recommended", "--note", "x", "--by", nip(DECIDER),
        "--passphrase-file", ikrar.secret(DECIDER),
    )  # fmt: skip
    note = "Integrasi dengan SATUSEHAT melalui SPLP sebelum operasional penuh."
    decided = ikrar(
        "app", "decide", app_id, "--decision", "recommended_with_notes", "--note", note, "--by", nip(DECIDER),
        "--passphrase-file", ikrar.secret(DECIDER),
    )  # fmt: skip
    assert f"Decided {app_id} revision 2: recommended_with_notes" in decided.output
    after = ikrar.refused("app", "return", app_id, "--by", nip(REVIEWER), "--reason", "terlambat")
    assert f"application {app_id} is recommended_with_notes" in after  # nothing follows a decision

    shown = json.loads(ikrar("app", "show", app_id, "--json").stdout)
    assert shown["status"] == "recommended_with_notes" and shown["revision"] == 2
    assert [e["kind"] for e in shown["history"]] == [
        "app.submitted", "app.returned", "app.submitted", "app.reviewed", "app.decided",
    ]  # fmt: skip
    assert shown["history"][-1]["notes"] == [note] and shown["letter_number"]
    text = ikrar("app", "show", app_id).stdout
    assert "status recommended_with_notes, revision 2" in text and "integration: concern" in text
    assert "internal (not public)" in text and note in text

    # The letter, verified offline like a certificate.
    letter = ikrar.folder / "rekomendasi.pdf"
    ikrar("app", "letter", app_id, "-o", str(letter))
    assert letter.read_bytes().startswith(b"%PDF-")
    vkey = ikrar("vkey").stdout.strip()
    assert "VALID" in ikrar("verify-cert", str(letter), "--vkey", vkey).output
    assert f"application {other_id} has no decision yet" in ikrar.refused("app", "letter", other_id, "-o", "x.pdf")
    assert not (ikrar.folder / "x.pdf").exists()
    assert "OK:" in ikrar("audit").output


def test_mistakes_in_a_request_are_one_line_each(ikrar: Ikrar) -> None:
    _setup(ikrar)
    _grant(ikrar, HEAD, "pd-head", AGENCY)
    good = _request_file(ikrar, RME, "rme.json")
    request = json.loads(good.read_text())

    def refused(name: str, value: Any, *more: str) -> str:
        file = ikrar.write_json(name, value)
        return ikrar.refused(
            "app", "submit", str(file), "--by", nip(HEAD), "--passphrase-file", ikrar.secret(HEAD), *more
        )

    (ikrar.folder / "rusak.json").write_text('{"name": ')
    assert "rusak.json is not JSON" in ikrar.refused("app", "submit", "rusak.json", "--by", nip(HEAD))
    assert "does not hold a JSON object" in refused("list.json", [request])
    missing = {k: v for k, v in request.items() if k != "need"}
    assert "the request's need is missing" in refused("missing.json", missing, "--attach", "rab.pdf")
    assert "vendor is required when a vendor builds it" in refused(
        "vendor.json", {**request, "vendor": ""}, "--attach", "rab.pdf"
    )
    # attachments: a file that is no PDF, a hash no file has, a file no attachment names
    (ikrar.folder / "lampiran" / "foto.pdf").write_bytes(b"\xff\xd8\xff\xe0 a JPEG")
    not_pdf = {**request, "attachments": [{"title": "Foto", "path": "lampiran/foto.pdf"}]}
    assert "foto.pdf is not a PDF" in refused("notpdf.json", not_pdf)
    assert "keeps no file with sha256" in refused("nofile.json", request)
    (ikrar.folder / "lampiran" / "kosong.pdf").write_bytes(b"")
    empty = {**request, "attachments": [{"title": "Kosong", "path": "lampiran/kosong.pdf"}]}
    assert "the file kosong.pdf is empty" in refused("empty.json", empty)
    with (ikrar.folder / "lampiran" / "besar.pdf").open("wb") as big:
        big.truncate(MAX_ATTACHMENT + 1)
    too_large = {**request, "attachments": [{"title": "Besar", "path": "lampiran/besar.pdf"}]}
    assert "the file besar.pdf is larger than 10 MB" in refused("large.json", too_large)
    gone = {**request, "attachments": [{"title": "KAK", "path": "lampiran/hilang.pdf"}]}
    assert "No such file or directory" in refused("gone.json", gone) and "hilang.pdf" in refused("gone.json", gone)
    (ikrar.folder / "lain.pdf").write_bytes(demo_pdf(KAK, {**request, "name": "Lain"}))
    assert "--attach lain.pdf: no attachment" in refused(
        "extra.json", request, "--attach", "rab.pdf", "--attach", "lain.pdf"
    )
    wrong_size = {**request, "attachments": [{**request["attachments"][0], "bytes": 1}]}
    assert "says 1 bytes" in refused("size.json", wrong_size)
    odd = {**request, "attachments": [{"title": "KAK", "path": "lampiran/kak.pdf", "url": "http://x"}]}
    assert "has 'url'" in refused("odd.json", odd)
    # the operator named must be one of the PD's
    assert "neither an operator nor the Kepala of Dinas Kesehatan" in refused(
        "preparer.json", {**request, "prepared_by": nip(OTHER_HEAD)}, "--attach", "rab.pdf"
    )
    # nothing was appended, and nothing is waiting
    assert json.loads(ikrar("app", "list", "--json").stdout) == []
    assert "there is no application 2026-0099" in ikrar.refused("app", "show", "2026-0099")
    assert "--status 'approved' is not one of" in ikrar.refused("app", "list", "--status", "approved")
    assert "decision 'approved' is not one of" in ikrar.refused(
        "app", "decide", "2026-0001", "--decision", "approved", "--by", nip(HEAD)
    )


def test_the_examples_of_docs_applications_are_what_the_commands_take() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "APPLICATIONS.md").read_text(encoding="utf-8")
    blocks = [block.split("```", 1)[0] for block in doc.split("```json\n")[1:]]
    checklist, request = (json.loads(block) for block in blocks)
    check_checklist(checklist)
    assert [a.get("path") for a in request["attachments"]] == ["lampiran/kak.pdf", "lampiran/rab.pdf"]
    check_request({**request, "attachments": []})
    for command in ("submit", "list", "show", "review", "return", "decide", "letter"):
        assert f"| `ikrar app {command} " in doc, command
    for command in ("grant", "withdraw", "list"):
        assert f"| `ikrar role {command} " in doc, command
