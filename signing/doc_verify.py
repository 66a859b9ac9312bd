"""Verification of the city's documents that carry many entries, offline and against a ledger:
the naskah komitmen bersama (`signing.naskah`) and the Surat Rekomendasi (`signing.app_letter`,
the last section of this module).

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from types import MappingProxyType
from typing import Any

from ledger.application import PD_HEAD
from ledger.checkpoint import Checkpoint, TlogProof
from ledger.entries import Entry, entry_from_leaf
from ledger.errors import InvalidInput, LedgerError, NoteInvalid, ProofInvalid
from ledger.kinds import KINDS as RULE_KINDS
from ledger.merkle import verify_inclusion
from ledger.note import VerifierKey
from ledger.reader import KeyRecord, Reader
from ledger.rules import verify as verify_signatures

from .app_letter import (
    APP_KINDS,
    MAX_LETTER_ENTRIES,
    ROLE_ASSIGNED,
    SIGNED_AS,
    LetterFacts,
    LetterFound,
    Signed,
    grant_in_force,
    letter_document,
    letter_facts,
)
from .app_letter import FORMAT as LETTER_FORMAT
from .app_letter import MANIFEST as LETTER_MANIFEST
from .app_letter import STATED as LETTER_STATED
from .cert_words import Presentation
from .certificate import VKEY_FILE, entry_file, proof_file
from .checks import Check, Failed, Outcome, Read, attempt, establish, got, run
from .doc_draw import Document, page_texts
from .doc_fonts import STANDARD, FontMissing
from .errors import AttachmentMissing, CertificateEdited, Reason
from .facts import Difference, Evidence, SignatureFacts
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
    one_origin,
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


def _manifest(pdf: PdfContents, name: str, fmt: str, document: str) -> dict[str, Any]:
    """The JSON object of the attachment `name` (`naskah.json`, `letter.json`), of format
    `fmt`; raises CertificateEdited naming the `document` it should be."""
    try:
        value = json.loads(pdf.attachments[name].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise CertificateEdited(f"{name} is not JSON") from e
    if not isinstance(value, dict) or value.get("format") != fmt:
        raise CertificateEdited(f"{name} is not an Ikrar {document} of format {fmt}")
    return value


def _file(pdf: PdfContents, name: str) -> bytes:
    data = pdf.attachments.get(name)
    if data is None:
        raise AttachmentMissing(f"the naskah lacks its attachment {name}")
    return data


def read_naskah(pdf: PdfContents) -> NaskahEmbedded:
    """Parse a naskah's attachments. Raises CertificateEdited or AttachmentMissing."""
    m = _manifest(pdf, MANIFEST, FORMAT, "naskah")
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
    return drawn_again(ne.pdf, ne.presentation, partial(naskah_document, facts), "naskah", MANIFEST)


def drawn_again(
    pdf: PdfContents, pres: Presentation, draw: Callable[[Presentation], Document], what: str, manifest: str
) -> str:
    """`page` of a document: every page of `pdf` draws exactly what Ikrar draws (`draw`) in the
    presentation its `manifest` states; without the fonts it names, its text alone. Raises Failed."""
    from .doc_draw import render_pages

    try:
        doc = draw(pres)
    except FontMissing:
        doc = draw(replace(pres, fonts=STANDARD))
        return compare_text_only(pdf, page_texts(doc), what)
    except Exception as e:  # the presentation comes from the file: what Ikrar cannot draw, it did not draw
        raise Failed(f"Ikrar cannot draw this {what} as {manifest} says it was printed ({e})") from e
    compare_pages(pdf, page_drawings(render_pages(doc)), page_texts(doc), what)
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


# -- the Surat Rekomendasi (`signing.app_letter`) ----------------------------------------------
#
# A letter carries the ledger's first entry, every entry of the application up to the decision,
# and, for each signed entry (a request, the decision), the signer's key enrolment and the role
# grant in force, all against one checkpoint. Its steps:
#
#     key, entries, checkpoint, inclusion, origin    as a certificate's, over every entry
#     signatures   every signature the entries carry verifies (the requests, the decision, the
#                  admins' attestations of the roles and of the keys)
#     letter       the entries belong together (`app_letter.letter_facts`): one application's,
#                  from its first request to its decision; each signer's key enrolled to them,
#                  and the role it needs given to them, before they signed
#     facts        letter.json states exactly the facts read from the entries
#     page         every page draws exactly what Ikrar draws for those facts
#
# Against a ledger, after the certificate's steps 10-11, `office`: the letter carries every entry
# of the application up to the decision, and this ledger says each signer held that role (by that
# grant) and that key when they signed (`letter_office`).


