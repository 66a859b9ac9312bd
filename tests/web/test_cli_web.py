"""The web side of the `ikrar` command: enrolment links and passwords for any registered
person (how the first admin gets in), the Kediri demo, and `serve`."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.audit import audit
from ledger.models import Official
from ledger.nip import is_official_id, validate_nip
from ledger.store import Ledger
from tests.factories import tables
from web import accounts, cli
from web import demo as demo_module
from web.runtime import Runtime
from web.settings import Settings
from web.views import commitment_view

ADMIN_NIP = "198802192011011917"


@pytest.fixture()
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "IKRAR_DATA_DIR": str(tmp_path / "data"),
        "IKRAR_DATABASE_URL": db_url,
        "IKRAR_KEYS_DIR": str(tmp_path / "keys"),
        "IKRAR_LEDGER_PASSPHRASE": "frasa-buku-besar-uji",
        "IKRAR_KDF_ITERATIONS": "1000",
        "IKRAR_BASE_URL": "https://ikrar.kedirikota.go.id",
        "IKRAR_ORIGIN": "kedirikota.go.id/ikrar",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(accounts, "HASHER", accounts.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    return values


def ikrar(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, list(args), input=input)
    return result.exit_code, result.output


def test_the_first_admin_is_registered_and_gets_a_link_from_the_command_line(env: dict[str, str]) -> None:
    assert ikrar("init", "--org", "Pemerintah Kota Kediri")[0] == 0
    code, out = ikrar(
        "official",
        "add",
        "--nip",
        ADMIN_NIP,
        "--name",
        "Operator",
        "--title",
        "Pranata Komputer",
        "--unit",
        "Diskominfo",
        "--role",
        "admin",
    )
    assert code == 0, out
    code, out = ikrar("official", "invite", "--nip", ADMIN_NIP, "--hours", "2")
    assert code == 2 and "vouch" in out  # no key yet: no bare link, an admin must vouch for them
    code, out = ikrar("official", "invite", "--nip", ADMIN_NIP, "--hours", "2", "--by", "ledger")
    assert code == 0, out  # the first admin: the ledger's own key attests them
    link = re.search(r"https://ikrar\.kedirikota\.go\.id/enrol/([A-Za-z0-9_-]{43})", out)
    assert link and "valid until" in out and "WIB" in out and "attested by ledger" in out
    ledger = Runtime.from_env().ledger
    row = accounts.pending_enrolment(ledger, link.group(1), datetime.now(UTC))
    assert row.nip == ADMIN_NIP and row.created_by == "ledger"


def test_a_password_is_set_from_the_command_line(env: dict[str, str], tmp_path: Path) -> None:
    ikrar("init", "--org", "Pemerintah Kota Kediri")
    ikrar("official", "add", "--nip", ADMIN_NIP, "--name", "Operator", "--title", "P", "--unit", "D", "--role", "admin")
    secret = tmp_path / "pw"
    secret.write_text("pendek\n")
    code, out = ikrar("official", "set-password", "--nip", ADMIN_NIP, "--password-file", str(secret))
    assert code == 1 and "at least 10 characters" in out
    secret.write_text("kata-sandi-operator\n")
    code, out = ikrar("official", "set-password", "--nip", ADMIN_NIP, "--password-file", str(secret))
    assert code == 0, out
    ledger = Runtime.from_env().ledger
    assert accounts.authenticate(ledger, ADMIN_NIP, "kata-sandi-operator", datetime.now(UTC)).role == "admin"
    code, out = ikrar("official", "set-password", "--nip", "198001012005011002", "--password-file", str(secret))
    assert code == 1 and "no official with NIP" in out


def test_invite_refuses_an_unknown_person(env: dict[str, str]) -> None:
    ikrar("init", "--org", "Pemerintah Kota Kediri")
    code, out = ikrar("official", "invite", "--nip", "198001012005011002")
    assert code == 1 and "no official with NIP 198001012005011002" in out


def test_the_demo_is_the_kediri_signing_built_through_the_real_code_path(env: dict[str, str]) -> None:
    runtime = Runtime.from_env()
    assert demo_module.is_empty(runtime)
    demo_module.build_demo(runtime)
    ledger: Ledger = runtime.ledger
    assert not demo_module.is_empty(runtime)
    view = commitment_view(ledger, demo_module.SLUG)
    assert view.commitment.title == "Komitmen Bersama Gerakan Smart City Kota Kediri"
    assert len(view.signed) == 10 and len(view.pending) == 6
    names = [s.person.name for s in view.signed]
    assert names[:4] == ["Abdullah Abu Bakar, S.E.", "Hj. Lilik Muhibbah, S.Ag.", "Budwi Sunu", "Enny Endarjati"]
    assert all("(data demo)" in p.name for p in view.pending)
    for s in view.signed:
        assert s.signed_at.astimezone(demo_module.PUBLISHED.tzinfo).date().isoformat() == "2019-09-23"
    text = view.commitment.text
    for phrase in (
        "Ruang Joyoboyo Balaikota Kediri",
        "bertahap",
        "kebutuhan nyata",
        "cepat",
        "diverifikasi oleh Dinas Komunikasi dan Informatika",
    ):
        assert phrase in text
    with tables(ledger) as s:
        officials = list(s.exec(Official.__table__.select()))
    assert len(officials) == 18 + len(demo_module.STAFF)  # and the 2026 staff of the verification of applications
    without_nip = [person for person in demo_module.PEOPLE if is_official_id(person.nip)]
    assert [p.title for p in without_nip] == ["Wali Kota Kediri", "Wakil Wali Kota Kediri"]  # pejabat negara
    for person in demo_module.PEOPLE:
        if person in without_nip:
            continue
        assert validate_nip(person.nip, demo_module.CREATED.date()) == person.nip
        assert person.nip[-3] == "9", "demo NIPs carry the sequence 9xx"
    assert demo_module.ADMIN.role == "admin" and "Diskominfo" in demo_module.ADMIN.name
    assert demo_module.SECOND_ADMIN.role == "admin" and "Komunikasi" in demo_module.SECOND_ADMIN.unit
    # every key is vouched for; the lost key's replacement names two admins
    with ledger.read() as r:
        keys = [e for e in r.entries(0, 100) if e.kind == "key.enrolled"]
    assert all("attestation" in e.fields for e in keys)
    (replacement,) = [e for e in keys if "approval" in e.fields and e.fields["nip"] == demo_module.REPLACED.nip]
    assert (replacement.fields["attested_by"], replacement.fields["approved_by"]) == (
        demo_module.ADMIN.nip,
        demo_module.SECOND_ADMIN.nip,
    )
    report = audit(ledger.stored_entries(), ledger.stored_checkpoints(), ledger.verifier)
    assert report.signatures == 10 and report.origin == "kedirikota.go.id/ikrar"
    # every printed login works
    for person in demo_module.PEOPLE:
        assert accounts.authenticate(ledger, person.nip, person.password, datetime.now(UTC)).nip == person.nip
    with pytest.raises(Exception, match="not empty"):
        demo_module.build_demo(runtime)


def test_ikrar_demo_builds_once_and_keeps_what_was_signed(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[tuple[str, int, int]] = []
    monkeypatch.setattr(cli, "_serve", lambda runtime, host, port, workers: served.append((host, port, workers)))
    code, out = ikrar("demo", "--host", "127.0.0.1", "--port", "8123")
    assert code == 0, out
    assert "http://127.0.0.1:8123/" in out and ADMIN_NIP in out and "masuk-917-demo" in out
    assert "tanda-tangan-911" in out and "Joko Susilo (data demo)" in out
    assert served == [("127.0.0.1", 8123, 1)]
    runtime = Runtime.from_env()
    joko = next(p for p in demo_module.PEOPLE if p.name.startswith("Joko"))
    from signing import actions

    actions.sign(runtime.context(), demo_module.SLUG, joko.nip, joko.passphrase, datetime.now(UTC))
    size = runtime.ledger.size()
    code, out = ikrar("demo", "--port", "8124")
    assert code == 0, out
    assert Runtime.from_env().ledger.size() == size, "a second start keeps the ledger"
    assert len(commitment_view(Runtime.from_env().ledger, demo_module.SLUG).signed) == 11


def test_the_demo_is_not_built_over_another_ledger(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_serve", lambda *a: None)
    ikrar("init", "--org", "Pemerintah Kota Lain")
    code, out = ikrar("demo")
    assert code == 0 and "another ledger" in out and "masuk-917-demo" not in out
    assert Runtime.from_env().ledger.size() == 1


def test_serve_and_demo_take_host_port_and_workers(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for command, options in (("serve", ("--host", "--port", "--workers")), ("demo", ("--host", "--port"))):
        code, out = ikrar(command, "--help")
        assert code == 0 and all(o in out for o in options), out
    calls = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: calls.append((a, k)))
    code, out = ikrar("serve", "--port", "8125", "--workers", "3")
    assert code == 0, out
    assert "ikrar init" in out  # no ledger yet: said once, and the app still starts
    ((args, kwargs),) = calls
    assert args == ("web.app:create_app",) and kwargs["factory"] is True and kwargs["workers"] == 3
    assert kwargs["port"] == 8125 and kwargs["host"] == "127.0.0.1"


def test_settings_for_sessions_and_links_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IKRAR_SESSION_HOURS", "2")
    monkeypatch.setenv("IKRAR_ENROL_HOURS", "24")
    s = Settings.from_env()
    assert (s.session_hours, s.enrol_hours) == (2, 24)
    monkeypatch.setenv("IKRAR_ENROL_HOURS", "soon")
    with pytest.raises(ValueError, match="IKRAR_ENROL_HOURS"):
        Settings.from_env()
