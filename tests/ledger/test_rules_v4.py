"""Rules version 4 (issues 12 and 13): officials without a NIP, identities updated by an
admin's attestation, the capacity signed (`ikrar/signature/v2`), declines and deadlines.

At append (nothing written on a refusal), in the audit (the derived tables re-derived and
compared), through the reader (who each signature was made as), and with `openssl` for the
statements. The standalone verifier's side is verifier/tests/test_rules_v4.py.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import update

from ledger.audit import audit
from ledger.db import COMMITMENT, DECLINE, SIGNATURE, TABLES, UPDATE
from ledger.errors import Conflict, DerivedMismatch, InvalidInput
from ledger.identity import Identity, capacity_of
from ledger.models import Commitment, Decline, OfficialUpdate, Signature
from ledger.nip import OFFICIAL_ID_ALPHABET, clean_identifier, is_nip, is_official_id, new_official_id
from ledger.note import VerifierKey
from ledger.state import RULES
from ledger.statements import SIGNATURE_V1, SIGNATURE_V2, Statement, Update
from ledger.statements import Decline as DeclineStatement
from ledger.times import format_time
from signing import actions, vouching
from signing.agencies import DEFAULT_FILE, check_unit, load_agencies
from signing.errors import NotAllowed
from tests.factories import ADMIN, ADMIN_NIP, LedgerFactory, nip, passphrase, passphrase_of


def _audit(world: LedgerFactory) -> None:
    """The whole audit, derived tables included."""
    with world.ledger.read() as r:
        audit(r.stored_entries(), r.stored_checkpoints(), world.ledger.verifier, derived=r)


def _refused(world: LedgerFactory, attempt: Any, error: type[Exception], code: str) -> None:
    size = world.ledger.size()
    with pytest.raises(error) as caught:
        attempt()
    assert getattr(caught.value, "code", None) == code, caught.value
    assert world.ledger.size() == size


# -- identifiers for officials without a NIP -----------------------------------------------


def test_an_identifier_is_pn_and_six_unambiguous_characters() -> None:
    ids = {new_official_id() for _ in range(200)}
    assert len(ids) == 200
    for identifier in ids:
        assert is_official_id(identifier) and not is_nip(identifier)
        assert identifier.startswith("pn-") and len(identifier) == 9
        assert set(identifier[3:]) <= set(OFFICIAL_ID_ALPHABET)
        assert not set(identifier[3:]) & set("01ilo")
    assert new_official_id(lambda alphabet: alphabet[0]) == "pn-222222"
    assert clean_identifier(" PN-7KQ3XA ") == "pn-7kq3xa" and clean_identifier("1975 0314") == "19750314"
    for wrong in ("pn-7kq3x", "pn-7kq3xa1", "pn-7kq3xo", "PN-7KQ3XA", "pn_7kq3xa"):
        assert not is_official_id(wrong), wrong


def test_an_official_without_a_nip_registers_enrols_and_signs(world: LedgerFactory) -> None:
    mayor = world.without_nip("Wali Kota Uji", "Wali Kota Kediri")
    assert is_official_id(mayor)
    with world.ledger.read() as r:
        assert r.official(mayor).name == "Wali Kota Uji"  # type: ignore[union-attr]
        key = r.active_key(mayor)
    assert key is not None and VerifierKey.parse(key.key).name == f"{world.ledger.origin}/official/{mayor}"
    actions.publish(world.ctx, "bersama", "Komitmen", "Teks.\n", [mayor, nip(1)], "admin", world.now())
    signed = world.sign(mayor, "bersama")
    f = signed.entry.fields
    assert (f["nip"], f["name"], f["capacity"], f["unit"]) == (
        mayor,
        "Wali Kota Uji",
        "Wali Kota Kediri",
        "Pemerintah Kota Kediri",
    )
    assert actions.get_official(world.ledger, mayor.upper()).nip == mayor  # typed in capitals: the same
    _audit(world)


def test_a_person_registered_twice_without_a_nip_gets_two_identifiers(world: LedgerFactory) -> None:
    first = actions.register_official(
        world.ledger, None, "A", "Wali Kota Kediri", "Pemerintah Kota Kediri", "official", world.now()
    )
    second = actions.register_official(
        world.ledger, "", "B", "Wakil Wali Kota Kediri", "Pemerintah Kota Kediri", "official", world.now()
    )
    assert first.nip != second.nip and is_official_id(first.nip) and is_official_id(second.nip)
    drawn = iter("2" * 6 + "2" * 6 + "3" * 6)  # the first draw is taken: drawn again
    third = actions.register_official(
        world.ledger,
        None,
        "C",
        "Wali Kota Kediri",
        "Pemerintah Kota Kediri",
        "official",
        world.now(),
        choose=lambda _alphabet: next(drawn),
    )
    fourth = actions.register_official(
        world.ledger,
        None,
        "D",
        "Wali Kota Kediri",
        "Pemerintah Kota Kediri",
        "official",
        world.now(),
        choose=lambda _alphabet: next(drawn),
    )
    assert (third.nip, fourth.nip) == ("pn-222222", "pn-333333")


def test_before_rules_4_an_identifier_is_no_nip(ledger_factory: LedgerFactory) -> None:
    world = ledger_factory.created(rules=3)
    world.admin()
    official = actions.register_official(
        world.ledger, None, "Wali", "Wali Kota Kediri", "Pemerintah Kota Kediri", "official", world.now()
    )
    with pytest.raises(NotAllowed, match="NIP must be exactly 18 digits") as e:
        vouching.invite(world.ctx, official, ADMIN_NIP, passphrase(ADMIN), world.now(), 72)
    assert e.value.code == "nip.digits"


# -- the agencies ------------------------------------------------------------------------------


def test_the_shipped_agencies_are_kota_kediris_and_a_file_replaces_them(tmp_path: Path) -> None:
    agencies = load_agencies()
    assert DEFAULT_FILE.is_file()
    assert agencies[0] == "Pemerintah Kota Kediri" and "Dinas Komunikasi dan Informatika" in agencies
    assert len(agencies) == len(set(agencies)) > 25
    own = tmp_path / "opd.txt"
    own.write_text("# Kota Uji\n\nDinas  Satu\nDinas Dua\nDinas Satu\n", encoding="utf-8")
    assert load_agencies(own) == ("Dinas Satu", "Dinas Dua")
    assert check_unit(" Dinas   Dua ", load_agencies(own)) == "Dinas Dua"
    with pytest.raises(InvalidInput, match="not an agency") as e:
        check_unit("Dinas Tiga", load_agencies(own))
    assert e.value.code == "official.unit_unknown"
    (tmp_path / "empty.txt").write_text("# none\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="names none"):
        load_agencies(tmp_path / "empty.txt")


def test_a_unit_outside_the_citys_list_is_refused_when_the_list_is_given(world: LedgerFactory) -> None:
    with pytest.raises(InvalidInput) as e:
        actions.register_official(
            world.ledger,
            nip(7),
            "X",
            "Kepala Dinas",
            "Dinas Khayalan",
            "official",
            world.now(),
            agencies=load_agencies(),
        )
    assert e.value.code == "official.unit_unknown"
    registered = actions.register_official(
        world.ledger,
        nip(7),
        "X",
        "Kepala Dinas Perhubungan Kota Kediri",
        "Dinas Perhubungan",
        "official",
        world.now(),
        agencies=load_agencies(),
        rank="Pembina (IV/a)",
    )
    assert registered.rank == "Pembina (IV/a)"


# -- identities updated; the capacity signed -----------------------------------------------------


def test_a_mutasi_after_a_signature_keeps_the_old_capacity_and_the_next_carries_the_new(world: LedgerFactory) -> None:
    first = world.sign(1)
    assert first.entry.fields["capacity"] == "Kepala Dinas 1"
    updated = world.update(
        1, "Mutasi ke Dinas Perhubungan", title="Kepala Dinas Perhubungan Kota Kediri", unit="Dinas Perhubungan"
    )
    f = updated.entry.fields
    assert (f["nip"], f["title"], f["unit"], f["attested_by"]) == (
        nip(1),
        "Kepala Dinas Perhubungan Kota Kediri",
        "Dinas Perhubungan",
        ADMIN_NIP,
    )
    actions.publish(world.ctx, "kedua", "Komitmen Kedua", "Teks kedua.\n", [nip(1)], "admin", world.now())
    second = world.sign(1, "kedua")
    assert second.entry.fields["capacity"] == "Kepala Dinas Perhubungan Kota Kediri"
    assert second.entry.fields["unit"] == "Dinas Perhubungan"
    with world.ledger.read() as r:
        signed_in = r.signed_in(r.signatures("smart-city") + r.signatures("kedua"))
        assert (signed_in[first.entry.index].capacity, signed_in[first.entry.index].unit) == (
            "Kepala Dinas 1",
            "Dinas 1",
        )
        assert signed_in[second.entry.index].capacity == "Kepala Dinas Perhubungan Kota Kediri"
        assert r.identities([nip(1)])[nip(1)].unit == "Dinas Perhubungan"
        assert [e.kind for e in r.identity_events(nip(1))] == ["key.enrolled", "official.updated"]
        assert r.official(nip(1)).unit == "Dinas Perhubungan"  # type: ignore[union-attr]  # the register follows
        assert r.active_key(nip(1)).key == first.entry.fields["key"]  # type: ignore[union-attr]  # the key stays
    _audit(world)


def test_an_acting_official_signs_as_plt_with_the_letters_number(world: LedgerFactory) -> None:
    world.update(
        2,
        "Penunjukan Plt.",
        title="Kepala Dinas Perhubungan Kota Kediri",
        acting="Plt.",
        appointment="800/12/419.022/2026",
    )
    signed = world.sign(2)
    capacity = "Plt. Kepala Dinas Perhubungan Kota Kediri (Nomor 800/12/419.022/2026)"
    assert (
        signed.entry.fields["capacity"]
        == capacity
        == capacity_of("Kepala Dinas Perhubungan Kota Kediri", "Plt.", "800/12/419.022/2026")
    )
    statement = Statement.of_fields(world.ledger.origin, signed.entry.fields, signed.entry.time)
    assert statement.text().splitlines()[:6] == [
        SIGNATURE_V2,
        f"origin {world.ledger.origin}",
        f"commitment {signed.entry.fields['commitment_sha256']} smart-city",
        f"signer {nip(2)}",
        "name Pejabat 2",
        f"capacity {capacity}",
    ]
    ended = world.update(2, "Definitif", acting="")  # no longer acting: the appointment goes too
    assert "acting" not in ended.entry.fields and "appointment" not in ended.entry.fields
    _audit(world)


def test_the_rules_refuse_an_update_that_breaks_them(world: LedgerFactory) -> None:
    world.second_admin()
    _refused(world, lambda: world.update(1, "Sama", name="Pejabat 1"), NotAllowed, "update.unchanged")
    _refused(world, lambda: world.update(ADMIN_NIP, "Diri sendiri", name="Admin Baru"), NotAllowed, "key.self_attested")
    _refused(
        world,
        lambda: actions.update_official(world.ctx, nip(1), nip(2), passphrase(2), "Bukan admin", world.now(), name="X"),
        NotAllowed,
        "key.attester_not_admin",
    )
    _refused(world, lambda: world.update(1, "Plt. tanpa surat", acting="Plt."), InvalidInput, "identity.appointment")
    _refused(
        world, lambda: world.update(1, "Plh. salah", acting="Pjs.", appointment="1"), InvalidInput, "identity.acting"
    )
    world.official(5, enrol=False)
    _refused(world, lambda: world.update(5, "Belum mendaftar", name="Y"), NotAllowed, "update.unknown")


def test_a_signature_naming_another_capacity_is_refused_at_append(world: LedgerFactory) -> None:
    with world.ledger.read() as r:
        c = r.commitment("smart-city")
        key = r.active_key(nip(1))
    assert c is not None and key is not None
    fields = {
        "slug": "smart-city",
        "commitment_sha256": c.text_sha256,
        "commitment_index": c.published_index,
        "nip": nip(1),
        "key": key.key,
        "name": "Pejabat 1",
        "capacity": "Kepala Dinas Perhubungan Kota Kediri",
        "unit": "Dinas 1",
    }
    sign = world.keys.signer(VerifierKey.parse(key.key), passphrase(1))
    moment = world.now()
    statement = Statement(
        world.ledger.origin,
        "smart-city",
        c.text_sha256,
        nip(1),
        VerifierKey.parse(key.key),
        moment,
        fields["name"],
        fields["capacity"],
    )
    signature = base64.b64encode(sign(statement.message())).decode()
    with pytest.raises(Conflict, match="not official .*'s identity in force") as e:
        world.ledger.append("commitment.signed", {**fields, "signature": signature}, world.signer, moment)
    assert e.value.code == "sign.capacity_differs"
    v1 = {k: v for k, v in fields.items() if k not in ("name", "capacity", "unit")}
    with pytest.raises(Conflict) as e:
        world.ledger.append("commitment.signed", {**v1, "signature": signature}, world.signer, moment)
    assert e.value.code == "sign.capacity_missing"


# -- v1 and v2 in one ledger; openssl ------------------------------------------------------------


def _openssl_verifies(tmp: Path, text: str, key: str, signature: str) -> bool:
    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed"
    pem = Ed25519PublicKey.from_public_bytes(VerifierKey.parse(key).public_key).public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    (tmp / "PUB.pem").write_bytes(pem)
    (tmp / "statement.txt").write_bytes(text.encode())
    (tmp / "SIG").write_bytes(base64.b64decode(signature))
    command = ["pkeyutl", "-verify", "-rawin", "-pubin", "-inkey", "PUB.pem", "-in", "statement.txt", "-sigfile", "SIG"]
    return subprocess.run([openssl, *command], cwd=tmp, capture_output=True, check=False).returncode == 0


def test_a_v1_and_a_v2_signature_in_one_ledger_both_verify_openssl_included(
    ledger_factory: LedgerFactory, tmp_path: Path
) -> None:
    world = ledger_factory.created(rules=3).with_commitment(officials=2)
    v1 = world.sign(1)
    assert "capacity" not in v1.entry.fields
    raised = world.ledger.raise_rules(world.signer, world.now())  # type: ignore[arg-type]
    assert raised is not None and raised.entry.fields == {"version": RULES}
    v2 = world.sign(2)
    assert v2.entry.fields["capacity"] == "Kepala Dinas 2"
    origin = world.ledger.origin
    for appended, version in ((v1, SIGNATURE_V1), (v2, SIGNATURE_V2)):
        statement = Statement.of_fields(origin, appended.entry.fields, appended.entry.time)
        assert statement.text().startswith(version + "\n")
        signature = appended.entry.fields["signature"]
        assert _openssl_verifies(tmp_path, statement.text(), appended.entry.fields["key"], signature)
        assert not _openssl_verifies(tmp_path, statement.text() + " ", appended.entry.fields["key"], signature)
    with world.ledger.read() as r:
        signed_in = r.signed_in(r.signatures("smart-city"))
    assert (
        signed_in[v1.entry.index].statement == SIGNATURE_V1 and signed_in[v1.entry.index].capacity == "Kepala Dinas 1"
    )
    assert signed_in[v2.entry.index].statement == SIGNATURE_V2 and signed_in[v2.entry.index].name == "Pejabat 2"
    update = world.update(1, "Naik jabatan", title="Asisten Pemerintahan dan Kesejahteraan Rakyat")
    text = Update.of_fields(origin, update.entry.fields, update.entry.time).text()
    assert text.startswith("ikrar/update/v1\n") and "\nreason Naik jabatan\n" in text
    assert _openssl_verifies(tmp_path, text, update.entry.fields["attester"], update.entry.fields["attestation"])
    _audit(world)


def test_a_rules_3_ledger_refuses_what_rules_4_brings(ledger_factory: LedgerFactory) -> None:
    world = ledger_factory.created(rules=3).with_commitment(officials=1)
    with pytest.raises(NotAllowed) as e:
        world.update(1, "Mutasi", name="Baru")
    assert e.value.code == "update.early"
    with pytest.raises(NotAllowed) as e:
        world.decline(1)
    assert e.value.code == "decline.early"
    with pytest.raises(Conflict) as c:
        actions.publish(
            world.ctx, "lain", "Lain", "Teks.\n", [nip(1)], "admin", world.now(), world.clock + timedelta(days=1)
        )
    assert c.value.code == "deadline.early"


# -- declines and deadlines -----------------------------------------------------------------------


def test_a_decline_is_final_and_a_signature_is_not_followed_by_a_decline(world: LedgerFactory) -> None:
    declined = world.decline(1, "Sedang dinas luar")
    text = DeclineStatement.of_fields(world.ledger.origin, declined.entry.fields, declined.entry.time).text()
    assert text.startswith("ikrar/decline/v1\n") and "\nreason Sedang dinas luar\n" in text
    _refused(world, lambda: world.sign(1), NotAllowed, "sign.declined")
    _refused(world, lambda: world.decline(1), NotAllowed, "sign.declined")
    world.sign(2)
    _refused(world, lambda: world.decline(2), NotAllowed, "sign.already")
    _refused(world, lambda: world.decline(3, "  "), InvalidInput, "text.empty.reason")
    with world.ledger.read() as r:
        assert [(d.nip, d.reason) for d in r.declines("smart-city")] == [(nip(1), "Sedang dinas luar")]
        assert r.decline("smart-city", nip(2)) is None
    _audit(world)


def test_no_signature_or_decline_after_the_deadline_until_it_is_extended(ledger_factory: LedgerFactory) -> None:
    world = ledger_factory.created()
    deadline = world.clock + timedelta(days=1, minutes=30)
    world.with_commitment(officials=3, deadline=deadline)
    with world.ledger.read() as r:
        assert r.commitment("smart-city").deadline == deadline  # type: ignore[union-attr]
    world.sign(1)
    world.clock = deadline + timedelta(minutes=1)
    _refused(world, lambda: world.sign(2), NotAllowed, "sign.deadline_passed")
    _refused(world, lambda: world.decline(3), NotAllowed, "sign.deadline_passed")
    _refused(
        world,
        lambda: actions.extend(world.ctx, "smart-city", deadline - timedelta(hours=1), "admin", "Mundur", world.now()),
        Conflict,
        "deadline.not_later",
    )
    later = deadline + timedelta(days=7)
    extended = actions.extend(world.ctx, "smart-city", later, "admin", "Peserta belum lengkap", world.now())
    assert extended.entry.fields == {
        "slug": "smart-city",
        "deadline": format_time(later),
        "by": "admin",
        "reason": "Peserta belum lengkap",
    }
    world.sign(2)
    world.decline(3)
    with world.ledger.read() as r:
        assert r.commitment("smart-city").deadline == later  # type: ignore[union-attr]
    _audit(world)


def test_a_deadline_not_after_its_entry_is_refused(world: LedgerFactory) -> None:
    with pytest.raises(Conflict) as e:
        actions.publish(
            world.ctx, "lalu", "Lalu", "Teks.\n", [nip(1)], "admin", world.clock + timedelta(minutes=5), world.clock
        )
    assert e.value.code == "deadline.not_later"
    with pytest.raises(Conflict) as e:
        actions.extend(world.ctx, "smart-city", world.clock + timedelta(days=1), "admin", "Tanpa batas", world.now())
    assert e.value.code == "deadline.none"


# -- the derived tables are audited and rebuilt ---------------------------------------------------


@pytest.mark.parametrize(
    ("table", "where", "values", "name"),
    [
        (Signature, SIGNATURE.nip == nip(1), {"capacity": "Kepala Dinas Lain"}, "signature"),
        (OfficialUpdate, UPDATE.nip == nip(2), {"unit": "Dinas Lain"}, "official_update"),
        (Decline, DECLINE.nip == nip(3), {"reason": "Alasan lain"}, "decline"),
        (Commitment, COMMITMENT.slug == "smart-city", {"deadline": None}, "commitment"),
    ],
)
def test_a_derived_row_changed_is_named_by_the_audit_and_rebuilt(
    ledger_factory: LedgerFactory, table: Any, where: Any, values: dict[str, Any], name: str
) -> None:
    world = ledger_factory.created()
    world.with_commitment(officials=3, deadline=world.clock + timedelta(days=3))
    world.sign(1)
    world.update(2, "Mutasi", unit="Dinas Perhubungan")
    world.decline(3)
    _audit(world)
    with world.ledger.engine.begin() as c:
        c.execute(update(TABLES[table]).where(where).values(**values))
    with pytest.raises(DerivedMismatch) as e:
        _audit(world)
    assert e.value.table == name
    world.ledger.rebuild()
    _audit(world)


def test_the_identity_in_force_is_read_alike_from_the_tables_and_the_entries(world: LedgerFactory) -> None:
    world.update(1, "Koreksi nama", name="Dr. Pejabat Satu, M.Si.", rank="Pembina Utama Muda (IV/c)")
    with world.ledger.read() as r:
        identity = r.identities([nip(1)])[nip(1)]
    assert identity == Identity("Dr. Pejabat Satu, M.Si.", "Kepala Dinas 1", "Dinas 1", "Pembina Utama Muda (IV/c)")
    signed = world.sign(1)
    assert signed.entry.fields["name"] == "Dr. Pejabat Satu, M.Si."
    assert passphrase_of(nip(1)) == passphrase(1)
    _audit(world)
