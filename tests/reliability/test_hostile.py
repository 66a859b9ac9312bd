"""Hostile input to the parsers that face outsiders, where the fuzz tests beside the code
leave gaps (tests/ledger/test_fuzz.py mutates a proof, a checkpoint and a one-entry export
for the server's parsers; tests/signing and tests/web throw garbage PDFs at both verifiers).

Here: the QR code's URL (`/v/{index}?h=…` and its JSON twin) with any `h`; the standalone
verifier — which auditors run on files they were handed — against the server's own code
on the same mutated tlog-proofs, checkpoints, verifier keys and a real export folder (its
lines edited, members written twice, lines laid out outside the format, its latest
`checkpoint` stale, forked, ahead or another key's; the two must agree on every input, and
both must fail cleanly, in the same words for a malformed line); certificates whose evidence
was tampered with inside a well-formed PDF, uploaded; and numbers beyond what the
database's columns hold. Each run is bounded (max_examples, derandomized).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ledger.checkpoint import Checkpoint, TlogProof
from ledger.errors import ChainBroken, LedgerError, NotFound
from ledger.export import ExportInvalid, verify_export, write_export
from ledger.merkle import Hash
from ledger.note import NoteSigner, VerifierKey
from tests.certs import attachments, rebuild
from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE, LedgerFactory, nip
from tests.ledger.test_fuzz import CHECKPOINT, LEAVES, PROOF, SIGNER, _mutate
from tests.web.conftest import Site
from verifier.tests.test_ikrar_verify import iv
from web import cli

pytestmark = pytest.mark.timeout(120)
BOUNDED = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
IV_KEY = iv.VKey.parse(str(SIGNER.verifier))
NO_SURROGATES = st.characters(blacklist_categories=("Cs",))


def outcome(attempt: Callable[[], Any], clean: tuple[type[Exception], ...]) -> tuple[bool, Any]:
    """(True, result) or (False, the error); any error not in `clean` is a crash and fails the test."""
    try:
        return True, attempt()
    except clean as e:
        assert str(e), f"{type(e).__name__} without a message"
        return False, e


# -- numbers beyond the database's columns ---------------------------------------------------


def test_numbers_beyond_the_columns_are_not_found_on_every_database(
    world: LedgerFactory, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entry indexes are 32-bit on PostgreSQL: a larger one is "no such entry", not a database error."""
    ledger = world.ledger
    for index in (2**31 - 1, 2**31, 2**32, 2**63, 10**30):
        with pytest.raises(NotFound, match="there is no entry"):
            ledger.entry(index)
    for size in (2**31, 2**32, 2**63):
        with pytest.raises(NotFound, match="no checkpoint of size"):
            ledger.checkpoint(size)
    assert ledger.entries(2**31, 10) == [] and ledger.entries(2**63, 10) == []
    for name, value in {
        "IKRAR_DATABASE_URL": db_url,
        "IKRAR_DATA_DIR": str(tmp_path),
        "IKRAR_KDF_ITERATIONS": "1000",
        "IKRAR_KEYS_DIR": str(tmp_path / "keys"),
        "IKRAR_LEDGER_PASSPHRASE": "x" * 12,
    }.items():
        monkeypatch.setenv(name, value)
    done = CliRunner().invoke(cli.app, ["certificate", str(2**32), "-o", str(tmp_path / "c.pdf")])
    assert done.exit_code == 1 and f"there is no entry {2**32}" in done.output, done.output


# -- the QR code's URL --------------------------------------------------------------------------


@pytest.fixture()
def qr_site(site: Site) -> tuple[Site, int, str]:
    appended = site.world.sign(1)
    return site, appended.entry.index, appended.entry.leaf_hash.hex()


