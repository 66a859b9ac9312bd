"""The certificate as a government document: presentation 2, "BUKTI PENANDATANGANAN ELEKTRONIK".

Two A4 pages. The first is the document a Pemkot files: the kop naskah dinas, the title and
the document's number (the number pattern filled in with the signature's ledger index and
its year in WIB), the label "tanda tangan elektronik tidak tersertifikasi" in a ruled box
right under the title, the statement in formal Indonesian ("Dengan ini diterangkan
bahwa ..."; when the signer's key was revoked after the signature and before the printing,
"SAH" and the revocation in the words of the verify page), and the QR code of the verify
page with the address a reader must see in their browser. The second is the appendix: the technical
evidence (hashes, checkpoint, key fingerprints), each figure explained in words, how the
key was vouched for, and how to check the document.

`certificate_document` lays it out (pure, from the ledger's facts and the presentation);
`signing.doc_draw` draws it. Certificates printed in presentation 1 keep their own
renderer (`signing.cert_draw.render_page`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ledger.entries import format_time
from ledger.errors import InvalidInput
from ledger.nip import is_nip

from .cert_words import Presentation, format_nip, verify_url, vouching_words
from .doc_draw import KOP_BOTTOM, LEFT, RIGHT, Box, Document, Op, Qr, Rule, Txt, fit, footed, kop, wrap
from .doc_fonts import fonts as document_fonts
from .doc_words import doc_words, revoked_later_words
from .facts import Revocation, SignatureFacts
from .wording import format_clock_wib, format_date_wib, format_short_wib

QR_SIZE = 108.0  # 3.8 cm: scans off paper from a phone at arm's length
QR_TOP = 628.0
BODY_END = QR_TOP - 14  # the statement ends above the QR code's row
SCALES = (1.0, 0.92, 0.84, 0.76, 0.68, 0.6)


def certificate_number(facts: SignatureFacts, pres: Presentation) -> str:
    """The certificate's document number: assigned on the ledger (its index and year)."""
    assert pres.letterhead is not None
    return pres.letterhead.number(facts.index, facts.time)


def _statement(
    facts: SignatureFacts, pres: Presentation, scale: float, revoked: Revocation | None
) -> tuple[list[Op], float]:
    """From "Dengan ini diterangkan bahwa" to the closing sentence (and, when the signer's key
    was revoked later, a ruled box: SAH, and the revocation), at `scale`; and where it ends."""
    f = document_fonts(pres.fonts)
    w = doc_words(pres.lang)
    ops: list[Op] = []
    body = 11.5 * scale
    step = body + 4.5 * scale
    top = 282.0
    ops.append(Txt(w["certify"], "serif", body, LEFT + 10, top))
    top += step + 6 * scale
    rows = [
        (w["name"], facts.name, "serif-bold"),
        (w["capacity"], facts.position, "serif"),
        (w["unit"], facts.agency, "serif"),
    ]
    if is_nip(facts.nip):
        rows.append((w["nip"], format_nip(facts.nip), "serif"))
    label_x, colon_x, value_x = LEFT + 30, LEFT + 150, LEFT + 160
    for label, value, role in rows:
        ops += [Txt(label, "serif", body, label_x, top), Txt(":", "serif", body, colon_x, top)]
        for line in wrap(f, value, role, body, RIGHT - value_x):
            ops.append(Txt(line, role, body, value_x, top))
            top += step
    top += 6 * scale
    ops.append(Txt(w["signed"], "serif", body, LEFT + 10, top))
    top += step + 4 * scale
    title_size = 12.5 * scale
    for line in wrap(f, facts.commitment_title, "serif-bold", title_size, RIGHT - LEFT - 60):
        ops.append(Txt(line, "serif-bold", title_size, (LEFT + RIGHT) / 2, top, "c"))
        top += title_size + 4 * scale
    top += 6 * scale
    when = w["when"].format(
        date=format_date_wib(facts.time, pres.lang),
        clock=format_clock_wib(facts.time, pres.lang),
        index=facts.index,
        org=facts.org,
    )
    for line in wrap(f, when, "serif", body, RIGHT - LEFT - 20):
        ops.append(Txt(line, "serif", body, LEFT + 10, top))
        top += step
    top += 6 * scale
    for line in wrap(f, w["closing"], "serif", body, RIGHT - LEFT - 20):
        ops.append(Txt(line, "serif", body, LEFT + 10, top))
        top += step
    if revoked is not None:
        box_top = top - body + 4 * scale
        top = box_top + 16 * scale
        inside: list[Op] = [Txt(w["valid"], "sans-bold", 11 * scale, LEFT + 22, top)]
        size = 10 * scale
        for line in wrap(f, revoked_later_words(revoked, pres.lang), "serif", size, RIGHT - LEFT - 44):
            top += size + 3.5 * scale
            inside.append(Txt(line, "serif", size, LEFT + 22, top))
        top += 9 * scale
        ops.append(Box(LEFT + 10, box_top, RIGHT - LEFT - 20, top - box_top, 1.2))
        ops += inside
        top += step
    return ops, top


