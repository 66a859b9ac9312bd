"""Verification of a certificate PDF: offline from its attachments, or against a ledger.

Offline (`examine_certificate`): no server and no database. The PDF's attachments hold the
four entries behind the signature, their tlog-proofs against one checkpoint, and the
ledger's verifier key. We check the checkpoint's signature, that every leaf is in it,
the official's signature, that the entries belong together, and that the facts in
`certificate.json` and the text printed on the page are exactly the ledger's. Whether
the embedded key is the city's can only be known from a key published elsewhere: pass
it as `trusted`.

Against a ledger (`examine_upload`): the same, trusting the ledger's own key, and also
that the entries are this ledger's and the checkpoint is consistent with its latest,
all read from one snapshot of the ledger.

The certificate is read once (`read_embedded`); then each check is a step over what was
read, in the order a report lists them:

    1. key          the embedded ledger key is the trusted one (when one is given)
    2. entries      the four attached entries are well-formed, of the right kinds
    3. checkpoint   the proofs name one checkpoint, signed by the embedded key
    4. inclusion    every entry is in that checkpoint (needs 2, 3)
    5. origin       the first entry, the checkpoint and the key name one origin (needs 2, 3)
    6. statement    the official's signature verifies (needs 4, 5)
    7. belongs      the four entries belong together (needs 4, 5)
    8. facts        certificate.json states exactly the ledger's facts (needs 7)
    9. page         the printed page shows exactly those facts (needs 7)
   10. ledger       (upload) the entries are this ledger's, byte for byte (needs 1, 4)
   11. consistency  (upload) the checkpoint is consistent with this ledger's latest (needs 10)

A naskah and a Surat Rekomendasi are examined by the same steps over the entries they carry
(`signing.doc_verify`); a letter adds `office` against a ledger (needs 10).

Reading a file that is not a certificate raises a `CertificateInvalid` child that says
which way it is not (not a PDF, damaged, not a certificate, an attachment missing);
everything else is a finding in the returned `CertificateReport`.
"""

from __future__ import annotations

import base64
import difflib
import io
import json
import logging
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import partial
from types import MappingProxyType
from typing import Any

from pypdf import PageObject, PdfReader, apply_configuration, get_configuration
from pypdf.generic import ArrayObject, DictionaryObject, StreamObject

from ledger.checkpoint import Checkpoint, TlogProof
from ledger.entries import Entry, entry_from_leaf
from ledger.errors import InvalidInput, LedgerError, NoteInvalid, NotFound, ProofInvalid
from ledger.merkle import Hash, verify_consistency, verify_inclusion
from ledger.note import VerifierKey
from ledger.reader import Reader
from ledger.rules import verify as verify_signatures
from ledger.store import Ledger

from .app_letter import MANIFEST as LETTER_MANIFEST
from .app_letter import LetterFacts, LetterFound
from .cert_formal import certificate_document
from .cert_layout import page_lines
from .cert_words import Presentation
from .certificate import FORMAT, MANIFEST, REVOCATION, VKEY_FILE, draw_certificate, entry_file, proof_file
from .checks import Check, Failed, NotChecked, Outcome, Read, attempt, establish, got, run
from .doc_draw import page_texts
from .doc_fonts import STANDARD, FontMissing
from .errors import (
    AttachmentMissing,
    CertificateDamaged,
    CertificateEdited,
    CertificateInvalid,
    ForeignCertificate,
    NotACertificate,
    NotAPdf,
    Reason,
    SigningError,
)
from .facts import (
    KINDS,
    STATED,
    Behind,
    Difference,
    Revocation,
    SignatureFacts,
    revocation_of,
    revoked_later,
    signature_facts,
)
from .naskah import Block
from .summary import SUMMARY_MARK

logger = logging.getLogger(__name__)

MAX_PDF_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 32  # a certificate carries ten or eleven
MAX_NASKAH_ATTACHMENTS = 640  # a naskah some four for each signature: 150 signatories; a letter at most 603
NASKAH_MANIFEST = "naskah.json"  # signing.naskah's; a PDF that carries it may carry more attachments
DOCUMENT_MANIFESTS = (NASKAH_MANIFEST, LETTER_MANIFEST)  # the documents that carry many entries
MAX_PAGES = 48  # a certificate has one or two pages; a naskah of 150 signatories some 30
MAX_ATTACHMENT_BYTES = 1024 * 1024  # decoded; a certificate's largest is some 3 kB
MAX_DECODED_BYTES = 4 * 1024 * 1024  # decoded, all attachments and the page's drawing together
MAX_NAME_TREE = 8  # levels of the attachments' name tree
MB = 1024 * 1024
ROLE_NAMES = dict(
    zip(KINDS, ("the ledger's first entry", "the key's enrolment", "the commitment", "the signature"), strict=True)
)
# What pypdf itself may decode or walk while it parses a file (object and xref streams,
# the page tree, a text extraction): far beyond any certificate, far below a bomb.
PYPDF_LIMITS = {
    "maximum_declared_stream_length": MAX_PDF_BYTES,
    "zlib_maximum_output_length": MAX_DECODED_BYTES,
    "array_based_stream_maximum_output_length": MAX_DECODED_BYTES,
    "lzw_maximum_output_length": MAX_DECODED_BYTES,
    "run_length_maximum_output_length": MAX_DECODED_BYTES,
    "jbig2_maximum_output_length": MAX_DECODED_BYTES,
    "brotli_maximum_output_length": MAX_DECODED_BYTES,
    "image_maximum_buffer_size": MAX_DECODED_BYTES,
    "stream_filters_maximum_length": 2,
    "stream_decoding_work_maximum_length": 4 * MAX_DECODED_BYTES,
    "stream_parsing_work_maximum_count": 200_000,
    "array_maximum_element_count": 10_000,
    "dictionary_maximum_element_count": 10_000,
    "page_tree_maximum_entries": 100,
    "page_tree_maximum_page_entries": 10_000,
    "xform_maximum_invocations_per_extraction": 20,
    "outline_maximum_entries": 100,
    "named_destinations_maximum_entries": 100,
    "form_fields_maximum_entries": 100,
}


_FILTERS: tuple[list[str], ...] = ([], ["/FlateDecode"], ["/ASCII85Decode", "/FlateDecode"])