def _h_values(real: str) -> st.SearchStrategy[str]:
    prefix = st.integers(1, 64).map(lambda n: real[:n])
    cased = st.tuples(
        prefix, st.sampled_from([str.lower, str.upper, str.title]), st.sampled_from(["", " ", "\t", "\n", "  "])
    ).map(lambda t: t[2] + t[1](t[0]) + t[2])
    wrong = st.tuples(st.integers(8, 64), st.integers(0, 63)).map(
        lambda t: real[: t[0]][: t[1]] + ("0" if real[min(t[1], t[0] - 1)] != "0" else "1") + real[: t[0]][t[1] + 1 :]
    )
    return st.one_of(
        cased,
        wrong,
        st.text(NO_SURROGATES, max_size=80),
        st.text("0123456789abcdefABCDEF \x00", max_size=70),
        st.sampled_from(["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "%00", "'; --"]),
    )


@BOUNDED
@given(data=st.data())
def test_the_qr_url_never_errs_and_matches_only_its_own_entry(
    qr_site: tuple[Site, int, str], data: st.DataObject
) -> None:
    site, signed, real = qr_site
    index = data.draw(st.one_of(st.just(signed), st.integers(0, signed + 2), st.integers(-3, 2**64)), label="index")
    h = data.draw(_h_values(real), label="h")
    c = site.clients[0] if site.clients else site.client()
    api = c.get(f"/api/v1/verify/{index}", params={"h": h})
    page = c.get(f"/v/{index}", params={"h": h})
    assert api.status_code < 500 and page.status_code < 500, (api.status_code, page.status_code)
    assert api.status_code == page.status_code
    if len(h) > 64 or not 0 <= index < 2**31 - 1:
        assert api.status_code == 422
    elif index != signed:
        assert api.status_code == 404
    else:
        assert api.status_code == 200
        given_h = h.strip().lower()
        matches = (
            8 <= len(given_h) <= 64 and re.fullmatch("[0-9a-f]+", given_h) is not None and real.startswith(given_h)
        )
        assert api.json()["printed_matches"] is matches, (h, api.json()["printed_matches"])
        assert api.json()["verdict"] == ("valid" if matches else "invalid"), (
            "a QR code of another entry is not valid here"
        )
    if "<" in h or ">" in h or '"' in h:
        assert h not in page.text, "the page shows h unescaped"


@pytest.mark.parametrize(
    "query",
    [
        "h=%ZZ",
        "h=a&h=b",
        "h",
        "h=",
        "h=%00%00",
        "h=%F0%9F%98%80" * 5,
        "h=" + "f" * 65,
        "h=%ED%A0%80",
        "h=%C0%AF",
        "h=1&h=" + "e" * 5000,
    ],
)
def test_malformed_qr_queries_are_a_clear_answer(qr_site: tuple[Site, int, str], query: str) -> None:
    site, signed, _ = qr_site
    c = site.client()
    for path in (f"/v/{signed}?{query}", f"/api/v1/verify/{signed}?{query}"):
        r = c.get(path)
        assert r.status_code in (200, 422), (path, r.status_code)


# -- the standalone verifier reads every hostile text as the server does ------------------------

PROOF_LEAF = LEAVES[4]  # PROOF is the proof of entry 4


def _ours_proof(raw: bytes) -> tuple[bool, Any]:
    def attempt() -> tuple[int, int, bytes]:
        proof = TlogProof.parse(raw)
        cp = proof.verify(PROOF_LEAF, SIGNER.verifier)
        return proof.index, cp.size, cp.root

    return outcome(attempt, (LedgerError,))


def _theirs_proof(raw: bytes) -> tuple[bool, Any]:
    def attempt() -> tuple[int, int, bytes]:
        proof = iv.parse_tlog_proof(raw.decode("utf-8"))
        cp = iv.open_checkpoint(proof.checkpoint_note, IV_KEY)
        iv.verify_inclusion(PROOF_LEAF, proof.index, cp.size, proof.hashes, cp.root)
        return proof.index, cp.size, cp.root

    return outcome(attempt, (iv.Invalid, UnicodeDecodeError))


@BOUNDED
@given(data=st.data())
def test_both_verifiers_judge_a_hostile_tlog_proof_alike(data: st.DataObject) -> None:
    raw = _mutate(PROOF, data)
    ours, theirs = _ours_proof(raw), _theirs_proof(raw)
    assert ours[0] == theirs[0], (raw, ours, theirs)
    if ours[0]:
        assert ours[1] == theirs[1] == (4, 9, CHECKPOINT.root)


@BOUNDED
@given(data=st.data())
def test_both_verifiers_judge_a_hostile_checkpoint_alike(data: st.DataObject) -> None:
    raw = _mutate(CHECKPOINT.note, data)
    ours = outcome(lambda: Checkpoint.open(raw, SIGNER.verifier), (LedgerError,))
    theirs = outcome(lambda: iv.open_checkpoint(raw.decode("utf-8"), IV_KEY), (iv.Invalid, UnicodeDecodeError))
    assert ours[0] == theirs[0], (raw, ours, theirs)
    if ours[0]:
        assert (ours[1].origin, ours[1].size, ours[1].root) == (theirs[1].origin, theirs[1].size, theirs[1].root)


def _key_named(name: str) -> str:
    """A key whose id is right for its name, whatever the name is."""
    pub = SIGNER.verifier.public_key
    kid = hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4].hex()
    encoded = base64.b64encode(bytes([1]) + pub).decode()
    return f"{name}+{kid}+{encoded}"


@BOUNDED
@given(data=st.data())
def test_both_verifiers_read_a_hostile_verifier_key_alike(data: st.DataObject) -> None:
    text = data.draw(
        st.one_of(
            st.just(_mutate(str(SIGNER.verifier), data)).map(lambda b: b.decode("utf-8", "replace")),
            st.text(NO_SURROGATES, max_size=120),
            st.builds(_key_named, st.text(NO_SURROGATES, max_size=30)),  # a true key id: any name
            st.builds(
                lambda name, raw: f"{name}+{raw[0]}+{base64.b64encode(raw[1]).decode()}",
                st.text(NO_SURROGATES, max_size=20),
                st.tuples(st.text("0123456789abcdef", min_size=8, max_size=8), st.binary(min_size=30, max_size=36)),
            ),
        )
    )
    ours = outcome(lambda: VerifierKey.parse(text), (LedgerError,))
    theirs = outcome(lambda: iv.VKey.parse(text), (iv.Invalid,))
    assert ours[0] == theirs[0], (text, ours, theirs)
    if ours[0]:
        assert (ours[1].name, ours[1].public_key) == (theirs[1].name, theirs[1].pub)


# -- a real export folder, tampered with ---------------------------------------------------------


Export = tuple[Path, dict[str, bytes], VerifierKey, NoteSigner]
"""The folder, its files' bytes, the ledger's key and its signer (to sign forged checkpoints)."""


@pytest.fixture()
def export(ledger_factory: LedgerFactory, tmp_path: Path) -> Export:
    """An export of a ledger with enrolments, a commitment, two signatures and a revocation."""
    world = ledger_factory.created().with_commitment(officials=3)
    assert world.signer is not None
    world.sign(1)
    world.sign(2)
    from signing import actions

    actions.revoke(world.ctx, nip(3), "laptop hilang", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    folder = tmp_path / "export"
    write_export(world.ledger, folder)
    return folder, {p.name: p.read_bytes() for p in folder.iterdir()}, world.ledger.verifier, world.signer


JSON_VALUES = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, -1, 2**31, 2**63, 10**40]),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()),
    st.binary(min_size=32, max_size=32).map(bytes.hex),
)


