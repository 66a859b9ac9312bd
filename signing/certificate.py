"""Signature certificates: one A4 PDF page an official can frame, carrying its own proof.

The page prints who signed what and when (in WIB), the ledger index, the entry's leaf
hash, the key's fingerprint, the checkpoint it is proven against, an honest label that
this is an internal electronic signature (not one certified by a PSrE), and a QR code
that opens ``{base_url}/v/{index}?h={first 16 hex digits of the leaf hash}``.

Attached inside the PDF (embedded files), so that it can be checked offline:

    entry-{i}.json         the exact leaf bytes of the four entries behind it: the
                           signature, the official's key.enrolled, the
                           commitment.published and the ledger's first entry
    entry-{i}.tlog-proof   a C2SP tlog-proof of each, all against one checkpoint
    ledger.vkey            the ledger's verifier key (trust it only if it matches the
                           key the city publishes elsewhere)
    certificate.json       the printed facts and how the page was laid out

Every line of text on the page comes from `page_lines`, so a verifier can rebuild the
page's text from the ledger's facts and compare it with what the page says.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import qrcode
from pypdf import PdfReader, PdfWriter
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from sqlmodel import col, select

from ledger.checkpoint import Checkpoint
from ledger.entries import format_time, parse_time
from ledger.errors import InvalidInput, NotFound
from ledger.models import Commitment, CommitmentSigner, Official, Signature
from ledger.store import Ledger

from .facts import Evidence, SignatureFacts, gather_evidence
from .wording import check_lang, format_short_wib, format_wib

logger = logging.getLogger(__name__)

FORMAT = "ikrar-certificate/v1"
MANIFEST = "certificate.json"
VKEY_FILE = "ledger.vkey"
QR_SIZE = 3.8 * cm  # the symbol without its quiet zone: scans off paper from a phone at arm's length

W, H = A4
NAVY = HexColor("#1F3A5F")
GOLD = HexColor("#B08D3C")
GREY = HexColor("#5A6270")
INK = HexColor("#1B1F24")
PANEL = HexColor("#F5F7FA")
AMBER_BG = HexColor("#FFF6E0")
AMBER = HexColor("#C8912A")
LEFT, RIGHT = 62.0, W - 62.0


def entry_file(index: int) -> str:
    return f"entry-{index}.json"


def proof_file(index: int) -> str:
    return f"entry-{index}.tlog-proof"


def verify_url(base_url: str, facts: SignatureFacts) -> str:
    """The link the QR code opens."""
    return f"{base_url.rstrip('/')}/v/{facts.index}?h={facts.short_hash}"


def format_nip(nip: str) -> str:
    """``19750314 200104 1 001``: the way a NIP is printed (birth, appointment, sex, number)."""
    if len(nip) != 18:
        return nip
    return f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}"


@dataclass(frozen=True)
class Presentation:
    """How a certificate was printed: not ledger facts, but printed on the page too."""

    lang: str
    base_url: str
    printed_at: datetime

    def to_json(self) -> dict[str, str]:
        return {"lang": self.lang, "base_url": self.base_url, "printed_at": format_time(self.printed_at)}

    @classmethod
    def from_json(cls, value: dict) -> Presentation:
        """Raises InvalidInput when a field is missing or malformed."""
        lang, base_url = value.get("lang"), value.get("base_url")
        if not isinstance(lang, str) or not isinstance(base_url, str):
            raise InvalidInput("the certificate's layout fields are missing")
        return cls(check_lang(lang), base_url, parse_time(value.get("printed_at")))


# -- words ------------------------------------------------------------------------------

_WORDS = {
    "id": {
        "ledger": "Buku Besar Komitmen Ikrar",
        "title": "SERTIFIKAT",
        "subtitle": "Tanda Tangan Elektronik atas Komitmen",
        "certify": "Dengan ini menerangkan bahwa",
        "signed": "telah menandatangani secara elektronik komitmen",
        "on": "pada {when}",
        "index": "NOMOR ENTRI BUKU BESAR",
        "leaf": "HASH ENTRI (SHA-256 DAUN, RFC 6962)",
        "text_sha": "SHA-256 NASKAH KOMITMEN",
        "fingerprint": "SIDIK JARI KUNCI PENANDA TANGAN (SHA-256)",
        "checkpoint": "DIBUKTIKAN TERHADAP CHECKPOINT",
        "checkpoint_value": "ukuran {size} · akar {root}",
        "utc": "WAKTU (UTC) · ASAL BUKU BESAR",
        "scan": "Pindai untuk memverifikasi",
        "online": "Verifikasi daring: {url}",
        "label": "Tanda tangan elektronik tidak tersertifikasi",
        "explain": (
            "Sertifikat ini mencatat tanda tangan elektronik internal {org}: dibuat dengan kunci Ed25519 "
            "pejabat yang tercatat di buku besar Ikrar, bukan dengan sertifikat elektronik dari Penyelenggara "
            "Sertifikasi Elektronik (PSrE). Keasliannya dapat diperiksa siapa saja: pindai kode QR, unggah "
            "berkas PDF ini di {base}/verify/upload, atau periksa secara luring dengan ikrar_verify.py dan "
            "kunci publik buku besar yang diumumkan oleh {org}. Bukti lengkapnya terlampir di dalam berkas ini."
        ),
        "ledger_key": "Sidik jari kunci buku besar: {fp}",
        "printed": "Dicetak {when} · Sertifikat {index}-{short}",
        "summary_title": "REKAPITULASI PENANDATANGANAN",
        "summary_sub": "Komitmen yang ditandatangani secara elektronik di buku besar Ikrar",
        "summary_status": "{signed} dari {required} penanda tangan telah menandatangani",
        "summary_cols": ("No.", "Penanda tangan", "Waktu (WIB)", "Entri", "Verifikasi"),
        "summary_pending": "Belum menandatangani",
        "summary_checkpoint": "Checkpoint: ukuran {size} · akar {root}",
        "summary_foot": "Pindai kode QR atau buka tautan di setiap baris untuk memeriksa tanda tangan itu. "
        "Tanda tangan elektronik tidak tersertifikasi (bukan dari PSrE).",
        "page": "Halaman {n}",
    },
    "en": {
        "ledger": "Ikrar Commitment Ledger",
        "title": "CERTIFICATE",
        "subtitle": "of an Electronic Signature of a Commitment",
        "certify": "This is to certify that",
        "signed": "has electronically signed the commitment",
        "on": "on {when}",
        "index": "LEDGER ENTRY NUMBER",
        "leaf": "ENTRY HASH (SHA-256 LEAF, RFC 6962)",
        "text_sha": "SHA-256 OF THE COMMITMENT TEXT",
        "fingerprint": "SIGNER KEY FINGERPRINT (SHA-256)",
        "checkpoint": "PROVEN AGAINST CHECKPOINT",
        "checkpoint_value": "size {size} · root {root}",
        "utc": "TIME (UTC) · LEDGER ORIGIN",
        "scan": "Scan to verify",
        "online": "Verify online: {url}",
        "label": "Tanda tangan elektronik tidak tersertifikasi — uncertified electronic signature",
        "explain": (
            "This certificate records an internal electronic signature of {org}: made with the official's "
            "Ed25519 key registered in the Ikrar ledger, not with an electronic certificate from a certified "
            "provider (PSrE). Anyone can check it: scan the QR code, upload this PDF at {base}/verify/upload, "
            "or check it offline with ikrar_verify.py and the ledger's public key as published by {org}. "
            "The full evidence is attached inside this file."
        ),
        "ledger_key": "Ledger key fingerprint: {fp}",
        "printed": "Printed {when} · Certificate {index}-{short}",
        "summary_title": "SIGNATURE SUMMARY",
        "summary_sub": "A commitment signed electronically in the Ikrar ledger",
        "summary_status": "{signed} of {required} signatories have signed",
        "summary_cols": ("No.", "Signatory", "Time (WIB)", "Entry", "Verify"),
        "summary_pending": "Not signed yet",
        "summary_checkpoint": "Checkpoint: size {size} · root {root}",
        "summary_foot": "Scan the QR code or open the link on each row to check that signature. "
        "Uncertified electronic signatures (not from a PSrE).",
        "page": "Page {n}",
    },
}


def words(lang: str) -> dict:
    return _WORDS[check_lang(lang)]


def _drawable(text: str) -> str:
    """The page's standard fonts hold Windows-1252; anything else is printed as '?'."""
    return "".join(c if _encodable(c) else "?" for c in text)


