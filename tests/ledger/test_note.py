"""C2SP signed notes and checkpoints: the published known answer, our own, and their failures."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from ledger.checkpoint import Checkpoint, TlogProof
from ledger.errors import NoteInvalid, ProofInvalid
from ledger.merkle import MemoryTree, inclusion_proof, leaf_hash
from ledger.note import NoteSigner, VerifierKey, open_note

KNOWN_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
KNOWN_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def test_known_answer_note_verifies() -> None:
    vkey = VerifierKey.parse(KNOWN_VKEY)
    assert str(vkey) == KNOWN_VKEY
    assert open_note(KNOWN_NOTE, vkey) == "This is an example message.\n"


@pytest.mark.parametrize(
    ("note", "message"),
    [
        (KNOWN_NOTE.replace("example message", "example massage"), "does not verify"),
        (KNOWN_NOTE.replace("\n\n", "\n"), "no blank line"),
        (KNOWN_NOTE.replace("\u2014 ", "- "), "malformed signature line"),
        (KNOWN_NOTE.replace("Uw2QOkn8", "Uw2ROkn8"), "not signed by example.com/foo"),
        (KNOWN_NOTE.replace("example.com/foo Uw", "example.com/bar Uw"), "not signed by"),
        (KNOWN_NOTE.replace("yaQM=", "yaQM"), "not valid base64"),
    ],
)
def test_known_answer_note_tampered(note: str, message: str) -> None:
    with pytest.raises(NoteInvalid, match=message):
        open_note(note, VerifierKey.parse(KNOWN_VKEY))


@pytest.mark.parametrize(
    ("vkey", "message"),
    [
        (KNOWN_VKEY.replace("530d903a", "530d903b"), "key id does not match"),
        (KNOWN_VKEY.replace("example.com/foo", "example.com/bar"), "key id does not match"),
        ("example.com/foo+530d903a", r"the form name\+keyid"),
        (KNOWN_VKEY[:-4], "not valid base64|not an Ed25519 key"),
        ("a b+00000000+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "no spaces"),
    ],
)
def test_bad_verifier_keys(vkey: str, message: str) -> None:
    with pytest.raises(NoteInvalid, match=message):
        VerifierKey.parse(vkey)


@pytest.fixture()
def signer() -> NoteSigner:
    return NoteSigner("kedirikota.go.id/ikrar", Ed25519PrivateKey.generate())


def test_checkpoint_has_exactly_three_body_lines(signer: NoteSigner) -> None:
    tree = MemoryTree([leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c")])
    cp = Checkpoint("kedirikota.go.id/ikrar", 3, tree.root()).signed(signer)
    body, _, sigs = cp.note.partition("\n\n")
    assert body.split("\n") == ["kedirikota.go.id/ikrar", "3", base64.b64encode(tree.root()).decode()]
    assert sigs.startswith("\u2014 kedirikota.go.id/ikrar ") and sigs.count("\n") == 1
    assert Checkpoint.open(cp.note, signer.verifier) == cp
    with pytest.raises(NoteInvalid, match="not 'other'"):
        Checkpoint.open(cp.note, signer.verifier, origin="other")
    other = NoteSigner("kedirikota.go.id/ikrar", Ed25519PrivateKey.generate())
    with pytest.raises(NoteInvalid, match="not signed by"):
        Checkpoint.open(cp.note, other.verifier)


def test_tlog_proof_round_trip_and_failures(signer: NoteSigner) -> None:
    leaves = [leaf_hash(bytes([i])) for i in range(11)]
    tree = MemoryTree(leaves)
    cp = Checkpoint("o", 11, tree.root()).signed(signer)
    proof = TlogProof(6, tuple(inclusion_proof(6, 11, tree)), cp.note)
    parsed = TlogProof.parse(proof.text())
    assert parsed == proof
    assert parsed.verify(leaves[6], signer.verifier).size == 11
    with pytest.raises(ProofInvalid, match="entry 5"):
        TlogProof(5, proof.hashes, cp.note).verify(leaves[5], signer.verifier)
    with pytest.raises(ProofInvalid):
        parsed.verify(leaves[7], signer.verifier)
    with pytest.raises(NoteInvalid, match="no index line"):
        TlogProof.parse(proof.text().replace("index 6", "indx 6"))
    with pytest.raises(NoteInvalid, match="leading zeros"):
        TlogProof.parse(proof.text().replace("index 6", "index 06"))


@given(st.text(max_size=300))
def test_parsers_never_crash_on_garbage(text: str) -> None:
    vkey = VerifierKey.parse(KNOWN_VKEY)
    for parse in (lambda: VerifierKey.parse(text), lambda: open_note(text, vkey), lambda: TlogProof.parse(text)):
        try:
            parse()
        except (NoteInvalid, ProofInvalid):
            pass
