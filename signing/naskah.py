"""The joint commitment document, "Naskah Komitmen Bersama": the thing a Pemkot frames.

The city's letterhead, the commitment's title and number, its full text, then one signature
block per required signatory in the order the commitment was published (protocol order):
the capacity they signed in, a small QR code of the signature's verify page with the time
in WIB and the ledger index, the name and, for a civil servant, the NIP. A signatory who
has not signed has an empty block marked "Belum menandatangani"; one who declined (a
`commitment.declined` entry, rules version 4) a block saying so, with the reason. When
everyone has signed, the document says so.

Like a certificate, it carries its evidence as attachments: the leaf and tlog-proof of the
ledger's first entry, the commitment, and of each signature with its key's enrolment (and
each decline), all against one checkpoint; the ledger's key; and ``naskah.json``, which
states the blocks and the facts printed. `signing.verify_cert` checks it, offline and
against the ledger, by the same steps as a certificate, signature by signature, then that
its pages draw exactly what Ikrar draws for the ledger's facts.

What a block prints for a signatory who has not signed (name, position) is the register's,
not the ledger's: the naskah states it in ``naskah.json`` and a verifier prints it as stated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.entries import Entry
from ledger.errors import InvalidInput
from ledger.nip import is_nip
from ledger.reader import Reader
from ledger.store import Ledger

from .cert_words import Presentation, format_nip, verify_url
from .certificate import VKEY_FILE, entry_file, presentation_of, proof_file
from .doc_draw import (
    KOP_BOTTOM,
    LEFT,
    RIGHT,
    Box,
    Document,
    Op,
    Qr,
    Rule,
    Txt,
    finish,
    fit,
    footed,
    kop,
    render_pages,
    wrap,
)
from .doc_fonts import fonts as document_fonts
from .doc_kop import Letterhead
from .doc_words import doc_words
from .facts import Evidence, gather_evidence
from .summary import commitment_of, signed_indexes
from .wording import format_short_wib

FORMAT = "ikrar-naskah/v1"
MANIFEST = "naskah.json"
DECLINED = "commitment.declined"  # rules version 4 (the ledger's); read when a ledger has it
MAX_SIGNATORIES = 150  # what one naskah prints and carries (MAX_NASKAH_ATTACHMENTS in verify_cert)
SIGNED, PENDING, DECLINE = "signed", "pending", "declined"


@dataclass(frozen=True)
class Block:
    """One signatory's block, as printed."""

    nip: str
    status: str  # signed, pending or declined
    name: str
    capacity: str
    unit: str
    index: int | None = None  # the signature's or the decline's entry
    time: datetime | None = None
    url: str | None = None  # the verify page of a signature (its QR code)
    reason: str | None = None  # of a decline


@dataclass(frozen=True)
class NaskahFacts:
    """What a naskah prints: the commitment and every block, against one checkpoint."""

    org: str
    origin: str
    slug: str
    title: str
    text: str
    published_index: int
    published_at: datetime
    blocks: tuple[Block, ...]
    checkpoint_size: int

    @property
    def signed(self) -> int:
        return sum(1 for b in self.blocks if b.status == SIGNED)

    @property
    def declined(self) -> int:
        return sum(1 for b in self.blocks if b.status == DECLINE)


def signed_block(e: Evidence, base_url: str) -> Block:
    """A signature's block: from rules version 4 the name and capacity it signed in (the
    entry's), before that the name and position of the key's enrolment."""
    facts = e.facts()
    f = e.signed.fields
    return Block(
        facts.nip,
        SIGNED,
        str(f.get("name") or facts.name),
        str(f.get("capacity") or facts.position),
        str(f.get("unit") or facts.agency),
        facts.index,
        facts.time,
        verify_url(base_url, facts),
    )


def declined_block(entry: Entry, name: str, capacity: str, unit: str) -> Block:
    f = entry.fields
    return Block(
        str(f["nip"]),
        DECLINE,
        str(f.get("name") or name),
        str(f.get("capacity") or capacity),
        str(f.get("unit") or unit),
        entry.index,
        entry.time,
        None,
        str(f.get("reason", "")),
    )