def _encodable(c: str) -> bool:
    try:
        c.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return c.isprintable()


# -- layout -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """One line of text on the page: `top` is its baseline measured from the top edge."""

    text: str
    font: str
    size: float
    top: float
    x: float = W / 2
    align: str = "c"  # c, l or r
    color: Color = INK


def _fit(text: str, font: str, size: float, width: float, smallest: float) -> float:
    while size > smallest and stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def _lines(text: str, font: str, size: float, width: float) -> list[str]:
    return simpleSplit(text, font, size, width) or [""]


@dataclass(frozen=True)
class Layout:
    texts: tuple[Text, ...]
    title_bottom: float


_PANEL_TOP = 488.0
_ROW = 27.0


def _layout(facts: SignatureFacts, ledger_key_fingerprint: str, pres: Presentation) -> Layout:
    w = words(pres.lang)
    t: list[Text] = []
    d = _drawable
    org = d(facts.org.upper())
    t.append(Text(org, "Times-Bold", _fit(org, "Times-Bold", 16, 460, 10), 80, color=NAVY))
    t.append(Text(d(f"{w['ledger']} · {facts.origin}"), "Helvetica", 8.5, 96, color=GREY))
    t.append(Text(w["title"], "Times-Bold", 32, 158, color=NAVY))
    t.append(Text(w["subtitle"], "Times-Italic", 13, 180, color=GREY))
    t.append(Text(w["certify"], "Times-Roman", 12, 228, color=GREY))
    top = 266.0
    name = d(facts.name)
    size = _fit(name, "Times-Bold", 25, 460, 16)
    for line in _lines(name, "Times-Bold", size, 460):
        t.append(Text(line, "Times-Bold", size, top, color=NAVY))
        top += size + 3
    top += 2
    for value in (facts.position, facts.agency):
        value = d(value)
        size = _fit(value, "Times-Roman", 13, 460, 10)
        for line in _lines(value, "Times-Roman", size, 460):
            t.append(Text(line, "Times-Roman", size, top))
            top += size + 3
    t.append(Text(f"NIP {format_nip(facts.nip)}", "Helvetica", 10, top + 1, color=GREY))
    top += 36
    t.append(Text(w["signed"], "Times-Roman", 12, top, color=GREY))
    top += 28
    title = d(facts.commitment_title)
    size = 17.0
    lines = _lines(title, "Times-Bold", size, 440)
    while len(lines) > 3 and size > 11:
        size -= 1
        lines = _lines(title, "Times-Bold", size, 440)
    for line in lines:
        t.append(Text(line, "Times-Bold", size, top, color=NAVY))
        top += size + 4
    top += 8
    t.append(Text(w["on"].format(when=format_wib(facts.time, pres.lang)), "Times-Roman", 12, top))
    title_bottom = top

    # the details panel, left of the QR code
    x = LEFT + 14
    row = _PANEL_TOP + 16
    details = [
        (w["index"], str(facts.index), "Helvetica-Bold", 10),
        (w["leaf"], facts.leaf_hash, "Courier", 7.6),
        (w["text_sha"], facts.commitment_sha256, "Courier", 7.6),
        (w["fingerprint"], facts.key_fingerprint, "Courier", 7.6),
        (
            w["checkpoint"],
            w["checkpoint_value"].format(size=facts.checkpoint_size, root=facts.checkpoint_root),
            "Courier",
            7.6,
        ),
        (w["utc"], d(f"{format_time(facts.time)} · {facts.origin}"), "Courier", 7.6),
    ]
    for label, value, font, size in details:
        t.append(Text(label, "Helvetica", 6.8, row, x, "l", GREY))
        size = _fit(value, font, size, 300, 5.5)
        t.append(Text(value, font, size, row + 11, x, "l", INK))
        row += _ROW
    qr_center = RIGHT - 14 - QR_SIZE / 2 - 8
    t.append(Text(w["scan"], "Helvetica-Bold", 8, _PANEL_TOP + 16 + QR_SIZE + 34, qr_center, "c", NAVY))

    url = verify_url(pres.base_url, facts)
    online = d(w["online"].format(url=url))
    t.append(Text(online, "Helvetica", _fit(online, "Helvetica", 8.5, 470, 5), 678, color=NAVY))

    # the honest label
    top = 712.0
    t.append(Text(d(w["label"]), "Helvetica-Bold", 9.5, top, color=INK))
    top += 13
    explain = d(w["explain"].format(org=facts.org, base=pres.base_url.rstrip("/")))
    for line in _lines(explain, "Helvetica", 7.4, 440):
        t.append(Text(line, "Helvetica", 7.4, top, color=INK))
        top += 9.4
    t.append(Text(w["ledger_key"].format(fp=ledger_key_fingerprint), "Helvetica", 6.6, 800, color=GREY))
    printed = w["printed"].format(
        when=format_short_wib(pres.printed_at, pres.lang), index=facts.index, short=facts.short_hash
    )
    t.append(Text(printed, "Helvetica", 6.6, 810, color=GREY))
    return Layout(tuple(t), title_bottom)


