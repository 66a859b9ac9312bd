"""Rules version 4 (issues 12 and 13) in the standalone verifier: it accepts the ledgers
Ikrar makes — officials without a NIP, `official.updated`, `ikrar/signature/v2`, declines,
deadlines and their extensions — and refuses every entry forged past those rules at the same
index as Ikrar's audit, with the same reason (the machinery of test_vouching.py: each forged
entry genuinely signed, so that only the rule under test is broken).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.note import VerifierKey
from ledger.statements import Decline, Statement, Update, encode_signature
from ledger.times import format_time
from signing import actions
from signing.certificate import certificate_pdf
from tests.certs import BASE_URL, PRINTED
from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE, LedgerFactory, nip, passphrase, passphrase_of

from .test_ikrar_verify import iv, standalone
from .test_vouching import (
    Forgery,
    accepted,
    admin_vouches,
    enrolment,
    exported,
    flip,
    forge,
    key_of,
    kinds_and_fields,
    openssl_verifies,
    refused_by_both,
)

DAY = timedelta(days=1)


def v4_world(ledger_factory: LedgerFactory) -> LedgerFactory:
    """A rules-4 ledger: three officials and the Wali Kota without a NIP on a commitment with a deadline."""
    world = ledger_factory.created(rules=4)
    for n in (1, 2, 3):
        world.official(n)
    world.without_nip("Wali Kota Uji", "Wali Kota Kediri")
    actions.publish(
        world.ctx,
        "smart-city",
        "Komitmen",
        "Kami berkomitmen.\n",
        world.officials,
        "admin",
        world.now(),
        world.clock + DAY,
    )
    return world


def test_a_ledger_with_everything_of_rules_4_verifies(ledger_factory: LedgerFactory, tmp_path: Path) -> None:
    world = v4_world(ledger_factory)
    mayor = world.officials[-1]
    world.sign(1)
    world.update(1, "Mutasi", title="Kepala Dinas Perhubungan Kota Kediri", unit="Dinas Perhubungan")
    world.update(2, "Penunjukan Plt.", acting="Plt.", appointment="800/1/419.022/2026", rank="Pembina (IV/a)")
    world.sign(2)
    world.decline(3, "Sedang cuti besar")
    actions.extend(
        world.ctx, "smart-city", world.clock + 3 * DAY, "admin", "Wali Kota bertugas ke luar kota", world.now()
    )
    signed = world.sign(mayor)
    report = accepted(world, exported(world, tmp_path / "export"))
    assert report.rules == 4 and report.signatures == 3
    kinds = [kind for kind, _ in kinds_and_fields(tmp_path / "export")]
    assert {"official.updated", "commitment.declined", "commitment.extended"} <= set(kinds)

    # every statement of the ledger is the bytes signed, as openssl checks them
    origin, checked = world.ledger.origin, set()
    for entry in _entries(tmp_path / "export"):
        kind, f = entry.kind, entry.fields
        if kind == "commitment.signed":
            text, key, signature = iv.statement_text(origin, entry), f["key"], f["signature"]
        elif kind == "commitment.declined":
            text, key, signature = iv.decline_text(origin, entry), f["key"], f["signature"]
        elif kind == "official.updated":
            text, key, signature = iv.update_text(origin, entry), f["attester"], f["attestation"]
        else:
            continue
        assert openssl_verifies(tmp_path, text, key, signature), text
        assert not openssl_verifies(tmp_path, text.replace("\ntime ", "\ntime  "), key, signature)
        checked.add(text.split("\n")[0])
    assert checked == {"ikrar/signature/v2", "ikrar/decline/v1", "ikrar/update/v1"}

    # the certificate of the Wali Kota's signature: no NIP, and the capacity signed
    pdf = tmp_path / "sertifikat.pdf"
    pdf.write_bytes(certificate_pdf(world.ledger, signed.entry.index, lang="id", base_url=BASE_URL, now=PRINTED))
    result = standalone("cert", pdf, "--vkey", str(world.ledger.verifier))
    assert result.returncode == 0 and result.stdout.rstrip().endswith("VALID"), result.stdout + result.stderr


def _entries(folder: Path) -> list[Any]:
    """Every exported entry, as the standalone verifier reads it."""
    return [
        iv.parse_entry(base64.b64decode(json.loads(line)["leaf"]))
        for line in (folder / "entries.jsonl").read_text().splitlines()
    ]


# -- forging past the rules of version 4 -------------------------------------------------------------


def answer(world: LedgerFactory, kind: str, who: str, words: str, at: datetime | None, **more: str) -> Forgery:
    """A `commitment.signed` or `commitment.declined` of the commitment by `who`, genuinely signed
    with their key over the statement its fields make, at `at` (None: the world's next minute)."""
    moment = at or world.now()
    with world.ledger.read() as r:
        c = r.commitment("smart-city")
    assert c is not None
    key = key_of(world, who)
    fields: dict[str, Any] = {
        "slug": "smart-city",
        "commitment_sha256": c.text_sha256,
        "commitment_index": c.published_index,
        "nip": who,
        "key": key,
        **more,
    }
    statement = (Statement if kind == "commitment.signed" else Decline).of_fields(world.ledger.origin, fields, moment)
    raw = world.keys.signer(VerifierKey.parse(key), passphrase_of(who))(statement.message())
    return Forgery(kind, fields | {"signature": encode_signature(raw)}, words, moment)


def signature(world: LedgerFactory, who: str, words: str, *, at: datetime | None = None, **signed_as: str) -> Forgery:
    """A signature (v2 when `signed_as` names a capacity)."""
    return answer(world, "commitment.signed", who, words, at, **signed_as)


def declining(
    world: LedgerFactory, who: str, words: str, *, at: datetime | None = None, reason: str = "Cuti"
) -> Forgery:
    return answer(world, "commitment.declined", who, words, at, reason=reason)


def in_force(world: LedgerFactory, who: str) -> dict[str, str]:
    with world.ledger.read() as r:
        identity = r.identities([who])[who]
    return {"name": identity.name, "capacity": identity.capacity, "unit": identity.unit}


def updating(
    world: LedgerFactory, who: str, words: str, by: str = ADMIN_NIP, secret: str = ADMIN_PASSPHRASE, **identity: str
) -> Forgery:
    """An `official.updated` of `who`, attested by `by` (genuinely, with their key)."""
    moment = world.now()
    with world.ledger.read() as r:
        current = r.identities([who])[who]
    fields: dict[str, Any] = {"nip": who, **current.fields(), **identity, "reason": "Mutasi"}
    fields = {k: v for k, v in fields.items() if v is not None}
    key = key_of(world, by)
    statement = Update.of_fields(world.ledger.origin, fields, moment)
    raw = world.keys.signer(VerifierKey.parse(key), secret)(statement.text().encode())
    fields |= {"attested_by": by, "attester": key, "attestation": encode_signature(raw)}
    return Forgery("official.updated", fields, words, moment)


def extending(world: LedgerFactory, deadline: datetime, words: str, reason: str = "Diperpanjang") -> Forgery:
    fields = {"slug": "smart-city", "deadline": format_time(deadline), "by": "admin", "reason": reason}
    return Forgery("commitment.extended", fields, words)


def capacity_not_in_force(world: LedgerFactory) -> Forgery:
    world.update(1, "Mutasi", title="Kepala Dinas Perhubungan Kota Kediri")
    old = {"name": "Pejabat 1", "capacity": "Kepala Dinas 1", "unit": "Dinas 1"}
    return signature(world, nip(1), "the name, capacity or unit signed is not official", **old)


def signature_without_capacity(world: LedgerFactory) -> Forgery:
    return signature(world, nip(1), "does not name their name, capacity and unit (rules version 4)")


def signature_in_part(world: LedgerFactory) -> Forgery:
    named = in_force(world, nip(1))
    forgery = signature(world, nip(1), "does not name their name, capacity and unit", **named)
    del forgery.fields["unit"]
    return forgery


def signature_v2_flipped(world: LedgerFactory) -> Forgery:
    forgery = signature(world, nip(1), "the signature of official", **in_force(world, nip(1)))
    forgery.fields["signature"] = flip(forgery.fields["signature"])
    return forgery


def signature_after_a_decline(world: LedgerFactory) -> Forgery:
    world.decline(1)
    return signature(world, nip(1), "has declined 'smart-city'", **in_force(world, nip(1)))


def decline_after_a_signature(world: LedgerFactory) -> Forgery:
    world.sign(1)
    return declining(world, nip(1), "has already signed 'smart-city'")


def signature_after_the_deadline(world: LedgerFactory) -> Forgery:
    return signature(
        world, nip(1), "the deadline of 'smart-city' passed at", at=world.clock + 2 * DAY, **in_force(world, nip(1))
    )


def decline_after_the_deadline(world: LedgerFactory) -> Forgery:
    return declining(world, nip(2), "the deadline of 'smart-city' passed at", at=world.clock + 2 * DAY)


def decline_without_a_reason(world: LedgerFactory) -> Forgery:
    return declining(world, nip(2), "a decline needs a reason", reason=" ")


def decline_flipped(world: LedgerFactory) -> Forgery:
    forgery = declining(world, nip(2), "the decline for official")
    forgery.fields["signature"] = flip(forgery.fields["signature"])
    return forgery


def update_by_themselves(world: LedgerFactory) -> Forgery:
    return updating(world, ADMIN_NIP, "attests their own update", name="Admin Baru")


def update_by_an_officials_key(world: LedgerFactory) -> Forgery:
    return updating(world, nip(1), "is not an active admin key", by=nip(2), secret=passphrase(2), name="X")


def update_changing_nothing(world: LedgerFactory) -> Forgery:
    return updating(world, nip(1), "changes nothing")


def update_acting_without_letter(world: LedgerFactory) -> Forgery:
    return updating(world, nip(1), "come together", acting="Plt.")


def update_of_someone_never_enrolled(world: LedgerFactory) -> Forgery:
    forgery = updating(world, nip(1), "was never enrolled")
    forgery.fields["nip"] = nip(7)
    return forgery


def update_flipped(world: LedgerFactory) -> Forgery:
    forgery = updating(world, nip(1), "the update for official", name="Nama Baru")
    forgery.fields["attestation"] = flip(forgery.fields["attestation"])
    return forgery


def extension_to_an_earlier_time(world: LedgerFactory) -> Forgery:
    return extending(world, world.clock + timedelta(hours=1), "is not after")


def extension_without_a_reason(world: LedgerFactory) -> Forgery:
    return extending(world, world.clock + 5 * DAY, "an extension needs a reason", reason="")


def identifier_misspelt(world: LedgerFactory) -> Forgery:
    mayor = world.officials[-1]
    forgery = updating(world, mayor, "", name="Wali Kota Baru")
    forgery.fields["nip"] = mayor.upper()
    return Forgery(forgery.kind, forgery.fields, "an identifier without a NIP is pn- and 6 of", forgery.at)


SCENARIOS: dict[str, Callable[[LedgerFactory], Forgery]] = {
    "a capacity that is not the one in force": capacity_not_in_force,
    "a signature without a capacity": signature_without_capacity,
    "a signature naming its signer in part": signature_in_part,
    "a v2 signature with one byte flipped": signature_v2_flipped,
    "a signature after a decline": signature_after_a_decline,
    "a decline after a signature": decline_after_a_signature,
    "a signature after the deadline": signature_after_the_deadline,
    "a decline after the deadline": decline_after_the_deadline,
    "a decline without a reason": decline_without_a_reason,
    "a decline with one byte flipped": decline_flipped,
    "an update attested by the official": update_by_themselves,
    "an update attested by an official's key": update_by_an_officials_key,
    "an update that changes nothing": update_changing_nothing,
    "an update to Plt. without a letter": update_acting_without_letter,
    "an update of someone never enrolled": update_of_someone_never_enrolled,
    "an update with one byte flipped": update_flipped,
    "an extension to an earlier time": extension_to_an_earlier_time,
    "an extension without a reason": extension_without_a_reason,
    "an identifier in capitals": identifier_misspelt,
}


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))
def test_an_entry_forged_past_the_rules_of_version_4_is_refused_by_both(
    ledger_factory: LedgerFactory, tmp_path: Path, scenario: str
) -> None:
    world = v4_world(ledger_factory)
    forgery = SCENARIOS[scenario](world)
    accepted(world, exported(world, tmp_path / "before"), command_line=False)
    reason = refused_by_both(world, forge(world, tmp_path / "forged", forgery))
    assert reason.startswith(f"{forgery.kind} breaks a rule: "), reason
    assert forgery.words in reason, reason