def _tamper(lines: list[bytes], data: st.DataObject) -> list[bytes]:
    """One change a forger or a broken disk could make to a JSON-lines file."""
    i = data.draw(st.integers(0, len(lines) - 1), label="line")
    how = data.draw(
        st.sampled_from(["field", "leaf", "drop", "dup", "swap", "bytes", "note", "twice", "shape"]), label="how"
    )
    if how == "twice":  # a member written twice: a forged value first, the real one last
        name = data.draw(st.sampled_from(sorted(json.loads(lines[i]))), label="member")
        forged = json.dumps({name: data.draw(JSON_VALUES, label="forged")}, ensure_ascii=False)[1:-1].encode()
        return lines[:i] + [b"{" + forged + b", " + lines[i][1:]] + lines[i + 1 :]
    if how == "shape":  # the same JSON, laid out in a way the format does not allow
        shaped = data.draw(
            st.sampled_from(
                [
                    lines[i][:-1] + b"\r\n",
                    b" " + lines[i],
                    lines[i][:-1] + b" \n",
                    b"\n" + lines[i],
                    lines[i][:-1] if i == len(lines) - 1 else lines[i] + b"\n",
                    re.sub(rb'("(?:index|size)": )(\d+)', rb"\g<1>\g<2>.0", lines[i]),
                    re.sub(rb'("(?:index|size)": )(\d+)', rb"\g<1>\g<2>e0", lines[i]),
                    re.sub(rb'("(?:index|size)": )(\d+)', rb"\g<1>0000000000000000000000\g<2>", lines[i]),
                    re.sub(rb'("(?:index|size)": )(\d+)', rb'\g<1>"\g<2>"', lines[i]),
                ]
            ),
            label="shape",
        )
        return lines[:i] + [shaped] + lines[i + 1 :]
    if how == "drop":
        return lines[:i] + lines[i + 1 :]
    if how == "dup":
        return lines[: i + 1] + [lines[i]] + lines[i + 1 :]
    if how == "swap":
        j = data.draw(st.integers(0, len(lines) - 1), label="with")
        lines = list(lines)
        lines[i], lines[j] = lines[j], lines[i]
        return lines
    if how == "bytes":
        return lines[:i] + [_mutate(lines[i].decode(), data)] + lines[i + 1 :]
    value = json.loads(lines[i])
    if how == "leaf" and "leaf" in value:  # edit the entry itself and recompute its hash, as a forger would
        leaf = json.loads(base64.b64decode(value["leaf"]))
        key = data.draw(st.sampled_from(sorted(leaf)), label="leaf field")
        leaf[key] = data.draw(JSON_VALUES, label="leaf value")
        raw = json.dumps(leaf, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
        value["leaf"] = base64.b64encode(raw).decode()
        value["leaf_hash"] = hashlib.sha256(b"\x00" + raw).hexdigest()
    elif how == "note" and "note" in value:
        value["note"] = _mutate(value["note"], data).decode("utf-8", "replace")
    else:
        value[data.draw(st.sampled_from(sorted(value)), label="field")] = data.draw(JSON_VALUES, label="value")
    return lines[:i] + [json.dumps(value, ensure_ascii=False).encode() + b"\n"] + lines[i + 1 :]


def _tamper_latest(original: dict[str, bytes], signer: NoteSigner, data: st.DataObject) -> bytes | None:
    """One change to the file `checkpoint`, the latest checkpoint (None: the file removed)."""
    notes = [json.loads(line)["note"] for line in original["checkpoints.jsonl"].splitlines()]
    vkey = signer.verifier
    latest = Checkpoint.open(original["checkpoint"], vkey)
    how = data.draw(st.sampled_from(["bytes", "stale", "other key", "ahead", "fork", "gone", "cosigned"]), label="how")
    if how == "bytes":
        return _mutate(original["checkpoint"].decode(), data)
    if how == "stale":
        older: str = data.draw(st.sampled_from(notes[:-1]), label="older")
        return older.encode()
    if how == "other key":  # the same name, another key
        other = NoteSigner(vkey.name, Ed25519PrivateKey.from_private_bytes(bytes(32)))
        return latest.signed(other).note.encode()
    if how == "ahead":  # signs entries the folder lacks
        extra = data.draw(st.integers(1, 3), label="extra")
        return Checkpoint(latest.origin, latest.size + extra, latest.root).signed(signer).note.encode()
    if how == "fork":  # another root for the same size
        root = data.draw(st.binary(min_size=32, max_size=32), label="root")
        return Checkpoint(latest.origin, latest.size, Hash(root)).signed(signer).note.encode()
    if how == "cosigned":  # a witness's signature beside the ledger's: still the same checkpoint
        witness = NoteSigner("witness.example/w", Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
        return (latest.note + witness.sign(latest.body()).split("\n\n")[1]).encode()
    return None


@settings(BOUNDED, max_examples=200)
@given(data=st.data())
def test_both_verifiers_judge_a_tampered_export_alike(export: Export, data: st.DataObject) -> None:
    folder, original, vkey, signer = export
    name = data.draw(st.sampled_from(["entries.jsonl", "checkpoints.jsonl", "checkpoint"]), label="file")
    if name == "checkpoint":
        changed = _tamper_latest(original, signer, data)
    else:
        changed = b"".join(_tamper(original[name].splitlines(keepends=True), data))
    if changed is None:
        (folder / name).unlink()
    else:
        (folder / name).write_bytes(changed)
    try:
        ours = outcome(lambda: verify_export(folder, vkey), (LedgerError,))
        theirs = outcome(
            lambda: iv.verify_export(folder, iv.VKey.parse(str(vkey)))[0], (iv.Invalid, iv.Broken, UnicodeDecodeError)
        )
    finally:
        (folder / name).write_bytes(original[name])
    assert ours[0] == theirs[0], (name, changed, ours, theirs)
    if ours[0]:
        a, b = ours[1], theirs[1]
        assert (a.size, a.signatures, a.checkpoints, a.origin) == (b.size, b.signatures, b.checkpoints, b.origin)
        return
    assert isinstance(ours[1], ChainBroken) == isinstance(theirs[1], iv.Broken), (name, changed, ours, theirs)
    if isinstance(ours[1], ChainBroken) and isinstance(theirs[1], iv.Broken):
        assert ours[1].index == theirs[1].index, (ours[1], theirs[1])
    elif isinstance(ours[1], ExportInvalid) and "line" in ours[1].params:  # the line format: the same words
        assert str(ours[1]) == str(theirs[1]), (ours[1], theirs[1])


def test_a_folder_with_files_missing_or_replaced_is_refused_by_both(export: Export, tmp_path: Path) -> None:
    folder, _, vkey, _ = export
    for name in ("entries.jsonl", "checkpoints.jsonl", "checkpoint"):
        damaged = tmp_path / f"without-{name}"
        shutil.copytree(folder, damaged)
        (damaged / name).unlink()
        with pytest.raises(LedgerError, match=f"{name} is missing"):
            verify_export(damaged, vkey)
        with pytest.raises(iv.Invalid, match=f"{name} is missing"):
            iv.verify_export(damaged, iv.VKey.parse(str(vkey)))
        (damaged / name).mkdir()  # a folder where the file should be
        with pytest.raises(LedgerError):
            verify_export(damaged, vkey)
        with pytest.raises((iv.Invalid, OSError)):
            iv.verify_export(damaged, iv.VKey.parse(str(vkey)))


# -- certificates with tampered evidence inside a well-formed PDF, uploaded -----------------------


@pytest.fixture()
def genuine_pdf(site: Site) -> tuple[Site, bytes]:
    index = site.world.sign(1).entry.index
    return site, site.client().get(f"/certificates/{index}.pdf").content


def _tamper_attachment(name: str, raw: bytes, data: st.DataObject) -> bytes:
    if name.endswith(".tlog-proof") and data.draw(st.booleans(), label="index line"):
        number = data.draw(st.sampled_from([0, 1, 2**31 - 1, 2**31, 2**63 - 1, 10**18]) | st.integers(0, 2**62))
        return re.sub(rb"^index \d+$", f"index {number}".encode(), raw, count=1, flags=re.M)
    if name.endswith(".json") and data.draw(st.booleans(), label="json field"):
        value = json.loads(raw)
        key = data.draw(st.sampled_from(sorted(value)), label="field")
        value[key] = data.draw(JSON_VALUES, label="value")
        return json.dumps(value, ensure_ascii=False).encode()
    return _mutate(raw.decode("utf-8", "replace"), data)


@settings(BOUNDED, max_examples=40)
@given(data=st.data())
def test_an_uploaded_certificate_with_tampered_evidence_is_never_a_server_error(
    genuine_pdf: tuple[Site, bytes], data: st.DataObject
) -> None:
    site, pdf = genuine_pdf
    files = attachments(pdf)
    name = data.draw(st.sampled_from(sorted(files)), label="attachment")
    changed = _tamper_attachment(name, files[name], data)
    r = site.client().post(
        "/api/v1/verify", files={"file": ("c.pdf", rebuild(pdf, replace={name: changed}), "application/pdf")}
    )
    assert r.status_code == 200 or 400 <= r.status_code < 500, r.status_code
    body = r.json()
    if r.status_code != 200:
        assert set(body) == {"detail"} and body["detail"]
    elif body["valid"]:  # only a change that means nothing: the same JSON, or the same bytes
        assert changed == files[name] or (name.endswith(".json") and _same_json(changed, files[name])), (name, changed)


def _same_json(a: bytes, b: bytes) -> bool:
    try:
        return json.loads(a) == json.loads(b)
    except ValueError:
        return False