def page_lines(facts: SignatureFacts, ledger_key_fingerprint: str, pres: Presentation) -> list[str]:
    """Every line of text the certificate page shows, in the order it is drawn."""
    return [t.text for t in _layout(facts, ledger_key_fingerprint, pres).texts]


# -- drawing ----------------------------------------------------------------------------


def qr_matrix(data: str) -> list[list[bool]]:
    """The QR symbol of `data` (error correction Q: survives a crease or a stamp), no quiet zone."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=0)
    qr.add_data(data)
    qr.make(fit=True)
    return qr.get_matrix()


def draw_qr(c: Canvas, data: str, x: float, y: float, size: float) -> None:
    """Draw a QR code as vector squares with its four-module white quiet zone around it."""
    matrix = qr_matrix(data)
    n = len(matrix)
    m = size / n
    c.saveState()
    c.setFillColor(white)
    c.rect(x - 4 * m, y - 4 * m, size + 8 * m, size + 8 * m, stroke=0, fill=1)
    c.setFillColor(HexColor("#000000"))
    for r, row in enumerate(matrix):
        start = None
        for col_, dark in enumerate([*row, False]):
            if dark and start is None:
                start = col_
            elif not dark and start is not None:
                c.rect(x + start * m, y + size - (r + 1) * m, (col_ - start) * m, m, stroke=0, fill=1)
                start = None
    c.restoreState()


def _draw_texts(c: Canvas, texts: Sequence[Text]) -> None:
    for t in texts:
        c.setFont(t.font, t.size)
        c.setFillColor(t.color)
        y = H - t.top
        if t.align == "c":
            c.drawCentredString(t.x, y, t.text)
        elif t.align == "r":
            c.drawRightString(t.x, y, t.text)
        else:
            c.drawString(t.x, y, t.text)


def _frame(c: Canvas) -> None:
    c.saveState()
    c.setStrokeColor(NAVY)
    c.setLineWidth(1.6)
    c.rect(22, 22, W - 44, H - 44)
    c.setStrokeColor(GOLD)
    c.setLineWidth(0.6)
    c.rect(28, 28, W - 56, H - 56)
    c.setFillColor(GOLD)
    for cx, cy in ((28, 28), (W - 28, 28), (28, H - 28), (W - 28, H - 28)):
        p = c.beginPath()
        p.moveTo(cx, cy - 5)
        p.lineTo(cx + 5, cy)
        p.lineTo(cx, cy + 5)
        p.lineTo(cx - 5, cy)
        p.close()
        c.drawPath(p, stroke=0, fill=1)
    c.restoreState()


def _rule(c: Canvas, top: float, half: float, color: Color = GOLD, width: float = 0.8) -> None:
    c.saveState()
    c.setStrokeColor(color)
    c.setLineWidth(width)
    c.line(W / 2 - half, H - top, W / 2 + half, H - top)
    c.restoreState()


def _render_page(facts: SignatureFacts, ledger_key_fingerprint: str, pres: Presentation) -> bytes:
    layout = _layout(facts, ledger_key_fingerprint, pres)
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=True, pageCompression=True)
    w = words(pres.lang)
    c.setTitle(f"{w['title'].title()} {facts.index}: {facts.name}")
    c.setAuthor(facts.org)
    c.setSubject(facts.commitment_title)
    c.setCreator("Ikrar")
    _frame(c)
    _rule(c, 106, 150)
    _rule(c, 192, 40, width=1.4)
    if layout.title_bottom > _PANEL_TOP - 14:
        raise InvalidInput("the commitment title is too long to print on one page")
    # details panel
    c.saveState()
    c.setFillColor(PANEL)
    c.setStrokeColor(HexColor("#C9D3E0"))
    c.setLineWidth(0.6)
    panel_h = 6 * _ROW + 12
    c.roundRect(LEFT, H - _PANEL_TOP - panel_h, RIGHT - LEFT, panel_h, 6, stroke=1, fill=1)
    c.restoreState()
    qr_x = RIGHT - 14 - QR_SIZE - 8
    draw_qr(c, verify_url(pres.base_url, facts), qr_x, H - _PANEL_TOP - 16 - QR_SIZE - 4, QR_SIZE)
    # honest-label box
    label_lines = [t for t in layout.texts if t.top >= 712 and t.top < 800]
    box_bottom = max(t.top for t in label_lines) + 7
    c.saveState()
    c.setFillColor(AMBER_BG)
    c.setStrokeColor(AMBER)
    c.setLineWidth(0.8)
    c.roundRect(LEFT + 10, H - box_bottom, RIGHT - LEFT - 20, box_bottom - 698, 5, stroke=1, fill=1)
    c.restoreState()
    _draw_texts(c, layout.texts)
    c.showPage()
    c.save()
    return buf.getvalue()


# -- the certificate file ---------------------------------------------------------------


def manifest(evidence: Evidence, pres: Presentation) -> bytes:
    value = {
        "format": FORMAT,
        "index": evidence.signed.index,
        "entries": [e.index for e in evidence.entries()],
        **pres.to_json(),
        "facts": evidence.facts().to_json(),
    }
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"


def attachments(evidence: Evidence, pres: Presentation) -> dict[str, bytes]:
    """The files embedded in a certificate, by name."""
    files: dict[str, bytes] = {}
    for entry, proof in zip(evidence.entries(), evidence.proofs, strict=True):
        files[entry_file(entry.index)] = entry.leaf
        files[proof_file(entry.index)] = proof.text().encode()
    files[VKEY_FILE] = f"{evidence.vkey}\n".encode()
    files[MANIFEST] = manifest(evidence, pres)
    return files


def render_certificate(evidence: Evidence, *, lang: str = "id", base_url: str, now: datetime) -> bytes:
    """The certificate PDF of the signature in `evidence`, printed at `now`.

    Raises InvalidInput for an unknown language or a title too long for the page.
    """
    pres = Presentation(check_lang(lang), base_url.rstrip("/"), now)
    facts = evidence.facts()
    page = _render_page(facts, evidence.vkey.fingerprint, pres)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(page)))
    for name, data in attachments(evidence, pres).items():
        writer.add_attachment(name, data)
    writer.add_metadata({"/IkrarFormat": FORMAT, "/IkrarIndex": str(facts.index), "/IkrarLeafHash": facts.leaf_hash})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def certificate_pdf(
    ledger: Ledger, index: int, *, lang: str = "id", base_url: str, now: datetime, checkpoint: Checkpoint | None = None
) -> bytes:
    """Gather the evidence of signature `index` and render its certificate.

    Raises NotFound, NoCertificate (not a signature), InvalidInput (language).
    """
    check_lang(lang)
    return render_certificate(gather_evidence(ledger, index, checkpoint), lang=lang, base_url=base_url, now=now)


def signature_indexes(ledger: Ledger, slug: str) -> list[int]:
    """The signature entries of a commitment, in ledger order. Raises NotFound for an unknown slug."""
    with ledger.session() as s:
        if s.get(Commitment, slug) is None:
            raise NotFound(f"there is no commitment {slug!r}")
        return list(s.exec(select(Signature.idx).where(Signature.slug == slug).order_by(col(Signature.idx))))


def certificates_of(
    ledger: Ledger, slug: str, *, lang: str = "id", base_url: str, now: datetime
) -> Iterator[tuple[int, bytes]]:
    """Every signature certificate of a commitment, all proven against one checkpoint."""
    check_lang(lang)
    indexes = signature_indexes(ledger, slug)
    checkpoint = ledger.checkpoint()
    for index in indexes:
        yield index, certificate_pdf(ledger, index, lang=lang, base_url=base_url, now=now, checkpoint=checkpoint)


def certificate_name(index: int) -> str:
    return f"certificate-{index}.pdf"


def write_certificates(
    ledger: Ledger,
    slug: str,
    target: Path,
    *,
    lang: str = "id",
    base_url: str,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write every certificate of a commitment, and its summary, into a folder or a ``.zip``.

    Returns how many signature certificates were written. Raises NotFound, InvalidInput.
    """
    total = len(signature_indexes(ledger, slug))
    summary = render_summary(ledger, slug, lang=lang, base_url=base_url, now=now)
    files = certificates_of(ledger, slug, lang=lang, base_url=base_url, now=now)
    summary_name = f"{slug}-summary.pdf"
    done = 0
    if target.suffix.lower() == ".zip":
        if target.exists():
            raise InvalidInput(f"{target} exists already; choose a new file name")
        tmp = target.with_name(target.name + ".part")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(summary_name, summary)
            for index, pdf in files:
                z.writestr(certificate_name(index), pdf)
                done += 1
                if progress:
                    progress(done, total)
        tmp.replace(target)
        return done
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidInput(f"{target} is not an empty folder; write into a new folder or a .zip file")
    target.mkdir(parents=True, exist_ok=True)
    (target / summary_name).write_bytes(summary)
    for index, pdf in files:
        (target / certificate_name(index)).write_bytes(pdf)
        done += 1
        if progress:
            progress(done, total)
    return done


