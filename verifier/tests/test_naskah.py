"""The standalone verifier reads the Naskah Komitmen Bersama (`ikrar certificate --commitment S
--naskah`) offline: `cert` knows a naskah by its naskah.json (format ikrar-naskah/v1) and checks it
by the steps key, entries, checkpoint, inclusion, origin, signature, naskah and facts, from the
entries it carries alone, sharing no code with the server; each signature by the verifier's own
certificate steps.

The naskahs are Ikrar's own (`signing.naskah.naskah_pdf`) of a rules-4 ledger made through the
whole process: the Wali Kota (no NIP) and a Kepala Dinas sign, one declines, one signs after a
mutasi and has their key revoked afterwards, one has not answered. A forged one is what whoever
holds the database and the ledger's passphrase could make: an entry replaced, every proof and the
checkpoint made anew and signed with the ledger's key, and the facts naskah.json states that
depend on the checkpoint stated anew — so that only the step under test can fail.
"""

from __future__ import annotations

import base64
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.db import make_engine
from ledger.note import NoteSigner
from ledger.schema import migrate
from ledger.store import Ledger
from signing import actions
from signing.naskah import naskah_pdf
from signing.verify_cert import examine_certificate
from tests.certs import BASE_URL, PRINTED, attachments
from tests.factories import ADMIN, LedgerFactory, nip, passphrase
from tests.signing.documents import rebuild_pages

from .test_ikrar_verify import iv, standalone
from .test_letter import Said as LetterSaid
from .test_letter import Sealed, pdf_of
from .test_letter import cert as run_cert

STEPS = ["key", "entries", "checkpoint", "inclusion", "origin", "signature", "naskah", "facts"]
VECTORS = Path(__file__).parents[2] / "tests" / "vectors"


@dataclass
class Made:
    """A rules-4 world with the commitment smart-city answered in every way, its naskah, and the
    file that holds the ledger's key."""

    world: LedgerFactory
    mayor: str  # the Wali Kota's identifier (no NIP)
    signed: dict[str, int]  # each signature's entry, by NIP or identifier
    declined: int  # official 2's decline
    pdf: bytes
    vkey: Path

    @property
    def files(self) -> dict[str, bytes]:
        return attachments(self.pdf)

    @property
    def manifest(self) -> dict[str, Any]:
        return dict(json.loads(self.files["naskah.json"]))


@pytest.fixture()
def made(ledger_factory: LedgerFactory, tmp_path: Path) -> Made:
    world = ledger_factory.created(rules=4)
    mayor = world.without_nip()
    world.with_commitment(officials=4)
    signed = {mayor: world.sign(mayor).entry.index, nip(1): world.sign(1).entry.index}
    declined = world.decline(2, "Sedang cuti").entry.index
    world.update(3, title="Sekretaris Daerah", unit="Sekretariat Daerah")
    signed[nip(3)] = world.sign(3).entry.index
    actions.revoke(world.ctx, nip(3), "Perangkat hilang", nip(ADMIN), world.now(), passphrase(ADMIN))
    vkey = tmp_path / "ledger.vkey"
    vkey.write_text(f"{world.ledger.verifier}\n")
    pdf = naskah_pdf(world.ledger, "smart-city", base_url=BASE_URL, now=PRINTED)
    return Made(world, mayor, signed, declined, pdf, vkey)


class Said(LetterSaid):
    STEPS = STEPS


def cert(capsys: pytest.CaptureFixture[str], pdf: bytes, folder: Path, *args: str | Path) -> Said:
    """`ikrar_verify.py cert FILE [args]`, run in this process by its main() (as test_letter's)."""
    said = run_cert(capsys, pdf, folder, *args)
    return Said(said.code, said.out, said.err)