def declines(r: Reader, slug: str, start: int, size: int) -> list[Entry]:
    """The `commitment.declined` entries of `slug` in the ledger from `start` to `size`."""
    found = []
    page = 500
    for first in range(start, size, page):
        for entry in r.entries(first, min(page, size - first)):
            if entry.kind == DECLINED and entry.fields.get("slug") == slug:
                found.append(entry)
    return found


@dataclass(frozen=True)
class Gathered:
    """The facts of a naskah and its evidence, read from one snapshot of the ledger."""

    facts: NaskahFacts
    evidence: tuple[Evidence, ...]  # each signature's, in ledger order
    declines: tuple[Entry, ...]
    decline_proofs: tuple[str, ...]
    created: Entry
    published: Entry
    proofs: dict[int, str]  # the first entry's and the commitment's
    vkey: str


def gather_naskah(r: Reader, slug: str, base_url: str) -> Gathered:
    """Everything the naskah of `slug` prints and carries, against the reader's latest checkpoint.

    Raises NotFound (unknown commitment), InvalidInput (more than MAX_SIGNATORIES), EvidenceMismatch.
    """
    commitment = commitment_of(r, slug)
    if len(commitment.signers) > MAX_SIGNATORIES:
        raise InvalidInput(f"a naskah prints at most {MAX_SIGNATORIES} signatories; this commitment has more")
    checkpoint = r.checkpoint()
    evidence = tuple(gather_evidence(r, i, checkpoint) for i in signed_indexes(r, slug, checkpoint))
    refused = declines(r, slug, commitment.published_index + 1, checkpoint.size)
    people = {o.nip: o for o in r.officials(commitment.signers)}
    by_nip: dict[str, Block] = {}
    for e in evidence:
        by_nip[e.signed.fields["nip"]] = signed_block(e, base_url)
    for entry in refused:
        o = people.get(entry.fields["nip"])
        by_nip.setdefault(entry.fields["nip"], declined_block(entry, *_register(o, entry.fields["nip"])))
    blocks = []
    for nip in commitment.signers:
        block = by_nip.get(nip)
        if block is None:
            name, title, unit = _register(people.get(nip), nip)
            block = Block(nip, PENDING, name, title, unit)
        blocks.append(block)
    created, published = r.entry(0), r.entry(commitment.published_index)
    facts = NaskahFacts(
        created.fields["org"],
        r.origin,
        slug,
        commitment.title,
        commitment.text,
        commitment.published_index,
        commitment.published_at,
        tuple(blocks),
        checkpoint.size,
    )
    proofs = {e.index: r.tlog_proof(e.index, checkpoint.size).text() for e in (created, published)}
    decline_proofs = tuple(r.tlog_proof(e.index, checkpoint.size).text() for e in refused)
    return Gathered(facts, evidence, tuple(refused), decline_proofs, created, published, proofs, str(r.verifier))


def _register(o: Any, nip: str) -> tuple[str, str, str]:
    return (o.name, o.title, o.unit) if o is not None else (nip, "", "")


def naskah_number(facts: NaskahFacts, pres: Presentation) -> str:
    """The naskah's number: the pattern with the commitment's ledger index and its year in WIB."""
    assert pres.letterhead is not None
    return pres.letterhead.number(facts.published_index, facts.published_at)


# -- layout ------------------------------------------------------------------------------------

BOTTOM = 784.0  # the lowest baseline of the body; the footer is below
BLOCK_H = 172.0
COLUMNS = 2
BLOCK_W = (RIGHT - LEFT - 20) / COLUMNS
QR = 68.0  # 2.4 cm: decodes from a 150 dpi scan


