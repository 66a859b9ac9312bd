"""PDF bombs, made in the test: small files that cost much to read when read naively.

attachment_bomb        many small attachments, each a stream compressed twice
flate_bomb             one attachment of a single /FlateDecode stream inflating to 64 MB
many_attachments       more attachments than any certificate has
form_bomb              a page that draws one form object thousands of times (nested forms)
with_page_of           a genuine certificate's attachments over another PDF's page
long_number_manifest   certificate.json with a 5000-digit number
annotated              a genuine certificate with an opaque box drawn over its page
"""

from __future__ import annotations

import io
import json
import zlib

from pypdf import PdfReader, PdfWriter
from pypdf.annotations import FreeText
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject, StreamObject

from .certs import attachments, rebuild


def _write(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _recompress(pdf: bytes, filters: list[str], encode: object) -> bytes:
    """Re-encode every embedded file stream of `pdf` with `encode` and the given filters."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    for obj in writer._objects:
        if isinstance(obj, StreamObject) and obj.get("/Type") == "/EmbeddedFile":
            obj._data = encode(obj.get_data())  # type: ignore[operator]
            obj[NameObject("/Filter")] = ArrayObject(NameObject(f) for f in filters)
    return _write(writer)


def attachment_bomb(count: int = 200, each: int = 8 * 1024 * 1024) -> bytes:
    """`count` attachments of `each` zero bytes, each compressed twice: a few kB on disk."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    for i in range(count):
        writer.add_attachment(f"entry-{i}.json", b"x")
    packed = zlib.compress(zlib.compress(b"\0" * each, 9), 9)
    return _recompress(_write(writer), ["/FlateDecode", "/FlateDecode"], lambda _: packed)


def flate_bomb(size: int = 64 * 1024 * 1024, name: str = "certificate.json") -> bytes:
    """One attachment of `size` zero bytes under a single /FlateDecode: some 64 kB on disk."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_attachment(name, b"x")
    packed = zlib.compress(b"\0" * size, 9)
    return _recompress(_write(writer), ["/FlateDecode"], lambda _: packed)


def many_attachments(count: int = 1000) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    for i in range(count):
        writer.add_attachment(f"entry-{i}.json", b"{}")
    return _write(writer)


def form_bomb(depth: int = 6, fan: int = 40) -> bytes:
    """A page drawing form X{depth}, which draws X{depth-1} `fan` times, ... down to X0,
    which shows a word: fan**depth words to extract, from a file of a few kB."""
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
    )
    previous = None
    for _ in range(depth + 1):
        form = DecodedStreamObject()
        form.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): ArrayObject([]),
            }
        )
        resources = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
        if previous is None:
            form.set_data(b"BT /F1 12 Tf 10 10 Td (Ikrar) Tj ET")
        else:
            resources[NameObject("/XObject")] = DictionaryObject({NameObject("/X"): previous})
            form.set_data(b"q /X Do Q\n" * fan)
        form[NameObject("/Resources")] = resources
        form[NameObject("/BBox")] = ArrayObject([])
        previous = writer._add_object(form)
    content = DecodedStreamObject()
    content.set_data(b"q /X Do Q\n" * fan)
    page[NameObject("/Contents")] = writer._add_object(content)
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/XObject"): DictionaryObject({NameObject("/X"): previous})}
    )
    return _write(writer)


def with_page_of(certificate: bytes, other: bytes) -> bytes:
    """The attachments of `certificate` under the first page of `other`."""
    writer = PdfWriter()
    writer.add_page(PdfReader(io.BytesIO(other)).pages[0])
    for name, data in attachments(certificate).items():
        writer.add_attachment(name, data)
    return _write(writer)


def long_number_manifest(certificate: bytes, digits: int = 5000) -> bytes:
    manifest = json.loads(attachments(certificate)["certificate.json"])
    text = json.dumps(manifest).replace(f'"index": {manifest["index"]}', f'"index": {"9" * digits}', 1)
    return rebuild(certificate, replace={"certificate.json": text.encode()})


def annotated(certificate: bytes, rect: tuple[float, float, float, float] = (60, 540, 535, 600)) -> bytes:
    """The certificate with an opaque white box (a FreeText annotation) laid over `rect`,
    where the signer's name is printed, and a forged name written in it."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(certificate)))
    box = FreeText(text="Someone Else", rect=rect, font_size="25pt", background_color="ffffff", border_color=None)
    writer.add_annotation(0, box)
    return _write(writer)