def only_failure(said: Said, step: str) -> str:
    """The verdict INVALID at `step`, every step before it ok; its detail."""
    marks = said.steps()
    assert said.code == 1 and f"INVALID: {step}: " in said.err, said.out + said.err
    before = STEPS[: STEPS.index(step)]
    assert [marks[s] for s in before] == ["ok"] * len(before), said.out
    assert marks[step] == "FAIL", said.out
    assert "VALID" not in said.out and "Compare these facts" not in said.out
    return said.detail(step)


def edited(m: Made, manifest: dict[str, Any]) -> bytes:
    return rebuild_pages(m.pdf, replace={"naskah.json": json.dumps(manifest, ensure_ascii=False).encode()})


def resealed(m: Made, leaves: dict[int, bytes]) -> bytes:
    """The world's naskah with the ledger's entries `leaves` replaced, every proof against a
    checkpoint of the entries re-signed with the ledger's key, and what naskah.json states of
    that checkpoint stated anew."""
    sealed = Sealed.of(m.world, leaves)
    files = m.files
    for name in [n for n in files if n.endswith(".tlog-proof")]:
        i = int(name.removeprefix("entry-").removesuffix(".tlog-proof"))
        files[f"entry-{i}.json"] = sealed.stored[i]
        files[name] = sealed.proof(i)
    size, root = sealed.tree.size, base64.b64encode(sealed.tree.root()).decode()
    manifest = m.manifest
    manifest["checkpoint_size"] = size
    for s in manifest["signatures"]:
        s["facts"] |= {"checkpoint_size": size, "checkpoint_root": root}
    files["naskah.json"] = json.dumps(manifest, ensure_ascii=False).encode()
    return pdf_of(files)


# -- what holds ----------------------------------------------------------------------------------