def _block_ops(b: Block, x: float, top: float, pres: Presentation) -> list[Op]:
    f = document_fonts(pres.fonts)
    w = doc_words(pres.lang)
    inner = BLOCK_W - 12
    ops: list[Op] = []
    t = top
    for line in wrap(f, b.capacity, "serif-bold", 9.5, inner)[:3]:
        ops.append(Txt(line, "serif-bold", 9.5, x, t))
        t += 12
    area = top + 38
    if b.status == SIGNED and b.url is not None and b.time is not None:
        ops.append(Qr(b.url, x, area, QR))
        tx = x + QR + 10
        ops.append(Txt(w["block_signed"], "sans", 7.5, tx, area + 14))
        ops.append(Txt(format_short_wib(b.time, pres.lang), "sans-bold", 8.5, tx, area + 30))
        ops.append(Txt(w["block_entry"].format(index=b.index), "sans", 8.5, tx, area + 46))
    elif b.status == DECLINE:
        ops.append(Box(x, area, inner, QR, 1.2))
        ops.append(Txt(w["block_declined"], "sans-bold", 10, x + inner / 2, area + 18, "c"))
        reason = w["block_reason"].format(reason=b.reason or "")
        for k, line in enumerate(wrap(f, reason, "sans", 7.5, inner - 12)[:2]):
            ops.append(Txt(line, "sans", 7.5, x + 6, area + 32 + 9.5 * k))
        if b.time is not None:
            when = f"{format_short_wib(b.time, pres.lang)} · {w['block_entry'].format(index=b.index)}"
            ops.append(Txt(when, "sans", 7.5, x + 6, area + 60))
    else:
        ops.append(Box(x, area, inner, QR, 1.0, dash=(4, 3)))
        ops.append(Txt(w["block_pending"], "sans-bold", 10, x + inner / 2, area + QR / 2 + 4, "c"))
    name_top = area + QR + 18
    size = fit(f, b.name, "serif-bold", 10.5, inner, 7)
    ops.append(Txt(b.name, "serif-bold", size, x, name_top))
    ops.append(Rule(x, x + min(inner, f.width(b.name, "serif-bold", size)), name_top + 2.5, 0.6))
    if is_nip(b.nip):
        ops.append(Txt(f"NIP {format_nip(b.nip)}", "sans", 8.5, x, name_top + 14))
    return ops


def naskah_document(facts: NaskahFacts, pres: Presentation) -> Document:
    """The laid-out pages of the naskah. Raises InvalidInput (language), FontMissing."""
    if pres.letterhead is None:
        raise InvalidInput("a naskah is printed with a letterhead")
    f = document_fonts(pres.fonts)
    w = doc_words(pres.lang)
    cx = (LEFT + RIGHT) / 2
    number = naskah_number(facts, pres)
    pages: list[list[Op]] = []
    page: list[Op] = kop(f, pres.letterhead, facts.org, w["ledger_line"].format(origin=facts.origin), pres.lang)
    top = KOP_BOTTOM + 34

    def need(height: float) -> None:
        nonlocal page, top
        if top + height > BOTTOM:
            pages.append(page)
            page, top = [], 60.0

    page.append(Txt(w["naskah_title"], "serif-bold", 16, cx, top, "c"))
    top += 20
    for line in wrap(f, facts.title, "serif-bold", 13, RIGHT - LEFT - 40):
        page.append(Txt(line, "serif-bold", 13, cx, top, "c"))
        top += 17
    page.append(Txt(w["number"].format(number=number), "sans", 10, cx, top, "c"))
    top += 28
    for line in wrap(f, facts.text.rstrip("\n"), "serif", 11, RIGHT - LEFT):
        need(15)
        if line:
            page.append(Txt(line, "serif", 11, LEFT, top))
        top += 15
    top += 8
    for line in wrap(f, w["naskah_closing"], "serif", 11, RIGHT - LEFT):
        need(15)
        page.append(Txt(line, "serif", 11, LEFT, top))
        top += 15
    required = len(facts.blocks)
    status = w["naskah_all" if facts.signed == required else "naskah_some"].format(
        signed=facts.signed, required=required
    )
    if facts.declined:
        status += " " + w["naskah_declined"].format(declined=facts.declined)
    top += 6
    for line in wrap(f, status, "sans-bold", 10, RIGHT - LEFT):
        need(14)
        page.append(Txt(line, "sans-bold", 10, LEFT, top))
        top += 14
    top += 22
    for k in range(0, required, COLUMNS):
        need(BLOCK_H - 12)
        for col, b in enumerate(facts.blocks[k : k + COLUMNS]):
            page += _block_ops(b, LEFT + col * (BLOCK_W + 20), top, pres)
        top += BLOCK_H
    foot = wrap(f, w["naskah_foot"], "sans", 7.5, RIGHT - LEFT)
    need(10.0 * len(foot))
    for line in foot:
        page.append(Txt(line, "sans", 7.5, LEFT, top))
        top += 10
    pages.append(page)
    printed = w["naskah_printed"].format(
        when=format_short_wib(pres.printed_at, pres.lang), size=facts.checkpoint_size, slug=facts.slug
    )
    return Document(
        footed(pages, printed, pres.lang),
        f,
        title=f"{w['naskah_title'].title()}: {facts.title}",
        author=facts.org,
        subject=f"{w['naskah_title'].title()} {number}",
        lang=pres.lang,
        created=pres.printed_at,
        emblem=pres.letterhead.emblem,
    )


