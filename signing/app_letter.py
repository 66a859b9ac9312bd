"""The Surat Rekomendasi: Diskominfo's letter on an application request, one per decision.

The letter is a naskah dinas printed from the ledger: the city's letterhead, the date and a
number from the configurable pattern (`Letterhead.number` of the decision entry's index and
time, so the ledger assigns it), Nomor, Sifat, Lampiran and Hal ("Rekomendasi Aplikasi …"),
"Yth. Kepala <PD>", the request's essentials (application, number and revision, kind, PD,
budget and fiscal year, who builds it, hosting, personal data, a shared application
considered), the review's checklist, the decision in words (direkomendasikan, direkomendasikan
dengan catatan, tidak direkomendasikan) with its numbered notes or reasons, and the signatory's
block: the capacity they signed in, a QR code of the decision's verify page (`/v/{index}?h=…`),
the time in WIB and the ledger entry, the name and, for a civil servant, the NIP. Its appendix
lists the request's history entry by entry, the signatories' authority (the role each held,
given by which entry, and their key's enrolment) and the technical evidence.

Like a certificate, it carries its evidence as attachments: the leaf and tlog-proof of the
ledger's first entry, of every entry of the application up to the decision, and of each
signer's key enrolment and role grant, all against one checkpoint; the ledger's key; and
``letter.json``, which names those entries and states the facts printed. Every fact printed is
read from those entries (`letter_facts`), so a verifier (`signing.doc_verify.examine_letter`)
reads them again and draws the pages again, offline or against the ledger.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from ledger.application import CHECKLIST, DECIDER, PD_HEAD, parse_checklist, parse_request, request_sha256
from ledger.checkpoint import Checkpoint, TlogProof
from ledger.entries import Entry, format_time
from ledger.errors import InvalidInput, LedgerError, NotFound
from ledger.nip import is_nip
from ledger.note import VerifierKey
from ledger.reader import Reader
from ledger.store import Ledger

from .app_letter_words import letter_words, named, rupiah
from .cert_words import Presentation, format_nip
from .certificate import VKEY_FILE, entry_file, presentation_of, proof_file
from .doc_draw import KOP_BOTTOM, LEFT, RIGHT, Box, Document, Op, Qr, Rule, Txt, finish, fit, footed, kop, render_pages
from .doc_draw import wrap as wrap_text
from .doc_fonts import Fonts
from .doc_fonts import fonts as document_fonts
from .doc_kop import Letterhead
from .doc_words import doc_words
from .errors import EvidenceMismatch
from .wording import format_date_wib, format_short_wib

FORMAT = "ikrar-letter/v1"
MANIFEST = "letter.json"
SUBMITTED, REVIEWED, RETURNED, DECIDED = "app.submitted", "app.reviewed", "app.returned", "app.decided"
ROLE_ASSIGNED = "role.assigned"
APP_KINDS = (SUBMITTED, REVIEWED, RETURNED, DECIDED)
SIGNED_AS = {SUBMITTED: PD_HEAD, DECIDED: DECIDER}  # the role the signer of each signed kind holds
MAX_LETTER_ENTRIES = 300  # the entries one letter carries (its attachments: two for each, and three more)
MAX_EVIDENCE_BYTES = 3 * 1024 * 1024  # what they may weigh together: a verifier decodes at most 4 MB of a file


# -- what the letter prints ------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One point of the review's checklist: `finding` is fits, concern or does_not_fit."""

    point: str
    finding: str
    note: str


@dataclass(frozen=True)
class Step:
    """One entry of the application's history, as the appendix lists it."""

    index: int
    time: datetime
    kind: str  # one of APP_KINDS
    revision: int
    by: str  # the signer's NIP (submitted, decided) or the reviewer's (reviewed, returned)
    name: str  # the signer's name; "" for a review or a return, which carries none
    capacity: str
    decision: str  # the decision's; ""
    reasons: tuple[str, ...]  # a return's


@dataclass(frozen=True)
class Authority:
    """Why a signer could sign entry `index`: the role they held (given at entry `granted`,
    attested by the admin `attested_by`) and their key (enrolled at entry `enrolled`)."""

    index: int
    nip: str
    name: str
    role: str
    unit: str
    granted: int
    attested_by: str
    enrolled: int