def _page_one(facts: SignatureFacts, pres: Presentation, number: str, revoked: Revocation | None) -> list[Op]:
    f = document_fonts(pres.fonts)
    w = doc_words(pres.lang)
    assert pres.letterhead is not None
    ops: list[Op] = kop(f, pres.letterhead, facts.org, w["ledger_line"].format(origin=facts.origin), pres.lang)
    cx = (LEFT + RIGHT) / 2
    top = KOP_BOTTOM + 36
    ops.append(Txt(w["title"], "serif-bold", 17, cx, top, "c"))
    half = f.width(w["title"], "serif-bold", 17) / 2
    ops.append(Rule(cx - half, cx + half, top + 5, 0.8))
    ops.append(Txt(w["number"].format(number=number), "sans", 10, cx, top + 20, "c"))
    box_top = top + 32
    ops.append(Box(LEFT + 14, box_top, RIGHT - LEFT - 28, 40, 1.6))
    label = w["uncertified"]
    ops.append(Txt(label, "sans-bold", fit(f, label, "sans-bold", 12, RIGHT - LEFT - 48, 7), cx, box_top + 17, "c"))
    sub = w["uncertified_sub"]
    ops.append(Txt(sub, "sans", fit(f, sub, "sans", 8.5, RIGHT - LEFT - 48, 6), cx, box_top + 32, "c"))
    for scale in SCALES:
        statement, end = _statement(facts, pres, scale, revoked)
        if end <= BODY_END:
            break
    else:
        raise InvalidInput("the commitment title is too long to print on one page")
    ops += statement
    qr_x = RIGHT - 10 - QR_SIZE
    ops.append(Qr(verify_url(pres.base_url, facts), qr_x, QR_TOP, QR_SIZE))
    ops.append(Txt(w["scan"], "sans-bold", 9, qr_x + QR_SIZE / 2, QR_TOP + QR_SIZE + 14, "c"))
    text_w = qr_x - LEFT - 24
    top = QR_TOP + 16
    url = verify_url(pres.base_url, facts)
    online = w["online"].format(url=url)
    for line in wrap(f, online, "sans", 8.5, text_w):
        ops.append(Txt(line, "sans", 8.5, LEFT + 10, top))
        top += 11
    host = urlsplit(pres.base_url).netloc or pres.base_url
    for line in wrap(f, w["trust"].format(host=host), "sans-bold", 8.5, text_w):
        ops.append(Txt(line, "sans-bold", 8.5, LEFT + 10, top))
        top += 11
    top += 6
    for line in wrap(f, w["see_appendix"], "serif-italic", 9.5, text_w):
        ops.append(Txt(line, "serif-italic", 9.5, LEFT + 10, top))
        top += 12
    return ops