# -- the summary of a commitment --------------------------------------------------------


@dataclass(frozen=True)
class SummaryRow:
    facts: SignatureFacts | None  # None: not signed yet
    nip: str
    name: str
    position: str
    agency: str


def summary_rows(ledger: Ledger, slug: str) -> tuple[Commitment, list[SummaryRow], Checkpoint]:
    """The commitment, each required signatory in the published order, and the checkpoint used."""
    checkpoint = ledger.checkpoint()
    with ledger.session() as s:
        commitment = s.get(Commitment, slug)
        if commitment is None:
            raise NotFound(f"there is no commitment {slug!r}")
        q = select(CommitmentSigner.nip).where(CommitmentSigner.slug == slug).order_by(CommitmentSigner.position)
        nips = list(s.exec(q))
        signed = {sig.nip: sig.idx for sig in s.exec(select(Signature).where(Signature.slug == slug))}
        people = {o.nip: o for o in s.exec(select(Official).where(col(Official.nip).in_(nips)))}
    rows = []
    for nip in nips:
        if nip in signed and signed[nip] < checkpoint.size:
            f = gather_evidence(ledger, signed[nip], checkpoint).facts()
            rows.append(SummaryRow(f, nip, f.name, f.position, f.agency))
        else:
            o = people.get(nip)
            rows.append(SummaryRow(None, nip, o.name if o else nip, o.title if o else "", o.unit if o else ""))
    rows.sort(key=lambda r: (r.facts is None, r.facts.index if r.facts else 0))
    return commitment, rows, checkpoint


