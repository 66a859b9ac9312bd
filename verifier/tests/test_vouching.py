"""Rules version 3 (vouching, issue 10) in the standalone verifier: it accepts the ledgers
Ikrar makes, and refuses every entry written past the rules at the same index as Ikrar's
audit, with the same reason.

The ledgers are made by Ikrar itself (tests/factories.py: a founding admin attested by the
ledger's key, officials invited by an admin) and exported with `ledger.export`. A forged
entry is one the rules refuse, appended to the export by hand with a checkpoint re-signed by
the ledger's key — what whoever holds the database and the ledger's passphrase could write —
with every admin's or official's signature in it made with the real keys, so that only the
rule under test is broken.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.audit import audit
from ledger.checkpoint import Checkpoint
from ledger.entries import entry_from_leaf, make_entry
from ledger.errors import ChainBroken
from ledger.export import verify_export, write_export
from ledger.kinds.key_enrolled import attestation_of
from ledger.merkle import CompactRange
from ledger.note import NoteSigner, VerifierKey
from ledger.state import LEDGER
from ledger.statements import Approval, Attestation, Revocation, encode_signature
from ledger.stored import StoredCheckpoint, StoredEntry
from ledger.times import format_time
from signing import actions, vouching
from signing.certificate import certificate_pdf
from signing.errors import NotAllowed
from tests.certs import BASE_URL, PRINTED
from tests.factories import ADMIN, ADMIN_NIP, ADMIN_PASSPHRASE, ORIGIN, SECOND_ADMIN, LedgerFactory, nip, passphrase

from .test_ikrar_verify import broken_at, iv, standalone

SECOND_NIP = nip(SECOND_ADMIN)
NEW_KEY_PASSPHRASE = "kunci-baru-sekali-1"


# -- building ledgers through Ikrar --------------------------------------------------------------


def second_admin(world: LedgerFactory) -> str:
    """A second admin: invited by the founding admin, approved with the ledger's key."""
    world.admin()
    actions.register_official(
        world.ledger, SECOND_NIP, "Admin Kedua", "Pranata Komputer", "Dinas Kominfo", "admin", world.now()
    )
    world.invite(SECOND_ADMIN)
    vouching.approve(world.ctx, actions.get_official(world.ledger, SECOND_NIP), LEDGER, None, world.now())
    actions.enrol(world.ctx, SECOND_NIP, passphrase(SECOND_ADMIN), world.now())
    return SECOND_NIP


def replace_key(world: LedgerFactory, n: int, revoker: str, revoker_passphrase: str | None) -> None:
    """Official `n`'s key revoked by `revoker`, and a new one attested by the founding admin
    and approved by the second."""
    actions.revoke(world.ctx, nip(n), "ganti perangkat", revoker, world.now(), revoker_passphrase)
    world.invite(n, by=ADMIN)
    vouching.approve(
        world.ctx, actions.get_official(world.ledger, nip(n)), SECOND_NIP, passphrase(SECOND_ADMIN), world.now()
    )
    actions.enrol(world.ctx, nip(n), f"{NEW_KEY_PASSPHRASE}-{n}", world.now())


def ikrar_report(world: LedgerFactory) -> Any:
    with world.ledger.read() as r:
        return audit(r.stored_entries(), r.stored_checkpoints(), world.ledger.verifier)


def exported(world: LedgerFactory, folder: Path) -> Path:
    write_export(world.ledger, folder)
    return folder


def accepted(world: LedgerFactory, folder: Path, command_line: bool = True) -> Any:
    """The standalone verifier's report on the world's export, which Ikrar's audit and
    verify-export pass too; the command line (unless not asked) says OK."""
    theirs = ikrar_report(world)
    assert verify_export(folder, world.ledger.verifier).size == theirs.size
    report = iv.verify_export(folder, iv.VKey.parse(str(world.ledger.verifier)))[0]
    assert (report.size, report.signatures, report.root) == (theirs.size, theirs.signatures, theirs.root)
    if not command_line:
        return report
    result = standalone("export", folder, "--vkey", str(world.ledger.verifier))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"OK: {theirs.size} entries, {theirs.signatures} signatures")
    return report