@dataclass(frozen=True)
class LetterEmbedded:
    """A letter's evidence, parsed but not yet verified."""

    found: LetterFound
    presentation: Presentation
    claimed: Mapping[str, Any]  # the facts letter.json states
    leaves: MappingProxyType[int, bytes]
    proofs: MappingProxyType[int, bytes]
    vkey: VerifierKey
    pdf: PdfContents

    def role_of(self, index: int) -> str:
        """Which entry `index` is to the letter, by the kind it must have."""
        if index == 0:
            return "ledger.created"
        if index in self.found.history:
            return "app"
        enrolments = {s.enrolled for s in self.found.signed}
        return "key.enrolled" if index in enrolments else ROLE_ASSIGNED


SIGNED_FIELDS = ("entry", "enrolled", "granted")  # of each signed entry letter.json names


def _indexes(value: object) -> bool:
    return isinstance(value, list) and all(type(i) is int and i >= 0 for i in value)


def read_letter(pdf: PdfContents) -> LetterEmbedded:
    """Parse a letter's attachments. Raises CertificateEdited or AttachmentMissing."""
    m = _manifest(pdf, LETTER_MANIFEST, LETTER_FORMAT, "letter")
    app, index, history, signed, claimed = (m.get(k) for k in ("app", "decision_index", "history", "signed", "facts"))
    if (
        not isinstance(app, str)
        or type(index) is not int
        or not _indexes(history)
        or not isinstance(signed, list)
        or not all(
            isinstance(s, dict) and _indexes([s.get(k) for k in ("entry", "enrolled", "granted")]) for s in signed
        )
        or not isinstance(claimed, dict)
    ):
        raise CertificateEdited(f"{LETTER_MANIFEST} does not name the application, its entries and its facts")
    assert isinstance(history, list)
    if len(history) + 2 * len(signed) > MAX_LETTER_ENTRIES:
        raise CertificateEdited(f"{LETTER_MANIFEST} names more entries than a letter carries ({MAX_LETTER_ENTRIES})")
    try:
        presentation = Presentation.from_json(m, pdf.attachments)
        if presentation.version < 2:
            raise CertificateEdited(f"{LETTER_MANIFEST} names a presentation a letter is not printed in")
        vkey = VerifierKey.parse(_letter_file(pdf, VKEY_FILE).decode("utf-8"))
    except (LedgerError, UnicodeDecodeError, NoteInvalid) as e:
        raise CertificateEdited(f"{LETTER_MANIFEST} is malformed: {e}") from e
    found = LetterFound(
        app,
        index,
        tuple(history),
        tuple(Signed(s["entry"], s["enrolled"], s["granted"]) for s in signed),
    )
    wanted = sorted({0, *history, *(i for s in found.signed for i in (s.enrolled, s.granted))})
    leaves = {i: _letter_file(pdf, entry_file(i)) for i in wanted}
    proofs = {i: _letter_file(pdf, proof_file(i)) for i in wanted}
    return LetterEmbedded(found, presentation, claimed, MappingProxyType(leaves), MappingProxyType(proofs), vkey, pdf)


def _letter_file(pdf: PdfContents, name: str) -> bytes:
    data = pdf.attachments.get(name)
    if data is None:
        raise AttachmentMissing(f"the letter lacks its attachment {name}")
    return data


@dataclass(frozen=True)
class _LetterOpened:
    """A letter's entries once parsed (step entries) and its checkpoint's signature verified."""

    le: LetterEmbedded
    entries: Mapping[int, Entry]
    checkpoint: Checkpoint
    proofs: Mapping[int, TlogProof]