class _Budget:
    """The decoded bytes a file may still cost; decoding past it refuses the file."""

    def __init__(self, total: int = MAX_DECODED_BYTES) -> None:
        self.left = total

    def decode(self, stream: Any, what: str, limit: int) -> bytes:
        """The decoded bytes of a pypdf stream, decoding at most what the limits allow.

        Only the filter chains Ikrar writes are read (none, /FlateDecode, ReportLab's
        /ASCII85Decode /FlateDecode), without predictors. Raises CertificateDamaged (another filter, damaged data) or
        CertificateDamaged (past `limit` or the file's budget).
        """
        if not isinstance(stream, StreamObject):
            raise CertificateDamaged(f"{what} is not a stream")
        filters = stream.get("/Filter")
        if isinstance(filters, ArrayObject):
            filters = list(filters)
        elif filters is not None:
            filters = [filters]
        raw = stream._data  # the encoded bytes: pypdf would decode them without our limits
        if not isinstance(raw, bytes):
            raise CertificateDamaged(f"{what} is not a stream")
        cap = min(limit, self.left)
        names = [str(f) for f in filters or ()]
        if names not in _FILTERS or stream.get("/DecodeParms") is not None:
            raise CertificateDamaged(
                f"{what} uses the filters {' '.join(names):.80}; Ikrar reads only the ones it writes",
                code="cert.filters",
            )
        data = raw
        try:
            if names[:1] == ["/ASCII85Decode"]:  # ReportLab's page content: shrinks, never grows
                data = base64.a85decode(data.strip().removesuffix(b"~>"), adobe=False)
            if names[-1:] == ["/FlateDecode"]:
                data = zlib.decompressobj().decompress(data, cap + 1)  # stops past the cap
        except (ValueError, zlib.error) as e:
            raise CertificateDamaged(f"{what} is damaged (its encoded data does not decode)") from e
        if len(data) > cap:
            if cap == limit:
                raise CertificateDamaged(
                    f"{what} is larger than {limit // 1024} kB once decoded: not a certificate",
                    code="cert.stream_too_large",
                    kb=limit // 1024,
                )
            raise CertificateDamaged(
                f"the file decodes to more than {MAX_DECODED_BYTES // MB} MB: not a certificate",
                code="cert.decoded_too_large",
                mb=MAX_DECODED_BYTES // MB,
            )
        self.left -= len(data)
        return data


def _attachment_specs(reader: PdfReader) -> list[tuple[str, Any]]:
    """The (name, embedded file stream) of each attachment, read from the name tree without
    decoding any. Raises CertificateDamaged past MAX_ATTACHMENTS."""
    root = reader.trailer["/Root"].get_object()
    names = root.get("/Names") if isinstance(root, DictionaryObject) else None
    names = names.get_object() if names is not None else None
    tree = names.get("/EmbeddedFiles") if isinstance(names, DictionaryObject) else None
    found: list[tuple[str, Any]] = []
    seen: set[int] = set()

    def walk(node: Any, depth: int) -> None:
        node = node.get_object() if node is not None else None
        if not isinstance(node, DictionaryObject) or depth > MAX_NAME_TREE or id(node) in seen:
            return
        seen.add(id(node))
        pairs = node.get("/Names")
        pairs = pairs.get_object() if pairs is not None else None
        if isinstance(pairs, ArrayObject):
            for k in range(0, len(pairs) - 1, 2):
                spec = pairs[k + 1].get_object()
                ef = spec.get("/EF") if isinstance(spec, DictionaryObject) else None
                ef = ef.get_object() if ef is not None else None
                if not isinstance(ef, DictionaryObject):
                    continue
                stream = ef.get("/F") or ef.get("/UF")
                found.append((str(pairs[k].get_object()), stream.get_object() if stream is not None else None))
                if len(found) > MAX_NASKAH_ATTACHMENTS:
                    raise _too_many(found)
        kids = node.get("/Kids")
        kids = kids.get_object() if kids is not None else None
        if isinstance(kids, ArrayObject):
            for kid in kids:
                walk(kid, depth + 1)

    walk(tree, 0)
    if len(found) > MAX_ATTACHMENTS and all(name not in DOCUMENT_MANIFESTS for name, _ in found):
        raise _too_many(found)
    return found


def _too_many(found: list[tuple[str, Any]]) -> CertificateDamaged:
    """More attachments than a certificate carries, or than a naskah or a letter (one that names its manifest)."""
    n = MAX_NASKAH_ATTACHMENTS if any(name in DOCUMENT_MANIFESTS for name, _ in found) else MAX_ATTACHMENTS
    return CertificateDamaged(
        f"the PDF has more than {n} attachments: not a certificate", code="cert.too_many_attachments", n=n
    )


@dataclass(frozen=True)
class PageDrawing:
    """What a page draws, in a form two pages can be compared by: its decoded content
    stream, the names of its resources (fonts, XObjects, ...) and its annotations."""

    content: bytes
    resources: tuple[str, ...]
    annotations: tuple[str, ...]
    box: tuple[str, ...]


def _drawing(page: PageObject, budget: _Budget) -> PageDrawing:
    contents = page.get("/Contents")
    contents = contents.get_object() if contents is not None else None
    streams = list(contents) if isinstance(contents, ArrayObject) else [] if contents is None else [contents]
    if len(streams) > MAX_ATTACHMENTS:
        raise CertificateDamaged("the page is drawn in too many pieces to be a certificate")
    content = b"\n".join(budget.decode(s.get_object(), "the page's content", MAX_ATTACHMENT_BYTES) for s in streams)
    resources: list[str] = []
    res = page.get("/Resources")
    res = res.get_object() if res is not None else None
    if isinstance(res, DictionaryObject):
        for kind, value in res.items():
            value = value.get_object()
            names = sorted(str(k) for k in value) if isinstance(value, DictionaryObject) else [repr(value)[:80]]
            resources.extend(f"{kind}{name}" for name in names[:MAX_ATTACHMENTS])
    annotations: list[str] = []
    annots = page.get("/Annots")
    annots = annots.get_object() if annots is not None else None
    if annots is not None:
        items = list(annots) if isinstance(annots, ArrayObject) else [annots]
        for a in items[:MAX_ATTACHMENTS]:
            a = a.get_object()
            annotations.append(str(a.get("/Subtype")) if isinstance(a, DictionaryObject) else "?")
        annotations.extend("?" for _ in items[MAX_ATTACHMENTS : MAX_ATTACHMENTS + 1])
    box = tuple(str(float(v)) for v in page.mediabox)
    return PageDrawing(content, tuple(sorted(resources)), tuple(annotations), box)


