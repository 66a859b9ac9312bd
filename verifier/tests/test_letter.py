"""The standalone verifier reads the Surat Rekomendasi (`ikrar app letter ID -o FILE`) offline:
`cert` knows a letter by its letter.json (format ikrar-letter/v1) and checks it by the steps key,
entries, checkpoint, inclusion, origin, signatures, letter and facts, from the entries it
carries alone, sharing no code with the server.

The letters are Ikrar's own (`signing.app_letter.render_letter`, through the whole process: a
request, a return, revision 2, a review, a decision with notes). A forged one is what whoever
holds the database and the ledger's passphrase could make: its entries written past the rules,
every proof and the checkpoint made anew and signed with the ledger's key, and its letter.json
facts what Ikrar's own `letter_facts` reads from those entries — so that only the step under
test can fail.
"""

from __future__ import annotations

import base64
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfWriter

from ledger.checkpoint import Checkpoint, TlogProof
from ledger.entries import entry_from_leaf, make_entry
from ledger.merkle import MemoryTree, inclusion_proof, leaf_hash
from ledger.note import NoteSigner, VerifierKey
from ledger.statements import AppDecision, encode_signature
from signing import apps
from signing.app_letter import Signed, letter_facts
from signing.errors import EvidenceMismatch
from signing.naskah import naskah_pdf
from tests.certs import BASE_URL, PRINTED, attachments
from tests.factories import LedgerFactory, nip, passphrase
from tests.signing.documents import rebuild_pages
from tests.signing.test_app_letter import REVIEWER, _checklist, decided, letter, submitted, with_roles

from .test_ikrar_verify import iv, standalone
from .test_vouching import key_of

STEPS = ["key", "entries", "checkpoint", "inclusion", "origin", "signatures", "letter", "facts"]


@dataclass
class Made:
    """A world with one application decided (returned once, revised, reviewed, decided with
    notes), its letter, and the files that hold the letter and the ledger's key."""

    world: LedgerFactory
    app: str
    index: int  # the decision's entry
    pdf: bytes
    vkey: Path

    @property
    def files(self) -> dict[str, bytes]:
        return attachments(self.pdf)

    @property
    def manifest(self) -> dict[str, Any]:
        return dict(json.loads(self.files["letter.json"]))


@pytest.fixture()
def made(world: LedgerFactory, tmp_path: Path) -> Made:
    with_roles(world)
    app, index = decided(world, "recommended_with_notes")
    vkey = tmp_path / "ledger.vkey"
    vkey.write_text(f"{world.ledger.verifier}\n")
    return Made(world, app, index, letter(world, app), vkey)


@dataclass(frozen=True)
class Said:
    code: int
    out: str
    err: str

    STEPS: ClassVar[list[str]] = STEPS  # the steps of the document checked

    def steps(self) -> dict[str, str]:
        """Each step's mark: ok, FAIL or --."""
        lines = [line.split() for line in self.out.splitlines() if line.startswith("  ")]
        return {parts[1]: parts[0] for parts in lines if len(parts) >= 2 and parts[1] in self.STEPS}

    def detail(self, step: str) -> str:
        return next(line for line in self.out.splitlines() if line.split()[1:2] == [step])


