"""The summary of a commitment: one document listing every signatory, each with a small QR code.

Every required signatory in the order the commitment was published (protocol order): the
time, the entry and the verify link of a signature, numbered beside its QR code, or
"Belum menandatangani" in dark bold type (it survives a black-and-white office printer); a
signature whose key was revoked later (before the summary's checkpoint) says "SAH" and the
revocation, in the words of the verify page.
It has the letterhead and the fonts of the naskah (`signing.doc_draw`). Everything a
summary prints is read from one snapshot of the ledger (`gather_summary`), then drawn
(`draw_summary`); `render_summary` does both. A summary carries no evidence: each row's
QR code opens that signature's verify page; it is marked by the attachment `SUMMARY_MARK`,
so that a check of it (`signing.verify_cert`) says it is a summary.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.checkpoint import Checkpoint
from ledger.entries import format_time
from ledger.errors import NotFound
from ledger.nip import is_nip
from ledger.reader import CommitmentRecord, Reader
from ledger.store import Ledger

from .cert_words import format_nip, verify_url, words
from .doc_draw import KOP_BOTTOM, LEFT, RIGHT, Document, Op, Qr, Rule, Txt, finish, fit, footed, kop, render_pages, wrap
from .doc_fonts import fonts as document_fonts
from .doc_kop import DEFAULT_OFFICE, Letterhead
from .doc_words import doc_words, revoked_later_words
from .facts import Revocation, SignatureFacts, gather_facts, revocation_in
from .wording import check_lang, format_short_wib


@dataclass(frozen=True)
class SummaryRow:
    facts: SignatureFacts | None  # None: not signed yet
    nip: str
    name: str
    position: str
    agency: str
    revoked: Revocation | None = None  # the signer's key revoked after the signature, before the checkpoint


@dataclass(frozen=True)
class Summary:
    """What the summary of one commitment prints, all read from one snapshot of the ledger."""

    org: str
    origin: str
    slug: str
    title: str
    text_sha256: str
    rows: tuple[SummaryRow, ...]
    checkpoint: Checkpoint  # the one every signature's facts are read against


def commitment_of(r: Reader, slug: str) -> CommitmentRecord:
    """The published commitment `slug`; raises NotFound when there is none."""
    commitment = r.commitment(slug)
    if commitment is None:
        raise NotFound(f"there is no commitment {slug!r}", code="commitment.not_found", slug=slug)
    return commitment


def signed_indexes(r: Reader, slug: str, checkpoint: Checkpoint) -> list[int]:
    """The signature entries of commitment `slug` inside `checkpoint`, in ledger order."""
    return [s.index for s in r.signatures(slug) if s.index < checkpoint.size]


def revoked_before(r: Reader, facts: SignatureFacts, checkpoint: Checkpoint) -> Revocation | None:
    """The revocation of the key of the signature `facts` after it and inside `checkpoint`; None when none."""
    record = r.key(facts.key)
    if record is None or record.revoked_index is None or not facts.index < record.revoked_index < checkpoint.size:
        return None
    return revocation_in(r.entry(record.revoked_index))


def summary_rows(
    r: Reader, commitment: CommitmentRecord, signed: Sequence[SignatureFacts], checkpoint: Checkpoint
) -> list[SummaryRow]:
    """Each required signatory, in the published order, with the facts of their signature in
    `signed` (and the revocation of its key later, inside `checkpoint`)."""
    by_nip = {f.nip: f for f in signed}
    people = {o.nip: o for o in r.officials(commitment.signers)}
    rows = []
    for nip in commitment.signers:
        f = by_nip.get(nip)
        if f is not None:
            rows.append(SummaryRow(f, nip, f.name, f.position, f.agency, revoked_before(r, f, checkpoint)))
        else:
            o = people.get(nip)
            rows.append(SummaryRow(None, nip, o.name if o else nip, o.title if o else "", o.unit if o else ""))
    return rows


def summary_of(
    r: Reader, commitment: CommitmentRecord, signed: Sequence[SignatureFacts], checkpoint: Checkpoint
) -> Summary:
    """The summary of `commitment` whose signatures' facts, read against `checkpoint`, are `signed`."""
    return Summary(
        org=r.entry(0).fields["org"],
        origin=r.origin,
        slug=commitment.slug,
        title=commitment.title,
        text_sha256=commitment.text_sha256,
        rows=tuple(summary_rows(r, commitment, signed, checkpoint)),
        checkpoint=checkpoint,
    )


