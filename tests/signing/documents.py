"""Shared by the documents' tests: a ledger of rules version 3 with a commitment, and readers of PDFs."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, StreamObject

from ledger.note import NoteSigner

from ..factories import ORIGIN, LedgerFactory

RULES = 3  # the documents print every rules version alike; signing at version 4 names the capacity


def created(factory: LedgerFactory, rules: int = RULES) -> LedgerFactory:
    factory.signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    factory.ledger.create("Pemerintah Kota Kediri (uji)", ORIGIN, factory.signer, factory.now(), rules=rules)
    return factory


@pytest.fixture()
def world3(ledger_factory: LedgerFactory) -> LedgerFactory:
    """A ledger of rules version 3 with the commitment smart-city and three enrolled signatories."""
    return created(ledger_factory).with_commitment(officials=3)


def text_of(pdf: bytes, page: int = 0) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[page].extract_text()


def all_text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def squash(text: str) -> str:
    return "".join(text.split())


def rebuild_pages(pdf: bytes, old: bytes = b"", new: bytes = b"", replace: Mapping[str, bytes] | None = None) -> bytes:
    """What a forger would make of a document of several pages: every page (with `old` replaced
    by `new` where its drawing has it, when `old` is given) and the attachments (those in
    `replace` replaced), written anew."""
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    found = False
    for source in reader.pages:
        page = writer.add_page(source)
        data = page.get_contents().get_data()
        if old and old in data:
            found = True
            stream = StreamObject()
            stream.set_data(data.replace(old, new))
            page[NameObject("/Contents")] = writer._add_object(stream)
    assert found or not old, f"{old!r} is drawn on no page"
    files = {name: content[0] for name, content in reader.attachments.items()}
    files.update(replace or {})
    for name, content in files.items():
        writer.add_attachment(name, content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


STANDALONE = Path(__file__).parents[2] / "verifier" / "ikrar_verify.py"


def standalone_says(pdf: bytes, vkey: object, folder: Path) -> str:
    """What `ikrar_verify.py cert` says of `pdf` with the ledger key `vkey`, asserting it exits 0."""
    (folder / "bukti.pdf").write_bytes(pdf)
    done = subprocess.run(
        [sys.executable, str(STANDALONE), "cert", str(folder / "bukti.pdf"), "--vkey", str(vkey)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
