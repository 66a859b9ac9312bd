"""GET /commitments/{slug}/naskah.pdf: the naskah, in the site's language, verified by upload."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ledger.errors import InvalidInput
from signing.verify_cert import examine_upload
from web.settings import Settings

from ..certs import attachments
from ..signing.documents import rebuild_pages
from .conftest import Site


def test_the_naskah_downloads_in_either_language_and_verifies(site: Site) -> None:
    site.world.sign(1)
    answer = site.client().get("/commitments/smart-city/naskah.pdf")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.headers["cache-control"] == "no-cache"
    assert 'filename="naskah-komitmen-smart-city.pdf"' in answer.headers["content-disposition"]
    assert examine_upload(site.ledger, answer.content).valid
    upload = site.client().post("/api/v1/verify", files={"file": ("naskah.pdf", answer.content, "application/pdf")})
    assert upload.status_code == 200 and upload.json()["valid"] is True, upload.json()
    english = site.client("en").get("/commitments/smart-city/naskah.pdf")
    assert 'filename="joint-commitment-smart-city.pdf"' in english.headers["content-disposition"]


def test_an_unknown_commitment_is_a_404_in_the_page_language(site: Site) -> None:
    answer = site.client().get("/commitments/tidak-ada/naskah.pdf")
    assert answer.status_code == 404
    assert "tidak-ada" in answer.text


def test_the_upload_page_checks_a_naskah_without_an_error(site: Site) -> None:
    site.world.sign(1)
    data = site.client().get("/commitments/smart-city/naskah.pdf").content
    page = site.client().post("/verify/upload", files={"file": ("naskah.pdf", data, "application/pdf")})
    assert page.status_code == 200, page.text[:400]
    assert "SAH" in page.text and "Blok tanda tangan naskah" in page.text and "check.naskah" not in page.text


def test_the_settings_give_the_letterhead_and_refuse_a_bad_number_pattern(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IKRAR_NUMBER_PATTERN", "IKRAR/{year}")
    with pytest.raises(ValueError, match="IKRAR_NUMBER_PATTERN: .*must name"):
        Settings.from_env()
    emblem = tmp_path / "lambang.png"
    emblem.write_bytes(b"GIF89a not a png")
    monkeypatch.setenv("IKRAR_NUMBER_PATTERN", "800/{index}/419.116/{year}")
    monkeypatch.setenv("IKRAR_EMBLEM_FILE", str(emblem))
    monkeypatch.setenv("IKRAR_OFFICE_ADDRESS", "Jl. Basuki Rahmat No. 15, Kota Kediri")
    settings = Settings.from_env()
    with pytest.raises(InvalidInput, match="PNG or a JPEG"):
        settings.letterhead()
    monkeypatch.delenv("IKRAR_EMBLEM_FILE")
    head = Settings.from_env().letterhead()
    assert head.emblem is None and head.address.startswith("Jl. Basuki")
    assert head.number(12, datetime(2026, 12, 31, 18, 0, tzinfo=UTC)) == "800/12/419.116/2027"  # the year in WIB


def _blocks(html: str) -> list[tuple[str, str]]:
    """Each block of an uploaded naskah's page: its class and its text (tags dropped, spaces collapsed)."""
    import re
    from html import unescape

    found = re.findall(r'<li class="check check-(\w+) block-\w+">(.*?)</li>', html, re.DOTALL)
    return [(outcome, " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())) for outcome, body in found]


def test_an_uploaded_naskah_shows_each_block_and_its_check(site: Site) -> None:
    """One row per signatory, in the published order: signed (its signature's check), declined
    (its decline's signature, the reason), not signed yet (nothing to check)."""
    signed = site.world.sign(1).entry.index
    declined = site.world.decline(2, "Sedang cuti").entry.index
    data = site.client().get("/commitments/smart-city/naskah.pdf").content
    page = site.client().post("/verify/upload", files={"file": ("naskah.pdf", data, "application/pdf")})
    assert page.status_code == 200
    assert _blocks(page.text) == [
        (
            "passed",
            f"✓ Pejabat 1 Kepala Dinas 1 Dinas 1 NIP 19750314 200104 1 001 Ditandatangani secara elektronik, "
            f"entri #{signed}. Tanda tangan atau penolakan ini sah menurut bukti yang terlampir.",
        ),
        (
            "passed",
            f"✓ Pejabat 2 Kepala Dinas 2 Dinas 2 NIP 19750314 200104 1 002 Menolak menandatangani, entri #{declined}. "
            "Alasan: Sedang cuti Tanda tangan atau penolakan ini sah menurut bukti yang terlampir.",
        ),
        (
            "not_checked",
            "– Pejabat 3 Kepala Dinas 3 Dinas 3 NIP 19750314 200104 1 003 Belum menandatangani "
            "(per checkpoint naskah ini).",
        ),
    ]
    assert "Naskah ini asli" in page.text
    body = site.client().post("/api/v1/verify", files={"file": ("naskah.pdf", data, "application/pdf")}).json()
    assert body["kind"] == "naskah" and body["valid"] is True
    assert [(b["status"], b["index"], b["outcome"]) for b in body["blocks"]] == [
        ("signed", signed, "passed"),
        ("declined", declined, "passed"),
        ("pending", None, None),
    ]
    assert body["blocks"][1]["reason"] == "Sedang cuti" and len(body["blocks"][0]["checks"]) == 7
    english = site.client("en").post("/verify/upload", files={"file": ("naskah.pdf", data, "application/pdf")})
    assert "Declined to sign, entry #" in english.text and "Not signed yet" in english.text


def test_an_uploaded_naskah_with_a_forged_signature_names_its_block(site: Site) -> None:
    """A naskah whose one signature's leaf was altered: that block fails, the others pass; a
    block whose status naskah.json states as no status Ikrar prints is shown as unknown."""
    signed = site.world.sign(1).entry.index
    site.world.sign(2)
    data = site.client().get("/commitments/smart-city/naskah.pdf").content
    leaf = attachments(data)[f"entry-{signed}.json"].replace(b"smart-city", b"smart-citx")
    forged = rebuild_pages(data, replace={f"entry-{signed}.json": leaf})
    body = site.client().post("/api/v1/verify", files={"file": ("naskah.pdf", forged, "application/pdf")}).json()
    assert body["valid"] is False and body["kind"] == "naskah"
    assert [b["outcome"] for b in body["blocks"]] == ["failed", "passed", None]
    page = site.client().post("/verify/upload", files={"file": ("naskah.pdf", forged, "application/pdf")})
    assert "Naskah ini telah diubah setelah diterbitkan." in page.text
    first = _blocks(page.text)[0]
    assert first[0] == "failed" and first[1].endswith(
        "Pemeriksaan blok ini gagal: Tercakup dalam checkpoint bertanda tangan."
    )
    manifest = json.loads(attachments(data)["naskah.json"])
    manifest["blocks"][2]["status"] = "<b>lunas</b>"
    odd = rebuild_pages(data, replace={"naskah.json": json.dumps(manifest).encode()})
    shown = site.client().post("/verify/upload", files={"file": ("naskah.pdf", odd, "application/pdf")})
    assert shown.status_code == 200 and "<b>lunas" not in shown.text
    assert _blocks(shown.text)[2][1].endswith("Blok ini menyatakan keadaan yang tidak dikenal Ikrar.")
