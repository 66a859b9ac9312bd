"""Verification of a naskah komitmen bersama (`signing.naskah`), offline and against a ledger.

A naskah carries, for each signature, the four entries a certificate carries; each
signature is checked by the certificate's steps 2-8 (`verify_cert.signature_steps`), and a
check of the naskah passes only when it passed for every signature (a failure names the
signature). Then the naskah's own steps:

    belongs     the commitment attached is the one every signature signed; the blocks are
                its required signatories in its published order; a signed block is that
                signatory's signature; a declined block is their `commitment.declined`
                entry, in the checkpoint and signed with their key
    page        every page draws exactly what Ikrar draws for the ledger's facts (and, for
                a signatory who has not signed, the register's name as naskah.json states it)

Against a ledger, steps 10-11 are the certificate's (`verify_cert.examine_in_ledger`): every
attached entry is this ledger's, byte for byte, and the checkpoint is consistent with its
latest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import partial
from types import MappingProxyType
from typing import Any

from ledger.checkpoint import Checkpoint, TlogProof
from ledger.entries import Entry, entry_from_leaf
from ledger.errors import LedgerError, NoteInvalid, ProofInvalid
from ledger.kinds import KINDS as RULE_KINDS
from ledger.merkle import verify_inclusion
from ledger.note import VerifierKey
from ledger.rules import verify as verify_signatures

from .cert_words import Presentation
from .certificate import VKEY_FILE, entry_file, proof_file
from .checks import Check, Failed, Outcome, establish, run
from .doc_draw import page_texts
from .doc_fonts import STANDARD, FontMissing
from .errors import AttachmentMissing, CertificateEdited, Reason
from .facts import Evidence, SignatureFacts
from .naskah import (
    DECLINE,
    DECLINED,
    FORMAT,
    MANIFEST,
    MAX_SIGNATORIES,
    PENDING,
    SIGNED,
    Block,
    NaskahFacts,
    block_json,
    declined_block,
    naskah_document,
    signed_block,
)
from .verify_cert import (
    BlockVerdict,
    Embedded,
    Examination,
    Examined,
    PdfContents,
    SignatureSteps,
    compare_pages,
    compare_text_only,
    key_step,
    page_drawings,
    proven_checkpoint,
    signature_steps,
)


@dataclass(frozen=True)
class NaskahEmbedded:
    """A naskah's evidence, parsed but not yet verified."""

    commitment_index: int
    presentation: Presentation
    blocks: tuple[dict[str, Any], ...]
    signatures: tuple[Embedded, ...]
    declines: tuple[int, ...]
    leaves: MappingProxyType[int, bytes]
    proofs: MappingProxyType[int, bytes]
    vkey: VerifierKey
    pdf: PdfContents