class SummaryNotCertificate(NotACertificate):
    """The PDF is a commitment's summary (`signing.summary`): it carries no evidence; each of
    its rows is checked by its QR code."""

    code = "cert.summary"


SUMMARY_TITLES = ("Rekapitulasi Penandatanganan", "Signature Summary")  # of summaries printed before the mark


def is_summary(attachments: Mapping[str, bytes], metadata: Mapping[str, Any] | None) -> bool:
    """Whether a PDF is an Ikrar summary: by its mark, or (printed before the summary had one)
    by its document information: creator Ikrar, a summary's title."""
    if SUMMARY_MARK in attachments:
        return True
    info = metadata or {}
    title = str(info.get("/Title", ""))
    return str(info.get("/Creator", "")) == "Ikrar" and title.startswith(tuple(f"{t}:" for t in SUMMARY_TITLES))


@dataclass(frozen=True)
class PdfContents:
    """What a PDF holds that a certificate check reads: its attachments and its page.

    The page's text is extracted only when asked (`page_text`): text extraction costs what
    the page's drawing makes it cost, so it is done only when the drawing is not Ikrar's.
    """

    attachments: Mapping[str, bytes]
    pages: int
    drawing: PageDrawing | None  # of the first page; None when there is none
    source: bytes = field(repr=False, compare=False)
    drawings: tuple[PageDrawing, ...] = ()  # of every page (at most MAX_PAGES are read)
    summary: bool = False  # a commitment's summary (`is_summary`)

    def page_text(self, page: int = 0) -> str:
        """A page's text. Raises CertificateDamaged when it cannot be extracted."""
        if page >= self.pages:
            return ""
        with _reading():
            reader = PdfReader(io.BytesIO(self.source), strict=False)
            return reader.pages[page].extract_text()


@contextmanager
def _reading() -> Iterator[None]:
    """pypdf's work bounded by PYPDF_LIMITS; its errors become CertificateDamaged."""
    try:
        with apply_configuration(get_configuration().with_overwrites(**PYPDF_LIMITS)):
            yield
    except CertificateInvalid:
        raise
    except Exception as e:  # pypdf raises many kinds of errors on damaged input; each means the same here
        raise CertificateDamaged(f"the PDF is damaged and cannot be read ({type(e).__name__})") from e


def read_pdf(data: bytes, *, page: bool = True) -> PdfContents:
    """Read a PDF's attachments, then (with `page`, and only when they include a certificate's
    MANIFEST) what its first page draws, defensively; the page's text is extracted only when
    asked (`PdfContents.page_text`). What is not read counts as no page.

    Decoding stops as soon as it passes a limit: at most MAX_ATTACHMENTS attachments,
    MAX_ATTACHMENT_BYTES each and MAX_DECODED_BYTES in all, decoded. Raises NotAPdf,
    CertificateDamaged (unreadable, encrypted, a filter Ikrar does not write),
    CertificateDamaged (past a limit) or CertificateEdited (an attachment name used twice).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise NotAPdf("the upload is not a file")
    data = bytes(data)
    if len(data) > MAX_PDF_BYTES:
        raise CertificateDamaged(
            f"the file is larger than {MAX_PDF_BYTES // MB} MB: not a certificate",
            code="cert.file_too_large",
            mb=MAX_PDF_BYTES // MB,
        )
    if b"%PDF-" not in data[:1024]:
        raise NotAPdf("the file is not a PDF (it does not start with %PDF-)")
    budget = _Budget()
    with _reading():
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise CertificateDamaged("the PDF is encrypted; certificates never are")
        found: dict[str, bytes] = {}
        for name, stream in _attachment_specs(reader):
            if name in found:
                raise CertificateEdited(f"the attachment {name} is there twice")
            found[name] = budget.decode(stream, f"the attachment {name:.80}", MAX_ATTACHMENT_BYTES)
        if not page or (MANIFEST not in found and not any(m in found for m in DOCUMENT_MANIFESTS)):
            summary = MANIFEST not in found and is_summary(found, _information(reader))
            return PdfContents(MappingProxyType(found), 0, None, data, summary=summary)
        pages = len(reader.pages)
        drawings = tuple(_drawing(reader.pages[k], budget) for k in range(min(pages, MAX_PAGES)))
    return PdfContents(MappingProxyType(found), pages, drawings[0] if drawings else None, data, drawings)


def _information(reader: PdfReader) -> Mapping[str, Any] | None:
    """A PDF's document information; None when it has none that reads."""
    try:
        info = reader.metadata
    except Exception:  # pypdf raises many kinds of errors on a damaged dictionary; each means none here
        return None
    return info if isinstance(info, Mapping) else None


def page_drawing(pdf: bytes) -> PageDrawing:
    """What the first page of a PDF Ikrar rendered draws. Raises CertificateDamaged."""
    return page_drawings(pdf)[0]


def page_drawings(pdf: bytes) -> tuple[PageDrawing, ...]:
    """What each page of a PDF Ikrar rendered draws. Raises CertificateDamaged."""
    with _reading():
        reader = PdfReader(io.BytesIO(pdf), strict=False)
        budget = _Budget()
        return tuple(_drawing(page, budget) for page in reader.pages)


@dataclass(frozen=True)
class Embedded:
    """The evidence a certificate carries, parsed but not yet verified."""

    index: int
    indexes: tuple[int, ...]  # the four entries, in the order of facts.KINDS
    presentation: Presentation
    claimed: SignatureFacts  # the printed facts as certificate.json states them
    leaves: Mapping[int, bytes]
    proofs: Mapping[int, bytes]
    vkey: VerifierKey  # the ledger key the certificate claims
    pdf: PdfContents = field(repr=False, compare=False)  # its page, to compare with what Ikrar draws
    revoked: int | None = None  # the key.revoked entry it carries and prints (presentation 2 on)


MAX_INT_DIGITS = 20  # as ledger.canonical: every number a certificate holds fits


class _LongNumber(ValueError):
    pass


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _LongNumber(len(text.lstrip("-")))
    return int(text)


