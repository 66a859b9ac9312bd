"""Every parser that faces outsiders gives a clear error on hostile input: never a crash, never a hang."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.canonical import parse_canonical
from ledger.checkpoint import Checkpoint, TlogProof
from ledger.entries import ZERO_HASH, entry_from_leaf, make_entry
from ledger.errors import InvalidInput, LedgerError, NoteInvalid, ProofInvalid
from ledger.export import verify_export
from ledger.merkle import MemoryTree, inclusion_proof, leaf_hash
from ledger.note import NoteSigner, VerifierKey
from tests.factories import T0

SIGNER = NoteSigner("fuzz.example/log", Ed25519PrivateKey.generate())
LEAVES = [leaf_hash(bytes([i])) for i in range(9)]
TREE = MemoryTree(LEAVES)
CHECKPOINT = Checkpoint("fuzz.example/log", 9, TREE.root()).signed(SIGNER)
PROOF = TlogProof(4, tuple(inclusion_proof(4, 9, TREE)), CHECKPOINT.note).text()
EXPECTED = (NoteInvalid, ProofInvalid)


def _mutate(text: str, data: st.DataObject) -> bytes:
    raw = bytearray(text.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "dup"]))
        at = data.draw(st.integers(0, len(raw) - 1))
        if action == "flip":
            raw[at] ^= 1 << data.draw(st.integers(0, 7))
        elif action == "cut":
            del raw[at : at + data.draw(st.integers(1, 20))]
        elif action == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=10))
        else:
            raw[at:at] = raw[at : at + 40]
        if not raw:
            break
    return bytes(raw)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_tlog_proofs_are_refused_or_still_true(data: st.DataObject) -> None:
    mutated = _mutate(PROOF, data)
    try:
        proof = TlogProof.parse(mutated)
        cp = proof.verify(LEAVES[proof.index] if proof.index < 9 else LEAVES[0], SIGNER.verifier)
    except EXPECTED:
        return
    # whatever survived a mutation must still be a true statement about the tree
    assert cp.root == TREE.root() and proof.index < 9


@settings(max_examples=300)
@given(st.data())
def test_mutated_checkpoints_are_refused_or_unchanged(data: st.DataObject) -> None:
    mutated = _mutate(CHECKPOINT.note, data)
    try:
        cp = Checkpoint.open(mutated, SIGNER.verifier)
    except EXPECTED:
        return
    assert (cp.origin, cp.size, cp.root) == ("fuzz.example/log", 9, TREE.root())


@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_verifier_keys_and_leaves_from_garbage(raw: bytes) -> None:
    try:
        VerifierKey.parse(raw.decode("utf-8", "replace"))
    except NoteInvalid:
        pass
    for parse in (parse_canonical, entry_from_leaf):
        try:
            parse(raw)
        except InvalidInput:
            pass


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_export_folders_are_refused_clearly(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    folder = tmp_path_factory.mktemp("export")
    entry = make_entry(
        0,
        "ledger.created",
        T0,
        ZERO_HASH,
        {"org": "o", "origin": "fuzz.example/log", "ledger_key": str(SIGNER.verifier)},
    )
    cp = Checkpoint("fuzz.example/log", 1, MemoryTree([entry.leaf_hash]).root()).signed(SIGNER)
    line = {
        "index": 0,
        "kind": entry.kind,
        "leaf": base64.b64encode(entry.leaf).decode(),
        "leaf_hash": entry.leaf_hash.hex(),
        "prev": entry.prev.hex(),
    }
    files = {
        "entries.jsonl": json.dumps(line) + "\n",
        "checkpoints.jsonl": json.dumps({"size": 1, "note": cp.note}) + "\n",
        "checkpoint": cp.note,
    }
    target = data.draw(st.sampled_from(sorted(files)))
    for name, text in files.items():
        (folder / name).write_bytes(_mutate(text, data) if name == target else text.encode())
    try:
        verify_export(Path(folder), SIGNER.verifier)
    except LedgerError as e:
        assert str(e)