def _page_two(facts: SignatureFacts, fingerprint: str, pres: Presentation, number: str) -> list[Op]:
    f = document_fonts(pres.fonts)
    w = doc_words(pres.lang)
    cx = (LEFT + RIGHT) / 2
    ops: list[Op] = [
        Txt(w["appendix_title"], "serif-bold", 14, cx, 66, "c"),
        Txt(w["appendix_of"].format(number=number), "sans", 9, cx, 82, "c"),
        Rule(LEFT, RIGHT, 92, 1.2),
    ]
    top = 112.0
    for line in wrap(f, w["appendix_intro"], "serif", 10, RIGHT - LEFT):
        ops.append(Txt(line, "serif", 10, LEFT, top))
        top += 13
    top += 8
    rows = w["rows"]
    values = {
        "index": (str(facts.index), "sans-bold"),
        "leaf": (facts.leaf_hash, "mono"),
        "text_sha": (facts.commitment_sha256, "mono"),
        "fingerprint": (facts.key_fingerprint, "mono"),
        "checkpoint": (w["checkpoint_value"].format(size=facts.checkpoint_size, root=facts.checkpoint_root), "mono"),
        "utc": (f"{format_time(facts.time)} · {facts.origin}", "mono"),
        "ledger_key": (fingerprint, "mono"),
    }
    box_top = top - 4
    inner = RIGHT - LEFT - 24
    for key, (value, role) in values.items():
        label, explain = rows[key]
        top += 12
        ops.append(Txt(label, "sans-bold", 9, LEFT + 12, top))
        top += 13
        size = fit(f, value, role, 9, inner, 6.5)
        for line in wrap(f, value, role, size, inner):
            ops.append(Txt(line, role, size, LEFT + 12, top))
            top += size + 3
        text = explain.format(size=facts.checkpoint_size, org=facts.org)
        for line in wrap(f, text, "serif-italic", 9, inner):
            ops.append(Txt(line, "serif-italic", 9, LEFT + 12, top + 1))
            top += 11.5
        top += 2
    top += 8
    ops.append(Box(LEFT, box_top, RIGHT - LEFT, top - box_top, 0.8, radius=4))
    top += 22
    vouching = vouching_words(facts, pres.lang)
    if vouching is not None:
        ops.append(Txt(w["vouching_title"], "sans-bold", 9.5, LEFT, top))
        top += 14
        for line in wrap(f, vouching, "serif", 9.5, RIGHT - LEFT):
            ops.append(Txt(line, "serif", 9.5, LEFT, top))
            top += 12.5
        top += 12
    ops.append(Txt(w["explain_title"], "sans-bold", 9.5, LEFT, top))
    top += 14
    explain = w["explain"].format(org=facts.org, base=pres.base_url.rstrip("/"))
    for line in wrap(f, explain, "serif", 9.5, RIGHT - LEFT):
        ops.append(Txt(line, "serif", 9.5, LEFT, top))
        top += 12.5
    return ops


def certificate_document(
    facts: SignatureFacts, ledger_key_fingerprint: str, pres: Presentation, revoked: Revocation | None = None
) -> Document:
    """The two pages of the certificate of `facts`, printed as `pres` (version 2) says; with
    `revoked`, the revocation of the signer's key after the signature (which the certificate
    then carries: a certificate printed before the revocation has none).

    Raises InvalidInput for an unknown language or a title too long for the page, and
    FontMissing when `pres` names fonts that are not installed.
    """
    if pres.version != 2 or pres.letterhead is None:
        raise InvalidInput(f"presentation {pres.version} is not the government document's")
    w = doc_words(pres.lang)
    number = certificate_number(facts, pres)
    pages = [_page_one(facts, pres, number, revoked), _page_two(facts, ledger_key_fingerprint, pres, number)]
    printed = w["printed"].format(when=format_short_wib(pres.printed_at, pres.lang), number=number)
    return Document(
        footed(pages, printed, pres.lang),
        document_fonts(pres.fonts),
        title=f"{w['title'].capitalize()} {number}: {facts.name}",
        author=facts.org,
        subject=facts.commitment_title,
        lang=pres.lang,
        created=pres.printed_at,
        emblem=pres.letterhead.emblem,
    )