@dataclass(frozen=True)
class LetterFacts:
    """Everything a letter prints, read from its entries (times in UTC). `letter.json` states
    it (`to_json`), and a verifier compares that with what it reads from the entries."""

    org: str
    origin: str
    app: str
    revision: int
    name: str
    agency: str
    kind: str
    budget_amount: int
    budget_source: str
    fiscal_year: int
    builder: str
    vendor: str
    hosting: str
    hosting_reason: str
    personal_data: bool
    specific_personal_data: bool
    dpia_done: bool
    shared_app: str
    shared_why_not: str
    request_sha256: str
    submitted_index: int
    submitted_time: datetime
    applicant_nip: str
    applicant_name: str
    applicant_capacity: str
    reviewed_index: int
    reviewed_time: datetime
    reviewer: str
    checklist: tuple[Finding, ...]
    decision: str
    notes: tuple[str, ...]
    decided_index: int
    decided_time: datetime
    leaf_hash: str  # of the decision entry, hex
    signer_nip: str
    signer_name: str
    signer_capacity: str
    signer_key_fingerprint: str
    history: tuple[Step, ...]
    authorities: tuple[Authority, ...]
    checkpoint_size: int
    checkpoint_root: str  # base64, as in the checkpoint
    ledger_key_fingerprint: str

    @property
    def short_hash(self) -> str:
        """The decision entry's leaf-hash prefix printed in the QR link (`?h=`)."""
        return self.leaf_hash[:16]

    def to_json(self) -> dict[str, Any]:
        """The facts as `letter.json` states them: every field, times in the ledger's spelling."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(v) for k, v in asdict(value).items()}
    return value


STATED = tuple(f.name for f in fields(LetterFacts))
"""The facts `letter.json` states, in the order a verifier compares them."""


def letter_url(base_url: str, facts: LetterFacts) -> str:
    """The link the letter's QR code opens: the decision entry's verify page."""
    return f"{base_url.rstrip('/')}/v/{facts.decided_index}?h={facts.short_hash}"


def letter_number(facts: LetterFacts, letterhead: Letterhead) -> str:
    """The letter's number: the pattern with the decision entry's index and its year in WIB."""
    return letterhead.number(facts.decided_index, facts.decided_time)


# -- the facts, read from the entries --------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    """A signed entry of the history (a request or the decision) and the entries behind its
    signer: their key's `key.enrolled` and the `role.assigned` grant in force when they signed."""

    entry: int
    enrolled: int
    granted: int

    def to_json(self) -> dict[str, int]:
        return {"entry": self.entry, "enrolled": self.enrolled, "granted": self.granted}


@dataclass(frozen=True)
class LetterFound:
    """What a letter's file names (its application, its decision, the entries it carries) and,
    once those entries are proven to belong together, the facts read from them."""

    app: str
    decision_index: int
    history: tuple[int, ...]
    signed: tuple[Signed, ...]
    facts: LetterFacts | None = None


def _mismatch(message: str) -> EvidenceMismatch:
    return EvidenceMismatch(f"the letter's entries do not belong together: {message}")


def _history(app: str, history: Sequence[Entry], size: int) -> Entry:
    """The history is application `app`'s, in ledger order, from its first request to its
    decision, inside the checkpoint; returns the decision."""
    if not history:
        raise _mismatch("it carries no entry of the application")
    if len(history) > MAX_LETTER_ENTRIES:
        raise _mismatch(f"a letter carries at most {MAX_LETTER_ENTRIES} entries")
    for before, after in zip(history, history[1:], strict=False):
        if before.index >= after.index:
            raise _mismatch(f"entry {after.index} is not after entry {before.index}")
    for e in history:
        if e.kind not in APP_KINDS or e.fields.get("app") != app:
            raise _mismatch(f"entry {e.index} is a {e.kind} entry, not one of application {app}")
        if e.index >= size:
            raise _mismatch(f"entry {e.index} is not inside the checkpoint of size {size}")
    first, last = history[0], history[-1]
    if first.kind != SUBMITTED or first.fields["revision"] != 1:
        raise _mismatch(f"the history does not begin with the first request of application {app}")
    if last.kind != DECIDED or any(e.kind == DECIDED for e in history[:-1]):
        raise _mismatch(f"the history does not end with the decision on application {app}")
    return last