def _manifest(raw: bytes) -> dict[str, Any]:
    """certificate.json, parsed. Raises CertificateEdited (not JSON, a number too long to be
    one a certificate holds, not of this format)."""
    try:
        value = json.loads(raw.decode("utf-8"), parse_int=_bounded_int)
    except _LongNumber as e:
        raise CertificateEdited(
            f"{MANIFEST} holds a number of {e.args[0]} digits; a certificate's have at most {MAX_INT_DIGITS}",
            code="cert.number_too_long",
            file=MANIFEST,
            n=MAX_INT_DIGITS,
        ) from e
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise CertificateEdited(f"{MANIFEST} is not JSON") from e
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise CertificateEdited(f"{MANIFEST} is not an Ikrar certificate of format {FORMAT}")
    return value


def read_embedded(data: bytes) -> Embedded:
    """Parse a certificate's attachments, and read its page only once they are a certificate's.

    Raises a CertificateInvalid child saying what is wrong.
    """
    return embedded_of(read_pdf(data))


def embedded_of(pdf: PdfContents) -> Embedded:
    """The certificate evidence of a PDF read by `read_pdf`. Raises like `read_embedded`."""
    files = pdf.attachments
    if MANIFEST not in files:
        ours = [n for n in files if n == VKEY_FILE or n.startswith("entry-")]
        if pdf.summary and not ours:
            raise SummaryNotCertificate(
                "the PDF is a commitment's summary, which carries no evidence: check each row by its QR code"
            )
        if not ours:
            raise NotACertificate(
                "the PDF carries no Ikrar evidence: it is not an Ikrar certificate, or a copy "
                "that lost its attachments (a printout or a re-saved file)"
            )
        raise AttachmentMissing(f"the certificate lacks its attachment {MANIFEST}")
    m = _manifest(files[MANIFEST])
    index, indexes = m.get("index"), m.get("entries")
    if (
        type(index) is not int
        or not isinstance(indexes, list)
        or len(indexes) != len(KINDS)
        or any(type(i) is not int or i < 0 for i in indexes)
        or indexes[-1] != index
    ):
        raise CertificateEdited(f"{MANIFEST} does not name the four entries behind the signature")
    try:
        presentation = Presentation.from_json(m, files)
        claimed = SignatureFacts.from_json(m.get("facts"))
    except LedgerError as e:
        raise CertificateEdited(f"{MANIFEST} is malformed: {e}") from e
    revoked = m.get(REVOCATION)
    if revoked is not None and (type(revoked) is not int or revoked < 0 or presentation.version < 2):
        raise CertificateEdited(f"{MANIFEST} names a revocation a certificate of this presentation does not carry")
    leaves: dict[int, bytes] = {}
    proofs: dict[int, bytes] = {}
    for i in [*indexes, *([revoked] if revoked is not None else [])]:
        for name, into in ((entry_file(i), leaves), (proof_file(i), proofs)):
            if name not in files:
                raise AttachmentMissing(f"the certificate lacks its attachment {name}")
            into[i] = files[name]
    if VKEY_FILE not in files:
        raise AttachmentMissing(f"the certificate lacks its attachment {VKEY_FILE}")
    try:
        vkey = VerifierKey.parse(files[VKEY_FILE].decode("utf-8"))
    except (UnicodeDecodeError, NoteInvalid) as e:
        raise CertificateEdited(f"{VKEY_FILE} is not a verifier key") from e
    return Embedded(
        index,
        tuple(indexes),
        presentation,
        claimed,
        MappingProxyType(leaves),
        MappingProxyType(proofs),
        vkey,
        pdf,
        revoked,
    )


class KeyTrust(StrEnum):
    TRUSTED = "trusted"  # the embedded key equals the key the caller trusts
    EMBEDDED_ONLY = "embedded_only"  # no trusted key given: trust must come from a key published elsewhere
    MISMATCH = "mismatch"  # the embedded key is not the trusted one: another ledger


@dataclass(frozen=True)
class CertificateReport:
    """What a certificate check found.

    `intact`: every check of the PDF against its own embedded key passed. `valid`: intact,
    and that key is the trusted one. `reason` names why a certificate is refused.
    """

    index: int
    checks: tuple[Check, ...]
    facts: SignatureFacts | None  # the ledger's facts, read from the verified entries
    presentation: Presentation
    vkey: VerifierKey  # the embedded ledger key
    key_trust: KeyTrust
    revocation: Revocation | None = None  # set by `examine_upload` when the key has been revoked since
    blocks: tuple[BlockVerdict, ...] | None = None  # a naskah's blocks (`index` is then its commitment's)
    letter: LetterFacts | None = None  # a letter's facts, read from its entries (`index` is its decision's)
    is_letter: bool = False  # the file is a letter (`signing.app_letter`), whether or not its facts were read

    @property
    def kind(self) -> str:
        """What the file is: ``certificate``, ``naskah`` or ``letter``."""
        return "letter" if self.is_letter else "certificate" if self.blocks is None else "naskah"

    @property
    def intact(self) -> bool:
        return all(c.passed for c in self.checks if c.name != "key")

    @property
    def valid(self) -> bool:
        return self.intact and self.key_trust is KeyTrust.TRUSTED

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.failed)

    @property
    def reason(self) -> Reason | None:
        """The reason of the first failed check; None when none failed."""
        for c in self.failures:
            return c.reason or Reason.EDITED
        return None

    def verify(self) -> None:
        """Raise the first failure as CertificateEdited or ForeignCertificate; return when none failed."""
        for c in self.failures:
            cls = ForeignCertificate if c.reason is Reason.FOREIGN else CertificateEdited
            raise cls(f"{c.name}: {c.detail}")


def _squash(text: str) -> str:
    return "".join(text.split())


def check_page(expected: list[str], page_text: str) -> None:
    """Raise Failed naming the first line where the page's text differs from `expected`.

    Spaces and line breaks are ignored (text extraction may join or split lines); every
    other character must be the same, in the same order.
    """
    if _squash("".join(expected)) == _squash(page_text):
        return
    want = [_squash(line) for line in expected if _squash(line)]
    wanted = [line for line in expected if _squash(line)]
    raw = [line.strip() for line in page_text.splitlines() if line.strip()]
    have = [_squash(line) for line in raw]
    for op, i1, _i2, j1, _j2 in difflib.SequenceMatcher(None, want, have, autojunk=False).get_opcodes():
        if op == "insert":
            added = Difference(None, raw[j1], None)
            raise Failed(f"the page shows text that is not the ledger's: {raw[j1]!r}", Reason.EDITED, added)
        if op == "delete":
            missing = Difference(None, None, wanted[i1])
            raise Failed(f"the page lacks the ledger's text {wanted[i1]!r}", Reason.EDITED, missing)
        if op == "replace":
            replaced = Difference(None, raw[j1], wanted[i1])
            raise Failed(f"the page says {raw[j1]!r} where the ledger says {wanted[i1]!r}", Reason.EDITED, replaced)
    raise Failed("the page's text is not the ledger's", Reason.EDITED)


