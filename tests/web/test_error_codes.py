"""Errors carry a code and the params of their message; the web shows each code with its
catalogue message in both languages, while the English text stays what the core says."""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest

from ledger import errors as le
from ledger.checkpoint import TlogProof
from ledger.merkle import MemoryTree, inclusion_proof, verify_consistency
from ledger.nip import validate_nip
from ledger.note import VerifierKey
from signing import errors as se
from signing.keystore import KeyStore
from tests.factories import nip
from web import errors as we
from web.i18n import Translator, catalogue

from .conftest import Site

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ledger", "signing", "web")


def _codes_at_raise_sites() -> dict[str, list[str]]:
    """`code=` arguments in the source of the packages: a code, or for an f-string its fixed
    start followed by `*` ("text.empty.*"), with the places that pass it."""
    found: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                if not isinstance(node, ast.Call):
                    continue
                for kw in node.keywords:
                    if kw.arg != "code":
                        continue
                    if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                        code = kw.value.value
                    elif isinstance(kw.value, ast.JoinedStr) and isinstance(kw.value.values[0], ast.Constant):
                        code = f"{kw.value.values[0].value}*"
                    else:
                        continue  # passed on from another error (`code=e.code`)
                    found.setdefault(code, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def _known(code: str) -> bool:
    if code.endswith("*"):
        return any(c.startswith(code[:-1]) for c in we.CODES)
    return code in we.CODES


def test_every_code_raised_has_a_message_in_both_languages() -> None:
    found = _codes_at_raise_sites()
    assert {"nip.digits", "index.range", "passphrase.wrong", "vkey.malformed"} <= set(found)  # the walk sees them
    unknown = {code: places for code, places in found.items() if not _known(code)}
    assert not unknown, f"codes the web does not know (add them to web.errors.CODES): {unknown}"
    for code, shown in we.CODES.items():
        for lang in ("id", "en"):
            assert shown.key in catalogue(lang), f"{code}: {shown.key} is not in {lang}.json"


def _classes(module: object) -> list[type[le.CodedError]]:
    return [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, le.CodedError)]


def test_every_error_class_has_a_code_of_its_own_with_a_status() -> None:
    classes = [c for c in _classes(le) + _classes(se) if c is not le.CodedError]
    assert le.Conflict in classes and se.ForeignCertificate in classes
    codes = [vars(cls).get("code") for cls in classes]
    assert None not in codes and len(set(codes)) == len(codes), codes
    special = {le.ChainBroken: le.ChainBroken(0, "x"), le.DerivedMismatch: le.DerivedMismatch("t", "k", "x")}
    for cls in classes:
        assert cls.code in we.CODES, cls
        assert 400 <= we.status_of(special.get(cls) or cls("x")) < 600


def test_the_raise_convention_keeps_the_english_message() -> None:
    number = nip(1)
    e = le.Conflict(
        f"official {number} already has an active key; revoke it first", code="key.active_exists", nip=number
    )
    assert str(e) == f"official {number} already has an active key; revoke it first"
    assert (e.code, e.params) == ("key.active_exists", {"nip": number})
    plain = le.Conflict("a rule is broken")
    assert (str(plain), plain.code, plain.params) == ("a rule is broken", "conflict", {})
    assert le.Conflict.code == "conflict"  # a raise site's code is the error's, not its class's


def test_chain_broken_and_certificate_errors_keep_their_fields() -> None:
    broken = le.ChainBroken(3, "the hash chain is broken")
    assert str(broken) == "entry 3: the hash chain is broken"
    assert (broken.index, broken.reason, broken.code, broken.params) == (
        3,
        "the hash chain is broken",
        "chain_broken",
        {"index": 3},
    )
    refused = se.NotAPdf("the file is not a PDF")
    assert (str(refused), refused.detail, refused.reason, refused.code) == (
        "the file is not a PDF",
        "the file is not a PDF",
        se.Reason.NOT_PDF,
        "cert.not_pdf",
    )
    assert (
        se.AttachmentMissing("x").reason is se.Reason.EDITED and se.AttachmentMissing.code == "cert.attachment_missing"
    )