def _authority(e: Entry, signed: Signed, support: Mapping[int, Entry], agency: str) -> Authority:
    """The signer of `e` enrolled the key it names, and held its role, before it."""
    f, role = e.fields, SIGNED_AS[e.kind]
    enrolled, grant = support.get(signed.enrolled), support.get(signed.granted)
    if enrolled is None or enrolled.kind != "key.enrolled" or enrolled.index >= e.index:
        raise _mismatch(f"entry {signed.enrolled} is not an enrolment before entry {e.index}")
    if (enrolled.fields["key"], enrolled.fields["nip"]) != (f["key"], f["nip"]):
        raise _mismatch(f"entry {enrolled.index} enrolled another key than the one that signed entry {e.index}")
    if grant is None or grant.kind != ROLE_ASSIGNED or grant.index >= e.index:
        raise _mismatch(f"entry {signed.granted} is not a role given before entry {e.index}")
    g = grant.fields
    if not g["grant"] or g["nip"] != f["nip"] or g["role"] != role or (role == PD_HEAD and g["unit"] != agency):
        raise _mismatch(f"entry {grant.index} does not give {f['nip']} the role {role} that entry {e.index} needs")
    return Authority(e.index, f["nip"], f["name"], role, g["unit"], grant.index, g["attested_by"], enrolled.index)


def letter_facts(
    created: Entry,
    history: Sequence[Entry],
    support: Mapping[int, Entry],
    signed: Sequence[Signed],
    checkpoint: Checkpoint,
    ledger_key: VerifierKey,
) -> LetterFacts:
    """What a letter prints, read from the ledger's first entry, the application's `history`
    (every entry of it up to the decision, in ledger order) and the entries `support`ing its
    signatures (each signed entry's `Signed`: its key's enrolment, its role's grant).

    Raises EvidenceMismatch naming what does not belong together.
    """
    decided = history[-1] if history else None
    app = str(decided.fields.get("app", "")) if decided is not None else ""
    decided = _history(app, history, checkpoint.size)
    d = decided.fields
    revision = d["revision"]
    requests = [e for e in history if e.kind == SUBMITTED and e.fields["revision"] == revision]
    reviews = [e for e in history if e.kind == REVIEWED and e.fields["revision"] == revision]
    if len(requests) != 1 or not reviews:
        raise _mismatch(f"the history does not hold one request and a review of revision {revision}")
    submitted, reviewed = requests[0], reviews[-1]
    s = submitted.fields
    if s["request_sha256"] != d["request_sha256"] or request_sha256(s["request"]) != s["request_sha256"]:
        raise _mismatch(f"the decision at entry {decided.index} names another request than entry {submitted.index}")
    try:
        request = parse_request(s["request"])
        checklist = parse_checklist(reviewed.fields["checklist"])
    except InvalidInput as e:
        raise _mismatch(f"an entry holds no request or checklist Ikrar reads ({e})") from e
    by_entry = {x.entry: x for x in signed}
    wanted = [e for e in history if e.kind in SIGNED_AS]
    if sorted(by_entry) != [e.index for e in wanted] or len(by_entry) != len(signed):
        raise _mismatch("it does not name the entries behind each signature of the history, once each")
    authorities = tuple(_authority(e, by_entry[e.index], support, s["agency"]) for e in wanted)
    return LetterFacts(
        org=created.fields["org"],
        origin=created.fields["origin"],
        app=app,
        revision=revision,
        name=request["name"],
        agency=request["agency"],
        kind=request["kind"],
        budget_amount=request["budget_amount"],
        budget_source=request["budget_source"],
        fiscal_year=request["fiscal_year"],
        builder=request["builder"],
        vendor=request["vendor"],
        hosting=request["hosting"],
        hosting_reason=request["hosting_reason"],
        personal_data=request["personal_data"],
        specific_personal_data=request["specific_personal_data"],
        dpia_done=request["dpia_done"],
        shared_app=request["shared_app"],
        shared_why_not=request["shared_why_not"],
        request_sha256=s["request_sha256"],
        submitted_index=submitted.index,
        submitted_time=submitted.time,
        applicant_nip=s["nip"],
        applicant_name=s["name"],
        applicant_capacity=s["capacity"],
        reviewed_index=reviewed.index,
        reviewed_time=reviewed.time,
        reviewer=reviewed.fields["by"],
        checklist=tuple(Finding(p, checklist[p]["finding"], checklist[p]["note"]) for p in CHECKLIST),
        decision=d["decision"],
        notes=tuple(d["notes"]),
        decided_index=decided.index,
        decided_time=decided.time,
        leaf_hash=decided.leaf_hash.hex(),
        signer_nip=d["nip"],
        signer_name=d["name"],
        signer_capacity=d["capacity"],
        signer_key_fingerprint=VerifierKey.parse(d["key"]).fingerprint,
        history=tuple(_step(e) for e in history),
        authorities=authorities,
        checkpoint_size=checkpoint.size,
        checkpoint_root=base64.b64encode(checkpoint.root).decode(),
        ledger_key_fingerprint=ledger_key.fingerprint,
    )


