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
    certificate.json       the printed facts and how the page was laid out (the facts
                           of `facts.STATED`: how the key was vouched for, printed from
                           rules version 3 on, is read from the key.enrolled entry)

From presentation 2 on, a certificate printed after the signer's key was revoked (the
revocation later than the signature) also carries that `key.revoked` entry and its proof,
named by `revocation` in certificate.json, and prints "SAH" with the revocation.

Every line of text on the page comes from `cert_layout.page_lines`, so a verifier can
rebuild the page's text from the ledger's facts and compare it with what the page says.

This module holds the file: its format, its attachments and the public entry points
(one certificate, or every certificate of a commitment with its summary). What the page
says is `cert_words`, where it goes `cert_layout`, how it is drawn `cert_draw`; the
summary of a commitment is `summary`. The evidence of a certificate is gathered from one
snapshot of the ledger (`ledger.read()`), then rendered outside it.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

from pypdf import PdfReader, PdfWriter

from ledger.checkpoint import Checkpoint, TlogProof
from ledger.entries import Entry
from ledger.errors import InvalidInput
from ledger.reader import Reader
from ledger.store import Ledger

from .cert_draw import render_page
from .cert_formal import certificate_document
from .cert_words import LATEST, PRESENTATIONS, Presentation
from .doc_draw import finish, render_pages
from .doc_fonts import fonts as document_fonts
from .doc_kop import DEFAULT_OFFICE, Letterhead
from .facts import Evidence, Revocation, SignatureFacts, gather_evidence
from .summary import Summary, commitment_of, draw_summary, signed_indexes, summary_of
from .wording import check_lang

logger = logging.getLogger(__name__)

FORMAT = "ikrar-certificate/v1"
MANIFEST = "certificate.json"
REVOCATION = "revocation"  # certificate.json: the key.revoked entry a certificate of presentation 2 carries
VKEY_FILE = "ledger.vkey"


def entry_file(index: int) -> str:
    return f"entry-{index}.json"


def proof_file(index: int) -> str:
    return f"entry-{index}.tlog-proof"


def certificate_name(index: int) -> str:
    return f"certificate-{index}.pdf"


def printed_revocation(evidence: Evidence, pres: Presentation) -> tuple[Entry, TlogProof] | None:
    """The `key.revoked` entry (and proof) a certificate carries and prints: the revocation of
    the signer's key after the signature, inside the certificate's checkpoint, from
    presentation 2 on (presentation 1 is printed as Ikrar 0.1 printed it)."""
    if pres.version < 2 or evidence.revoked is None or evidence.revoked_proof is None:
        return None
    return evidence.revoked, evidence.revoked_proof


def manifest(evidence: Evidence, pres: Presentation) -> bytes:
    value = {
        "format": FORMAT,
        "index": evidence.signed.index,
        "entries": [e.index for e in evidence.entries()],
        **pres.to_json(),
        "facts": evidence.facts().to_json(),
    }
    revoked = printed_revocation(evidence, pres)
    if revoked is not None:
        value[REVOCATION] = revoked[0].index
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"


def attachments(evidence: Evidence, pres: Presentation) -> dict[str, bytes]:
    """The files embedded in a certificate, by name."""
    files: dict[str, bytes] = {}
    revoked = printed_revocation(evidence, pres)
    pairs = zip(evidence.entries(), evidence.proofs, strict=True)
    for entry, proof in [*pairs, *([revoked] if revoked is not None else [])]:
        files[entry_file(entry.index)] = entry.leaf
        files[proof_file(entry.index)] = proof.text().encode()
    files[VKEY_FILE] = f"{evidence.vkey}\n".encode()
    files.update(pres.attachments())
    files[MANIFEST] = manifest(evidence, pres)
    return files


def draw_certificate(
    facts: SignatureFacts, ledger_key_fingerprint: str, pres: Presentation, revoked: Revocation | None = None
) -> bytes:
    """The certificate's pages alone, as a PDF, in the presentation `pres` names: the one page
    of presentation 1 (`cert_draw.render_page`, as Ikrar 0.1 drew it) or the two pages of the
    government document (`cert_formal`, with the revocation `revoked` it carries).

    Raises InvalidInput (language, a title too long for the page, a revocation in presentation 1), FontMissing.
    """
    if pres.version == 1:
        if revoked is not None:
            raise InvalidInput("presentation 1 prints no revocation")
        return render_page(facts, ledger_key_fingerprint, pres)
    return render_pages(certificate_document(facts, ledger_key_fingerprint, pres, revoked))


def presentation_of(
    lang: str, base_url: str, now: datetime, letterhead: Letterhead | None, version: int | None = LATEST
) -> Presentation:
    """How a document printed now is presented: in `version` (None: the latest when a
    letterhead is given, else presentation 1), from version 2 with `letterhead` (None: the
    default one, with the emblem's placeholder) and the fonts installed here.
    Raises InvalidInput for an unknown language or presentation."""
    check_lang(lang)
    base = base_url.rstrip("/")
    if version is None:
        version = 1 if letterhead is None else LATEST
    if version == 1:
        return Presentation(lang, base, now)
    if version not in PRESENTATIONS:
        raise InvalidInput(f"presentation {version} is not one Ikrar prints")
    return Presentation(lang, base, now, version, letterhead or Letterhead(DEFAULT_OFFICE), document_fonts().kind)


