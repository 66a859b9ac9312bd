"""The summary of a commitment: one document listing every signatory, each with a small QR code.

Signatories who signed come first, in ledger order, with the time, the entry and the
verify link of their signature; those yet to sign follow in the order the commitment
names them. Everything a summary prints is read from one snapshot of the ledger
(`gather_summary`), then drawn (`draw_summary`); `render_summary` does both.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reportlab.lib.colors import white
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas

from ledger.checkpoint import Checkpoint
from ledger.errors import NotFound
from ledger.reader import CommitmentRecord, Reader
from ledger.store import Ledger

from .cert_draw import draw_frame, draw_qr, draw_rule, draw_texts, new_canvas
from .cert_layout import AMBER, GREY, LEFT, NAVY, RIGHT, ROW_RULE, H, Text, drawable, fit, wrap
from .cert_words import format_nip, verify_url, words
from .facts import SignatureFacts, gather_facts
from .wording import format_short_wib


@dataclass(frozen=True)
class SummaryRow:
    facts: SignatureFacts | None  # None: not signed yet
    nip: str
    name: str
    position: str
    agency: str


@dataclass(frozen=True)
class Summary:
    """What the summary of one commitment prints, all read from one snapshot of the ledger."""

    org: str
    origin: str
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


def summary_rows(r: Reader, commitment: CommitmentRecord, signed: Sequence[SignatureFacts]) -> list[SummaryRow]:
    """Each required signatory: those in `signed` in ledger order, then the others in the published order."""
    by_nip = {f.nip: f for f in signed}
    people = {o.nip: o for o in r.officials(commitment.signers)}
    rows = []
    for nip in commitment.signers:
        f = by_nip.get(nip)
        if f is not None:
            rows.append(SummaryRow(f, nip, f.name, f.position, f.agency))
        else:
            o = people.get(nip)
            rows.append(SummaryRow(None, nip, o.name if o else nip, o.title if o else "", o.unit if o else ""))
    rows.sort(key=lambda row: (row.facts is None, row.facts.index if row.facts else 0))
    return rows


def summary_of(
    r: Reader, commitment: CommitmentRecord, signed: Sequence[SignatureFacts], checkpoint: Checkpoint
) -> Summary:
    """The summary of `commitment` whose signatures' facts, read against `checkpoint`, are `signed`."""
    return Summary(
        org=r.entry(0).fields["org"],
        origin=r.origin,
        title=commitment.title,
        text_sha256=commitment.text_sha256,
        rows=tuple(summary_rows(r, commitment, signed)),
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


def render_summary(ledger: Ledger, slug: str, *, lang: str = "id", base_url: str, now: datetime) -> bytes:
    """One document per commitment: every signatory with position, time, entry and a small QR code.

    Raises NotFound (unknown commitment), InvalidInput (language).
    """
    words(lang)
    with ledger.read() as r:
        summary = gather_summary(r, slug)
    return draw_summary(summary, lang=lang, base_url=base_url, now=now)


_COLS = (LEFT, LEFT + 22, LEFT + 240, LEFT + 335, RIGHT)
_ROW_H = 2.0 * cm + 14
_QR = 2.0 * cm


def _header(c: Canvas, s: Summary, w: dict[str, Any], first: bool) -> float:
    """Draw a page's head (and, on the first page, the commitment); return where the rows start."""
    d = drawable
    org = d(s.org.upper())
    draw_frame(c)
    draw_texts(
        c,
        [
            Text(org, "Times-Bold", fit(org, "Times-Bold", 14, 460, 9), 70, color=NAVY),
            Text(d(f"{w['ledger']} · {s.origin}"), "Helvetica", 8, 84, color=GREY),
        ],
    )
    draw_rule(c, 92, 150)
    top = 92.0
    if first:
        top = 122.0
        draw_texts(c, [Text(w["summary_title"], "Times-Bold", 20, top, color=NAVY)])
        top += 22
        for line in wrap(d(s.title), "Times-Bold", 14, 440):
            draw_texts(c, [Text(line, "Times-Bold", 14, top)])
            top += 17
        signed = sum(1 for row in s.rows if row.facts)
        status = w["summary_status"].format(signed=signed, required=len(s.rows))
        draw_texts(
            c,
            [
                Text(w["summary_sub"], "Times-Italic", 10.5, top + 2, color=GREY),
                Text(f"SHA-256 {s.text_sha256}", "Courier", 7.2, top + 16, color=GREY),
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
    draw_texts(
        c,
        [Text(cols[i], "Helvetica-Bold", 7.5, top + 11, _COLS[i], "r" if i == 4 else "l", white) for i in range(5)],
    )
    return top + 22


def _row_texts(n: int, row: SummaryRow, top: float) -> list[Text]:
    d = drawable
    return [
        Text(f"{n}.", "Helvetica", 9, top + 12, _COLS[0], "l"),
        Text(d(row.name), "Helvetica-Bold", fit(d(row.name), "Helvetica-Bold", 9.5, 210, 6), top + 12, _COLS[1], "l"),
        Text(d(row.position), "Helvetica", fit(d(row.position), "Helvetica", 8, 210, 5.5), top + 23, _COLS[1], "l"),
        Text(d(row.agency), "Helvetica", fit(d(row.agency), "Helvetica", 8, 210, 5.5), top + 33, _COLS[1], "l", GREY),
        Text(f"NIP {format_nip(row.nip)}", "Helvetica", 7, top + 43, _COLS[1], "l", GREY),
    ]


def draw_summary(s: Summary, *, lang: str = "id", base_url: str, now: datetime) -> bytes:
    """The summary PDF of `s`, printed at `now`. Raises InvalidInput for an unknown language."""
    w = words(lang)
    d = drawable
    buf = io.BytesIO()
    c = new_canvas(buf)
    c.setTitle(f"{w['summary_title'].title()}: {s.title}")
    c.setAuthor(s.org)
    c.setCreator("Ikrar")
    page = 1
    top = _header(c, s, w, True)
    for n, row in enumerate(s.rows, 1):
        if top + _ROW_H > H - 70:
            draw_texts(c, [Text(w["page"].format(n=page), "Helvetica", 7, H - 40, color=GREY)])
            c.showPage()
            page += 1
            top = _header(c, s, w, False)
        texts = _row_texts(n, row, top)
        if row.facts is None:
            texts.append(Text(w["summary_pending"], "Helvetica-Oblique", 8.5, top + 12, _COLS[2], "l", AMBER))
        else:
            url = verify_url(base_url, row.facts)
            texts += [
                Text(format_short_wib(row.facts.time, lang), "Helvetica", 8.5, top + 12, _COLS[2], "l"),
                Text(str(row.facts.index), "Helvetica-Bold", 9, top + 12, _COLS[3], "l"),
                Text(row.facts.short_hash, "Courier", 6.5, top + 23, _COLS[3], "l", GREY),
                Text(d(url), "Helvetica", fit(d(url), "Helvetica", 6, 250, 4.5), top + 55, RIGHT - _QR - 8, "r", NAVY),
            ]
            draw_qr(c, url, RIGHT - _QR, H - top - 4 - _QR, _QR)
            c.linkURL(url, (RIGHT - _QR, H - top - 4 - _QR, RIGHT, H - top - 4), relative=0)
        draw_texts(c, texts)
        c.saveState()
        c.setStrokeColor(ROW_RULE)
        c.setLineWidth(0.5)
        c.line(LEFT - 4, H - top - _ROW_H + 6, RIGHT + 4, H - top - _ROW_H + 6)
        c.restoreState()
        top += _ROW_H
    root = s.checkpoint.body().split("\n")[2]
    foot = [
        Text(w["summary_checkpoint"].format(size=s.checkpoint.size, root=root), "Courier", 6.8, H - 62, color=GREY),
        *[
            Text(line, "Helvetica", 6.8, H - 52 + 8.5 * i, color=GREY)
            for i, line in enumerate(wrap(w["summary_foot"], "Helvetica", 6.8, 460))
        ],
        Text(
            w["printed"].split(" · ")[0].format(when=format_short_wib(now, lang)) + " · " + w["page"].format(n=page),
            "Helvetica",
            6.8,
            H - 34,
            color=GREY,
        ),
    ]
    draw_texts(c, foot)
    c.showPage()
    c.save()
    return buf.getvalue()