def gather_summary(r: Reader, slug: str) -> Summary:
    """What the summary of commitment `slug` prints, against the reader's latest checkpoint.

    Raises NotFound (unknown commitment), EvidenceMismatch or LedgerError (a damaged database).
    """
    commitment = commitment_of(r, slug)
    checkpoint = r.checkpoint()
    signed = [gather_facts(r, index, checkpoint) for index in signed_indexes(r, slug, checkpoint)]
    return summary_of(r, commitment, signed, checkpoint)


def render_summary(
    ledger: Ledger, slug: str, *, lang: str = "id", base_url: str, now: datetime, letterhead: Letterhead | None = None
) -> bytes:
    """One document per commitment: every signatory with position, time, entry and a small QR code.

    Raises NotFound (unknown commitment), InvalidInput (language).
    """
    check_lang(lang)
    with ledger.read() as r:
        summary = gather_summary(r, slug)
    return draw_summary(summary, lang=lang, base_url=base_url, now=now, letterhead=letterhead)


_COLS = (LEFT, LEFT + 22, LEFT + 196, LEFT + 310, RIGHT)
_ROW_H = 76.0
_QR = 56.0  # 2 cm
_BOTTOM = 770.0  # the last row ends above the footer


def _table_head(w: dict[str, Any], top: float) -> list[Op]:
    cols = w["summary_cols"]
    ops: list[Op] = [Rule(LEFT - 4, RIGHT + 4, top - 11, 0.8), Rule(LEFT - 4, RIGHT + 4, top + 5, 0.8)]
    ops += [Txt(cols[i], "sans-bold", 7.5, _COLS[i], top, "r" if i == 4 else "l") for i in range(5)]
    return ops


_NOTE_SIZE = 7.5
_NOTE_STEP = 9.5


def _note(row: SummaryRow, lang: str, f: Any) -> list[str]:
    """The lines under a row whose signer's key was revoked later: SAH, and the revocation."""
    if row.revoked is None:
        return []
    text = f"{doc_words(lang)['valid']}. {revoked_later_words(row.revoked, lang)}"
    return wrap(f, text, "sans", _NOTE_SIZE, RIGHT - _COLS[1])


def _row_height(row: SummaryRow, lang: str, f: Any) -> float:
    lines = _note(row, lang, f)
    return _ROW_H + (_NOTE_STEP * len(lines) + 6 if lines else 0)


def _row(n: int, row: SummaryRow, top: float, w: dict[str, Any], lang: str, base_url: str, f: Any) -> list[Op]:
    ops: list[Op] = [Txt(f"{n}.", "sans", 9, _COLS[0], top + 12)]
    width = _COLS[2] - _COLS[1] - 10
    ops.append(Txt(row.name, "sans-bold", fit(f, row.name, "sans-bold", 9.5, width, 6), _COLS[1], top + 12))
    ops.append(Txt(row.position, "sans", fit(f, row.position, "sans", 8, width, 5.5), _COLS[1], top + 23))
    ops.append(Txt(row.agency, "sans", fit(f, row.agency, "sans", 8, width, 5.5), _COLS[1], top + 33))
    if is_nip(row.nip):
        ops.append(Txt(f"NIP {format_nip(row.nip)}", "sans", 7.5, _COLS[1], top + 43))
    if row.facts is None:
        ops.append(Txt(w["summary_pending"], "sans-bold", 8.5, _COLS[2], top + 12))
    else:
        url = verify_url(base_url, row.facts)
        ops += [
            Txt(format_short_wib(row.facts.time, lang), "sans", 8, _COLS[2], top + 12),
            Txt(str(row.facts.index), "sans-bold", 9, _COLS[3], top + 12),
            Txt(row.facts.short_hash, "mono", 6.5, _COLS[3], top + 23),
            # the row's number beside its QR code: a code scanned off paper is matched to its row
            Txt(f"{n}.", "sans-bold", 10, RIGHT - _QR - 8, top + 16, "r"),
            Txt(url, "sans", fit(f, url, "sans", 6, 250, 4.5), RIGHT - _QR - 8, top + _QR, "r"),
            Qr(url, RIGHT - _QR, top + 2, _QR),
        ]
    note = _note(row, lang, f)
    for k, line in enumerate(note):
        ops.append(Txt(line, "sans", _NOTE_SIZE, _COLS[1], top + _ROW_H - 2 + _NOTE_STEP * k))
    ops.append(Rule(LEFT - 4, RIGHT + 4, top + _row_height(row, lang, f) - 8, 0.4))
    return ops