_COLS = (LEFT, LEFT + 22, LEFT + 240, LEFT + 335, RIGHT)


def render_summary(ledger: Ledger, slug: str, *, lang: str = "id", base_url: str, now: datetime) -> bytes:
    """One document per commitment: every signatory with position, time, entry and a small QR code.

    Raises NotFound (unknown commitment), InvalidInput (language).
    """
    w = words(lang)
    commitment, rows, checkpoint = summary_rows(ledger, slug)
    org = ledger.entry(0).fields["org"]
    d = _drawable
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=True, pageCompression=True)
    c.setTitle(f"{w['summary_title'].title()}: {commitment.title}")
    c.setAuthor(org)
    c.setCreator("Ikrar")
    signed = [r for r in rows if r.facts]
    page = 1

    def header(first: bool) -> float:
        _frame(c)
        _draw_texts(
            c,
            [
                Text(d(org.upper()), "Times-Bold", _fit(d(org.upper()), "Times-Bold", 14, 460, 9), 70, color=NAVY),
                Text(d(f"{w['ledger']} · {ledger.origin}"), "Helvetica", 8, 84, color=GREY),
            ],
        )
        _rule(c, 92, 150)
        top = 92.0
        if first:
            top = 122.0
            _draw_texts(c, [Text(w["summary_title"], "Times-Bold", 20, top, color=NAVY)])
            top += 22
            title = d(commitment.title)
            for line in _lines(title, "Times-Bold", 14, 440):
                _draw_texts(c, [Text(line, "Times-Bold", 14, top)])
                top += 17
            status = w["summary_status"].format(signed=len(signed), required=len(rows))
            _draw_texts(
                c,
                [
                    Text(w["summary_sub"], "Times-Italic", 10.5, top + 2, color=GREY),
                    Text(f"SHA-256 {commitment.text_sha256}", "Courier", 7.2, top + 16, color=GREY),
                    Text(status, "Helvetica-Bold", 10, top + 34, color=NAVY),
                ],
            )
            top += 44
        cols = w["summary_cols"]
        top += 10
        c.saveState()
        c.setFillColor(NAVY)
        c.rect(LEFT - 4, H - top - 16, RIGHT - LEFT + 8, 16, stroke=0, fill=1)
        c.restoreState()
        _draw_texts(
            c,
            [Text(cols[i], "Helvetica-Bold", 7.5, top + 11, _COLS[i], "r" if i == 4 else "l", white) for i in range(5)],
        )
        return top + 22

    top = header(True)
    row_h = 2.0 * cm + 14
    qr = 2.0 * cm
    for n, row in enumerate(rows, 1):
        if top + row_h > H - 70:
            _draw_texts(c, [Text(w["page"].format(n=page), "Helvetica", 7, H - 40, color=GREY)])
            c.showPage()
            page += 1
            top = header(False)
        texts = [
            Text(f"{n}.", "Helvetica", 9, top + 12, _COLS[0], "l"),
            Text(
                d(row.name), "Helvetica-Bold", _fit(d(row.name), "Helvetica-Bold", 9.5, 210, 6), top + 12, _COLS[1], "l"
            ),
            Text(
                d(row.position), "Helvetica", _fit(d(row.position), "Helvetica", 8, 210, 5.5), top + 23, _COLS[1], "l"
            ),
            Text(
                d(row.agency), "Helvetica", _fit(d(row.agency), "Helvetica", 8, 210, 5.5), top + 33, _COLS[1], "l", GREY
            ),
            Text(f"NIP {format_nip(row.nip)}", "Helvetica", 7, top + 43, _COLS[1], "l", GREY),
        ]
        if row.facts is None:
            texts.append(Text(w["summary_pending"], "Helvetica-Oblique", 8.5, top + 12, _COLS[2], "l", AMBER))
        else:
            url = verify_url(base_url, row.facts)
            texts += [
                Text(format_short_wib(row.facts.time, lang), "Helvetica", 8.5, top + 12, _COLS[2], "l"),
                Text(str(row.facts.index), "Helvetica-Bold", 9, top + 12, _COLS[3], "l"),
                Text(row.facts.short_hash, "Courier", 6.5, top + 23, _COLS[3], "l", GREY),
                Text(d(url), "Helvetica", _fit(d(url), "Helvetica", 6, 250, 4.5), top + 55, RIGHT - qr - 8, "r", NAVY),
            ]
            draw_qr(c, url, RIGHT - qr, H - top - 4 - qr, qr)
            c.linkURL(url, (RIGHT - qr, H - top - 4 - qr, RIGHT, H - top - 4), relative=0)
        _draw_texts(c, texts)
        c.saveState()
        c.setStrokeColor(HexColor("#D5DCE6"))
        c.setLineWidth(0.5)
        c.line(LEFT - 4, H - top - row_h + 6, RIGHT + 4, H - top - row_h + 6)
        c.restoreState()
        top += row_h
    root = checkpoint.body().split("\n")[2]
    foot = [
        Text(w["summary_checkpoint"].format(size=checkpoint.size, root=root), "Courier", 6.8, H - 62, color=GREY),
        *[
            Text(line, "Helvetica", 6.8, H - 52 + 8.5 * i, color=GREY)
            for i, line in enumerate(_lines(w["summary_foot"], "Helvetica", 6.8, 460))
        ],
        Text(
            w["printed"].split(" · ")[0].format(when=format_short_wib(now, lang)) + " · " + w["page"].format(n=page),
            "Helvetica",
            6.8,
            H - 34,
            color=GREY,
        ),
    ]
    _draw_texts(c, foot)
    c.showPage()
    c.save()
    return buf.getvalue()