_SHOWN = re.compile(rb"/([A-Za-z0-9+]{1,40}) [0-9.]{1,12} Tf[^()]{0,80}\(((?:[^()\\]|\\.){0,4000})\) ?Tj")
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescaped(literal: bytes) -> bytes:
    """The bytes a PDF string literal (without its parentheses) spells."""
    out = bytearray()
    k = 0
    while k < len(literal):
        c = literal[k : k + 1]
        k += 1
        if c != b"\\" or k >= len(literal):
            out += c
            continue
        octal = re.match(rb"[0-7]{1,3}", literal[k : k + 3])
        if octal:
            out.append(int(octal[0], 8) & 0xFF)
            k += len(octal[0])
        else:
            out += _ESCAPES.get(literal[k : k + 1], literal[k : k + 1])
            k += 1
    return bytes(out)


def _shown(content: bytes) -> list[tuple[bytes, bytes]]:
    """The strings a page's content shows (ReportLab's ``/F Tf … (…) Tj``), with their fonts, in order."""
    return [(m[1], _unescaped(m[2])) for m in _SHOWN.finditer(content)]


def drawn_difference(theirs: bytes, ours: bytes, lines: list[str]) -> Difference | None:
    """How a page's drawing differs from Ikrar's in the text it shows, read from the drawings
    themselves (for a page whose text cannot be extracted, or is extracted alike): the first
    string shown otherwise, read with the codes of Ikrar's own drawing (each of its strings is
    one of `lines`, one code a character); None when the drawings do not tell."""
    mine, their = _shown(ours), _shown(theirs)
    if len(mine) != len(lines):
        return None
    codes: dict[tuple[bytes, int], str] = {}
    for (font, raw), line in zip(mine, lines, strict=True):
        if len(raw) == len(line):
            codes.update(((font, b), ch) for b, ch in zip(raw, line, strict=True))

    def read(shown: tuple[bytes, bytes]) -> str:
        font, raw = shown
        return "".join(codes.get((font, b), "?") for b in raw)

    matcher = difflib.SequenceMatcher(None, mine, their, autojunk=False)
    for op, i1, _i2, j1, _j2 in matcher.get_opcodes():
        if op == "replace":
            return Difference(None, read(their[j1]), lines[i1])
        if op == "insert":
            return Difference(None, read(their[j1]), None)
        if op == "delete":
            return Difference(None, None, lines[i1])
    return None


def check_facts(claimed: SignatureFacts, actual: SignatureFacts) -> None:
    """Raise Failed naming the first fact certificate.json states (`STATED`) in which
    `claimed` differs from the ledger's."""
    for name in STATED:
        a, b = getattr(claimed, name), getattr(actual, name)
        if a != b:
            raise Failed(
                f"{MANIFEST} says {name} is {a!s:.80} where the ledger says {b!s:.80}",
                Reason.EDITED,
                Difference(name, str(a), str(b), "data"),
            )


# -- the certificate against its own evidence: steps 1-9 --------------------------------------


@dataclass(frozen=True)
class Opened:
    """A certificate's evidence once its entries parsed (step 2) and its checkpoint's
    signature verified (step 3): what steps 4-7 examine."""

    em: Embedded
    entries: Behind
    checkpoint: Checkpoint
    proofs: Mapping[int, TlogProof]


def _key(vkey: VerifierKey, trusted: VerifierKey | None) -> str:
    """1. The embedded ledger key is the key the caller trusts."""
    if trusted is None:
        raise NotChecked(
            f"only the key embedded in the PDF was used ({vkey}): trust must come from a key "
            "published elsewhere, such as the city's website; compare it, or give it with --vkey"
        )
    if vkey != trusted:
        raise Failed(
            f"the certificate's ledger key {vkey} is not the trusted key {trusted}: it comes from another ledger",
            Reason.FOREIGN,
        )
    return f"the embedded ledger key is the trusted key {trusted}"


def _entries(em: Embedded) -> tuple[str, Behind]:
    """2. Each attached entry is a well-formed ledger entry of its index and kind."""
    parsed = []
    for i, kind in zip(em.indexes, KINDS, strict=True):
        try:
            entry = entry_from_leaf(em.leaves[i])
        except InvalidInput as e:
            raise Failed(f"{entry_file(i)} is not a valid ledger entry: {e}") from e
        if entry.index != i:
            raise Failed(f"{entry_file(i)} holds entry {entry.index}")
        if entry.kind != kind:
            raise Failed(f"{entry_file(i)} is a {entry.kind} entry, not {ROLE_NAMES[kind]}")
        parsed.append(entry)
    created, enrolled, published, signed = parsed
    found = f"entries {', '.join(map(str, em.indexes))} are well-formed ledger entries"
    return found, (created, enrolled, published, signed)


def proven_checkpoint(
    proofs: Mapping[int, bytes], indexes: Iterable[int], vkey: VerifierKey
) -> tuple[Checkpoint, Mapping[int, TlogProof]]:
    """The one checkpoint the proofs of `indexes` are against, signed by `vkey`, and the
    proofs parsed. Raises Failed saying which proof is not one, or that they differ."""
    parsed: dict[int, TlogProof] = {}
    notes: set[str] = set()
    for i in indexes:
        try:
            proof = TlogProof.parse(proofs[i])
        except NoteInvalid as e:
            raise Failed(f"{proof_file(i)} is not a tlog-proof: {e}") from e
        if proof.index != i:
            raise Failed(f"{proof_file(i)} proves entry {proof.index}, not {i}")
        parsed[i] = proof
        notes.add(proof.checkpoint_note)
    if len(notes) != 1:
        raise Failed("the proofs are against different checkpoints")
    try:
        checkpoint = Checkpoint.open(notes.pop(), vkey)
    except NoteInvalid as e:
        raise Failed(f"the checkpoint is not signed by the ledger key: {e}") from e
    return checkpoint, MappingProxyType(parsed)