def _published_with_deadline(world: LedgerFactory) -> dict[str, Any]:
    text = "Teks lain.\n"
    return {
        "slug": "lain",
        "title": "Lain",
        "text": text,
        "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "signers": [nip(1)],
        "by": "admin",
        "deadline": format_time(world.clock + DAY),
    }


@pytest.mark.parametrize(
    ("what", "words"),
    [
        ("capacity", "a signer's name and capacity before rules version 4"),
        ("update", "an official's identity is updated from rules version 4 on"),
        ("decline", "a commitment is declined from rules version 4 on"),
        ("extension", "a deadline is extended from rules version 4 on"),
        ("identifier", "NIP must be exactly 18 digits"),
        ("rank", "a rank or an acting position before rules version 4, which no statement would sign"),
        ("deadline", "a deadline before rules version 4"),
    ],
)
def test_what_rules_4_brings_is_refused_before_it(
    ledger_factory: LedgerFactory, tmp_path: Path, what: str, words: str
) -> None:
    world = ledger_factory.created(rules=3).with_commitment(officials=2)
    forgery = {
        "capacity": lambda: signature(
            world, nip(1), words, name="Pejabat 1", capacity="Kepala Dinas 1", unit="Dinas 1"
        ),
        "update": lambda: updating(world, nip(1), words, name="Nama Baru"),
        "decline": lambda: declining(world, nip(1), words),
        "extension": lambda: extending(world, world.clock + DAY, words),
        "identifier": lambda: Forgery(
            "key.enrolled",
            {
                "nip": "pn-2345ab",
                "name": "Wali Kota",
                "title": "Wali Kota Kediri",
                "unit": "Pemerintah Kota Kediri",
                "key": str(VerifierKey(f"{world.ledger.origin}/official/pn-2345ab", bytes(range(32)))),
            },
            words,
        ),
        "rank": lambda: enrolment(world, 5, admin_vouches(world, 5) | {"rank": "Pembina (IV/a)"}, words),
        "deadline": lambda: Forgery("commitment.published", _published_with_deadline(world), words),
    }[what]()
    reason = refused_by_both(world, forge(world, tmp_path / "forged", forgery))
    assert reason == f"{forgery.kind} breaks a rule: {words}"