def _letter_entries(le: LetterEmbedded) -> tuple[str, Mapping[int, Entry]]:
    """Each attached entry is a well-formed ledger entry of its index and of the kind its place needs."""
    parsed = {}
    for i, leaf in le.leaves.items():
        try:
            entry = entry_from_leaf(leaf)
        except InvalidInput as e:
            raise Failed(f"{entry_file(i)} is not a valid ledger entry Ikrar reads: {e}") from e
        if entry.index != i:
            raise Failed(f"{entry_file(i)} holds entry {entry.index}")
        role = le.role_of(i)
        if entry.kind != role and not (role == "app" and entry.kind in APP_KINDS):
            raise Failed(f"{entry_file(i)} is a {entry.kind} entry, where the letter needs {role}")
        parsed[i] = entry
    return f"the {len(parsed)} entries are well-formed ledger entries", MappingProxyType(parsed)


def _letter_checkpoint(le: LetterEmbedded) -> tuple[str, tuple[Checkpoint, Mapping[int, TlogProof]]]:
    checkpoint, proofs = proven_checkpoint(le.proofs, le.leaves.keys(), le.vkey)
    return f"the checkpoint of size {checkpoint.size} is signed by {le.vkey.name}", (checkpoint, proofs)


def _letter_inclusion(o: _LetterOpened) -> str:
    cp = o.checkpoint
    for i, entry in o.entries.items():
        try:
            verify_inclusion(entry.leaf_hash, i, cp.size, o.proofs[i].hashes, cp.root)
        except ProofInvalid as e:
            raise Failed(
                f"entry {i} ({entry.kind}) is not in the signed checkpoint: its leaf or its proof was altered ({e})"
            ) from e
    return f"all {len(o.entries)} entries are in the checkpoint of size {cp.size} (RFC 6962 inclusion proofs)"


def _letter_origin(o: _LetterOpened) -> str:
    return one_origin(o.entries[0], o.checkpoint, o.le.vkey)


def _letter_signatures(o: _LetterOpened) -> str:
    """Every signature an attached entry carries verifies: the Kepala PD's requests, the Kepala
    Dinas Kominfo's decision, the admins' attestations of the roles and of the keys."""
    for entry in o.entries.values():
        verify_signatures(entry, o.checkpoint.origin)
    signed = sum(1 for e in o.entries.values() if e.kind in SIGNED_AS)
    return f"the {signed} signed request(s) and decision, and every role's and key's attestation, verify"


def _letter_belongs(o: _LetterOpened) -> tuple[str, LetterFacts]:
    le, found = o.le, o.le.found
    history = [o.entries[i] for i in found.history]
    support = {i: e for i, e in o.entries.items() if i not in found.history and i != 0}
    facts = letter_facts(o.entries[0], history, support, found.signed, o.checkpoint, le.vkey)
    if (facts.app, facts.decided_index) != (found.app, found.decision_index):
        raise Failed(
            f"{LETTER_MANIFEST} names application {found.app!s:.20} decided at entry {found.decision_index}, "
            f"where its entries are application {facts.app}'s decided at entry {facts.decided_index}"
        )
    return (
        f"the {len(history)} entries of application {facts.app} run from its first request to its decision at "
        f"entry {facts.decided_index}; each signer's key and role were theirs before they signed"
    ), facts


def _letter_stated(le: LetterEmbedded, facts: LetterFacts) -> str:
    """letter.json states exactly the facts read from the entries."""
    actual = facts.to_json()
    for name in LETTER_STATED:
        a, b = le.claimed.get(name), actual[name]
        if a != b:
            raise Failed(
                f"{LETTER_MANIFEST} says {name} is {a!s:.80} where the ledger says {b!s:.80}",
                Reason.EDITED,
                Difference(name, _said(a), _said(b), "data"),
            )
    extra = sorted(set(le.claimed) - set(actual))
    if extra:
        raise Failed(f"{LETTER_MANIFEST} states facts the ledger does not: {', '.join(extra):.80}")
    return f"{LETTER_MANIFEST} states exactly the ledger's facts"


def _said(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)[:400]


def _letter_page(le: LetterEmbedded, facts: LetterFacts) -> str:
    """Every page draws exactly what Ikrar draws for these facts, as letter.json says it was printed."""
    return drawn_again(le.pdf, le.presentation, partial(letter_document, facts), "letter", LETTER_MANIFEST)