def _checkpoint(em: Embedded) -> tuple[str, tuple[Checkpoint, Mapping[int, TlogProof]]]:
    """3. Every proof is against one checkpoint, and the embedded key signed it."""
    checkpoint, proofs = proven_checkpoint(em.proofs, em.indexes, em.vkey)
    return f"the checkpoint of size {checkpoint.size} is signed by {em.vkey.name}", (checkpoint, proofs)


def _inclusion(o: Opened) -> str:
    """4. Every entry is in the signed checkpoint."""
    cp = o.checkpoint
    for entry in o.entries:
        try:
            verify_inclusion(entry.leaf_hash, entry.index, cp.size, o.proofs[entry.index].hashes, cp.root)
        except ProofInvalid as e:
            raise Failed(
                f"{ROLE_NAMES[entry.kind]} (entry {entry.index}) is not in the signed checkpoint: "
                f"its leaf or its proof was altered ({e})"
            ) from e
    return f"all four entries are in the checkpoint of size {cp.size} (RFC 6962 inclusion proofs)"


def _origin(o: Opened) -> str:
    """5. The first entry names the embedded key, and it, the checkpoint and the key name one origin."""
    return one_origin(o.entries[0], o.checkpoint, o.em.vkey)


def one_origin(created: Entry, cp: Checkpoint, vkey: VerifierKey) -> str:
    """The ledger's first entry `created` names `vkey`, and it, the checkpoint and the key name
    one origin (step 5 of every document). Raises Failed."""
    if created.fields["ledger_key"] != str(vkey):
        raise Failed(f"the ledger's first entry names the key {created.fields['ledger_key']}, not the embedded {vkey}")
    if not created.fields["origin"] == cp.origin == vkey.name:
        raise Failed(
            f"the origins differ: first entry {created.fields['origin']!r}, checkpoint {cp.origin!r}, key {vkey.name!r}"
        )
    return f"the first entry, the checkpoint and the key all name the origin {cp.origin}"


def _statement(o: Opened) -> str:
    """6. The official's signature over the signature entry verifies."""
    signed = o.entries[3]
    verify_signatures(signed, o.checkpoint.origin)
    return f"the official's Ed25519 signature verifies with the key {signed.fields['key']}"


def _belongs(o: Opened) -> tuple[str, SignatureFacts]:
    """7. The four entries belong together; what they say are the ledger's facts."""
    f = signature_facts(*o.entries, o.checkpoint)
    found = (
        f"the key was enrolled to NIP {f.nip} at entry {f.enrolled_index}; the text signed was published "
        f"at entry {f.commitment_index}"
    )
    return found, f


def _facts(em: Embedded, facts: SignatureFacts) -> str:
    """8. certificate.json states exactly the ledger's facts."""
    check_facts(em.claimed, facts)
    return f"{MANIFEST} states exactly the ledger's facts"


def _printed_revocation(o: Opened) -> Revocation | None:
    """The revocation a certificate carries and prints: its `key.revoked` entry, in the
    checkpoint, signed, revoking the key that signed after the signature. Raises Failed."""
    i = o.em.revoked
    if i is None:
        return None
    cp = o.checkpoint
    try:
        entry = entry_from_leaf(o.em.leaves[i])
        proof = TlogProof.parse(o.em.proofs[i])
        if (entry.index, proof.index) != (i, i):
            raise Failed(f"{entry_file(i)} does not hold entry {i} and its proof")
        verify_inclusion(entry.leaf_hash, i, cp.size, proof.hashes, cp.root)
        verify_signatures(entry, cp.origin)
        return revoked_later(entry, o.entries[3], cp)
    except (LedgerError, SigningError, NoteInvalid) as e:
        raise Failed(f"the revocation the certificate prints (entry {i}) is not proven by the ledger: {e}") from e


def _ikrar_drawings(em: Embedded, facts: SignatureFacts, revoked: Revocation | None) -> tuple[PageDrawing, ...]:
    """What Ikrar draws for these facts, printed as certificate.json says (the renderer is
    deterministic: the same facts and presentation give the same pages)."""
    try:
        return page_drawings(draw_certificate(facts, em.vkey.fingerprint, em.presentation, revoked))
    except FontMissing:
        raise
    except Exception as e:  # the presentation comes from the file: what Ikrar cannot draw, it did not draw
        raise Failed(f"Ikrar cannot draw this certificate's page as {MANIFEST} says it was printed ({e})") from e


def compare_pages(pdf: PdfContents, ours: tuple[PageDrawing, ...], lines: list[list[str]], what: str) -> None:
    """Raise Failed unless the PDF's pages draw exactly `ours`: the same content, resources
    and annotations (ours has links only where QR codes are), page by page. The text of a
    page is extracted only when its drawing differs, to name the line that does."""
    if pdf.pages != len(ours) or len(pdf.drawings) != len(ours):
        raise Failed(f"{what} has {len(ours)} page(s), this PDF has {pdf.pages}")
    for k, (theirs, mine) in enumerate(zip(pdf.drawings, ours, strict=True)):
        where = "" if len(ours) == 1 else f" (page {k + 1})"
        if theirs.annotations != mine.annotations:
            kinds = ", ".join(a.lstrip("/") for a in theirs.annotations)
            raise Failed(
                f"something is laid over the page{where}: {len(theirs.annotations)} annotation(s) ({kinds:.80})"
            )
        if theirs.content != mine.content:
            drawn = drawn_difference(theirs.content, mine.content, lines[k])
            try:
                text = pdf.page_text(k)
            except CertificateDamaged as e:
                raise Failed(f"the page's drawing{where} is not what Ikrar draws for this {what}", None, drawn) from e
            check_page(lines[k], text)
            raise Failed(
                f"the page's drawing{where} is not what Ikrar draws for this {what}, though its text is", None, drawn
            )
        if theirs.resources != mine.resources:
            extra = sorted(set(theirs.resources) ^ set(mine.resources))
            raise Failed(f"the page{where} carries resources Ikrar does not draw with: {', '.join(extra):.120}")
        if theirs.box != mine.box:
            raise Failed(f"the page{where} is not of a {what}'s size")


def compare_text_only(pdf: PdfContents, lines: list[list[str]], what: str) -> str:
    """The fallback when the fonts a document names are not installed here: its text alone."""
    if pdf.pages != len(lines):
        raise Failed(f"{what} has {len(lines)} page(s), this PDF has {pdf.pages}")
    for k, expected in enumerate(lines):
        check_page(expected, pdf.page_text(k))
    return (
        f"the pages show exactly the ledger's text (their drawing was not compared: the fonts they name "
        f"are not installed here; {FONT_HINT})"
    )