def test_a_real_naskah_is_valid_with_the_key_and_intact_without(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    said = cert(capsys, made.pdf, tmp_path, "--vkey", made.vkey)
    assert said.code == 0, said.out + said.err
    assert said.steps() == dict.fromkeys(STEPS, "ok"), said.out
    assert said.out.rstrip().endswith("\nVALID")
    assert "every signature (3): the official's Ed25519 signature verifies" in said.detail("signature")
    assert "the 5 blocks are the commitment's signatories in its published order: 3 signed, 1 declined, 1 not yet" in (
        said.detail("naskah")
    )
    published = made.manifest["commitment_index"]
    lines = said.out.splitlines()
    for line in [
        f"Commitment 'Komitmen Bersama' (smart-city), published at entry {published}",
        f"    1. signed          Wali Kota Uji, Wali Kota Kediri (identifier {made.mayor}): "
        f"entry {made.signed[made.mayor]}",
        f"    2. signed          Pejabat 1, Kepala Dinas 1 (NIP {nip(1)}): entry {made.signed[nip(1)]}",
        f"    3. declined        Pejabat 2, Kepala Dinas 2 (NIP {nip(2)}): entry {made.declined}, reason: Sedang cuti",
        f"    4. signed          Pejabat 3, Sekretaris Daerah (NIP {nip(3)}): entry {made.signed[nip(3)]}",
        f"    5. not signed yet  Pejabat 4, Kepala Dinas 4 (NIP {nip(4)})",
        "Compare these facts with the printed page: this verifier reads the attachments, not the page.",
    ]:
        assert line in lines, line
    assert any(line.startswith("3 of 5 signed, 1 declined, as of checkpoint size ") for line in lines), said.out

    # what the verifier reads from the entries is, block for block and fact for fact, what Ikrar printed
    checked = iv.check_pdf(made.pdf, iv.VKey.parse(str(made.world.ledger.verifier)))
    assert checked.document == "naskah"
    assert checked.facts["blocks"] == made.manifest["blocks"]
    assert checked.facts["signatures"] == [s["facts"] for s in made.manifest["signatures"]]
    assert examine_certificate(made.pdf, made.world.ledger.verifier).valid  # and Ikrar agrees

    intact = cert(capsys, made.pdf, tmp_path)
    assert intact.code == 0 and intact.steps() == {"key": "--"} | dict.fromkeys(STEPS[1:], "ok"), intact.out
    assert (
        intact.out.rstrip()
        .splitlines()[-1]
        .startswith("INTACT: the naskah holds together under the key embedded in it")
    )


def test_an_auditor_runs_it_on_its_own(made: Made, tmp_path: Path) -> None:
    """As a separate, isolated Python, with the key as text."""
    (tmp_path / "naskah.pdf").write_bytes(made.pdf)
    done = standalone("cert", tmp_path / "naskah.pdf", "--vkey", str(made.world.ledger.verifier))
    assert done.returncode == 0 and done.stdout.rstrip().endswith("\nVALID"), done.stdout + done.stderr
    assert "3 of 5 signed, 1 declined" in done.stdout
    assert standalone("--version").stdout.strip() == "ikrar_verify 5.2 (ledger rules up to version 5)"


def test_a_naskah_of_many_signatories_carries_more_attachments_than_a_certificate(
    ledger_factory: LedgerFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = ledger_factory.created(rules=4).with_commitment(officials=12)
    for n in range(1, 13):
        world.sign(n)
    pdf = naskah_pdf(world.ledger, "smart-city", base_url=BASE_URL, now=PRINTED)
    assert len(attachments(pdf)) > iv.MAX_ATTACHMENTS
    said = cert(capsys, pdf, tmp_path, "--vkey", str(world.ledger.verifier))
    assert said.code == 0 and said.steps() == dict.fromkeys(STEPS, "ok"), said.out + said.err
    assert "12 of 12 signed, as of checkpoint size" in said.out


@pytest.mark.parametrize("release", ["release-4", "release-3"])
def test_a_naskah_of_an_earlier_releases_ledger_verifies(
    release: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No release kept a naskah of its own (tests/vectors has none), so one is printed today from
    the ledger each release wrote: release 4's (an ikrar/signature/v2 signature, a decline, a
    mutasi, a second signature, the first signer's key revoked after) and release 3's (v1
    signatures, named by their keys' enrolments)."""
    folder = VECTORS / release
    shutil.copyfile(folder / "ikrar.db", tmp_path / "ikrar.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'ikrar.db'}")
    migrate(engine)
    ledger = Ledger(engine)
    with ledger.read() as r:
        slug = next(e.fields["slug"] for e in r.entries(0, 100) if e.kind == "commitment.published")
    pdf = naskah_pdf(ledger, slug, base_url=BASE_URL, now=PRINTED)
    said = cert(capsys, pdf, tmp_path, "--vkey", folder / "vkey")
    assert said.code == 0 and said.steps() == dict.fromkeys(STEPS, "ok"), said.out + said.err
    blocks = json.loads(attachments(pdf)["naskah.json"])["blocks"]
    assert {b["status"] for b in blocks} == (
        {"signed", "declined"} if release == "release-4" else {"signed", "pending"}
    )


# -- what fails ---------------------------------------------------------------------------------


def test_a_naskah_under_another_ledgers_key_fails_key(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = NoteSigner(made.world.ledger.origin, Ed25519PrivateKey.generate()).verifier
    said = cert(capsys, made.pdf, tmp_path, "--vkey", str(other))
    assert said.code == 1 and said.steps() == {"key": "FAIL"} | dict.fromkeys(STEPS[1:], "ok"), said.out
    assert f"INVALID: key: the naskah's ledger key {made.world.ledger.verifier} is not the trusted key {other}" in (
        said.err
    )


@pytest.mark.parametrize(
    ("block", "member", "forged", "step"),
    [
        (1, "name", "Pejabat Lain", "facts"),  # a signed block: the name its signature names
        (3, "capacity", "Wakil Wali Kota", "facts"),  # a signed block: the capacity signed after the mutasi
        (2, "reason", "Tidak setuju", "facts"),  # a declined block: the reason its decline gives
        (4, "status", "signed", "naskah"),  # a pending block made signed
        (2, "status", "pending", "naskah"),  # a declined block made pending
        (0, "index", 1, "naskah"),  # a signed block naming another entry
    ],
)
def test_a_block_changed_in_naskah_json_is_named(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str], block: int, member: str, forged: Any, step: str
) -> None:
    manifest = made.manifest
    true = manifest["blocks"][block][member]
    manifest["blocks"][block][member] = forged
    said = cert(capsys, edited(made, manifest), tmp_path, "--vkey", made.vkey)
    detail = only_failure(said, step)
    who = f"identifier {made.mayor}" if block == 0 else f"NIP {manifest['blocks'][block]['nip']}"
    if step == "facts":
        assert detail.endswith(
            f"naskah.json says the {member} of block {block + 1} ({who}) is {forged} where the ledger says {true}"
        ), detail
    elif member == "status":
        assert detail.endswith(f"block {block + 1} ({who}) says {forged} where the ledger says {true}"), detail
        assert said.steps()["facts"] == "--"
    else:
        assert detail.endswith(f"block {block + 1} ({who}) names entry {forged} where their signature is entry {true}")


def test_a_pending_blocks_name_is_the_registers_as_stated(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The ledger holds no name for a signatory who has not answered: the naskah states the
    register's, and the verifier prints it as stated, saying so; a member the ledger has no
    place for is refused."""
    manifest = made.manifest
    manifest["blocks"][4]["name"] = "Pejabat Empat"
    said = cert(capsys, edited(made, manifest), tmp_path, "--vkey", made.vkey)
    assert said.code == 0, said.out + said.err
    assert f"    5. not signed yet  Pejabat Empat, Kepala Dinas 4 (NIP {nip(4)})" in said.out.splitlines()
    assert "The name and capacity of a block not signed are the register's, as naskah.json states them" in said.out
    manifest["blocks"][4]["index"] = made.declined
    detail = only_failure(cert(capsys, edited(made, manifest), tmp_path, "--vkey", made.vkey), "naskah")
    assert detail.endswith(
        f"block 5 (NIP {nip(4)}) names entry {made.declined} where the naskah carries no signature or decline of theirs"
    )
    del manifest["blocks"][4]["index"]
    manifest["blocks"][4]["rank"] = "Pembina"
    detail = only_failure(cert(capsys, edited(made, manifest), tmp_path, "--vkey", made.vkey), "facts")
    assert detail.endswith(f"naskah.json states of block 5 (NIP {nip(4)}) what the ledger does not: rank")


def test_the_blocks_in_another_order_fail_naskah(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = made.manifest
    blocks = manifest["blocks"]
    blocks[1], blocks[2] = blocks[2], blocks[1]
    detail = only_failure(cert(capsys, edited(made, manifest), tmp_path, "--vkey", made.vkey), "naskah")
    assert detail.endswith(
        f"the blocks are not the commitment's required signatories in its published order: block 2 is {nip(2)} where "
        f"entry {manifest['commitment_index']} lists {nip(1)}"
    ), detail
    del blocks[4]
    detail = only_failure(cert(capsys, edited(made, manifest), tmp_path, "--vkey", made.vkey), "naskah")
    assert "naskah.json has 4 blocks where the commitment at entry" in detail and "lists 5 required" in detail


@pytest.mark.parametrize(("fact", "forged"), [("name", "Pejabat Lain"), ("time", "2026-01-05T02:00:00Z")])
def test_a_signatures_fact_changed_fails_facts(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str], fact: str, forged: str
) -> None:
    manifest = made.manifest
    signature = manifest["signatures"][1]
    true = signature["facts"][fact]
    signature["facts"][fact] = forged
    detail = only_failure(cert(capsys, edited(made, manifest), tmp_path, "--vkey", made.vkey), "facts")
    index = signature["entries"][-1]
    assert detail.endswith(f"signature {index}: naskah.json says {fact} is {forged} where the ledger says {true}"), (
        detail
    )


def test_a_fact_of_the_naskah_changed_fails_facts(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = made.manifest
    size = manifest["checkpoint_size"]
    manifest["checkpoint_size"] = size + 5
    detail = only_failure(cert(capsys, edited(made, manifest), tmp_path, "--vkey", made.vkey), "facts")
    assert detail.endswith(f"naskah.json says checkpoint_size is {size + 5} where the ledger says {size}")


@pytest.mark.parametrize(
    "missing", ["entry-{enrolled}.json", "entry-{declined}.tlog-proof", "entry-{commitment}.json", "ledger.vkey"]
)
def test_an_attachment_removed_is_named(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str], missing: str
) -> None:
    manifest = made.manifest
    name = missing.format(
        enrolled=manifest["signatures"][0]["entries"][1],
        declined=made.declined,
        commitment=manifest["commitment_index"],
    )
    files = made.files
    del files[name]
    said = cert(capsys, pdf_of(files), tmp_path, "--vkey", made.vkey)
    assert said.code == 1 and said.out == "", said.out
    assert said.err.strip() == f"error: the naskah lacks its attachment {name}"


def test_an_entry_swapped_for_another_fails_entries(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = made.files
    swapped = rebuild_pages(
        made.pdf, replace={f"entry-{made.declined}.json": files[f"entry-{made.signed[nip(1)]}.json"]}
    )
    detail = only_failure(cert(capsys, swapped, tmp_path, "--vkey", made.vkey), "entries")
    assert detail.endswith(
        f"entry-{made.declined}.json is entry {made.signed[nip(1)]} (commitment.signed), not entry {made.declined}"
    ), detail

    manifest = made.manifest
    manifest["declines"] = [made.signed[nip(1)]]  # a signature named as a decline
    detail = only_failure(cert(capsys, edited(made, manifest), tmp_path, "--vkey", made.vkey), "entries")
    assert detail.endswith(
        f"entry-{made.signed[nip(1)]}.json is a commitment.signed entry, where the naskah needs commitment.declined"
    )


def test_a_proof_altered_fails_inclusion(made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = made.signed[nip(3)]
    files = made.files
    proof = files[f"entry-{index}.tlog-proof"].decode().split("\n")
    proof[2] = base64.b64encode(bytes(32)).decode()  # its first hash
    forged = rebuild_pages(made.pdf, replace={f"entry-{index}.tlog-proof": "\n".join(proof).encode()})
    detail = only_failure(cert(capsys, forged, tmp_path, "--vkey", made.vkey), "inclusion")
    assert detail.endswith(
        f"signature {index}: the inclusion proof for entry {index} does not lead to the root of size "
        f"{made.manifest['checkpoint_size']}"
    ), detail


def test_the_forgers_reseal_alone_changes_nothing(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The twin of the forgeries below: resealed without a forged entry, the naskah is VALID."""
    said = cert(capsys, resealed(made, {}), tmp_path, "--vkey", made.vkey)
    assert said.code == 0 and said.steps() == dict.fromkeys(STEPS, "ok"), said.out + said.err


def _with_signature_flipped(m: Made, index: int) -> bytes:
    body = json.loads(m.files[f"entry-{index}.json"])
    raw = bytearray(base64.b64decode(body["signature"]))
    raw[0] ^= 1
    body["signature"] = base64.b64encode(bytes(raw)).decode()
    return resealed(m, {index: rfc8785.dumps(body)})


def test_a_decline_whose_signature_does_not_verify_fails_naskah(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    said = cert(capsys, _with_signature_flipped(made, made.declined), tmp_path, "--vkey", made.vkey)
    assert said.steps()["signature"] == "ok", said.out
    detail = only_failure(said, "naskah")
    assert detail.endswith(f"the decline at entry {made.declined}: the decline for official {nip(2)} does not verify")
    assert said.steps()["facts"] == "--"


def test_a_signature_that_does_not_verify_fails_signature(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = made.signed[nip(1)]
    said = cert(capsys, _with_signature_flipped(made, index), tmp_path, "--vkey", made.vkey)
    detail = only_failure(said, "signature")
    assert detail.endswith(f"signature {index}: the signature of official {nip(1)} does not verify"), detail
    assert said.steps()["naskah"] == "ok" and said.steps()["facts"] == "--", said.out


def test_a_signature_of_someone_not_a_signatory_fails_naskah(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The commitment's list forged without official 1 (its text and hash kept): their genuine
    signature is no longer a required signatory's."""
    manifest = made.manifest
    index = manifest["commitment_index"]
    body = json.loads(made.files[f"entry-{index}.json"])
    body["signers"].remove(nip(1))
    forged = resealed(made, {index: rfc8785.dumps(body)})
    detail = only_failure(cert(capsys, forged, tmp_path, "--vkey", made.vkey), "naskah")
    assert detail.endswith(
        f"naskah.json has 5 blocks where the commitment at entry {index} lists 4 required signatories"
    )
    files = attachments(forged)
    manifest = json.loads(files["naskah.json"])
    del manifest["blocks"][1]
    files["naskah.json"] = json.dumps(manifest).encode()
    detail = only_failure(cert(capsys, pdf_of(files), tmp_path, "--vkey", made.vkey), "naskah")
    assert detail.endswith(
        f"the naskah's entries are not its commitment's: the signature at entry {made.signed[nip(1)]} is by NIP "
        f"{nip(1)}, not a required signatory"
    ), detail


# -- what is refused -------------------------------------------------------------------------------


def test_more_than_150_signatories_are_refused(made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    block = made.manifest["blocks"][4]
    manifest = made.manifest | {"blocks": [block] * 151, "signatures": [], "declines": []}
    files = {"naskah.json": json.dumps(manifest).encode(), "ledger.vkey": made.files["ledger.vkey"]}
    said = cert(capsys, pdf_of(files), tmp_path, "--vkey", made.vkey)
    assert said.code == 1 and said.out == ""
    assert said.err.strip() == "error: naskah.json names 151 signatories: a naskah prints at most 150"
    # 150 are not refused for their number: the first file they need is missing
    files["naskah.json"] = json.dumps(manifest | {"blocks": [block] * 150}).encode()
    said = cert(capsys, pdf_of(files), tmp_path, "--vkey", made.vkey)
    assert said.err.strip() == "error: the naskah lacks its attachment entry-0.json"


def test_more_attachments_than_a_naskah_carries_are_refused(made: Made) -> None:
    padded = made.files | {f"lampiran-{n}.txt": b"x" for n in range(iv.MAX_NASKAH_ATTACHMENTS - len(made.files))}
    assert iv.read_attachments(pdf_of(padded)).keys() == padded.keys()
    padded["lampiran-extra.txt"] = b"x"
    with pytest.raises(iv.Invalid, match="^the PDF has more than 640 attachments: not a naskah$"):
        iv.read_attachments(pdf_of(padded))
    del padded["naskah.json"]
    with pytest.raises(iv.Invalid, match="more than 32 attachments: not a certificate"):
        iv.read_attachments(pdf_of(padded))


def test_a_naskah_json_that_is_not_a_naskahs_is_refused(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for manifest, words in [
        (made.manifest | {"format": "ikrar-naskah/v2"}, "naskah.json is not an Ikrar naskah of format ikrar-naskah/v1"),
        (made.manifest | {"blocks": "semua"}, "naskah.json does not name the commitment, its blocks, its signatures"),
        (made.manifest | {"declines": [-1]}, "naskah.json does not name the commitment, its blocks, its signatures"),
        (
            made.manifest | {"signatures": [{"entries": [0, 1, 2]}]},
            "naskah.json does not name the four entries behind each signature and its facts",
        ),
    ]:
        said = cert(capsys, edited(made, manifest), tmp_path, "--vkey", made.vkey)
        assert said.code == 1 and said.out == "" and said.err.startswith(f"error: {words}"), said.err
    garbage = rebuild_pages(made.pdf, replace={"naskah.json": b"\xff{"})
    assert cert(capsys, garbage, tmp_path).err.strip() == "error: naskah.json is not JSON"
