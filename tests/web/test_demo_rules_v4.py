"""The Kediri demo under rules version 4: the Wali Kota and the Wakil Wali Kota without a NIP
(no NIP invented for them), positions written in full, one official acting (Plt.), a mutasi
after a signature, and a deadline far enough ahead to sign in the demo today."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.audit import audit
from ledger.nip import is_nip, is_official_id, validate_nip
from ledger.state import RULES
from signing import actions
from signing.agencies import load_agencies
from web import accounts
from web import demo as demo_module
from web.runtime import Runtime


@pytest.fixture()
def runtime(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    for name, value in {
        "IKRAR_DATA_DIR": str(tmp_path / "data"),
        "IKRAR_DATABASE_URL": db_url,
        "IKRAR_KEYS_DIR": str(tmp_path / "keys"),
        "IKRAR_LEDGER_PASSPHRASE": "frasa-buku-besar-uji",
        "IKRAR_KDF_ITERATIONS": "1000",
        "IKRAR_BASE_URL": "https://ikrar.kedirikota.go.id",
        "IKRAR_ORIGIN": "kedirikota.go.id/ikrar",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(accounts, "HASHER", accounts.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    return Runtime.from_env()


def test_the_demo_people_have_no_invented_nip_and_units_of_the_citys_list() -> None:
    mayor, vice = demo_module.PEOPLE[:2]
    assert (mayor.title, vice.title) == ("Wali Kota Kediri", "Wakil Wali Kota Kediri")
    assert is_official_id(mayor.nip) and is_official_id(vice.nip) and mayor.nip != vice.nip
    assert mayor.nip == demo_module.demo_identifier(mayor.name)  # the same at every build
    agencies = load_agencies()
    for person in demo_module.PEOPLE[2:]:
        assert validate_nip(person.nip, demo_module.CREATED.date()) == person.nip and person.nip[-3] == "9"
    for person in demo_module.PEOPLE:
        assert person.unit in agencies, person.unit
        assert person.title.endswith("Kota Kediri"), person.title  # written in full, as under a signature


def test_the_demo_ledger_shows_rules_4(runtime: Runtime) -> None:
    demo_module.build_demo(runtime)
    ledger = runtime.ledger
    mayor, moved = demo_module.PEOPLE[0], demo_module.MOVED
    with ledger.read() as r:
        assert r.meta()["rules"] == str(RULES) and RULES >= 4  # the newest rules from its start: version 4's hold
        commitment = r.commitment(demo_module.SLUG)
        assert commitment is not None and commitment.deadline == demo_module.DEADLINE > datetime.now(UTC)
        assert commitment.signers[:2] == (mayor.nip, demo_module.PEOPLE[1].nip)  # protocol order
        signatures = r.signatures(demo_module.SLUG)
        signed_in = r.signed_in(signatures)
        by_nip = {s.nip: signed_in[s.index] for s in signatures}
        assert by_nip[mayor.nip].capacity == "Wali Kota Kediri" and not is_nip(mayor.nip)
        assert by_nip[moved.nip].capacity == moved.title  # the capacity it was made in
        assert r.identities([moved.nip])[moved.nip].title == demo_module.MOVED_TO[0]  # the mutasi after it
        events = r.identity_events(moved.nip)
        assert [e.kind for e in events] == ["key.enrolled", "official.updated"]
        assert events[1].attested_by == demo_module.ADMIN.nip and events[1].index > max(s.index for s in signatures)
        acting = next(p for p in demo_module.PEOPLE if p.acting)
        assert r.identities([acting.nip])[acting.nip].capacity == (f"Plt. {acting.title} (Nomor {acting.appointment})")
    report = audit(ledger.stored_entries(), ledger.stored_checkpoints(), ledger.verifier)
    assert report.signatures == 10
    # the acting official signs today, in the capacity the ledger holds for them
    signed = actions.sign(runtime.context(), demo_module.SLUG, acting.nip, acting.passphrase, datetime.now(UTC))
    assert signed.entry.fields["capacity"].startswith("Plt. Kepala Dinas Lingkungan Hidup")


def test_every_demo_login_works_the_mayors_by_identifier(runtime: Runtime) -> None:
    demo_module.build_demo(runtime)
    now = datetime.now(UTC)
    for person in demo_module.PEOPLE:
        assert accounts.authenticate(runtime.ledger, person.nip, person.password, now).nip == person.nip
    mayor = demo_module.PEOPLE[0]
    typed = " " + mayor.nip.upper() + " "  # as a phone may capitalise it
    assert accounts.authenticate(runtime.ledger, typed, mayor.password, now).nip == mayor.nip