def examine_letter(pdf: PdfContents, trusted: VerifierKey | None) -> Examination:
    """The letter's steps (see the section's comment) as an `Examination` of the entries it
    carries, so that `verify_cert.examine_in_ledger` checks them against a ledger (and runs
    `office`).

    Raises CertificateEdited or AttachmentMissing when its attachments are not a letter's.
    """
    le = read_letter(pdf)
    edited = Reason.EDITED
    key = key_step(le.vkey, trusted)
    entries, parsed = establish("entries", _letter_entries, le, reason=edited)
    checkpoint, signed = establish("checkpoint", _letter_checkpoint, le, reason=edited)
    opened = None if parsed is None or signed is None else _LetterOpened(le, parsed, *signed)
    inclusion = run("inclusion", _letter_inclusion, opened, needs=(entries, checkpoint), reason=edited)
    origin = run("origin", _letter_origin, opened, needs=(entries, checkpoint), reason=edited)
    signatures = run("signatures", _letter_signatures, opened, needs=(inclusion, origin), reason=edited)
    belongs, facts = establish("letter", _letter_belongs, opened, needs=(inclusion, origin), reason=edited)
    stated = run("facts", partial(_letter_stated, le), facts, needs=(belongs,), reason=edited)
    page = run("page", partial(_letter_page, le), facts, needs=(belongs,), reason=edited)
    checks = (key, entries, checkpoint, inclusion, origin, signatures, belongs, stated, page)
    proven = opened.checkpoint if opened is not None and inclusion.passed else None
    found = Examined(checks, key, inclusion, proven, None)
    letter = replace(le.found, facts=facts)
    return Examination(
        le.found.decision_index, le.presentation, le.vkey, tuple(le.leaves.items()), found, letter=letter
    )


# -- the letter against this ledger -----------------------------------------------------------


@dataclass(frozen=True)
class LetterOurs:
    """What this ledger says of a letter's application and signers, read from one snapshot."""

    found: LetterFound
    leaves: Mapping[int, bytes]
    history: Read[list[int]]  # the application's entries up to the decision, by this ledger
    events: Read[list[Any]]  # every grant and withdrawal of a role (`Reader.role_events`)
    keys: Mapping[str, Read[KeyRecord | None]]  # each signed entry's key


def load_letter_office(r: Reader, found: LetterFound, leaves: Mapping[int, bytes]) -> LetterOurs:
    """Read what `letter_office` needs from `r`."""
    keys: dict[str, Read[KeyRecord | None]] = {}
    for s in found.signed:
        leaf = leaves.get(s.entry)
        try:
            key = entry_from_leaf(leaf).fields.get("key") if leaf is not None else None
        except InvalidInput:
            key = None
        if isinstance(key, str):
            keys[key] = attempt(partial(r.key, key))
    return LetterOurs(
        found,
        leaves,
        attempt(lambda: [e.index for e in r.application_entries(found.app) if e.index <= found.decision_index]),
        attempt(r.role_events),
        keys,
    )


def letter_office(o: LetterOurs) -> str:
    """`office`: the letter carries every entry of its application up to the decision, and
    this ledger says each signer held the role the letter names (by that grant) and the key
    they signed with when they signed."""
    found = o.found
    ours = got(o.history)
    if list(found.history) != ours:
        left_out = sorted(set(ours) - set(found.history))
        if left_out:
            raise Failed(f"the letter leaves out entry {left_out[0]} of application {found.app}")
        raise Failed(f"the letter carries entries this ledger does not give application {found.app}")
    events = got(o.events)
    for s in found.signed:
        f = entry_from_leaf(o.leaves[s.entry]).fields
        role = SIGNED_AS[entry_from_leaf(o.leaves[s.entry]).kind]
        nip = f["nip"]
        unit = f["agency"] if role == PD_HEAD else None
        granted = grant_in_force(events, nip, role, unit, s.entry)
        if granted != s.granted:
            held = "did not hold it" if granted is None else f"held it by the grant at entry {granted}"
            raise Failed(f"when entry {s.entry} was signed, {nip} {held} in this ledger, not by entry {s.granted}")
        record = got(o.keys[f["key"]])
        if record is None or record.enrolled_index != s.enrolled:
            raise Failed(f"this ledger did not enrol the key of entry {s.entry} at entry {s.enrolled}")
        if record.revoked_index is not None and record.revoked_index < s.entry:
            raise Failed(f"the key of entry {s.entry} was revoked at entry {record.revoked_index}, before it signed")
    return (
        f"the letter carries all {len(ours)} entries of application {found.app} up to its decision, and each "
        "signer held the role and the key it names when they signed"
    )