def _step(e: Entry) -> Step:
    f = e.fields
    signed = e.kind in SIGNED_AS
    return Step(
        e.index,
        e.time,
        e.kind,
        f["revision"],
        f["nip"] if signed else f["by"],
        f["name"] if signed else "",
        f["capacity"] if signed else "",
        f.get("decision", ""),
        tuple(f.get("reasons", ())),
    )


# -- who held a role when --------------------------------------------------------------------


class RoleChange(Protocol):
    """A grant or a withdrawal of a role, as `Reader.role_events` lists them."""

    @property
    def index(self) -> int: ...
    @property
    def nip(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def grant(self) -> bool: ...


def grant_in_force(events: Iterable[RoleChange], nip: str, role: str, unit: str | None, index: int) -> int | None:
    """The index of the `role.assigned` grant by which `nip` held `role` (for `unit`; None: for
    any) just before entry `index`, replaying `events` in ledger order by the rules of
    `ledger.kinds.role_assigned`: a withdrawal ends a grant, and a grant of a role with one holder
    a unit (``pd-head``) or one holder in all (``kominfo-head``) ends the previous holder's.
    None when they did not hold it then."""
    from ledger.application import SINGLE_HOLDER, SINGLE_PER_UNIT

    held: dict[tuple[str, str], int] = {}  # (nip, unit) -> the grant's index, for `role`
    for ev in events:
        if ev.index >= index:
            break
        if ev.role != role:
            continue
        if not ev.grant:
            held.pop((ev.nip, ev.unit), None)
            continue
        if role in SINGLE_HOLDER:
            held.clear()
        elif role in SINGLE_PER_UNIT:
            held = {k: v for k, v in held.items() if k[1] != ev.unit}
        held[(ev.nip, ev.unit)] = ev.index
    found = [i for (who, u), i in held.items() if who == nip and unit in (None, u)]
    return max(found) if found else None


# -- gathering from one snapshot -------------------------------------------------------------


@dataclass(frozen=True)
class Gathered:
    """The facts of a letter and the entries it carries, read from one snapshot of the ledger."""

    facts: LetterFacts
    entries: tuple[Entry, ...]  # the first entry, the history and the support, in ledger order
    signed: tuple[Signed, ...]
    proofs: Mapping[int, TlogProof]
    vkey: VerifierKey


def decided_index(r: Reader, app: str) -> int:
    """The index of application `app`'s decision. Raises NotFound (``app.not_found``: no such
    application; ``app.no_decision``: not decided yet, so no letter)."""
    record = r.application(app)
    if record is None:
        raise NotFound(f"there is no application {app!r}", code="app.not_found", app=app)
    if record.decided_index is None:
        raise NotFound(
            f"application {app} has no decision yet: its letter is written once the Kepala Dinas Kominfo decides",
            code="app.no_decision",
            app=app,
        )
    return int(record.decided_index)


def gather_letter(r: Reader, app: str) -> Gathered:
    """Everything the letter of application `app` prints and carries, against the reader's
    latest checkpoint.

    Raises NotFound (``app.not_found``, ``app.no_decision``), InvalidInput (a history longer
    than MAX_LETTER_ENTRIES), EvidenceMismatch or LedgerError (a damaged database).
    """
    decided = decided_index(r, app)
    checkpoint = r.checkpoint()
    history = [e for e in r.application_entries(app) if e.index <= decided]
    signatures = sum(1 for e in history if e.kind in SIGNED_AS)
    if len(history) + 2 * signatures > MAX_LETTER_ENTRIES:
        raise InvalidInput(
            f"application {app} has too long a history for one letter to carry its evidence "
            f"(at most {MAX_LETTER_ENTRIES} entries)"
        )
    events = r.role_events()
    signed = []
    for e in history:
        role = SIGNED_AS.get(e.kind)
        if role is None:
            continue
        nip = e.fields["nip"]
        key = r.key(e.fields["key"])
        unit = e.fields["agency"] if role == PD_HEAD else None
        granted = grant_in_force(events, nip, role, unit, e.index)
        if key is None or granted is None:
            raise LedgerError(
                f"the ledger does not say how {nip} could sign entry {e.index}: the database is damaged, "
                "run `ikrar audit`"
            )
        signed.append(Signed(e.index, key.enrolled_index, granted))
    support = {i: r.entry(i) for i in sorted({x for s in signed for x in (s.enrolled, s.granted)})}
    created = r.entry(0)
    facts = letter_facts(created, history, support, signed, checkpoint, r.verifier)
    carried = sorted({0: created, **{e.index: e for e in history}, **support}.items())
    proofs = {i: r.tlog_proof(i, checkpoint.size) for i, _ in carried}
    return Gathered(facts, tuple(e for _, e in carried), tuple(signed), proofs, r.verifier)


# -- layout ------------------------------------------------------------------------------------

BOTTOM = 784.0  # the lowest baseline of the body; the footer is below
BODY = 10.0  # the letter's type size
LINE = 13.0
QR = 80.0  # 2.8 cm: decodes from a 150 dpi scan
SIGN_X = LEFT + 262.0  # the signatory's block, right
LABEL_X, COLON_X, VALUE_X = LEFT + 18, LEFT + 132, LEFT + 140


class _Flow:
    """Text laid out down the pages: a new page when the next piece does not fit."""

    def __init__(self, first: list[Op], top: float, fonts: Fonts) -> None:
        self.pages: list[list[Op]] = []
        self.page = first
        self.top = top
        self.f = fonts

    def need(self, height: float) -> None:
        if self.top + height > BOTTOM:
            self.new_page()

    def new_page(self) -> None:
        self.pages.append(self.page)
        self.page, self.top = [], 60.0

    def add(self, *ops: Op) -> None:
        self.page.extend(ops)

    def text(self, text: str, role: str, size: float, x: float, width: float, step: float) -> None:
        """`text` wrapped to `width` from `x`, a line every `step` points."""
        for line in wrap_text(self.f, text, role, size, width):
            self.need(step)
            if line:
                self.add(Txt(line, role, size, x, self.top))
            self.top += step

    def row(self, label: str, value: str, role: str = "serif") -> None:
        """A "label : value" row of the essentials, the value wrapped."""
        lines = wrap_text(self.f, value, role, BODY, RIGHT - VALUE_X)
        self.need(LINE * min(len(lines), 2))
        self.add(Txt(label, "serif", BODY, LABEL_X, self.top), Txt(":", "serif", BODY, COLON_X, self.top))
        for line in lines:
            self.need(LINE)
            self.add(Txt(line, role, BODY, VALUE_X, self.top))
            self.top += LINE

    def numbered(self, items: Sequence[str], x: float, size: float, role: str = "serif") -> None:
        for k, item in enumerate(items, 1):
            self.need(size + 4)
            self.add(Txt(f"{k}.", role, size, x, self.top))
            self.text(item, role, size, x + 16, RIGHT - x - 16, size + 3.5)


def _essentials(facts: LetterFacts, lang: str) -> list[tuple[str, str]]:
    w = letter_words(lang)
    rows, values = w["rows"], []
    values.append((rows["name"], facts.name))
    values.append((rows["app"], w["app_value"].format(app=facts.app, revision=facts.revision)))
    values.append((rows["kind"], w["kinds"][facts.kind]))
    values.append((rows["agency"], facts.agency))
    amount = rupiah(facts.budget_amount, lang)
    budget = w["budget_value"].format(amount=amount, source=facts.budget_source, year=facts.fiscal_year)
    values.append((rows["budget"], budget))
    values.append((rows["builder"], w["builders"][facts.builder].format(vendor=facts.vendor)))
    values.append((rows["hosting"], w["hostings"][facts.hosting].format(reason=facts.hosting_reason)))
    personal = "specific" if facts.specific_personal_data else "some" if facts.personal_data else "none"
    said = w["personal"][personal]
    if facts.personal_data:
        said += "; " + w["dpia"][facts.dpia_done]
    values.append((rows["personal_data"], said))
    if facts.shared_app.strip():
        values.append((rows["shared_app"], w["shared_value"].format(app=facts.shared_app, why=facts.shared_why_not)))
    return values


def _who(nip: str) -> str:
    return f"NIP {format_nip(nip)}" if is_nip(nip) else nip


def _date(moment: datetime, lang: str) -> str:
    """``5 Januari 2026``: a letter's date, without the day of the week."""
    return format_date_wib(moment, lang).split(", ", 1)[1]


def _capacity(f: Fonts, facts: LetterFacts) -> list[str]:
    return wrap_text(f, facts.signer_capacity + ",", "serif-bold", BODY, RIGHT - SIGN_X)[:3]


def _signature_height(f: Fonts, facts: LetterFacts) -> float:
    return LINE * len(_capacity(f, facts)) + QR + 58


def _signature_block(flow: _Flow, facts: LetterFacts, pres: Presentation) -> None:
    """The signatory's block, right, kept on one page; how to check the letter, left of it."""
    f, w = flow.f, letter_words(pres.lang)
    width = RIGHT - SIGN_X
    capacity = _capacity(f, facts)
    flow.need(_signature_height(f, facts))
    top = flow.top
    for line in capacity:
        flow.add(Txt(line, "serif-bold", BODY, SIGN_X, top))
        top += LINE
    area = top + 6
    url = letter_url(pres.base_url, facts)
    flow.add(Qr(url, SIGN_X, area, QR))
    tx = SIGN_X + QR + 8
    flow.add(Txt(w["signed"], "sans", 7.5, tx, area + 18))
    flow.add(Txt(format_short_wib(facts.decided_time, pres.lang), "sans-bold", 8.5, tx, area + 34))
    flow.add(Txt(w["entry"].format(index=facts.decided_index), "sans", 8.5, tx, area + 50))
    name_top = area + QR + 18
    size = fit(f, facts.signer_name, "serif-bold", BODY + 0.5, width, 7)
    flow.add(Txt(facts.signer_name, "serif-bold", size, SIGN_X, name_top))
    flow.add(Rule(SIGN_X, SIGN_X + min(width, f.width(facts.signer_name, "serif-bold", size)), name_top + 2.5, 0.6))
    if is_nip(facts.signer_nip):
        flow.add(Txt(f"NIP {format_nip(facts.signer_nip)}", "sans", 8.5, SIGN_X, name_top + 14))
    left = SIGN_X - LEFT - 24
    host = urlsplit(pres.base_url).netloc or pres.base_url
    y = area + 12
    for text, role in ((w["scan"], "sans"), (w["trust"].format(host=host), "sans-bold")):
        for line in wrap_text(f, text, role, 8, left):
            flow.add(Txt(line, role, 8, LEFT, y))
            y += 10.5
        y += 3
    flow.top = name_top + 30


def _body(flow: _Flow, facts: LetterFacts, pres: Presentation, number: str) -> None:
    w = letter_words(pres.lang)
    assert pres.letterhead is not None
    flow.add(Txt(_date(facts.decided_time, pres.lang), "serif", BODY, RIGHT, flow.top, "r"))
    flow.top += LINE + 4
    heads = [
        (w["number"], number),
        (w["nature"], w["nature_value"]),
        (w["enclosure"], w["enclosure_value"]),
        (w["subject"], w[named("subject_value", facts.name)].format(name=facts.name)),
    ]
    for label, value in heads:
        flow.add(Txt(label, "serif", BODY, LEFT, flow.top), Txt(":", "serif", BODY, LEFT + 62, flow.top))
        flow.text(value, "serif-bold" if label == w["subject"] else "serif", BODY, LEFT + 70, RIGHT - LEFT - 70, LINE)
    flow.top += 10
    flow.text(w["to"].format(agency=facts.agency), "serif-bold", BODY, LEFT, RIGHT - LEFT, LINE)
    if w["to_place"]:
        flow.text(w["to_place"], "serif", BODY, LEFT, RIGHT - LEFT, LINE)
    flow.top += 10
    opening = w["opening"].format(
        capacity=facts.applicant_capacity,
        date=_date(facts.submitted_time, pres.lang),
        app=facts.app,
        revision=facts.revision,
        index=facts.submitted_index,
        office=pres.letterhead.office,
    )
    flow.text(opening, "serif", BODY, LEFT, RIGHT - LEFT, LINE)
    flow.top += 6
    flow.text(f"1. {w['essentials']}", "serif-bold", BODY, LEFT, RIGHT - LEFT, LINE)
    for label, value in _essentials(facts, pres.lang):
        flow.row(label, value)
    flow.top += 6
    review = w["review"].format(index=facts.reviewed_index, date=_date(facts.reviewed_time, pres.lang))
    flow.text(f"2. {review}", "serif-bold", BODY, LEFT, RIGHT - LEFT, LINE)
    for k, found in enumerate(facts.checklist):
        flow.need(LINE)
        flow.add(Txt(f"{'abcdef'[k]}. {w['points'][found.point]}", "serif", BODY, LABEL_X, flow.top))
        flow.add(Txt(w["findings"][found.finding], "serif-bold", BODY, RIGHT, flow.top, "r"))
        flow.top += LINE
        if found.note.strip():
            flow.text(found.note, "serif-italic", 9, LABEL_X + 14, RIGHT - LABEL_X - 14, 11.5)
    flow.top += 6
    decided = f"3. {w[named('decided', facts.name)].format(name=facts.name)}"
    intro = w["notes_intro"][facts.decision]
    heading = wrap_text(flow.f, decided, "serif-bold", BODY, RIGHT - LEFT)
    flow.need(LINE * len(heading) + 40 + (3 * LINE if intro else 0))  # the decision stays with its first note
    flow.text(decided, "serif-bold", BODY, LEFT, RIGHT - LEFT, LINE)
    word = w["decisions"][facts.decision]
    box_w = RIGHT - LEFT - 36
    flow.add(Box(LABEL_X, flow.top - 2, box_w, 26, 1.4))
    size = fit(flow.f, word, "sans-bold", 13, box_w - 20, 8)
    flow.add(Txt(word, "sans-bold", size, LABEL_X + box_w / 2, flow.top + 15, "c"))
    flow.top += 40
    if intro:
        flow.text(intro, "serif", BODY, LABEL_X, RIGHT - LABEL_X, LINE)
        flow.numbered(facts.notes, LABEL_X, BODY)
    flow.top += 6
    closing = wrap_text(flow.f, w["closing"], "serif", BODY, RIGHT - LEFT)
    flow.need(LINE * len(closing) + 14 + _signature_height(flow.f, facts))  # the closing stays with the block
    flow.text(w["closing"], "serif", BODY, LEFT, RIGHT - LEFT, LINE)
    flow.top += 14
    _signature_block(flow, facts, pres)
    flow.text(w["foot"].format(base=pres.base_url), "sans", 7.5, LEFT, RIGHT - LEFT, 10)


def _appendix(flow: _Flow, facts: LetterFacts, pres: Presentation, number: str) -> None:
    w, lang = letter_words(pres.lang), pres.lang
    cx = (LEFT + RIGHT) / 2
    flow.new_page()
    flow.add(Txt(w["appendix_title"], "serif-bold", 14, cx, 66, "c"))
    flow.add(Txt(w["appendix_of"].format(number=number), "sans", 9, cx, 82, "c"), Rule(LEFT, RIGHT, 92, 1.2))
    flow.top = 116.0
    flow.text(w["history"].format(app=facts.app), "sans-bold", 10, LEFT, RIGHT - LEFT, 16)
    decisions = w["decisions"]
    for s in facts.history:
        flow.need(24)
        flow.add(Txt(f"#{s.index}", "sans-bold", 8.5, LEFT, flow.top))
        flow.add(Txt(format_short_wib(s.time, lang), "sans", 8.5, LEFT + 40, flow.top))
        said = w["steps"][s.kind].format(
            revision=s.revision,
            name=s.name,
            capacity=s.capacity,
            by=_who(s.by),
            decision=decisions.get(s.decision, s.decision),
        )
        flow.text(said, "serif", 9.5, LEFT + 150, RIGHT - LEFT - 150, 12.5)
        if s.reasons:
            flow.numbered(s.reasons, LEFT + 150, 9, "serif-italic")
        flow.top += 3
    flow.top += 10
    flow.text(w["roles_title"], "sans-bold", 10, LEFT, RIGHT - LEFT, 16)
    grouped: dict[tuple[str, str, str, str, int, str, int], list[int]] = {}
    for a in facts.authorities:  # a Kepala PD who signed each revision by the same grant and key: one line
        grouped.setdefault((a.nip, a.name, a.role, a.unit, a.granted, a.attested_by, a.enrolled), []).append(a.index)
    for (_, name, role, unit, granted, attested_by, enrolled), indexes in grouped.items():
        numbers = [f"#{i}" for i in indexes]
        listed = (
            w["entry_one"].format(index=numbers[0])
            if len(numbers) == 1
            else w["entry_many"].format(indexes=", ".join(numbers[:-1]), last=numbers[-1])
        )
        line = w["role_line"].format(
            name=name,
            index=listed,
            role=w["roles"][role],
            unit=unit,
            granted=granted,
            by=_who(attested_by),
            enrolled=enrolled,
        )
        flow.text(line, "serif", 9.5, LEFT, RIGHT - LEFT, 12.5)
        flow.top += 3
    flow.top += 10
    flow.text(w["evidence_title"], "sans-bold", 10, LEFT, RIGHT - LEFT, 16)
    checkpoint = w["checkpoint_value"].format(size=facts.checkpoint_size, root=facts.checkpoint_root)
    rows = w["evidence"]
    for key, value in (
        ("request", facts.request_sha256),
        ("leaf", facts.leaf_hash),
        ("key", facts.signer_key_fingerprint),
        ("checkpoint", checkpoint),
        ("utc", f"{format_time(facts.decided_time)} · {facts.origin}"),
        ("ledger_key", facts.ledger_key_fingerprint),
    ):
        flow.need(26)
        flow.add(Txt(rows[key], "sans-bold", 8.5, LEFT, flow.top))
        flow.top += 12
        size = fit(flow.f, value, "mono", 8.5, RIGHT - LEFT, 6.5)
        flow.text(value, "mono", size, LEFT, RIGHT - LEFT, size + 3)
        flow.top += 4
    flow.top += 10
    flow.text(w["howto_title"], "sans-bold", 10, LEFT, RIGHT - LEFT, 16)
    flow.text(w["howto"].format(org=facts.org, base=pres.base_url), "serif-italic", 9, LEFT, RIGHT - LEFT, 12)


def letter_document(facts: LetterFacts, pres: Presentation) -> Document:
    """The laid-out pages of the letter. Raises InvalidInput (language, no letterhead), FontMissing."""
    if pres.letterhead is None:
        raise InvalidInput("a letter is printed with a letterhead")
    f = document_fonts(pres.fonts)
    w = letter_words(pres.lang)
    number = letter_number(facts, pres.letterhead)
    first = kop(
        f, pres.letterhead, facts.org, doc_words(pres.lang)["ledger_line"].format(origin=facts.origin), pres.lang
    )
    flow = _Flow(first, KOP_BOTTOM + 26, f)
    _body(flow, facts, pres, number)
    _appendix(flow, facts, pres, number)
    flow.pages.append(flow.page)
    printed = w["printed"].format(
        when=format_short_wib(pres.printed_at, pres.lang), size=facts.checkpoint_size, app=facts.app
    )
    return Document(
        footed(flow.pages, printed, pres.lang),
        f,
        title=f"{w['title']}: {facts.name}",
        author=facts.org,
        subject=f"{w['title']} {number}",
        lang=pres.lang,
        created=pres.printed_at,
        emblem=pres.letterhead.emblem,
    )


# -- the file ------------------------------------------------------------------------------------


def letter_manifest(g: Gathered, pres: Presentation) -> bytes:
    """``letter.json``: the entries the letter carries and the facts it prints."""
    value = {
        "format": FORMAT,
        "app": g.facts.app,
        "decision_index": g.facts.decided_index,
        "checkpoint_size": g.facts.checkpoint_size,
        **pres.to_json(),
        "history": [s.index for s in g.facts.history],
        "signed": [s.to_json() for s in g.signed],
        "facts": g.facts.to_json(),
    }
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"


def letter_attachments(g: Gathered, pres: Presentation) -> dict[str, bytes]:
    """The files embedded in a letter, by name. Raises InvalidInput past MAX_EVIDENCE_BYTES."""
    files: dict[str, bytes] = {}
    for entry in g.entries:
        files[entry_file(entry.index)] = entry.leaf
        files[proof_file(entry.index)] = g.proofs[entry.index].text().encode()
    files[VKEY_FILE] = f"{g.vkey}\n".encode()
    files.update(pres.attachments())
    files[MANIFEST] = letter_manifest(g, pres)
    weight = sum(len(data) for data in files.values())
    if weight > MAX_EVIDENCE_BYTES:
        raise InvalidInput(
            f"the letter of application {g.facts.app} would carry {weight // 1024} kB of evidence, more than a "
            f"verifier reads ({MAX_EVIDENCE_BYTES // 1024} kB)"
        )
    return files


def letter_file(g: Gathered, pres: Presentation) -> bytes:
    """The letter's PDF: its pages, its evidence attached, its metadata."""
    doc = letter_document(g.facts, pres)
    metadata = {"/IkrarFormat": FORMAT, "/IkrarApplication": g.facts.app, "/IkrarIndex": str(g.facts.decided_index)}
    return finish(render_pages(doc), doc, letter_attachments(g, pres), metadata)


def render_letter(
    ledger: Ledger, app: str, *, lang: str = "id", base_url: str, now: datetime, letterhead: Letterhead | None = None
) -> bytes:
    """The Surat Rekomendasi of application `app` (printed at `now`, in `lang`, with the
    letterhead of the settings; None: the default one), its evidence read from one snapshot.

    Raises NotFound (``app.not_found``; ``app.no_decision`` while the application waits for
    its decision), InvalidInput (language; a history too long for one letter's evidence),
    EvidenceMismatch or LedgerError (a damaged database).
    """
    pres = presentation_of(lang, base_url, now, letterhead)
    with ledger.read() as r:
        g = gather_letter(r, app)
    return letter_file(g, pres)