def kinds_and_fields(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    """Each exported entry's kind and fields, as the standalone verifier reads them."""
    entries = [
        iv.parse_entry(base64.b64decode(json.loads(line)["leaf"]))
        for line in (folder / "entries.jsonl").read_text().splitlines()
    ]
    return [(e.kind, e.fields) for e in entries]


def test_a_ledger_of_rules_3_from_its_start_verifies(ledger_factory: LedgerFactory, tmp_path: Path) -> None:
    """Every kind of vouching Ikrar writes: the founding admin attested by the ledger's key,
    officials attested by an admin, a second admin approved by the ledger's key, replacement
    keys approved by a second admin, revocations signed by an admin and by the ledger's key."""
    world = ledger_factory.created(rules=3).with_commitment(officials=3)
    world.sign(1)
    second_admin(world)
    replace_key(world, 1, ADMIN_NIP, ADMIN_PASSPHRASE)  # revoked and attested by the same admin
    replace_key(world, 2, LEDGER, None)  # revoked by the ledger's key
    signed = actions.sign(world.ctx, "smart-city", nip(2), f"{NEW_KEY_PASSPHRASE}-2", world.now())  # the new key
    actions.revoke(world.ctx, nip(3), "pindah tugas", SECOND_NIP, world.now(), passphrase(SECOND_ADMIN))
    report = accepted(world, exported(world, tmp_path / "export"))
    assert report.rules == 3

    entries = kinds_and_fields(tmp_path / "export")
    assert entries[0][1]["rules"] == 3
    enrolled = [f for kind, f in entries if kind == "key.enrolled"]
    revoked = [f for kind, f in entries if kind == "key.revoked"]
    assert enrolled[0]["attested_by"] == LEDGER and enrolled[0]["role"] == "admin" and "approval" not in enrolled[0]
    assert {(f["nip"], f["attested_by"], f.get("approved_by")) for f in enrolled[1:]} == {
        (nip(1), ADMIN_NIP, None),
        (nip(2), ADMIN_NIP, None),
        (nip(3), ADMIN_NIP, None),
        (SECOND_NIP, ADMIN_NIP, LEDGER),
        (nip(1), ADMIN_NIP, SECOND_NIP),  # the replacements
        (nip(2), ADMIN_NIP, SECOND_NIP),
    }
    assert [(f["nip"], f["by"]) for f in revoked] == [(nip(1), ADMIN_NIP), (nip(2), LEDGER), (nip(3), SECOND_NIP)]
    assert all(f["revoker"] and f["revocation"] for f in revoked)

    # The certificate of the replacement key's signature carries its vouched key.enrolled entry.
    pdf = tmp_path / "sertifikat.pdf"
    pdf.write_bytes(certificate_pdf(world.ledger, signed.entry.index, lang="id", base_url=BASE_URL, now=PRINTED))
    result = standalone("cert", pdf, "--vkey", str(world.ledger.verifier))
    assert result.returncode == 0 and result.stdout.rstrip().endswith("VALID"), result.stdout + result.stderr


@pytest.mark.parametrize("created_with", [1, 2])
def test_an_older_ledger_keeps_its_rules_and_vouching_starts_at_the_raise(
    ledger_factory: LedgerFactory, tmp_path: Path, created_with: int
) -> None:
    """A ledger of rules 1 or 2: keys enrolled and revoked unvouched before the `ledger.rules`
    entry still verify; after it, the founding admin and every key are vouched for."""
    world = ledger_factory
    world.signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    world.ledger.create("Kota Uji", ORIGIN, world.signer, world.now(), rules=created_with)
    for n in (1, 2):
        actions.register_official(world.ledger, nip(n), f"Pejabat {n}", "Kabid", f"Dinas {n}", "official", world.now())
        actions.enrol(world.ctx, nip(n), passphrase(n), world.now())  # no invitation before version 3
    actions.revoke(world.ctx, nip(1), "uji", "operator", world.now())  # unsigned, `by` free text
    raised = world.ledger.raise_rules(world.signer, world.now())
    assert raised is not None
    world.admin()  # attested by the ledger's key: no admin existed before the raise
    world.official(3)
    actions.revoke(world.ctx, nip(2), "pindah", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    report = accepted(world, exported(world, tmp_path / "export"))
    assert report.rules == 5
    entries = kinds_and_fields(tmp_path / "export")
    assert [kind for kind, _ in entries[:5]] == [
        "ledger.created",
        "key.enrolled",
        "key.enrolled",
        "key.revoked",
        "ledger.rules",
    ]
    assert "revoker" not in entries[3][1] and "attestation" not in entries[1][1]
    assert entries[4][1]["version"] == 5  # from 1 or 2 straight to the newest
    # From the raise on, an unvouched key is refused as in a ledger made under version 3.
    words = f"official {nip(5)}'s key comes without an admin's signed attestation (rules version 3)"
    reason = refused_by_both(world, forge(world, tmp_path / "forged", enrolment(world, 5, {}, words)))
    assert reason == f"key.enrolled breaks a rule: {words}"


# -- forging past the rules -------------------------------------------------------------------------


@dataclass(frozen=True)
class Forged:
    entries: list[StoredEntry]
    checkpoints: list[StoredCheckpoint]
    index: int
    folder: Path


@dataclass(frozen=True)
class Forgery:
    """An entry to write past the rules, and words of the reason for refusing it (the same in
    Ikrar's audit and in the standalone verifier)."""

    kind: str
    fields: dict[str, Any]
    words: str
    at: datetime | None = None  # the entry's time; None: the world's next minute


def forge(world: LedgerFactory, folder: Path, forgery: Forgery) -> Forged:
    """The world's ledger with one more entry, written past the rules, and its checkpoint
    signed with the ledger's key: as Ikrar's audit reads stored rows, and as an export folder
    (Ikrar's export of the ledger, with the entry's line and checkpoint added)."""
    assert world.signer is not None
    with world.ledger.read() as r:
        stored = list(r.stored_entries())
        checkpoints = list(r.stored_checkpoints())
    last = entry_from_leaf(stored[-1].leaf)
    entry = make_entry(len(stored), forgery.kind, forgery.at or world.now(), last.leaf_hash, forgery.fields)
    rows = [*stored, StoredEntry(entry.index, entry.leaf)]
    tree = CompactRange()
    for row in rows:
        tree.append(entry_from_leaf(row.leaf).leaf_hash)
    note = Checkpoint(world.ledger.origin, tree.size, tree.root()).signed(world.signer).note
    write_export(world.ledger, folder)
    line = {
        "index": entry.index,
        "kind": entry.kind,
        "leaf": base64.b64encode(entry.leaf).decode(),
        "leaf_hash": entry.leaf_hash.hex(),
        "prev": entry.prev.hex(),
    }
    with open(folder / "entries.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")
    with open(folder / "checkpoints.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"size": tree.size, "note": note}, ensure_ascii=False) + "\n")
    (folder / "checkpoint").write_bytes(note.encode())
    return Forged(rows, [*checkpoints, StoredCheckpoint(tree.size, note)], entry.index, folder)


def refused_by_both(world: LedgerFactory, forged: Forged) -> str:
    """The reason both give, each naming the forged entry: Ikrar's audit and verify-export,
    the standalone verifier in this process and on the command line."""
    with pytest.raises(ChainBroken) as ours:
        audit(forged.entries, forged.checkpoints, world.ledger.verifier)
    assert ours.value.index == forged.index, ours.value
    with pytest.raises(ChainBroken) as ours_exported:
        verify_export(forged.folder, world.ledger.verifier)
    assert ours_exported.value.index == forged.index, ours_exported.value
    with pytest.raises(iv.Broken) as theirs:
        iv.verify_export(forged.folder, iv.VKey.parse(str(world.ledger.verifier)))
    assert theirs.value.index == forged.index, theirs.value
    assert theirs.value.reason == ours.value.reason
    result = standalone("export", forged.folder, "--vkey", str(world.ledger.verifier))
    assert result.returncode == 1 and broken_at(result.stderr) == forged.index, result.stderr
    assert f"BROKEN at entry {forged.index}: {theirs.value.reason}" in result.stderr
    return str(theirs.value.reason)


def person(n: int) -> dict[str, str]:
    return {"nip": nip(n), "name": f"Pejabat {n}", "title": f"Kepala Dinas {n}", "unit": f"Dinas {n}"}


def new_key(world: LedgerFactory, n: int) -> str:
    """A key of the right name for official `n` that was never enrolled (no one signs with it here)."""
    return str(VerifierKey(f"{world.ledger.origin}/official/{nip(n)}", bytes([n]) * 32))


def enrolment(world: LedgerFactory, n: int, fields: dict[str, Any], words: str) -> Forgery:
    return Forgery("key.enrolled", {**person(n), "key": new_key(world, n), **fields}, words)


def key_of(world: LedgerFactory, who: str) -> str:
    key = actions.active_key(world.ledger, who)
    assert key is not None
    return str(key)


def signed_by(world: LedgerFactory, key: str, secret: str | None) -> Callable[[bytes], bytes]:
    """What signs for `key`: the ledger's own key (secret None), or a key file opened with its passphrase."""
    assert world.signer is not None
    if secret is None:
        return world.signer.sign_statement
    return world.keys.signer(VerifierKey.parse(key), secret)


def attested(
    world: LedgerFactory,
    n: int,
    by: str,
    key: str,
    secret: str | None,
    role: str = "official",
    at: datetime | None = None,
    written: str | None = None,
) -> dict[str, Any]:
    """Vouching fields for official `n`, attested by `by` with `key` (genuinely signed) at
    `at` (None: the world's next minute), of the NIP as `written` (None: as it should be)."""
    moment = at or world.now()
    p = person(n)
    statement = Attestation(
        world.ledger.origin, secrets.token_hex(16), written or p["nip"], p["name"], p["title"], p["unit"], role, moment
    )
    return {
        "role": role,
        "invitation": statement.invitation,
        "invited_at": format_time(moment),
        "attested_by": by,
        "attester": key,
        "attestation": encode_signature(signed_by(world, key, secret)(statement.text().encode())),
    }


def approved(
    world: LedgerFactory,
    n: int,
    fields: dict[str, Any],
    by: str,
    key: str,
    secret: str | None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """`fields` with an approval by `by` with `key` (genuinely signed over the attestation's
    hash) at `at` (None: the world's next minute)."""
    moment = at or world.now()
    attestation = attestation_of(world.ledger.origin, {**person(n), **fields})
    statement = Approval(world.ledger.origin, attestation.sha256(), nip(n), moment)
    return fields | {
        "approved_by": by,
        "approver": key,
        "approved_at": format_time(moment),
        "approval": encode_signature(signed_by(world, key, secret)(statement.text().encode())),
    }


def revocation(
    world: LedgerFactory, n: int, by: str, key: str, secret: str | None, words: str, signed_at: int = 0
) -> Forgery:
    """A `key.revoked` of official `n`'s active key by `by`, signed with `key` over the statement
    of the entry's time (or of `signed_at` seconds after it)."""
    at = world.now()
    revoked, reason = key_of(world, nip(n)), "dicabut"
    statement = Revocation(world.ledger.origin, nip(n), revoked, reason, at + timedelta(seconds=signed_at))
    signature = encode_signature(signed_by(world, key, secret)(statement.text().encode()))
    fields = {"nip": nip(n), "key": revoked, "reason": reason, "by": by, "revoker": key, "revocation": signature}
    return Forgery("key.revoked", fields, words, at)


def flip(signature: str) -> str:
    """The base64 signature with one bit of one byte flipped."""
    raw = bytearray(base64.b64decode(signature))
    raw[10] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def admin_vouches(world: LedgerFactory, n: int, role: str = "official") -> dict[str, Any]:
    """The founding admin's genuine attestation of official `n`."""
    return attested(world, n, ADMIN_NIP, key_of(world, ADMIN_NIP), ADMIN_PASSPHRASE, role)


def second_approves(world: LedgerFactory, n: int, fields: dict[str, Any]) -> dict[str, Any]:
    return approved(world, n, fields, SECOND_NIP, key_of(world, SECOND_NIP), passphrase(SECOND_ADMIN))


def revoke_official_1(world: LedgerFactory, by: str = ADMIN_NIP, secret: str = ADMIN_PASSPHRASE) -> None:
    actions.revoke(world.ctx, nip(1), "laptop hilang", by, world.now(), secret)


# -- the forgeries: each sets up what it needs through Ikrar, then says what to write -----------------


def replacement_without_approval(world: LedgerFactory) -> Forgery:
    revoke_official_1(world)
    invited = world.invite(1)  # genuine, but still waiting for a second admin
    words = f"official {nip(1)}'s replacement key lacks a second admin's signed approval"
    return enrolment(world, 1, invited.invitation.entry_fields(), words)


def attestation_by_an_officials_key(world: LedgerFactory) -> Forgery:
    fields = attested(world, 5, nip(2), key_of(world, nip(2)), passphrase(2))  # signed by official 2's own key
    words = f"the key vouching for official {nip(5)} is not an active admin key at this point of the ledger"
    return enrolment(world, 5, fields, words)


def attestation_by_a_revoked_admin_key(world: LedgerFactory) -> Forgery:
    second_admin(world)
    world.official(6, enrol=False)
    invited = world.invite(6)  # attested while the founding admin's key was active...
    actions.revoke(world.ctx, ADMIN_NIP, "pindah tugas", SECOND_NIP, world.now(), passphrase(SECOND_ADMIN))
    words = f"the key vouching for official {nip(6)} is not an active admin key"
    return enrolment(world, 6, invited.invitation.entry_fields(), words)  # ...used after it was revoked


def approval_by_the_revoker(world: LedgerFactory) -> Forgery:
    second_admin(world)
    revoke_official_1(world)  # by the founding admin, who then approves the second admin's invitation
    fields = attested(world, 1, SECOND_NIP, key_of(world, SECOND_NIP), passphrase(SECOND_ADMIN))
    fields = approved(world, 1, fields, ADMIN_NIP, key_of(world, ADMIN_NIP), ADMIN_PASSPHRASE)
    return enrolment(world, 1, fields, "not the admin who revoked the previous key")


def approval_by_the_attester(world: LedgerFactory) -> Forgery:
    second_admin(world)
    revoke_official_1(world, SECOND_NIP, passphrase(SECOND_ADMIN))
    fields = admin_vouches(world, 1)
    fields = approved(world, 1, fields, ADMIN_NIP, key_of(world, ADMIN_NIP), ADMIN_PASSPHRASE)
    return enrolment(world, 1, fields, f"the approval of official {nip(1)}'s key must come from a second admin")


def ledger_key_attests_while_an_admin_exists(world: LedgerFactory) -> Forgery:
    fields = attested(world, 7, LEDGER, str(world.ledger.verifier), None, role="admin")
    return enrolment(
        world, 7, fields, "the ledger's own key attests only the first admin, before the ledger ever had one"
    )


def ledger_key_attests_after_every_admin_key_is_revoked(world: LedgerFactory) -> Forgery:
    """The hole of a ledger key that revokes the last admin and founds again: closed."""
    actions.revoke(world.ctx, ADMIN_NIP, "semua admin pergi", LEDGER, world.now())
    fields = attested(world, 7, LEDGER, str(world.ledger.verifier), None, role="admin")
    return enrolment(
        world, 7, fields, "the ledger's own key attests only the first admin, before the ledger ever had one"
    )


def ledger_key_approves_an_officials_key(world: LedgerFactory) -> Forgery:
    revoke_official_1(world)
    invited = world.invite(1)
    fields = approved(world, 1, invited.invitation.entry_fields(), LEDGER, str(world.ledger.verifier), None)
    return enrolment(world, 1, fields, "the ledger's own key approves only admin keys")


def admin_key_without_approval(world: LedgerFactory) -> Forgery:
    return enrolment(world, 8, admin_vouches(world, 8, "admin"), "admin key lacks a second admin's signed approval")


def approval_where_none_is_asked(world: LedgerFactory) -> Forgery:
    second_admin(world)
    fields = second_approves(world, 5, admin_vouches(world, 5))  # official 5's first key: no approval asked
    return enrolment(world, 5, fields, "an approval where none is asked")


def key_without_attestation(world: LedgerFactory) -> Forgery:
    return enrolment(world, 5, {}, f"official {nip(5)}'s key comes without an admin's signed attestation")


def attester_named_as_another_admin(world: LedgerFactory) -> Forgery:
    second_admin(world)
    fields = admin_vouches(world, 5) | {"attested_by": SECOND_NIP}
    return enrolment(world, 5, fields, f"the attester is named '{SECOND_NIP}' but the key is '{ADMIN_NIP}''s")


def unknown_role(world: LedgerFactory) -> Forgery:
    return enrolment(world, 5, admin_vouches(world, 5, "operator"), "role 'operator' is not one of official, admin")


def invitation_dated_after_the_entry(world: LedgerFactory) -> Forgery:
    fields = admin_vouches(world, 5) | {"invited_at": "2099-01-01T00:00:00Z"}
    return enrolment(world, 5, fields, "the invitation is dated after the entry")


def approval_older_than_the_invitation(world: LedgerFactory) -> Forgery:
    second_admin(world)
    revoke_official_1(world)
    fields = second_approves(world, 1, admin_vouches(world, 1))
    fields["invited_at"], fields["approved_at"] = fields["approved_at"], fields["invited_at"]
    return enrolment(world, 1, fields, "the approval is older than the invitation it approves")


def name_with_a_line_break(world: LedgerFactory) -> Forgery:
    forgery = enrolment(world, 5, admin_vouches(world, 5), "the name holds a line break")
    return Forgery(forgery.kind, forgery.fields | {"name": "Pejabat 5\nrole admin"}, forgery.words)


def attestation_signature_flipped(world: LedgerFactory) -> Forgery:
    world.official(5, enrol=False)
    fields = world.invite(5).invitation.entry_fields()  # what Ikrar keeps for the enrolment...
    fields["attestation"] = flip(fields["attestation"])  # ...with one byte of its signature changed
    return enrolment(world, 5, fields, f"the attestation for official {nip(5)} does not verify")


def approval_signature_flipped(world: LedgerFactory) -> Forgery:
    second_admin(world)
    revoke_official_1(world)
    fields = second_approves(world, 1, admin_vouches(world, 1))
    fields["approval"] = flip(fields["approval"])
    return enrolment(world, 1, fields, f"the approval for official {nip(1)} does not verify")


def approval_of_another_attestation(world: LedgerFactory) -> Forgery:
    """A genuine approval, carried beside another genuine attestation of the same person."""
    second_admin(world)
    revoke_official_1(world)
    other = admin_vouches(world, 1)
    fields = second_approves(world, 1, admin_vouches(world, 1))
    fields |= {k: other[k] for k in ("invitation", "invited_at", "attestation")}
    return enrolment(world, 1, fields, f"the approval for official {nip(1)} does not verify")


def revocation_signed_by_an_officials_key(world: LedgerFactory) -> Forgery:
    words = "the key that signed the revocation is not an active admin key at this point of the ledger"
    return revocation(world, 2, nip(3), key_of(world, nip(3)), passphrase(3), words)


def revocation_signed_by_a_revoked_admin_key(world: LedgerFactory) -> Forgery:
    second_admin(world)
    old = key_of(world, ADMIN_NIP)
    actions.revoke(world.ctx, ADMIN_NIP, "pindah tugas", SECOND_NIP, world.now(), passphrase(SECOND_ADMIN))
    return revocation(world, 2, ADMIN_NIP, old, ADMIN_PASSPHRASE, "the key that signed the revocation is not an")


def revocation_not_signed(world: LedgerFactory) -> Forgery:
    fields = {"nip": nip(2), "key": key_of(world, nip(2)), "reason": "dicabut", "by": ADMIN_NIP}
    return Forgery("key.revoked", fields, f"the revocation of official {nip(2)}'s key is not signed by an admin")


def revocation_by_an_admin_named_ledger(world: LedgerFactory) -> Forgery:
    words = f"the revoker is named 'ledger' but the key is '{ADMIN_NIP}''s"
    return revocation(world, 2, LEDGER, key_of(world, ADMIN_NIP), ADMIN_PASSPHRASE, words)


def revocation_signature_flipped(world: LedgerFactory) -> Forgery:
    forgery = revocation(world, 2, ADMIN_NIP, key_of(world, ADMIN_NIP), ADMIN_PASSPHRASE, "")
    fields = forgery.fields | {"revocation": flip(forgery.fields["revocation"])}
    return Forgery(forgery.kind, fields, f"the revocation for official {nip(2)} does not verify", forgery.at)


def revocation_signed_for_another_time(world: LedgerFactory) -> Forgery:
    words = f"the revocation for official {nip(2)} does not verify"
    return revocation(world, 2, ADMIN_NIP, key_of(world, ADMIN_NIP), ADMIN_PASSPHRASE, words, signed_at=1)


# -- the rules Ikrar tightened after the holes below were reported ----------------------------------

USED = "the invitation of official {} enrolled an earlier key: an invitation is used once"
NOT_18_DIGITS = "the NIP {!r} is not written as 18 digits alone"
YEAR_999 = datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC)  # Ikrar writes it "999-12-31T23:59:59Z"


def first_key_nip_with_a_space(world: LedgerFactory) -> Forgery:
    """Official 5's first key, the NIP written (and attested) with a space after it."""
    spaced = nip(5) + " "
    fields = attested(world, 5, ADMIN_NIP, key_of(world, ADMIN_NIP), ADMIN_PASSPHRASE, written=spaced)
    forgery = enrolment(world, 5, fields, NOT_18_DIGITS.format(spaced))
    return Forgery(forgery.kind, forgery.fields | {"nip": spaced}, forgery.words)


def signatory_nip_with_a_space(world: LedgerFactory) -> Forgery:
    """A commitment whose second signatory's NIP is written with a space before it."""
    text, spaced = "Kami berkomitmen lagi.\n", " " + nip(2)
    fields = {
        "slug": "komitmen-kedua",
        "title": "Komitmen Kedua",
        "text": text,
        "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "signers": [nip(1), spaced],
        "by": "admin",
    }
    return Forgery("commitment.published", fields, NOT_18_DIGITS.format(spaced))


def revoked_key_enrolled_again_in_another_spelling(world: LedgerFactory) -> Forgery:
    """Official 1's revoked key enrolled again as their replacement, genuinely attested and
    approved, written with one more '=' of padding: the same key, which "a key is enrolled
    once" (comparing keys as written) would let through."""
    second_admin(world)
    old = key_of(world, nip(1))
    revoke_official_1(world)
    forgery = enrolment(
        world, 1, second_approves(world, 1, admin_vouches(world, 1)), "the key is not written in its one C2SP spelling"
    )
    return Forgery(forgery.kind, forgery.fields | {"key": old + "="}, forgery.words)


def attester_written_with_a_space(world: LedgerFactory) -> Forgery:
    key = key_of(world, ADMIN_NIP)
    fields = attested(world, 5, ADMIN_NIP, key, ADMIN_PASSPHRASE) | {"attester": " " + key}
    return enrolment(world, 5, fields, "the attester is not written in its one C2SP spelling")


def approver_written_with_padding(world: LedgerFactory) -> Forgery:
    second_admin(world)
    revoke_official_1(world)
    fields = second_approves(world, 1, admin_vouches(world, 1))
    fields["approver"] += "="
    return enrolment(world, 1, fields, "the approver is not written in its one C2SP spelling")


def revoker_written_with_a_space(world: LedgerFactory) -> Forgery:
    words = "the revoker is not written in its one C2SP spelling"
    return revocation(world, 2, ADMIN_NIP, key_of(world, ADMIN_NIP) + " ", ADMIN_PASSPHRASE, words)


def invitation_time_of_a_three_digit_year(world: LedgerFactory) -> Forgery:
    """An attestation genuinely signed over the time Ikrar writes "999-12-31T23:59:59Z" (glibc's
    strftime: no padding), carried as "0999-…", the only spelling the time pattern takes."""
    fields = attested(world, 5, ADMIN_NIP, key_of(world, ADMIN_NIP), ADMIN_PASSPHRASE, at=YEAR_999)
    fields["invited_at"] = "0999-12-31T23:59:59Z"
    return enrolment(world, 5, fields, "invited_at is not written YYYY-MM-DDTHH:MM:SSZ")


def approval_time_of_a_three_digit_year(world: LedgerFactory) -> Forgery:
    """The same for an approval (older than its invitation, too: the time's form is asked first)."""
    second_admin(world)
    revoke_official_1(world)
    second = key_of(world, SECOND_NIP)
    fields = approved(world, 1, admin_vouches(world, 1), SECOND_NIP, second, passphrase(SECOND_ADMIN), YEAR_999)
    fields["approved_at"] = "0999-12-31T23:59:59Z"
    return enrolment(world, 1, fields, "approved_at is not written YYYY-MM-DDTHH:MM:SSZ")


def ledger_key_approves_the_admin_key_it_revoked(world: LedgerFactory) -> Forgery:
    """The second admin's key revoked with the ledger's key, and their new admin key attested by
    the founding admin and approved with the ledger's key: the approver revoked the previous key."""
    second_admin(world)
    actions.revoke(world.ctx, SECOND_NIP, "ganti perangkat", LEDGER, world.now(), None)
    fields = admin_vouches(world, SECOND_ADMIN, "admin")
    fields = approved(world, SECOND_ADMIN, fields, LEDGER, str(world.ledger.verifier), None)
    return enrolment(world, SECOND_ADMIN, fields, "not the admin who revoked the previous key")


SCENARIOS: dict[str, Callable[[LedgerFactory], Forgery]] = {
    "a replacement without approval": replacement_without_approval,
    "an attestation by an official's key": attestation_by_an_officials_key,
    "an attestation by a revoked admin key": attestation_by_a_revoked_admin_key,
    "an approval by the admin who revoked the old key": approval_by_the_revoker,
    "an approval by the attester": approval_by_the_attester,
    "the ledger key attesting while an admin exists": ledger_key_attests_while_an_admin_exists,
    "the ledger key attesting after every admin key is revoked": ledger_key_attests_after_every_admin_key_is_revoked,
    "the ledger key approving an official's key": ledger_key_approves_an_officials_key,
    "an admin key without approval": admin_key_without_approval,
    "an approval where none is asked": approval_where_none_is_asked,
    "a key without attestation": key_without_attestation,
    "an attester named as another admin": attester_named_as_another_admin,
    "an unknown role": unknown_role,
    "an invitation dated after the entry": invitation_dated_after_the_entry,
    "an approval older than the invitation": approval_older_than_the_invitation,
    "a name with a line break": name_with_a_line_break,
    "an attestation signature with one byte flipped": attestation_signature_flipped,
    "an approval signature with one byte flipped": approval_signature_flipped,
    "an approval of another attestation": approval_of_another_attestation,
    "a revocation signed by an official's key": revocation_signed_by_an_officials_key,
    "a revocation signed by a revoked admin key": revocation_signed_by_a_revoked_admin_key,
    "a revocation not signed": revocation_not_signed,
    "a revocation by an admin named 'ledger'": revocation_by_an_admin_named_ledger,
    "a revocation signature with one byte flipped": revocation_signature_flipped,
    "a revocation signed for another time": revocation_signed_for_another_time,
    "a first key's NIP written with a space": first_key_nip_with_a_space,
    "a signatory's NIP written with a space": signatory_nip_with_a_space,
    "a revoked key enrolled again in another spelling": revoked_key_enrolled_again_in_another_spelling,
    "an attester written with a space": attester_written_with_a_space,
    "an approver written with padding": approver_written_with_padding,
    "a revoker written with a space": revoker_written_with_a_space,
    "an invitation time of a three-digit year": invitation_time_of_a_three_digit_year,
    "an approval time of a three-digit year": approval_time_of_a_three_digit_year,
    "the ledger key approving the admin key it revoked": ledger_key_approves_the_admin_key_it_revoked,
}


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
def test_an_entry_forged_past_the_vouching_rules_is_refused_by_both(
    world: LedgerFactory, tmp_path: Path, scenario: str
) -> None:
    forgery = SCENARIOS[scenario](world)
    accepted(world, exported(world, tmp_path / "before"), command_line=False)  # it holds up to the forged entry
    reason = refused_by_both(world, forge(world, tmp_path / "forged", forgery))
    assert reason.startswith(f"{forgery.kind} breaks a rule: "), reason
    assert forgery.words in reason, reason


# -- vouching before version 3: refused, as it would check nothing ------------------------------------


def test_vouching_fields_before_rules_3_are_refused(ledger_factory: LedgerFactory, tmp_path: Path) -> None:
    world = ledger_factory
    world.signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    world.ledger.create("Kota Uji", ORIGIN, world.signer, world.now(), rules=2)
    for n in (1, 2):
        actions.register_official(world.ledger, nip(n), f"Pejabat {n}", "Kabid", f"Dinas {n}", "official", world.now())
        actions.enrol(world.ctx, nip(n), passphrase(n), world.now())
    report = accepted(world, exported(world, tmp_path / "before"))
    assert report.rules == 2
    ledger_key = str(world.ledger.verifier)
    founding = attested(world, 5, LEDGER, ledger_key, None, role="admin")  # what version 3 would accept
    words = "an attestation or approval before rules version 3, which would check neither"
    reason = refused_by_both(world, forge(world, tmp_path / "enrolled", enrolment(world, 5, founding, words)))
    assert reason == f"key.enrolled breaks a rule: {words}"
    signed = revocation(world, 2, LEDGER, ledger_key, None, "a signed revocation before rules version 3")
    reason = refused_by_both(world, forge(world, tmp_path / "revoked", signed))
    assert reason == "key.revoked breaks a rule: a signed revocation before rules version 3"


# -- every statement is the exact bytes signed ----------------------------------------------------------


def openssl_verifies(tmp: Path, text: str, key: str, signature: str) -> bool:
    """`openssl pkeyutl -verify -rawin` of `signature` by `key` over `text`, as the README shows."""
    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed"
    pem = Ed25519PublicKey.from_public_bytes(iv.VKey.parse(key).pub).public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    (tmp / "PUB.pem").write_bytes(pem)
    (tmp / "statement.txt").write_bytes(text.encode())
    (tmp / "SIG").write_bytes(base64.b64decode(signature))
    command = ["pkeyutl", "-verify", "-rawin", "-pubin", "-inkey", "PUB.pem", "-in", "statement.txt", "-sigfile", "SIG"]
    done = subprocess.run([openssl, *command], cwd=tmp, capture_output=True, check=False)
    return done.returncode == 0


def test_the_verifiers_statements_are_the_bytes_signed_as_openssl_checks_them(
    world: LedgerFactory, tmp_path: Path
) -> None:
    """The standalone verifier's texts of every attestation, approval and revocation of a
    ledger are what was signed: `openssl pkeyutl -verify -rawin` agrees (as the README tells an
    auditor to check one), and refuses each text with one character added."""
    second_admin(world)
    replace_key(world, 1, ADMIN_NIP, ADMIN_PASSPHRASE)
    origin = world.ledger.origin
    checked = set()
    with world.ledger.read() as r:
        entries = [iv.parse_entry(s.leaf) for s in r.stored_entries()]
    for entry in entries:
        f = entry.fields
        statements = []
        if entry.kind == "key.enrolled":
            statements.append((iv.attestation_text(origin, f), f["attester"], f["attestation"]))
            if "approval" in f:
                statements.append((iv.approval_text(origin, f), f["approver"], f["approval"]))
        elif entry.kind == "key.revoked":
            statements.append((iv.revocation_text(origin, entry), f["revoker"], f["revocation"]))
        for text, key, signature in statements:
            assert openssl_verifies(tmp_path, text, key, signature), text
            assert not openssl_verifies(tmp_path, text.replace("\ntime ", "\ntime  "), key, signature)
            checked.add(text.split("\n")[0])
    assert checked == {"ikrar/attestation/v1", "ikrar/approval/v1", "ikrar/revocation/v1"}


# -- the holes reported in the rules (issue 10), closed in Ikrar and here alike ----------------------


def test_an_attestation_and_approval_used_a_second_time_are_refused(world: LedgerFactory, tmp_path: Path) -> None:
    """A replacement's genuine attestation and approval, copied into a later enrolment after the
    replacement key was revoked too: no second admin approved that later key."""
    second_admin(world)
    replace_key(world, 1, ADMIN_NIP, ADMIN_PASSPHRASE)
    with world.ledger.read() as r:
        first = dict(entry_from_leaf(list(r.stored_entries())[-1].leaf).fields)
    assert first["nip"] == nip(1) and first["approved_by"] == SECOND_NIP
    actions.revoke(world.ctx, nip(1), "hilang lagi", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    forgery = Forgery("key.enrolled", first | {"key": new_key(world, 1)}, "")
    reason = refused_by_both(world, forge(world, tmp_path / "forged", forgery))
    assert reason == f"key.enrolled breaks a rule: {USED.format(nip(1))}"


def test_a_nip_written_with_a_space_needs_the_approval_of_a_replacement(world: LedgerFactory, tmp_path: Path) -> None:
    """The rules read the NIP with its spaces taken out for the key's name and the active key, but
    as written for "had a key before": written with a space, one admin alone would give official
    1 a replacement key. From rules version 3 a NIP is written as its 18 digits alone."""
    revoke_official_1(world)
    spaced = nip(1) + " "
    fields = attested(world, 1, ADMIN_NIP, key_of(world, ADMIN_NIP), ADMIN_PASSPHRASE, written=spaced)
    fields |= person(1) | {"nip": spaced, "key": new_key(world, 1)}  # the key named for official 1
    reason = refused_by_both(world, forge(world, tmp_path / "forged", Forgery("key.enrolled", fields, "")))
    assert reason == f"key.enrolled breaks a rule: {NOT_18_DIGITS.format(spaced)}"


def revocation_in_part(world: LedgerFactory, missing: str) -> Forgery:
    forgery = revocation(world, 2, ADMIN_NIP, key_of(world, ADMIN_NIP), ADMIN_PASSPHRASE, "")
    fields = {k: v for k, v in forgery.fields.items() if k != missing}
    words = f"the revocation of official {nip(2)}'s key is not signed by an admin (rules version 3)"
    return Forgery(forgery.kind, fields, words, forgery.at)


def enrolment_in_part(world: LedgerFactory, missing: str) -> Forgery:
    second_admin(world)
    revoke_official_1(world)
    fields = second_approves(world, 1, admin_vouches(world, 1))
    del fields[missing]
    words = (
        f"official {nip(1)}'s key comes without an admin's signed attestation (rules version 3)"
        if missing in ("role", "invitation", "invited_at", "attested_by", "attester", "attestation")
        else f"official {nip(1)}'s replacement key lacks a second admin's signed approval"
    )
    return enrolment(world, 1, fields, words)


PARTIAL = {
    "an attestation without invited_at": ("key.enrolled", "invited_at"),
    "an attestation without its attester": ("key.enrolled", "attester"),
    "an attestation without its signature": ("key.enrolled", "attestation"),
    "an approval without approved_at": ("key.enrolled", "approved_at"),
    "an approval without its approver": ("key.enrolled", "approver"),
    "an approval without its signature": ("key.enrolled", "approval"),
    "a revocation without its revoker": ("key.revoked", "revoker"),
    "a revocation without its signature": ("key.revoked", "revocation"),
}


@pytest.mark.parametrize("case", list(PARTIAL), ids=list(PARTIAL))
def test_vouching_fields_in_part_are_refused_by_both(world: LedgerFactory, tmp_path: Path, case: str) -> None:
    """Signatures are checked only when all the fields of their statement are there (no KeyError
    out of Ikrar's audit); fields in part are refused by the rules, in the same words."""
    kind, missing = PARTIAL[case]
    forgery = (enrolment_in_part if kind == "key.enrolled" else revocation_in_part)(world, missing)
    reason = refused_by_both(world, forge(world, tmp_path / "forged", forgery))
    assert reason == f"{kind} breaks a rule: {forgery.words}"


# -- the order of the checks: the kind's rules, the order of times, the signatures -------------------


def test_the_kinds_rules_come_before_the_order_of_times_and_the_signatures_after(
    world: LedgerFactory, tmp_path: Path
) -> None:
    """As Ikrar's audit asks them (`ledger.rules.admit`), so that an entry that breaks several
    rules is named for the same one."""
    last = world.clock  # the time of the last entry
    before = last - timedelta(minutes=1)
    unvouched = Forgery("key.enrolled", {**person(5), "key": new_key(world, 5)}, "", at=before)
    reason = refused_by_both(world, forge(world, tmp_path / "unvouched", unvouched))
    assert reason == (
        f"key.enrolled breaks a rule: official {nip(5)}'s key comes without an admin's signed attestation "
        "(rules version 3)"
    )

    fields = attested(world, 5, ADMIN_NIP, key_of(world, ADMIN_NIP), ADMIN_PASSPHRASE, at=before)
    fields["attestation"] = flip(fields["attestation"])  # and the attestation does not verify
    flipped = Forgery("key.enrolled", {**person(5), "key": new_key(world, 5), **fields}, "", at=before)
    forged = forge(world, tmp_path / "flipped", flipped)
    with pytest.raises(ChainBroken) as ours:
        audit(forged.entries, forged.checkpoints, world.ledger.verifier)
    with pytest.raises(iv.Broken) as theirs:
        iv.verify_export(forged.folder, iv.VKey.parse(str(world.ledger.verifier)))
    backwards = f"key.enrolled breaks a rule: its time {format_time(before)} is before the time of "
    assert ours.value.index == theirs.value.index == forged.index
    assert ours.value.reason.startswith(backwards) and theirs.value.reason.startswith(backwards), (ours, theirs)


# -- the ledger's key and the admin keys it revoked ---------------------------------------------------


def test_the_ledger_key_approves_a_replaced_admin_key_only_when_it_did_not_revoke_the_old_one(
    world: LedgerFactory, tmp_path: Path
) -> None:
    """The second admin's key revoked by the founding admin: the ledger's key may approve the
    replacement (the founding admin attests it). Revoked by the ledger's key: it may not."""
    second_admin(world)
    actions.revoke(world.ctx, SECOND_NIP, "ganti perangkat", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    world.invite(SECOND_ADMIN, by=ADMIN)
    vouching.approve(world.ctx, actions.get_official(world.ledger, SECOND_NIP), LEDGER, None, world.now())
    actions.enrol(world.ctx, SECOND_NIP, NEW_KEY_PASSPHRASE, world.now())
    entries = kinds_and_fields(exported(world, tmp_path / "export"))
    assert entries[-1][0] == "key.enrolled"
    assert (entries[-1][1]["nip"], entries[-1][1]["approved_by"]) == (SECOND_NIP, LEDGER)
    accepted(world, tmp_path / "export", command_line=False)

    actions.revoke(world.ctx, SECOND_NIP, "hilang", LEDGER, world.now(), None)
    world.invite(SECOND_ADMIN, by=ADMIN)
    with pytest.raises(NotAllowed) as refused:  # Ikrar refuses to have its own key sign the approval
        vouching.approve(world.ctx, actions.get_official(world.ledger, SECOND_NIP), LEDGER, None, world.now())
    assert refused.value.code == "key.same_admin"


# -- before version 3 a NIP keeps being read as it always was ------------------------------------------


def held_by_both(world: LedgerFactory, forged: Forged) -> None:
    """Ikrar's audit and verify-export, and the standalone verifier, all accept the forged ledger."""
    audit(forged.entries, forged.checkpoints, world.ledger.verifier)
    assert verify_export(forged.folder, world.ledger.verifier).size == forged.index + 1
    report = iv.verify_export(forged.folder, iv.VKey.parse(str(world.ledger.verifier)))[0]
    assert report.size == forged.index + 1


def test_before_rules_3_a_nip_written_with_a_space_still_verifies(
    ledger_factory: LedgerFactory, tmp_path: Path
) -> None:
    """The spelling of NIPs is a rule of version 3: a ledger of version 2 that wrote one with a
    space (Ikrar never did, but a ledger made by hand may) verifies as it always did."""
    world = ledger_factory
    world.signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    world.ledger.create("Kota Uji", ORIGIN, world.signer, world.now(), rules=2)
    actions.register_official(world.ledger, nip(1), "Pejabat 1", "Kabid", "Dinas 1", "official", world.now())
    actions.enrol(world.ctx, nip(1), passphrase(1), world.now())
    spaced = Forgery("key.enrolled", {**person(5), "nip": nip(5) + " ", "key": new_key(world, 5)}, "")
    held_by_both(world, forge(world, tmp_path / "enrolled", spaced))
    published = signatory_nip_with_a_space(world)
    held_by_both(world, forge(world, tmp_path / "published", published))


# -- the README's section on version 3 is true --------------------------------------------------------

README = Path(__file__).parents[2] / "README.md"


def _readme_version_3() -> list[str]:
    """The fenced blocks of the README's section on rules version 3, in order."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("#### Version 3: keys vouched for by admins") :]
    section = section[: min(section.index("\n### "), section.index("\n#### ", 1))]  # up to the next heading
    return [block.split("\n", 1)[1] for block in section.split("```")[1::2]]


def test_the_readmes_statements_are_the_verifiers_and_its_openssl_recipe_works(tmp_path: Path) -> None:
    attestation, approval, revocation_, recipe = _readme_version_3()

    def lines(block: str) -> dict[str, str]:
        return dict(line.split(" ", 1) for line in block.splitlines()[1:])

    a, p, r = lines(attestation), lines(approval), lines(revocation_)
    fields = {k: a[k] for k in ("invitation", "nip", "name", "title", "unit", "role")}
    fields |= {"invited_at": a["time"], "approved_at": p["time"]}
    assert iv.attestation_text(a["origin"], fields) == attestation
    assert iv.approval_text(p["origin"], fields) == approval  # its attestation line: the hash of the one above
    entry = iv.Entry(5, "key.revoked", iv.parse_time(r["time"]), bytes(32), {**r, "by": "x"}, b"")
    assert iv.revocation_text(r["origin"], entry) == revocation_
    key = iv.VKey.parse(r["key"])
    assert key.name == f"{r['origin']}/official/{r['nip']}"
    iv.validate_nip(a["nip"], iv.parse_time(a["time"]).date())

    (tmp_path / "statement.txt").write_bytes(attestation.encode())
    done = subprocess.run(["sh", "-c", recipe], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout, done.stdout + done.stderr
    (tmp_path / "statement.txt").write_bytes(attestation.replace("role official", "role admin").encode())
    done = subprocess.run(["sh", "-c", recipe], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode != 0
