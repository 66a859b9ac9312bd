"""Rules version 3: no one gives an official a key alone (issue 10).

An admin's own key attests every enrolment; a replacement key, or a new admin's key, also
needs a second admin's approval; revocations are signed by an admin. The rules hold at
append, in `ikrar audit` and in the standalone verifier; every statement verifies with
`openssl pkeyutl` from the admins' public keys.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ledger.audit import audit
from ledger.checkpoint import Checkpoint
from ledger.entries import entry_from_leaf, make_entry
from ledger.errors import ChainBroken, Conflict
from ledger.kinds.key_enrolled import attestation_of
from ledger.merkle import CompactRange
from ledger.note import VerifierKey
from ledger.state import LEDGER
from ledger.statements import Approval
from ledger.stored import StoredCheckpoint, StoredEntry
from ledger.times import parse_time
from signing import actions, vouching
from signing.errors import NotAllowed
from tests.factories import ADMIN, ADMIN_NIP, ADMIN_PASSPHRASE, SECOND_ADMIN, LedgerFactory, nip, passphrase


def _audit(world: LedgerFactory) -> None:
    with world.ledger.read() as r:
        audit(r.stored_entries(), r.stored_checkpoints(), world.ledger.verifier)


def _unchanged(world: LedgerFactory, attempt: Any, code: str) -> None:
    size = world.ledger.size()
    files = sorted(world.keys.directory.iterdir())
    with pytest.raises(NotAllowed) as caught:
        attempt()
    assert caught.value.code == code, caught.value
    assert world.ledger.size() == size
    assert sorted(world.keys.directory.iterdir()) == files


def test_the_founding_admin_is_attested_by_the_ledger_key_and_every_later_key_by_an_admin(
    world: LedgerFactory,
) -> None:
    with world.ledger.read() as r:
        admin = r.enrolments([r.active_key(ADMIN_NIP).key])  # type: ignore[union-attr]
    assert admin
    first = world.ledger.entry(1)
    assert first.fields["attested_by"] == LEDGER and first.fields["role"] == "admin"
    assert first.fields["attester"] == str(world.signer.verifier)  # type: ignore[union-attr]
    official = next(
        world.ledger.entry(i) for i in range(world.ledger.size()) if world.ledger.entry(i).fields.get("nip") == nip(1)
    )
    assert official.fields["attested_by"] == ADMIN_NIP and "approval" not in official.fields


def test_one_admin_cannot_give_an_official_a_new_key(world: LedgerFactory) -> None:
    """The attack of issue 10: revoke, invite, enrol, sign — refused at the enrolment."""
    actions.revoke(world.ctx, nip(1), "laptop hilang", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    world.invite(1)
    _unchanged(world, lambda: actions.enrol(world.ctx, nip(1), "kunci-penyerang-1", world.now()), "enrol.unapproved")
    assert actions.active_key(world.ledger, nip(1)) is None
    # The admin cannot approve their own invitation, nor could the admin who revoked the key.
    _unchanged(
        world,
        lambda: vouching.approve(
            world.ctx, actions.get_official(world.ledger, nip(1)), ADMIN_NIP, ADMIN_PASSPHRASE, world.now()
        ),
        "key.same_admin",
    )


def test_nobody_enrols_without_an_invitation(world: LedgerFactory) -> None:
    world.official(5, enrol=False)
    _unchanged(world, lambda: actions.enrol(world.ctx, nip(5), passphrase(5), world.now()), "enrol.uninvited")


def test_a_second_admin_approves_a_replacement_and_the_entry_names_both(world: LedgerFactory, tmp_path: Path) -> None:
    second = world.second_admin()
    actions.revoke(world.ctx, nip(1), "ganti perangkat", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    world.invite(1, by=SECOND_ADMIN)  # attested by the second admin
    # the admin who revoked the previous key may not approve its replacement
    official = actions.get_official(world.ledger, nip(1))
    _unchanged(
        world,
        lambda: vouching.approve(world.ctx, official, ADMIN_NIP, ADMIN_PASSPHRASE, world.now()),
        "key.same_admin",
    )
    world.invite(1, by=ADMIN)  # attested by the revoker, approved by the second admin
    world.approve(1)
    appended = actions.enrol(world.ctx, nip(1), "kunci-baru-sekali-1", world.now())
    f = appended.entry.fields
    assert (f["attested_by"], f["approved_by"]) == (ADMIN_NIP, second)
    _audit(world)

    attestation = attestation_of(world.ledger.origin, f)
    approval = Approval(world.ledger.origin, attestation.sha256(), nip(1), parse_time(f["approved_at"]))
    for text, key, signature in (
        (attestation.text(), f["attester"], f["attestation"]),
        (approval.text(), f["approver"], f["approval"]),
    ):
        assert _openssl_verifies(tmp_path, text, VerifierKey.parse(key), base64.b64decode(signature))
    assert not _openssl_verifies(
        tmp_path, attestation.text() + " ", VerifierKey.parse(f["attester"]), base64.b64decode(f["attestation"])
    )


def _openssl_verifies(tmp: Path, text: str, key: VerifierKey, signature: bytes) -> bool:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed"
    pem = Ed25519PublicKey.from_public_bytes(key.public_key).public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    (tmp / "pub.pem").write_bytes(pem)
    (tmp / "statement.txt").write_text(text)
    (tmp / "sig").write_bytes(signature)
    done = subprocess.run(
        [
            openssl,
            "pkeyutl",
            "-verify",
            "-rawin",
            "-pubin",
            "-inkey",
            str(tmp / "pub.pem"),
            "-in",
            str(tmp / "statement.txt"),
            "-sigfile",
            str(tmp / "sig"),
        ],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def _append_raw(world: LedgerFactory, fields: dict[str, Any]) -> None:
    world.ledger.append("key.enrolled", fields, world.signer, world.now())  # type: ignore[arg-type]


def test_the_rules_refuse_an_unapproved_replacement_and_a_non_admin_attester(world: LedgerFactory) -> None:
    actions.revoke(world.ctx, nip(1), "ganti", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    invited = world.invite(1)
    person = {"nip": nip(1), "name": "Pejabat 1", "title": "Kepala Dinas 1", "unit": "Dinas 1"}
    stand_in = str(VerifierKey(f"{world.ledger.origin}/official/{nip(1)}", bytes(range(32))))
    with pytest.raises(Conflict, match="lacks a second admin"):
        _append_raw(world, {**person, "key": stand_in, **invited.invitation.entry_fields()})
    # An official's key (nip 2) is not an admin key: its attestation is refused.
    fields = invited.invitation.entry_fields() | {"attested_by": nip(2)}
    fields["attester"] = actions.active_key(world.ledger, nip(2)).__str__()
    with pytest.raises(Conflict, match="not an active admin key"):
        _append_raw(world, {**person, "key": stand_in, **fields})


def test_an_admin_whose_key_is_revoked_vouches_no_more(world: LedgerFactory) -> None:
    second = world.second_admin()
    world.official(6, enrol=False)
    old_admin_key = str(actions.active_key(world.ledger, ADMIN_NIP))
    invited = world.invite(6)  # attested while the admin's key was active...
    actions.revoke(world.ctx, ADMIN_NIP, "pindah tugas", second, world.now(), passphrase(SECOND_ADMIN))
    _unchanged(world, lambda: actions.enrol(world.ctx, nip(6), passphrase(6), world.now()), "key.attester_not_admin")
    assert invited.invitation.attester == old_admin_key


def forged(world: LedgerFactory, kind: str, fields: dict[str, Any]) -> tuple[list[StoredEntry], list[Any], int]:
    """The world's ledger with one more entry written past the rules, re-signed with the
    ledger's key (as someone holding the database and the ledger's passphrase could)."""
    assert world.signer is not None
    with world.ledger.read() as r:
        stored = list(r.stored_entries())
    entries = [entry_from_leaf(s.leaf) for s in stored]
    forged = make_entry(len(entries), kind, world.now(), entries[-1].leaf_hash, fields)
    tree, checkpoints = CompactRange(), []
    for entry in [*entries, forged]:
        tree.append(entry.leaf_hash)
        note = Checkpoint(world.ledger.origin, tree.size, tree.root()).signed(world.signer).note
        checkpoints.append(StoredCheckpoint(tree.size, note))
    return [*stored, StoredEntry(forged.index, forged.leaf)], checkpoints, forged.index


def test_the_audit_names_an_entry_that_breaks_the_vouching_rules(world: LedgerFactory) -> None:
    """A replacement without the approval, or attested by an official's key, written past
    the rules: the audit fails at that entry."""
    assert world.signer is not None
    actions.revoke(world.ctx, nip(1), "ganti", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    invited = world.invite(1)
    person = {"nip": nip(1), "name": "Pejabat 1", "title": "Kepala Dinas 1", "unit": "Dinas 1"}
    key = str(VerifierKey(f"{world.ledger.origin}/official/{nip(1)}", bytes(range(32))))
    entries, checkpoints, index = forged(
        world, "key.enrolled", {**person, "key": key, **invited.invitation.entry_fields()}
    )
    with pytest.raises(ChainBroken, match=f"entry {index}: .*second admin") as caught:
        audit(entries, checkpoints, world.signer.verifier)
    assert caught.value.index == index


def test_an_old_ledger_keeps_verifying_and_vouching_starts_at_the_raise(ledger_factory: LedgerFactory) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ledger.note import NoteSigner
    from tests.factories import ORIGIN

    world = ledger_factory
    world.signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    world.ledger.create("Kota Uji", ORIGIN, world.signer, world.now(), rules=2)
    actions.register_official(world.ledger, nip(1), "Pejabat 1", "Kabid", "Dinas 1", "official", world.now())
    actions.enrol(world.ctx, nip(1), passphrase(1), world.now())  # version 2: no invitation needed
    actions.revoke(world.ctx, nip(1), "uji", "operator", world.now())
    _audit(world)
    world.ledger.raise_rules(world.signer, world.now())
    with pytest.raises(NotAllowed) as caught:
        actions.enrol(world.ctx, nip(1), passphrase(1) + "-baru", world.now())
    assert caught.value.code == "enrol.uninvited"
    _audit(world)


def test_an_invitation_and_its_approval_are_used_once(world: LedgerFactory) -> None:
    """Copying an earlier replacement's genuine attestation and approval into a later
    enrolment (after that key, too, was revoked) is refused: an invitation is used once."""
    actions.revoke(world.ctx, nip(1), "ganti", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    world.invite(1)
    world.approve(1)
    first = actions.enrol(world.ctx, nip(1), "kunci-baru-sekali-1", world.now()).entry
    actions.revoke(world.ctx, nip(1), "lagi", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    vouched = {k: v for k, v in first.fields.items() if k != "key"}
    key = str(VerifierKey(f"{world.ledger.origin}/official/{nip(1)}", bytes(range(32))))
    with pytest.raises(Conflict, match="an invitation is used once"):
        _append_raw(world, {**vouched, "key": key})


def test_a_nip_is_written_in_one_spelling(world: LedgerFactory) -> None:
    """A NIP with a space would name the same official but escape the replacement rules."""
    actions.revoke(world.ctx, nip(1), "ganti", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    invited = world.invite(1)
    person = {"nip": nip(1) + " ", "name": "Pejabat 1", "title": "Kepala Dinas 1", "unit": "Dinas 1"}
    key = str(VerifierKey(f"{world.ledger.origin}/official/{nip(1)}", bytes(range(32))))
    with pytest.raises(Conflict, match="not written as 18 digits alone"):
        _append_raw(world, {**person, "key": key, **invited.invitation.entry_fields()})
