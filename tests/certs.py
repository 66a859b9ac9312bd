"""Helpers for certificate tests: render one, read its QR code, and forge altered copies."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, datetime

import pypdfium2 as pdfium
import zxingcpp
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, StreamObject

from signing.certificate import certificate_pdf

from .factories import LedgerFactory

BASE_URL = "https://ikrar.test.kedirikota.go.id"
PRINTED = datetime(2026, 1, 6, 3, 0, tzinfo=UTC)


def signed_certificate(world: LedgerFactory, n: int = 1, lang: str = "id") -> tuple[int, bytes]:
    """Official `n` signs; return the entry index and its certificate (presentation 1, whose
    page text the callers edit)."""
    index = world.sign(n).entry.index
    return index, certificate_pdf(world.ledger, index, lang=lang, base_url=BASE_URL, now=PRINTED, presentation=1)


def attachments(pdf: bytes) -> dict[str, bytes]:
    return {name: data[0] for name, data in PdfReader(io.BytesIO(pdf)).attachments.items()}


def rebuild(
    pdf: bytes,
    replace: Mapping[str, bytes] = {},
    drop: tuple[str, ...] = (),
    page_edit: tuple[bytes, bytes] | None = None,
) -> bytes:
    """What a forger would make: the same page (optionally with its text edited) and the
    attachments, some replaced or dropped, written as a new PDF."""
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    page = writer.add_page(reader.pages[0])
    if page_edit is not None:
        old, new = page_edit
        data = page.get_contents().get_data()
        assert old in data, f"{old!r} is not drawn on the page"
        stream = StreamObject()
        stream.set_data(data.replace(old, new))
        page[NameObject("/Contents")] = writer._add_object(stream)
    files = attachments(pdf)
    files.update(replace)
    for name, data in files.items():
        if name not in drop:
            writer.add_attachment(name, data)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def rasterize(pdf: bytes, dpi: int = 200, page: int = 0):
    """The page as a PIL image at `dpi`."""
    doc = pdfium.PdfDocument(pdf)
    try:
        return doc[page].render(scale=dpi / 72).to_pil()
    finally:
        doc.close()


def read_qr_codes(pdf: bytes, dpi: int = 200, page: int = 0) -> list[zxingcpp.Barcode]:
    """Every QR code zxing-cpp finds on the rasterized page."""
    image = rasterize(pdf, dpi, page)
    return [b for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.QRCode]


def qr_width_cm(barcode: zxingcpp.Barcode, dpi: int) -> float:
    """The printed width of a decoded QR symbol (its finder-pattern corners), in centimetres."""
    p = barcode.position
    pixels = max(abs(p.top_right.x - p.top_left.x), abs(p.bottom_right.x - p.bottom_left.x))
    return pixels / dpi * 2.54
