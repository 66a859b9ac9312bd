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

from ledger.checkpoint import Checkpoint
from ledger.errors import InvalidInput
from ledger.reader import Reader
from ledger.store import Ledger

from .cert_draw import render_page
from .cert_words import Presentation
from .facts import Evidence, gather_evidence
from .summary import Summary, commitment_of, draw_summary, signed_indexes, summary_of
from .wording import check_lang

logger = logging.getLogger(__name__)

FORMAT = "ikrar-certificate/v1"
MANIFEST = "certificate.json"
VKEY_FILE = "ledger.vkey"


def entry_file(index: int) -> str:
    return f"entry-{index}.json"


def proof_file(index: int) -> str:
    return f"entry-{index}.tlog-proof"


def certificate_name(index: int) -> str:
    return f"certificate-{index}.pdf"


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
    page = render_page(facts, evidence.vkey.fingerprint, pres)
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
    """Gather the evidence of signature `index` from one snapshot and render its certificate.

    Raises NotFound, NoCertificate (not a signature), InvalidInput (language).
    """
    check_lang(lang)
    with ledger.read() as r:
        evidence = gather_evidence(r, index, checkpoint)
    return render_certificate(evidence, lang=lang, base_url=base_url, now=now)


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
    evidence: Sequence[Evidence], *, lang: str = "id", base_url: str, now: datetime
) -> Iterator[tuple[int, bytes]]:
    """The certificate of each signature in `evidence`, rendered one at a time."""
    check_lang(lang)
    for e in evidence:
        yield e.signed.index, render_certificate(e, lang=lang, base_url=base_url, now=now)


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

    The evidence of every signature and the summary are read from one snapshot, against one
    checkpoint. Returns how many signature certificates were written. Raises NotFound,
    InvalidInput.
    """
    with ledger.read() as r:
        summary, evidence = gather_commitment(r, slug)
    total = len(evidence)
    summary_pdf = draw_summary(summary, lang=lang, base_url=base_url, now=now)
    files = certificates_of(evidence, lang=lang, base_url=base_url, now=now)
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