def cert(capsys: pytest.CaptureFixture[str], pdf: bytes, folder: Path, *args: str | Path) -> Said:
    """`ikrar_verify.py cert FILE [args]`, run in this process by its main()."""
    path = folder / "surat.pdf"
    path.write_bytes(pdf)
    code = iv.main(["cert", str(path), *map(str, args)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return Said(code, out, err)


def pdf_of(files: dict[str, bytes]) -> bytes:
    """A PDF of one blank page carrying `files`: the standalone verifier reads the attachments only."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    for name, data in files.items():
        writer.add_attachment(name, data)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass(frozen=True)
class Sealed:
    """A world's ledger with some entries forged, sealed again: a checkpoint of the forged
    entries signed with the ledger's own key, and a tlog-proof of any entry against it. What
    a forger holding the ledger key could attach; the verifier must still name the forgery."""

    stored: list[bytes]  # every leaf, the forged ones in place
    tree: MemoryTree
    checkpoint: Checkpoint

    @classmethod
    def of(cls, world: LedgerFactory, leaves: dict[int, bytes]) -> Sealed:
        """`world`'s entries with `leaves` in place of theirs (the index after the last appends one)."""
        assert world.signer is not None
        with world.ledger.read() as r:
            stored = [e.leaf for e in r.stored_entries()]
        for i, leaf in sorted(leaves.items()):
            if i == len(stored):
                stored.append(leaf)
            else:
                stored[i] = leaf
        tree = MemoryTree([leaf_hash(x) for x in stored])
        return cls(stored, tree, Checkpoint(world.ledger.origin, tree.size, tree.root()).signed(world.signer))

    def proof(self, i: int) -> bytes:
        """The tlog-proof of entry `i` against the checkpoint."""
        return TlogProof(i, tuple(inclusion_proof(i, self.tree.size, self.tree)), self.checkpoint.note).text().encode()


def resealed(
    m: Made, leaves: dict[int, bytes], history: list[int] | None = None, signed: list[dict[str, int]] | None = None
) -> bytes:
    """The world's letter with the ledger's entries `leaves` replaced (or one appended), naming
    `history` and `signed` (default: the letter's own), every proof against a checkpoint of the
    entries re-signed with the ledger's key. letter.json states what Ikrar's `letter_facts`
    reads from those entries; where Ikrar refuses them, the facts the letter stated."""
    sealed = Sealed.of(m.world, leaves)
    stored, cp = sealed.stored, sealed.checkpoint
    manifest = m.manifest
    history = manifest["history"] if history is None else history
    signed = manifest["signed"] if signed is None else signed
    carried = sorted({0, *history, *(s[k] for s in signed for k in ("enrolled", "granted"))})
    files = {name: data for name, data in m.files.items() if not name.startswith("entry-")}
    for i in carried:
        files[f"entry-{i}.json"] = stored[i]
        files[f"entry-{i}.tlog-proof"] = sealed.proof(i)
    entries = {i: entry_from_leaf(stored[i]) for i in carried}
    support = {i: e for i, e in entries.items() if i not in history and i != 0}
    try:
        facts = letter_facts(
            entries[0],
            [entries[i] for i in history],
            support,
            [Signed(**s) for s in signed],
            cp,
            m.world.ledger.verifier,
        ).to_json()
    except EvidenceMismatch:
        facts = manifest["facts"]
    manifest |= {"history": history, "signed": signed, "decision_index": history[-1], "facts": facts}
    manifest["checkpoint_size"] = sealed.tree.size
    files["letter.json"] = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
    return pdf_of(files)


def only_failure(said: Said, step: str) -> str:
    """The verdict INVALID at `step`, every step before it ok; its detail."""
    marks = said.steps()
    assert said.code == 1 and f"INVALID: {step}: " in said.err, said.out + said.err
    before = STEPS[: STEPS.index(step)]
    assert [marks[s] for s in before] == ["ok"] * len(before), said.out
    assert marks[step] == "FAIL", said.out
    assert "VALID" not in said.out and "Compare these facts" not in said.out
    return said.detail(step)


# -- what holds ----------------------------------------------------------------------------------


def test_a_real_letter_is_valid_with_the_key_and_intact_without(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    said = cert(capsys, made.pdf, tmp_path, "--vkey", made.vkey)
    assert said.code == 0, said.out + said.err
    assert said.steps() == dict.fromkeys(STEPS, "ok"), said.out
    assert said.out.rstrip().endswith("\nVALID")
    facts = made.manifest["facts"]
    assert (facts["decision"], facts["revision"], facts["decided_index"]) == ("recommended_with_notes", 2, made.index)
    for line in [
        f"Application {made.app}, revision 2: Sistem Informasi Perizinan Terpadu (Dinas 1)",
        "decision: DIREKOMENDASIKAN DENGAN CATATAN (recommended with notes), with 2 notes",
        f"decided at entry {made.index}, {facts['decided_time']} (UTC), signed by Pejabat 3 "
        f"(Kepala Dinas 3, NIP {nip(3)})",
        "Compare these facts with the printed page: this verifier reads the attachments, not the page.",
    ]:
        assert line in said.out.splitlines(), line
    assert "the 2 signed requests and the decision, and every role's and key's attestation, verify" in said.out

    # what the verifier reads from the entries is, fact for fact, what Ikrar printed
    checked = iv.check_pdf(made.pdf, iv.VKey.parse(str(made.world.ledger.verifier)))
    assert checked.document == "letter" and checked.facts == facts
    assert list(facts) == sorted(iv.LETTER_FACTS)

    intact = cert(capsys, made.pdf, tmp_path)
    assert intact.code == 0 and intact.steps() == {"key": "--"} | dict.fromkeys(STEPS[1:], "ok"), intact.out
    assert (
        intact.out.rstrip()
        .splitlines()[-1]
        .startswith("INTACT: the letter holds together under the key embedded in it")
    )


def test_an_auditor_runs_it_on_its_own(made: Made, tmp_path: Path) -> None:
    """As a separate, isolated Python, with the key as text."""
    (tmp_path / "surat.pdf").write_bytes(made.pdf)
    done = standalone("cert", tmp_path / "surat.pdf", "--vkey", str(made.world.ledger.verifier))
    assert done.returncode == 0 and done.stdout.rstrip().endswith("\nVALID"), done.stdout + done.stderr
    assert f"Application {made.app}, revision 2" in done.stdout
    assert standalone("--version").stdout.strip() == "ikrar_verify 5.2 (ledger rules up to version 5)"


def test_a_letter_carries_more_attachments_than_a_certificate(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    padded = made.files | {f"lampiran-{n}.txt": b"x" for n in range(40)}
    assert cert(capsys, pdf_of(padded), tmp_path, "--vkey", made.vkey).code == 0
    del padded["letter.json"]
    with pytest.raises(iv.Invalid, match="more than 32 attachments: not a certificate"):
        iv.read_attachments(pdf_of(padded))
    many = made.files | {f"lampiran-{n}.txt": b"x" for n in range(iv.MAX_LETTER_ATTACHMENTS)}
    with pytest.raises(iv.Invalid, match=f"more than {iv.MAX_LETTER_ATTACHMENTS} attachments: not a letter"):
        iv.read_attachments(pdf_of(many))


# -- what fails ---------------------------------------------------------------------------------


def test_a_letter_under_another_ledgers_key_fails_key(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = NoteSigner(made.world.ledger.origin, Ed25519PrivateKey.generate()).verifier
    said = cert(capsys, made.pdf, tmp_path, "--vkey", str(other))
    assert said.code == 1 and said.steps() == {"key": "FAIL"} | dict.fromkeys(STEPS[1:], "ok"), said.out
    assert f"INVALID: key: the letter's ledger key {made.world.ledger.verifier} is not the trusted key {other}" in (
        said.err
    )


@pytest.mark.parametrize(
    ("fact", "forged"),
    [("decision", "recommended"), ("budget_amount", 1), ("signer_name", "Pejabat Lain"), ("personal_data", 1)],
)
def test_a_fact_changed_in_letter_json_is_named(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str], fact: str, forged: Any
) -> None:
    manifest = made.manifest
    true = manifest["facts"][fact]
    manifest["facts"][fact] = forged
    edited = rebuild_pages(made.pdf, replace={"letter.json": json.dumps(manifest).encode()})
    detail = only_failure(cert(capsys, edited, tmp_path, "--vkey", made.vkey), "facts")
    said = forged if isinstance(forged, str) else json.dumps(forged)
    ledger = true if isinstance(true, str) else json.dumps(true)
    assert detail.endswith(f"letter.json says {fact} is {said} where the ledger says {ledger}"), detail


def test_a_fact_letter_json_adds_is_refused(made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = made.manifest
    manifest["facts"]["approved_by_mayor"] = True
    edited = rebuild_pages(made.pdf, replace={"letter.json": json.dumps(manifest).encode()})
    detail = only_failure(cert(capsys, edited, tmp_path, "--vkey", made.vkey), "facts")
    assert detail.endswith("letter.json states facts the ledger does not: approved_by_mayor")


@pytest.mark.parametrize("missing", ["entry-{decision}.json", "entry-0.tlog-proof", "ledger.vkey"])
def test_an_attachment_removed_is_named(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str], missing: str
) -> None:
    name = missing.format(decision=made.index)
    files = made.files
    del files[name]
    said = cert(capsys, pdf_of(files), tmp_path, "--vkey", made.vkey)
    assert said.code == 1 and said.out == "", said.out
    assert said.err.strip() == f"error: the letter lacks its attachment {name}"


def test_an_entry_swapped_for_another_fails_entries(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The return swapped for the request after it; the decider's enrolment and grant named crosswise."""
    history = made.manifest["history"]
    returned, revised = history[1], history[2]
    files = made.files
    swapped = rebuild_pages(made.pdf, replace={f"entry-{returned}.json": files[f"entry-{revised}.json"]})
    detail = only_failure(cert(capsys, swapped, tmp_path, "--vkey", made.vkey), "entries")
    assert f"entry-{returned}.json is entry {revised} (app.submitted), not entry {returned}" in detail
    assert cert(capsys, swapped, tmp_path).steps()["inclusion"] == "--"

    signed = made.manifest["signed"][-1]  # the decision's: the decider's enrolment and grant
    manifest = made.manifest
    manifest["signed"][-1] = signed | {"enrolled": signed["granted"], "granted": signed["enrolled"]}
    crossed = rebuild_pages(made.pdf, replace={"letter.json": json.dumps(manifest).encode()})
    detail = only_failure(cert(capsys, crossed, tmp_path, "--vkey", made.vkey), "entries")
    assert f"entry-{signed['enrolled']}.json is a key.enrolled entry, where the letter needs role.assigned" in detail


def test_the_forgers_reseal_alone_changes_nothing(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The twin of the forgeries below: resealed without a forged entry, the letter is VALID."""
    said = cert(capsys, resealed(made, {}), tmp_path, "--vkey", made.vkey)
    assert said.code == 0 and said.steps() == dict.fromkeys(STEPS, "ok"), said.out + said.err


def test_a_decision_whose_signature_does_not_verify_fails_signatures(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = json.loads(made.files[f"entry-{made.index}.json"])
    raw = bytearray(base64.b64decode(body["signature"]))
    raw[0] ^= 1
    body["signature"] = base64.b64encode(bytes(raw)).decode()
    forged = resealed(made, {made.index: rfc8785.dumps(body)})
    said = cert(capsys, forged, tmp_path, "--vkey", made.vkey)
    detail = only_failure(said, "signatures")
    assert detail.endswith(f"entry {made.index} (app.decided): the decision for official {nip(3)} does not verify")
    assert said.steps()["letter"] == "ok" and said.steps()["facts"] == "ok", said.out


def test_a_decision_by_someone_not_the_kominfo_head_fails_letter(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second application, genuinely submitted and reviewed; the reviewer signs its decision
    with their own, active key and seals it into the ledger with the ledger's key. Every
    signature verifies; the reviewer was never given kominfo-head."""
    world, reviewer = made.world, nip(REVIEWER)
    app = submitted(world)
    apps.review_app(world.ctx, app, reviewer, _checklist(), world.now())
    moment = world.now()
    with world.ledger.read() as r:
        stored = list(r.stored_entries())
        identity = r.identities([reviewer])[reviewer]
        record = r.application(app)
        reviewer_key = r.key(key_of(world, reviewer))
        grants = [e.index for e in r.role_events() if e.nip == reviewer and e.grant]
    assert record is not None and reviewer_key is not None and len(grants) == 1
    fields: dict[str, Any] = {
        "app": app,
        "revision": 1,
        "request_sha256": record.request_sha256,
        "decision": "recommended",
        "notes": [],
        "nip": reviewer,
        "key": key_of(world, reviewer),
        "name": identity.name,
        "capacity": identity.capacity,
    }
    statement = AppDecision.of_fields(world.ledger.origin, fields, moment).text()
    raw = world.keys.signer(VerifierKey.parse(fields["key"]), passphrase(REVIEWER))(statement.encode())
    last = entry_from_leaf(stored[-1].leaf)
    decision = make_entry(
        len(stored), "app.decided", moment, last.leaf_hash, fields | {"signature": encode_signature(raw)}
    )
    request, review = len(stored) - 2, len(stored) - 1
    head = made.manifest["signed"][0]  # the Kepala PD's enrolment and grant, as for the first letter
    history = [request, review, decision.index]
    signed = [
        {"entry": request, "enrolled": head["enrolled"], "granted": head["granted"]},
        {"entry": decision.index, "enrolled": reviewer_key.enrolled_index, "granted": grants[0]},
    ]
    said = cert(capsys, resealed(made, {decision.index: decision.leaf}, history, signed), tmp_path, "--vkey", made.vkey)
    assert said.steps()["signatures"] == "ok", said.out
    detail = only_failure(said, "letter")
    assert detail.endswith(
        f"entry {grants[0]} does not give {reviewer} the role kominfo-head that entry {decision.index} needs"
    ), detail
    assert said.steps()["facts"] == "--"

    # the grant of the real Kepala Dinas Kominfo named instead: it is not the signer's
    kominfo = made.manifest["signed"][-1]["granted"]
    signed[-1]["granted"] = kominfo
    said = cert(capsys, resealed(made, {decision.index: decision.leaf}, history, signed), tmp_path, "--vkey", made.vkey)
    detail = only_failure(said, "letter")
    assert detail.endswith(
        f"entry {kominfo} does not give {reviewer} the role kominfo-head that entry {decision.index} needs"
    )


def test_a_letter_that_leaves_out_the_review_fails_letter(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The decided revision's review left out of the history: the decision was not reviewed, as
    far as the letter shows; and the history cut before its first request."""
    manifest = made.manifest
    review = manifest["history"][-2]
    assert json.loads(made.files[f"entry-{review}.json"])["kind"] == "app.reviewed"
    manifest["history"].remove(review)
    cut = rebuild_pages(made.pdf, replace={"letter.json": json.dumps(manifest).encode()})
    said = cert(capsys, cut, tmp_path, "--vkey", made.vkey)
    assert only_failure(said, "letter").endswith(
        "the letter's entries do not belong together: the history does not hold one request and a review of revision 2"
    )
    assert said.steps()["facts"] == "--"
    manifest = made.manifest
    manifest["history"] = manifest["history"][1:]
    manifest["signed"] = manifest["signed"][1:]
    cut = rebuild_pages(made.pdf, replace={"letter.json": json.dumps(manifest).encode()})
    assert only_failure(cert(capsys, cut, tmp_path, "--vkey", made.vkey), "letter").endswith(
        f"the history does not begin with the first request of application {made.app}"
    )


# -- what is refused -------------------------------------------------------------------------------


def test_more_than_300_entries_are_refused(made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    signed = made.manifest["signed"][:1]
    manifest = made.manifest | {"history": list(range(1, 300)), "signed": signed}  # 299 + 2
    files = {"letter.json": json.dumps(manifest).encode(), "ledger.vkey": made.files["ledger.vkey"]}
    said = cert(capsys, pdf_of(files), tmp_path, "--vkey", made.vkey)
    assert said.code == 1 and said.out == ""
    assert said.err.strip() == (
        "error: letter.json names 301 entries (its history and two for each signature): a letter carries at most 300"
    )
    # 300 are not refused for their number: the first file they need is missing
    files["letter.json"] = json.dumps(manifest | {"history": list(range(1, 299)), "signed": signed}).encode()
    said = cert(capsys, pdf_of(files), tmp_path, "--vkey", made.vkey)
    assert said.err.strip() == "error: the letter lacks its attachment entry-0.json"


def test_more_than_3_mb_of_evidence_is_refused(made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    heavy = made.files | {f"lampiran-{n}.bin": os.urandom(800 * 1024) for n in range(4)}
    said = cert(capsys, pdf_of(heavy), tmp_path, "--vkey", made.vkey)
    weight = sum(map(len, heavy.values())) // 1024
    assert said.code == 1 and said.err.strip() == (
        f"error: the letter carries {weight} kB of evidence, more than a letter carries (3072 kB)"
    )
    lighter = made.files | {f"lampiran-{n}.bin": os.urandom(700 * 1024) for n in range(4)}
    assert cert(capsys, pdf_of(lighter), tmp_path, "--vkey", made.vkey).code == 0


def test_a_letter_json_that_is_not_a_letters_is_refused(
    made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for manifest, words in [
        (made.manifest | {"format": "ikrar-letter/v2"}, "letter.json is not an Ikrar letter of format ikrar-letter/v1"),
        (made.manifest | {"history": "9,10"}, "letter.json does not name the application, its entries and its facts"),
        (made.manifest | {"signed": [{"entry": 9}]}, "letter.json does not name the application, its entries"),
    ]:
        edited = rebuild_pages(made.pdf, replace={"letter.json": json.dumps(manifest).encode()})
        said = cert(capsys, edited, tmp_path, "--vkey", made.vkey)
        assert said.code == 1 and said.err.startswith(f"error: {words}"), said.err


def test_a_naskah_is_read_as_a_naskah(made: Made, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Not as a letter (verifier/tests/test_naskah.py checks it): here, a rules-5 ledger's naskah
    that nobody has signed yet, every block pending."""
    pdf = naskah_pdf(made.world.ledger, "smart-city", base_url=BASE_URL, now=PRINTED)
    assert "naskah.json" in attachments(pdf)
    said = cert(capsys, pdf, tmp_path, "--vkey", made.vkey)
    assert said.code == 0 and said.out.rstrip().endswith("\nVALID"), said.out + said.err
    assert "0 of 3 signed, as of checkpoint size" in said.out and "letter" not in said.out
    assert iv.check_pdf(pdf, None).document == "naskah"