def draw_summary(
    s: Summary, *, lang: str = "id", base_url: str, now: datetime, letterhead: Letterhead | None = None
) -> bytes:
    """The summary PDF of `s`, printed at `now` with `letterhead` (None: the default one).
    Raises InvalidInput for an unknown language."""
    w = words(lang)
    dw = doc_words(lang)
    f = document_fonts()
    head = letterhead or Letterhead(DEFAULT_OFFICE)
    pages: list[list[Op]] = []
    page: list[Op] = kop(f, head, s.org, dw["ledger_line"].format(origin=s.origin), lang)
    cx = (LEFT + RIGHT) / 2
    top = KOP_BOTTOM + 32
    page.append(Txt(w["summary_title"], "serif-bold", 16, cx, top, "c"))
    top += 20
    for line in wrap(f, s.title, "serif-bold", 13, RIGHT - LEFT - 40):
        page.append(Txt(line, "serif-bold", 13, cx, top, "c"))
        top += 17
    signed = sum(1 for row in s.rows if row.facts)
    page += [
        Txt(w["summary_sub"], "serif-italic", 10, cx, top + 2, "c"),
        Txt(f"SHA-256 {s.text_sha256}", "mono", 7.2, cx, top + 16, "c"),
        Txt(w["summary_status"].format(signed=signed, required=len(s.rows)), "sans-bold", 10, LEFT, top + 38),
    ]
    top += 62
    page += _table_head(w, top)
    top += 10
    for n, row in enumerate(s.rows, 1):
        height = _row_height(row, lang, f)
        if top + height > _BOTTOM:
            pages.append(page)
            page, top = _table_head(w, 60), 70.0
        page += _row(n, row, top, w, lang, base_url, f)
        top += height
    root = s.checkpoint.body().split("\n")[2]
    foot = [w["summary_checkpoint"].format(size=s.checkpoint.size, root=root)]
    foot_lines = wrap(f, w["summary_foot"], "sans", 7, RIGHT - LEFT)
    if top + 12 * (len(foot_lines) + 1) > 792:
        pages.append(page)
        page, top = [], 60.0
    page.append(Txt(foot[0], "mono", 6.8, LEFT, top + 10))
    for k, line in enumerate(foot_lines):
        page.append(Txt(line, "sans", 7, LEFT, top + 22 + 9 * k))
    pages.append(page)
    printed = w["printed"].split(" · ")[0].format(when=format_short_wib(now, lang))
    doc = Document(
        footed(pages, printed, lang),
        f,
        title=f"{w['summary_title'].title()}: {s.title}",
        author=s.org,
        subject=s.title,
        lang=lang,
        created=now,
        emblem=head.emblem,
    )
    return finish(render_pages(doc), doc, {SUMMARY_MARK: summary_mark(s, lang, now)}, {})


SUMMARY_MARK = "ikrar-summary.json"
"""The attachment that marks a summary, so that a check of it says it is one (a summary carries no evidence)."""
SUMMARY_FORMAT = "ikrar-summary/v1"


def summary_mark(s: Summary, lang: str, now: datetime) -> bytes:
    """What `SUMMARY_MARK` holds: that this is a summary, of which commitment and checkpoint."""
    value = {
        "format": SUMMARY_FORMAT,
        "slug": s.slug,
        "checkpoint_size": s.checkpoint.size,
        "lang": lang,
        "printed_at": format_time(now),
    }
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"