# -- the file ------------------------------------------------------------------------------------


def block_json(b: Block) -> dict[str, Any]:
    """A block as naskah.json states it."""
    value: dict[str, Any] = {"nip": b.nip, "status": b.status, "name": b.name, "capacity": b.capacity, "unit": b.unit}
    if b.index is not None:
        value["index"] = b.index
    if b.reason is not None:
        value["reason"] = b.reason
    return value


def naskah_manifest(g: Gathered, pres: Presentation) -> bytes:
    value = {
        "format": FORMAT,
        "slug": g.facts.slug,
        "commitment_index": g.facts.published_index,
        "checkpoint_size": g.facts.checkpoint_size,
        **pres.to_json(),
        "blocks": [block_json(b) for b in g.facts.blocks],
        "signatures": [{"entries": [x.index for x in e.entries()], "facts": e.facts().to_json()} for e in g.evidence],
        "declines": [e.index for e in g.declines],
    }
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"


def naskah_attachments(g: Gathered, pres: Presentation) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for entry, proof in ((g.created, g.proofs[g.created.index]), (g.published, g.proofs[g.published.index])):
        files[entry_file(entry.index)] = entry.leaf
        files[proof_file(entry.index)] = proof.encode()
    for e in g.evidence:
        for entry, p in zip(e.entries(), e.proofs, strict=True):
            files[entry_file(entry.index)] = entry.leaf
            files[proof_file(entry.index)] = p.text().encode()
    for entry, text in zip(g.declines, g.decline_proofs, strict=True):
        files[entry_file(entry.index)] = entry.leaf
        files[proof_file(entry.index)] = text.encode()
    files[VKEY_FILE] = f"{g.vkey}\n".encode()
    files.update(pres.attachments())
    files[MANIFEST] = naskah_manifest(g, pres)
    return files


def render_naskah(g: Gathered, pres: Presentation) -> bytes:
    doc = naskah_document(g.facts, pres)
    metadata = {"/IkrarFormat": FORMAT, "/IkrarCommitment": g.facts.slug}
    return finish(render_pages(doc), doc, naskah_attachments(g, pres), metadata)


def naskah_pdf(
    ledger: Ledger, slug: str, *, lang: str = "id", base_url: str, now: datetime, letterhead: Letterhead | None = None
) -> bytes:
    """The naskah komitmen bersama of commitment `slug`, its evidence read from one snapshot.

    Raises NotFound (unknown commitment), InvalidInput (language, too many signatories).
    """
    pres = presentation_of(lang, base_url, now, letterhead)
    with ledger.read() as r:
        g = gather_naskah(r, slug, pres.base_url)
    return render_naskah(g, pres)