def render_certificate(
    evidence: Evidence,
    *,
    lang: str = "id",
    base_url: str,
    now: datetime,
    letterhead: Letterhead | None = None,
    presentation: int | None = None,
) -> bytes:
    """The certificate PDF of the signature in `evidence`, printed at `now` in `presentation`:
    by default the latest, the government document, when a `letterhead` is given (a server
    passes its settings' one), else presentation 1 (Ikrar 0.1's page).

    Raises InvalidInput for an unknown language or presentation, or a title too long for the page.
    """
    pres = presentation_of(lang, base_url, now, letterhead, presentation)
    facts = evidence.facts()
    if pres.version > 1:
        revoked = evidence.revocation() if printed_revocation(evidence, pres) else None
        doc = certificate_document(facts, evidence.vkey.fingerprint, pres, revoked)
        metadata = {"/IkrarFormat": FORMAT, "/IkrarIndex": str(facts.index), "/IkrarLeafHash": facts.leaf_hash}
        return finish(render_pages(doc), doc, attachments(evidence, pres), metadata)
    page = render_page(facts, evidence.vkey.fingerprint, pres)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(page)))
    for name, data in attachments(evidence, pres).items():
        writer.add_attachment(name, data)
    writer.add_metadata({"/IkrarFormat": FORMAT, "/IkrarIndex": str(facts.index), "/IkrarLeafHash": facts.leaf_hash})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def certificate_pdf(
    ledger: Ledger,
    index: int,
    *,
    lang: str = "id",
    base_url: str,
    now: datetime,
    checkpoint: Checkpoint | None = None,
    letterhead: Letterhead | None = None,
    presentation: int | None = None,
) -> bytes:
    """Gather the evidence of signature `index` from one snapshot and render its certificate.

    Raises NotFound, NoCertificate (not a signature), InvalidInput (language, presentation).
    """
    check_lang(lang)
    with ledger.read() as r:
        evidence = gather_evidence(r, index, checkpoint)
    return render_certificate(
        evidence, lang=lang, base_url=base_url, now=now, letterhead=letterhead, presentation=presentation
    )


def signature_indexes(ledger: Ledger, slug: str) -> list[int]:
    """The signature entries of a commitment, in ledger order. Raises NotFound for an unknown slug."""
    with ledger.read() as r:
        commitment_of(r, slug)
        return [s.index for s in r.signatures(slug)]


def gather_commitment(r: Reader, slug: str) -> tuple[Summary, list[Evidence]]:
    """The summary of commitment `slug` and the evidence of each of its signatures, in ledger
    order, all against the reader's latest checkpoint.

    Raises NotFound (unknown commitment), EvidenceMismatch or LedgerError (a damaged database).
    """
    commitment = commitment_of(r, slug)
    checkpoint = r.checkpoint()
    evidence = [gather_evidence(r, index, checkpoint) for index in signed_indexes(r, slug, checkpoint)]
    return summary_of(r, commitment, [e.facts() for e in evidence], checkpoint), evidence


def certificates_of(
    evidence: Sequence[Evidence],
    *,
    lang: str = "id",
    base_url: str,
    now: datetime,
    letterhead: Letterhead | None = None,
) -> Iterator[tuple[int, bytes]]:
    """The certificate of each signature in `evidence`, rendered one at a time."""
    check_lang(lang)
    for e in evidence:
        yield e.signed.index, render_certificate(e, lang=lang, base_url=base_url, now=now, letterhead=letterhead)


def write_certificates(
    ledger: Ledger,
    slug: str,
    target: Path,
    *,
    lang: str = "id",
    base_url: str,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
    letterhead: Letterhead | None = None,
) -> int:
    """Write every certificate of a commitment, and its summary, into a folder or a ``.zip``.

    The evidence of every signature and the summary are read from one snapshot, against one
    checkpoint. Returns how many signature certificates were written. Raises NotFound,
    InvalidInput.
    """
    with ledger.read() as r:
        summary, evidence = gather_commitment(r, slug)
    total = len(evidence)
    summary_pdf = draw_summary(summary, lang=lang, base_url=base_url, now=now, letterhead=letterhead)
    files = certificates_of(evidence, lang=lang, base_url=base_url, now=now, letterhead=letterhead)
    summary_name = f"{slug}-summary.pdf"
    done = 0
    if target.suffix.lower() == ".zip":
        if target.exists():
            raise InvalidInput(f"{target} exists already; choose a new file name")
        tmp = target.with_name(target.name + ".part")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(summary_name, summary_pdf)
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
    (target / summary_name).write_bytes(summary_pdf)
    for index, pdf in files:
        (target / certificate_name(index)).write_bytes(pdf)
        done += 1
        if progress:
            progress(done, total)
    return done