def _manifest(pdf: PdfContents) -> dict[str, Any]:
    try:
        value = json.loads(pdf.attachments[MANIFEST].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise CertificateEdited(f"{MANIFEST} is not JSON") from e
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise CertificateEdited(f"{MANIFEST} is not an Ikrar naskah of format {FORMAT}")
    return value


def _file(pdf: PdfContents, name: str) -> bytes:
    data = pdf.attachments.get(name)
    if data is None:
        raise AttachmentMissing(f"the naskah lacks its attachment {name}")
    return data


def read_naskah(pdf: PdfContents) -> NaskahEmbedded:
    """Parse a naskah's attachments. Raises CertificateEdited or AttachmentMissing."""
    m = _manifest(pdf)
    index, blocks, signatures, declines = (m.get(k) for k in ("commitment_index", "blocks", "signatures", "declines"))
    if (
        type(index) is not int
        or not isinstance(blocks, list)
        or not all(isinstance(b, dict) for b in blocks)
        or not isinstance(signatures, list)
        or not isinstance(declines, list)
        or not all(type(i) is int and i >= 0 for i in declines)
    ):
        raise CertificateEdited(f"{MANIFEST} does not name the commitment, its blocks and its signatures")
    try:
        presentation = Presentation.from_json(m, pdf.attachments)
        if presentation.version < 2:
            raise CertificateEdited(f"{MANIFEST} names a presentation a naskah is not printed in")
        vkey = VerifierKey.parse(_file(pdf, VKEY_FILE).decode("utf-8"))
    except (LedgerError, UnicodeDecodeError, NoteInvalid) as e:
        raise CertificateEdited(f"{MANIFEST} is malformed: {e}") from e
    wanted = {0, index, *declines}
    parsed = []
    for s in signatures:
        indexes = s.get("entries") if isinstance(s, dict) else None
        if not isinstance(indexes, list) or len(indexes) != 4 or any(type(i) is not int or i < 0 for i in indexes):
            raise CertificateEdited(f"{MANIFEST} does not name the four entries behind each signature")
        try:
            claimed = SignatureFacts.from_json(s.get("facts"))
        except LedgerError as e:
            raise CertificateEdited(f"{MANIFEST} is malformed: {e}") from e
        wanted.update(indexes)
        parsed.append((indexes, claimed))
    leaves = {i: _file(pdf, entry_file(i)) for i in sorted(wanted)}
    proofs = {i: _file(pdf, proof_file(i)) for i in sorted(wanted)}
    ems = tuple(Embedded(ix[-1], tuple(ix), presentation, claimed, leaves, proofs, vkey, pdf) for ix, claimed in parsed)
    return NaskahEmbedded(
        index,
        presentation,
        tuple(blocks),
        ems,
        tuple(declines),
        MappingProxyType(leaves),
        MappingProxyType(proofs),
        vkey,
        pdf,
    )


def _merged(name: str, steps: list[SignatureSteps], k: int) -> Check:
    """Check `name` of every signature as one: the first that did not pass, else passed."""
    for s in steps:
        c = s.checks[k]
        if not c.passed:
            index = s.facts.index if s.facts is not None else "?"
            return replace(c, detail=f"signature {index}: {c.detail}")
    if not steps:
        return Check(name, Outcome.PASSED, "the naskah carries no signature yet")
    return Check(name, Outcome.PASSED, f"every signature ({len(steps)}): {steps[-1].checks[k].detail}")


@dataclass(frozen=True)
class _Proven:
    ne: NaskahEmbedded
    checkpoint: Checkpoint
    evidence: tuple[Evidence, ...]


def _opened(ne: NaskahEmbedded, steps: list[SignatureSteps]) -> _Proven:
    """The checkpoint every proof is against (also when there is no signature yet), and each
    signature's evidence."""
    checkpoint, _ = proven_checkpoint(ne.proofs, ne.proofs, ne.vkey)
    evidence = []
    for s in steps:
        o = s.opened
        assert o is not None
        proofs = tuple(o.proofs[e.index] for e in o.entries)
        evidence.append(Evidence(*o.entries, proofs=proofs, checkpoint=o.checkpoint, vkey=ne.vkey))
    return _Proven(ne, checkpoint, tuple(evidence))


def _entry(p: _Proven, i: int, kind: str) -> Entry:
    """Attached entry `i`, of `kind`, proven in the checkpoint."""
    try:
        entry = entry_from_leaf(p.ne.leaves[i])
        proof = TlogProof.parse(p.ne.proofs[i])
        verify_inclusion(entry.leaf_hash, i, p.checkpoint.size, proof.hashes, p.checkpoint.root)
    except (LedgerError, NoteInvalid, ProofInvalid) as e:
        raise Failed(f"entry {i} is not a valid entry proven in the checkpoint: {e}") from e
    if entry.index != i or entry.kind != kind:
        raise Failed(f"{entry_file(i)} is not the {kind} entry {i}")
    return entry


def _belongs(p: _Proven) -> tuple[str, NaskahFacts]:
    """The commitment, its signatories in order, each signed or declined block: the ledger's."""
    ne = p.ne
    created, published = _entry(p, 0, "ledger.created"), _entry(p, ne.commitment_index, "commitment.published")
    if created.fields["ledger_key"] != str(ne.vkey) or created.fields["origin"] != p.checkpoint.origin:
        raise Failed("the ledger's first entry names another key or origin than the naskah's checkpoint")
    signers = list(published.fields["signers"])
    if len(signers) > MAX_SIGNATORIES:
        raise Failed(f"the commitment names {len(signers)} signatories; a naskah prints at most {MAX_SIGNATORIES}")
    stated = [b.get("nip") for b in ne.blocks]
    if stated != signers:
        raise Failed(
            f"the blocks are not the commitment's required signatories in its published order: {stated!r:.120}"
        )
    base_url = ne.presentation.base_url
    by_nip: dict[str, Block] = {}
    for e in p.evidence:
        if e.published.index != ne.commitment_index:
            raise Failed(f"signature {e.signed.index} signed another commitment")
        by_nip[e.signed.fields["nip"]] = signed_block(e, base_url)
    for i in ne.declines:
        if DECLINED not in RULE_KINDS:
            raise Failed(f"entry {i} is a decline, a kind this version of Ikrar does not read")
        entry = _entry(p, i, DECLINED)
        verify_signatures(entry, p.checkpoint.origin)
        if entry.fields.get("slug") != published.fields["slug"] or entry.fields.get("nip") in by_nip:
            raise Failed(f"the decline at entry {i} is not of this commitment, or its signatory signed")
        stated_block = ne.blocks[signers.index(entry.fields["nip"])] if entry.fields.get("nip") in signers else {}
        by_nip[entry.fields["nip"]] = declined_block(
            entry, *(str(stated_block.get(k, "")) for k in ("name", "capacity", "unit"))
        )
    blocks = []
    for b in ne.blocks:
        nip, status = str(b["nip"]), b.get("status")
        ours = by_nip.get(nip)
        if ours is None:
            if status != PENDING:
                raise Failed(f"the block of {nip} says {status!s:.20}, but the naskah carries no such entry")
            ours = Block(nip, PENDING, str(b.get("name", "")), str(b.get("capacity", "")), str(b.get("unit", "")))
        elif status != ours.status or b.get("index") != ours.index:
            raise Failed(f"the block of {nip} says {status!s:.20} where the ledger says {ours.status}")
        if block_json(ours) != b:
            differs = sorted(k for k in set(b) | set(block_json(ours)) if b.get(k) != block_json(ours).get(k))
            raise Failed(f"{MANIFEST} states the block of {nip} otherwise than the ledger: {', '.join(differs):.80}")
        blocks.append(ours)
    facts = NaskahFacts(
        created.fields["org"],
        created.fields["origin"],
        published.fields["slug"],
        published.fields["title"],
        published.fields["text"],
        published.index,
        published.time,
        tuple(blocks),
        p.checkpoint.size,
    )
    signed = sum(1 for b in blocks if b.status == SIGNED)
    declined = sum(1 for b in blocks if b.status == DECLINE)
    return (
        f"the {len(blocks)} blocks are the commitment's signatories in its order: {signed} signed, "
        f"{declined} declined, {len(blocks) - signed - declined} not yet (as of checkpoint size {p.checkpoint.size})"
    ), facts


def _page(ne: NaskahEmbedded, facts: NaskahFacts) -> str:
    """Every page draws exactly what Ikrar draws for these facts, as naskah.json says it was printed."""
    from .doc_draw import render_pages

    try:
        doc = naskah_document(facts, ne.presentation)
    except FontMissing:
        doc = naskah_document(facts, replace(ne.presentation, fonts=STANDARD))
        return compare_text_only(ne.pdf, page_texts(doc), "naskah")
    except Exception as e:  # the presentation comes from the file: what Ikrar cannot draw, it did not draw
        raise Failed(f"Ikrar cannot draw this naskah as {MANIFEST} says it was printed ({e})") from e
    compare_pages(ne.pdf, page_drawings(render_pages(doc)), page_texts(doc), "naskah")
    return f"the {len(doc.pages)} pages draw exactly what Ikrar draws for the ledger's facts"


def examine_naskah(pdf: PdfContents, trusted: VerifierKey | None) -> Examination:
    """Steps 1-9 on a naskah (see the module's docstring), as an `Examination` of the entries
    it carries, so that `verify_cert.examine_in_ledger` checks them against a ledger.

    Raises CertificateEdited or AttachmentMissing when its attachments are not a naskah's.
    """
    ne = read_naskah(pdf)
    edited = Reason.EDITED
    key = key_step(ne.vkey, trusted)
    steps = [signature_steps(em) for em in ne.signatures]
    names = ("entries", "checkpoint", "inclusion", "origin", "statement", "belongs", "facts")
    merged = [_merged(name, steps, k) for k, name in enumerate(names)]
    inclusion = merged[2]
    proven_check, proven = establish(
        "inclusion", lambda n: ("", _opened(n, steps)), ne, needs=tuple(merged[:5]), reason=edited
    )
    if proven_check.failed:
        merged[2] = inclusion = proven_check
    belongs, facts = establish("naskah", _belongs, proven, needs=(inclusion, merged[5]), reason=edited)
    page = establish("page", lambda f: (_page(ne, f), None), facts, needs=(belongs,), reason=edited)[0]
    checks = (key, *merged, belongs, page)
    found = Examined(checks, key, inclusion, proven.checkpoint if proven is not None else None, None)
    blocks = block_verdicts(ne, steps, proven, proven_check)
    return Examination(ne.commitment_index, ne.presentation, ne.vkey, tuple(ne.leaves.items()), found, blocks)


def block_verdicts(
    ne: NaskahEmbedded, steps: list[SignatureSteps], proven: _Proven | None, proven_check: Check
) -> tuple[BlockVerdict, ...]:
    """Each block as naskah.json states it, with its own check: a signed block, its signature's
    steps 2-8 (and who the ledger says signed); a declined one, its decline's signature."""
    by_index = {em.index: s for em, s in zip(ne.signatures, steps, strict=True)}
    out = []
    for b in ne.blocks:
        index = b.get("index") if type(b.get("index")) is int else None
        status = str(b.get("status"))
        name, capacity, unit = (str(b.get(k, "")) for k in ("name", "capacity", "unit"))
        reason = str(b["reason"]) if b.get("reason") is not None else None
        checks: tuple[Check, ...] = ()
        if status == SIGNED:
            s = by_index.get(index) if index is not None else None
            if s is None:
                checks = (Check("entries", Outcome.FAILED, f"the naskah carries no signature {index}", Reason.EDITED),)
            else:
                checks = s.checks
                if s.facts is not None:
                    name, capacity, unit = s.facts.name, s.facts.position, s.facts.agency
        elif status == DECLINE:
            checks = (
                run("statement", partial(_decline, ne, index), proven, needs=(proven_check,), reason=Reason.EDITED),
            )
        block = Block(str(b.get("nip")), status, name, capacity, unit, index, reason=reason)
        out.append(BlockVerdict(block, checks))
    return tuple(out)


def _decline(ne: NaskahEmbedded, index: int | None, p: _Proven) -> str:
    """A declined block's entry is a decline the naskah carries, proven in its checkpoint and
    signed with the official's key."""
    if index is None or index not in ne.declines:
        raise Failed(f"the naskah carries no decline {index}")
    verify_signatures(_entry(p, index, DECLINED), p.checkpoint.origin)
    return f"the decline at entry {index} is in the checkpoint, signed with the official's key"