FONT_HINT = "install Debian's fonts-dejavu-core to compare it"


def _page(em: Embedded, opened: Opened | None, facts: SignatureFacts) -> str:
    """9. The pages draw exactly what Ikrar draws for the ledger's facts (and the revocation
    the certificate carries, proven), as certificate.json says they were printed: the same
    content, resources and annotations (none in presentation 1; the QR code's link in
    presentation 2)."""
    pdf = em.pdf
    pres = em.presentation
    revoked = _printed_revocation(opened) if opened is not None else None
    if pres.version == 1:
        if pdf.pages != 1 or pdf.drawing is None:
            raise Failed(f"a certificate has one page, this PDF has {pdf.pages}")
        lines = [page_lines(facts, em.vkey.fingerprint, pres)]
    else:
        try:
            lines = page_texts(certificate_document(facts, em.vkey.fingerprint, pres, revoked))
        except FontMissing:
            standard = replace(pres, fonts=STANDARD)
            lines = page_texts(certificate_document(facts, em.vkey.fingerprint, standard, revoked))
            return compare_text_only(pdf, lines, "certificate")
        except Exception as e:  # the presentation comes from the file: what Ikrar cannot draw, it did not draw
            raise Failed(f"Ikrar cannot draw this certificate as {MANIFEST} says it was printed ({e})") from e
    compare_pages(pdf, _ikrar_drawings(em, facts, revoked), lines, "certificate")
    return (
        "the page draws exactly what Ikrar draws for the ledger's facts"
        if pres.version == 1
        else (f"the {pdf.pages} pages draw exactly what Ikrar draws for the ledger's facts")
    )


@dataclass(frozen=True)
class Examined:
    """What steps 1-9 found, and what the steps against a ledger need of it."""

    checks: tuple[Check, ...]
    key: Check
    inclusion: Check
    proven: Checkpoint | None  # the certificate's checkpoint, when every entry is proven in it
    facts: SignatureFacts | None  # the ledger's facts, read from the entries (step 7)

    @property
    def key_trust(self) -> KeyTrust:
        if self.key.passed:
            return KeyTrust.TRUSTED
        return KeyTrust.MISMATCH if self.key.failed else KeyTrust.EMBEDDED_ONLY


@dataclass(frozen=True)
class SignatureSteps:
    """Steps 2-8 of one signature's evidence: their checks, and what they established."""

    checks: tuple[Check, ...]  # entries, checkpoint, inclusion, origin, statement, belongs, facts
    opened: Opened | None
    facts: SignatureFacts | None


def signature_steps(em: Embedded) -> SignatureSteps:
    """Steps 2-8: one signature's evidence against itself (a certificate's, or a naskah's)."""
    edited = Reason.EDITED
    entries, parsed = establish("entries", _entries, em, reason=edited)
    checkpoint, signed = establish("checkpoint", _checkpoint, em, reason=edited)
    opened = None if parsed is None or signed is None else Opened(em, parsed, *signed)
    inclusion = run("inclusion", _inclusion, opened, needs=(entries, checkpoint), reason=edited)
    origin = run("origin", _origin, opened, needs=(entries, checkpoint), reason=edited)
    statement = run("statement", _statement, opened, needs=(inclusion, origin), reason=edited)
    belongs, facts = establish("belongs", _belongs, opened, needs=(inclusion, origin), reason=edited)
    stated = run("facts", partial(_facts, em), facts, needs=(belongs,), reason=edited)
    checks = (entries, checkpoint, inclusion, origin, statement, belongs, stated)
    return SignatureSteps(checks, opened if inclusion.passed else None, facts)


def key_step(vkey: VerifierKey, trusted: VerifierKey | None) -> Check:
    """Step 1: the embedded ledger key is the trusted one."""
    return run("key", partial(_key, trusted=trusted), vkey, reason=Reason.FOREIGN)


def examine_embedded(em: Embedded, trusted: VerifierKey | None) -> Examined:
    """Steps 1-9: the certificate against its own evidence and the key the caller trusts."""
    key = key_step(em.vkey, trusted)
    steps = signature_steps(em)
    belongs = steps.checks[5]
    page = run("page", partial(_page, em, steps.opened), steps.facts, needs=(belongs,), reason=Reason.EDITED)
    checks = (key, *steps.checks, page)
    proven = steps.opened.checkpoint if steps.opened is not None else None
    return Examined(checks, key, steps.checks[2], proven, steps.facts)


@dataclass(frozen=True)
class BlockVerdict:
    """One signatory's block of a naskah (`signing.naskah`) and what its own check found: a
    signature's steps 2-8, a decline's signature; none for a block not signed (yet). Who it
    names is the ledger's for a signature whose entries belong together, else as naskah.json
    states it."""

    block: Block
    checks: tuple[Check, ...] = ()

    @property
    def outcome(self) -> Outcome | None:
        """Failed when a check failed, passed when every one passed; None when there are none."""
        if not self.checks:
            return None
        if any(c.failed for c in self.checks):
            return Outcome.FAILED
        return Outcome.PASSED if all(c.passed for c in self.checks) else Outcome.NOT_CHECKED


@dataclass(frozen=True)
class Examination:
    """What steps 1-9 found of a certificate file, and what steps 10-11 need of it; it holds
    no part of the file beyond the entries, so that it can cross from a worker process."""

    index: int
    presentation: Presentation
    vkey: VerifierKey
    leaves: tuple[tuple[int, bytes], ...]  # the certificate's entries, by index
    found: Examined
    blocks: tuple[BlockVerdict, ...] | None = None  # a naskah's, in its published order; None for a certificate
    letter: LetterFound | None = None  # a letter's (`signing.app_letter`); None for any other document

    def report(self, extra: tuple[Check, ...] = (), revocation: Revocation | None = None) -> CertificateReport:
        found = self.found
        checks = (*found.checks, *extra)
        letter = self.letter.facts if self.letter is not None else None
        return CertificateReport(
            self.index,
            checks,
            found.facts,
            self.presentation,
            self.vkey,
            found.key_trust,
            revocation,
            self.blocks,
            letter,
            self.letter is not None,
        )