@pytest.mark.parametrize(
    ("attempt", "cls", "english", "code", "params"),
    [
        (lambda: validate_nip("123"), le.InvalidInput, "NIP must be exactly 18 digits", "nip.digits", {}),
        (
            lambda: validate_nip("197513402001041001"),
            le.InvalidInput,
            "NIP digits 1-8 are not a date of birth (YYYYMMDD): 19751340",
            "nip.birth",
            {"part": "19751340"},
        ),
        (
            lambda: validate_nip("197501011980041001"),
            le.InvalidInput,
            "NIP appointment 1980-04 is not plausible for that date of birth",
            "nip.appointment_implausible",
            {"month": "1980-04"},
        ),
        (
            lambda: inclusion_proof(5, 3, MemoryTree()),
            le.InvalidInput,
            "index 5 is not in a tree of size 3",
            "index.range",
            {"index": 5, "size": 3},
        ),
        (
            lambda: verify_consistency(3, 2, bytes(32), bytes(32), []),
            le.ProofInvalid,
            "sizes 3 and 2 are not in order",
            "consistency.order",
            {"old": 3, "new": 2},
        ),
        (
            lambda: VerifierKey.parse("no-plus-signs"),
            le.NoteInvalid,
            "a verifier key has the form name+keyid+base64key",
            "vkey.malformed",
            {},
        ),
        (
            lambda: TlogProof.parse("c2sp.org/tlog-proof@v1\nindex 01\n\ncheckpoint"),
            le.NoteInvalid,
            "index is not a decimal number without leading zeros",
            "number.malformed",
            {"what": "index"},
        ),
    ],
)
def test_errors_say_the_same_english_and_carry_their_code(
    attempt: object, cls: type[Exception], english: str, code: str, params: dict[str, object]
) -> None:
    with pytest.raises(cls) as caught:
        attempt()  # type: ignore[operator]
    assert str(caught.value) == english
    assert (caught.value.code, caught.value.params) == (code, params)  # type: ignore[attr-defined]


def test_a_wrong_passphrase_is_coded_and_said_in_both_languages(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path, iterations=1000)
    vkey = keys.create("ikrar.example/official/1", "frasa-sandi-benar")
    with pytest.raises(se.WrongPassphrase, match="^the passphrase does not open this key$") as caught:
        keys.check(vkey, "frasa-sandi-salah")
    assert caught.value.code == "passphrase.wrong" and we.status_of(caught.value) == 403
    assert we.message_of(caught.value, Translator("id")) == "Frasa sandi salah. Tanda tangan tidak dibuat."
    assert we.message_of(caught.value, Translator("en")) == "Wrong passphrase. Nothing was signed."


def test_coded_errors_survive_the_audit_workers_pickling() -> None:
    e = le.NoteInvalid("signature by x does not verify", code="note.signature_invalid", name="x")
    back = pickle.loads(pickle.dumps(e))
    assert (type(back), str(back), back.code, back.params) == (le.NoteInvalid, str(e), e.code, e.params)


def test_a_detail_is_said_in_the_pages_language_when_its_code_is_known() -> None:
    with pytest.raises(le.ProofInvalid) as caught:
        verify_consistency(3, 2, bytes(32), bytes(32), [])
    assert we.detail_of(caught.value, Translator("id")) == "Ukuran 3 dan 2 tidak berurutan."
    assert we.detail_of(caught.value, Translator("en")) == "The sizes 3 and 2 are not in order."
    uncoded = se.CertificateEdited("the attachment entry-3.json is there 2 times")
    assert we.detail_of(uncoded, Translator("id")) == "the attachment entry-3.json is there 2 times"
    assert we.message_of(uncoded, Translator("id")) == "Sertifikat ini telah diubah: buktinya tidak utuh."


def test_the_api_says_a_coded_error_in_indonesian(site: Site) -> None:
    c = site.client("id")
    r = c.get("/api/v1/proof/3?size=2")
    assert (r.status_code, r.json()) == (400, {"detail": "Entri 3 tidak ada dalam pohon berukuran 2."})
    r = c.get("/api/v1/consistency?old=3&new=2")
    assert r.status_code == 400
    assert r.json()["detail"] == "Tidak ada bukti konsistensi dari ukuran 3 ke 2: perlu 0 < old ≤ new."
    english = site.client("en").get("/api/v1/proof/3?size=2")
    assert english.json() == {"detail": "Entry 3 is not in a tree of size 2."}


def test_pages_say_a_coded_error_in_indonesian(site: Site) -> None:
    r = site.client("id").get("/lang/zz")
    assert r.status_code == 404 and "Bahasa «zz» tidak tersedia." in r.text
    official = site.login(4, "id")  # registered, but not asked to sign smart-city
    r = official.get("/sign/smart-city")
    assert r.status_code == 403
    assert f"NIP {nip(4)} tidak termasuk penanda tangan yang diminta untuk komitmen ini." in r.text
