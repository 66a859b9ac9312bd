"""A key revoked after the signature: the certificate (presentation 2) and the summary printed
after the revocation say SAH and the revocation, in the words of the verify page; what they
print is proven by the entry the certificate carries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from signing import actions
from signing.certificate import certificate_pdf
from signing.doc_kop import DEFAULT_OFFICE, Letterhead
from signing.summary import render_summary
from signing.verify_cert import examine_certificate, examine_upload
from signing.wording import format_wib
from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE

from ..certs import BASE_URL, PRINTED, attachments, rebuild
from ..factories import LedgerFactory
from .documents import all_text, rebuild_pages, squash, standalone_says

HEAD = Letterhead(DEFAULT_OFFICE)


def revoke(world: LedgerFactory, reason: str = "laptop hilang"):
    return actions.revoke(world.ctx, world.officials[0], reason, ADMIN_NIP, world.now(), ADMIN_PASSPHRASE).entry


def later_words(revoked, lang: str = "id") -> str:
    if lang == "id":
        return (
            f"Kunci penanda tangan dicabut kemudian, pada {format_wib(revoked.time, 'id')} (entri #{revoked.index}). "
            "Alasan: laptop hilang. Tanda tangan ini dibuat sebelum pencabutan dan tetap sah."
        )
    return (
        f"The signer's key was revoked later, on {format_wib(revoked.time, 'en')} (entry #{revoked.index}). "
        "Reason: laptop hilang. This signature was made before the revocation and remains valid."
    )


def test_printed_after_the_revocation_it_says_sah_and_carries_the_revocation(
    world: LedgerFactory, tmp_path: Path
) -> None:
    index = world.sign(1).entry.index
    revoked = revoke(world)
    pdf = certificate_pdf(world.ledger, index, base_url=BASE_URL, now=PRINTED, letterhead=HEAD)
    text = squash(all_text(pdf))
    assert squash("SAH" + later_words(revoked)) in text
    assert squash("Pastikan alamat di peramban adalah ikrar.test.kedirikota.go.id") in text
    files = attachments(pdf)
    assert json.loads(files["certificate.json"])["revocation"] == revoked.index
    assert files[f"entry-{revoked.index}.json"] == revoked.leaf
    report = examine_upload(world.ledger, pdf)
    assert report.valid, [(c.name, c.detail) for c in report.failures]
    assert report.revocation is not None and report.revocation.index == revoked.index
    assert examine_certificate(pdf, world.ledger.verifier).valid  # offline too
    english = certificate_pdf(world.ledger, index, lang="en", base_url=BASE_URL, now=PRINTED, letterhead=HEAD)
    assert squash("VALID" + later_words(revoked, "en")) in squash(all_text(english))
    assert squash("Make sure the address in your browser is ikrar.test.kedirikota.go.id") in squash(all_text(english))
    assert "VALID" in standalone_says(pdf, world.ledger.verifier, tmp_path)


def test_printed_before_the_revocation_it_stays_as_it_was(world: LedgerFactory) -> None:
    index = world.sign(1).entry.index
    before = certificate_pdf(world.ledger, index, base_url=BASE_URL, now=PRINTED, letterhead=HEAD)
    revoked = revoke(world)
    assert "revocation" not in json.loads(attachments(before)["certificate.json"])
    assert "dicabut" not in all_text(before)
    report = examine_upload(world.ledger, before)
    assert report.valid and report.revocation is not None and report.revocation.index == revoked.index
    again = certificate_pdf(
        world.ledger, index, base_url=BASE_URL, now=PRINTED, letterhead=HEAD, checkpoint=_checkpoint(world, revoked)
    )
    assert again == before  # printed again against a checkpoint before the revocation: the same bytes


def _checkpoint(world: LedgerFactory, revoked):
    with world.ledger.read() as r:
        return r.checkpoint(revoked.index)


def test_presentation_1_prints_no_revocation(world: LedgerFactory) -> None:
    """Ikrar 0.1's page stays what it was: no revocation printed, none carried."""
    index = world.sign(1).entry.index
    revoke(world)
    pdf = certificate_pdf(world.ledger, index, base_url=BASE_URL, now=PRINTED, presentation=1)
    assert "revocation" not in json.loads(attachments(pdf)["certificate.json"])
    assert "dicabut" not in all_text(pdf) and len(attachments(pdf)) == 10
    assert examine_upload(world.ledger, pdf).valid


def _with_manifest(pdf: bytes, change) -> bytes:
    """The two pages of `pdf`, and its attachments with certificate.json changed by `change`."""
    manifest = json.loads(attachments(pdf)["certificate.json"])
    change(manifest)
    return rebuild_pages(pdf, replace={"certificate.json": json.dumps(manifest).encode()})


def test_a_revocation_not_carried_or_not_proven_fails_the_page(world: LedgerFactory) -> None:
    index = world.sign(1).entry.index
    revoked = revoke(world)
    pdf = certificate_pdf(world.ledger, index, base_url=BASE_URL, now=PRINTED, letterhead=HEAD)
    dropped = examine_upload(world.ledger, _with_manifest(pdf, lambda m: m.pop("revocation")))
    assert [c.name for c in dropped.failures] == ["page"]
    page = dropped.failures[0]
    assert page.difference is not None and page.difference.printed == "SAH" and page.difference.ledger is None

    def elsewhere(m: dict) -> None:
        m["revocation"] = m["entries"][1]  # the key's enrolment: no revocation

    forged = examine_upload(world.ledger, _with_manifest(pdf, elsewhere))
    assert [c.name for c in forged.failures] == ["page"]
    assert "is not proven by the ledger" in forged.failures[0].detail
    leaf = attachments(pdf)[f"entry-{revoked.index}.json"].replace(b"laptop hilang", b"laptop dicuri")
    altered = examine_upload(world.ledger, rebuild(pdf, {f"entry-{revoked.index}.json": leaf}))
    assert not altered.valid and "page" in {c.name for c in altered.failures}


def test_presentation_1_naming_a_revocation_is_refused(world: LedgerFactory) -> None:
    from signing.errors import CertificateEdited

    index = world.sign(1).entry.index
    pdf = certificate_pdf(world.ledger, index, base_url=BASE_URL, now=PRINTED, presentation=1)
    with pytest.raises(CertificateEdited, match="names a revocation"):
        examine_certificate(rebuild(pdf, {"certificate.json": _manifest_with(pdf, revocation=0)}))


def _manifest_with(pdf: bytes, **fields) -> bytes:
    return json.dumps({**json.loads(attachments(pdf)["certificate.json"]), **fields}).encode()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_summary_says_sah_and_the_revocation(world: LedgerFactory, lang: str) -> None:
    world.sign(1)
    world.sign(2)
    before = squash(all_text(render_summary(world.ledger, "smart-city", lang=lang, base_url=BASE_URL, now=PRINTED)))
    revoked = revoke(world)
    after = squash(all_text(render_summary(world.ledger, "smart-city", lang=lang, base_url=BASE_URL, now=PRINTED)))
    words = squash(("SAH. " if lang == "id" else "VALID. ") + later_words(revoked, lang))
    assert words not in before and words in after and after.count(words) == 1