def examine_file(data: bytes, trusted: VerifierKey | None) -> Examination:
    """Steps 1-9 on a certificate file: all the PDF work of a check, none of the ledger's.

    A naskah komitmen bersama (`signing.naskah`) is examined by the same steps, signature by
    signature, and a Surat Rekomendasi (`signing.app_letter`) by the steps of its entries
    (`signing.doc_verify`). Raises what `examine_certificate` raises.
    """
    pdf = read_pdf(data)
    if NASKAH_MANIFEST in pdf.attachments:
        from .doc_verify import examine_naskah  # it builds on this module's steps

        return examine_naskah(pdf, trusted)
    if LETTER_MANIFEST in pdf.attachments and MANIFEST not in pdf.attachments:
        from .doc_verify import examine_letter

        return examine_letter(pdf, trusted)
    em = embedded_of(pdf)
    return Examination(em.index, em.presentation, em.vkey, tuple(em.leaves.items()), examine_embedded(em, trusted))


def examine_certificate(data: bytes, trusted: VerifierKey | None = None) -> CertificateReport:
    """Check a certificate PDF offline, from its attachments only; `trusted` is the ledger
    key published elsewhere (without it, trust in the embedded key is left to the reader).

    Raises NotAPdf, CertificateDamaged, NotACertificate, AttachmentMissing or
    CertificateEdited when the file cannot be read as a certificate at all; every other
    finding is a check in the report.
    """
    return examine_file(data, trusted).report()


def verify_certificate(data: bytes, trusted: VerifierKey) -> CertificateReport:
    """Verify a certificate PDF offline against the ledger key `trusted`: return its report
    (for the facts it proves) only when every check passed.

    Raises what `examine_certificate` raises, and ForeignCertificate (another ledger's key)
    or CertificateEdited (any other failed check).
    """
    report = examine_certificate(data, trusted)
    report.verify()
    return report


# -- the certificate against this ledger: steps 10-11 -------------------------------------------


@dataclass(frozen=True)
class Ours:
    """What this ledger holds of a certificate's evidence, read from one snapshot.

    A read that failed holds the error it raised; the step that needs it fails with it.
    """

    leaves: Mapping[int, bytes]  # the certificate's entries, by index
    entries: Mapping[int, Read[Entry]]  # this ledger's entry of each of those indexes
    proven: Checkpoint  # the certificate's checkpoint
    latest: Read[Checkpoint]  # this ledger's latest
    same_size: Read[Checkpoint]  # this ledger's checkpoint of the certificate's size
    consistency_proof: Read[list[Hash]]  # from the certificate's size to the latest
    revocation: Read[Revocation | None]  # of the signer's key (None without facts)


def load_ours(r: Reader, leaves: Mapping[int, bytes], proven: Checkpoint, facts: SignatureFacts | None) -> Ours:
    """Read what steps 10-11 need from `r`."""
    latest = attempt(r.checkpoint)
    return Ours(
        leaves=leaves,
        entries={i: attempt(partial(r.entry, i)) for i in leaves},
        proven=proven,
        latest=latest,
        same_size=attempt(partial(r.checkpoint, proven.size)),
        consistency_proof=attempt(lambda: r.consistency_proof(proven.size, got(latest).size)),
        revocation=None if facts is None else attempt(partial(revocation_of, r, facts.key)),
    )


def _in_ledger(o: Ours) -> str:
    """10. The certificate's entries are this ledger's, byte for byte."""
    for i, leaf in o.leaves.items():
        ours = o.entries[i]
        if isinstance(ours, NotFound):
            raise Failed(f"this ledger has no entry {i}: the certificate is from another ledger") from ours
        if got(ours).leaf != leaf:
            raise Failed(f"entry {i} in the certificate is not entry {i} of this ledger")
    n = len(o.leaves)
    return (
        "the four entries are this ledger's, byte for byte"
        if n == 4
        else f"the {n} entries are this ledger's, byte for byte"
    )


def _consistency(o: Ours) -> str:
    """11. The certificate's checkpoint is this ledger's, and consistent with its latest."""
    cp, latest = o.proven, got(o.latest)
    if cp.size > latest.size:
        raise Failed(f"the certificate's checkpoint (size {cp.size}) is newer than this ledger (size {latest.size})")
    if got(o.same_size).root != cp.root:
        raise Failed(
            f"this ledger's checkpoint of size {cp.size} has another root: the ledger was rewritten, "
            "or the certificate comes from a fork of it"
        )
    try:
        verify_consistency(cp.size, latest.size, cp.root, latest.root, got(o.consistency_proof))
    except ProofInvalid as e:
        raise Failed(f"the certificate's checkpoint is not consistent with the latest one: {e}") from e
    return f"its checkpoint (size {cp.size}) is consistent with this ledger's latest (size {latest.size})"


def examine_upload(ledger: Ledger, data: bytes) -> CertificateReport:
    """Check an uploaded certificate against this ledger: its key, its entries, its checkpoint.

    What the ledger holds is read from one snapshot. Raises like `examine_certificate` when
    the file is not a readable certificate. The PDF work runs in this process; a server
    runs it in a worker (`signing.sandbox`) and passes what it found to `examine_in_ledger`.
    """
    return examine_in_ledger(ledger, examine_file(data, ledger.verifier))


def examine_in_ledger(ledger: Ledger, examined: Examination) -> CertificateReport:
    """Steps 10-11: what `examine_file` found of a certificate (with this ledger's key as the
    trusted one), against this ledger, read from one snapshot; for a letter also `office`
    (`signing.doc_verify.letter_office`)."""
    from .doc_verify import letter_office, load_letter_office  # a letter's step against the ledger

    found = examined.found
    leaves = dict(examined.leaves)
    ours = office = None
    if found.key.passed and found.proven is not None:
        with ledger.read() as r:
            ours = load_ours(r, leaves, found.proven, found.facts)
            if examined.letter is not None:
                office = load_letter_office(r, examined.letter, leaves)
    foreign = Reason.FOREIGN
    in_ledger = run("ledger", _in_ledger, ours, needs=(found.key, found.inclusion), reason=foreign)
    consistency = run("consistency", _consistency, ours, needs=(in_ledger,), reason=foreign)
    extra: tuple[Check, ...] = (in_ledger, consistency)
    if examined.letter is not None:
        extra += (run("office", letter_office, office, needs=(in_ledger,), reason=Reason.EDITED),)
    revocation = got(ours.revocation) if ours is not None and in_ledger.passed else None
    return examined.report(extra, revocation)
