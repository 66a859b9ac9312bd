"""The Diskominfo operator's pages (role `admin` only): officials (added, and changed by a
mutasi), invitations and their approval, key revocation, publishing a commitment (in
protocol order, `signing.protocol`), and each commitment's ceremony: who still has to do
what, and reminders by mail (docs/CEREMONY.md). Every change to the ledger goes through
`signing.actions` or `signing.vouching`; `by` records the admin's NIP.

Under rules version 3 an admin invites, approves and revokes with their own signing key:
each of these forms asks for the admin's own signing passphrase (counted by the "sign"
throttle of their NIP, as a signature's is), and each of them, and publishing, asks for
their login password again when it was given too long ago (`web.reauth`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query
from fastapi.responses import HTMLResponse, Response

from ledger.errors import Conflict, LedgerError
from ledger.nip import is_nip, is_official_id
from ledger.note import VerifierKey
from ledger.outbox import NO_ADDRESS, Outbox, ReminderRound
from ledger.reader import KeyRecord, OfficialRecord
from ledger.rules import SLUG
from signing import actions, protocol, vouching
from signing.actions import Context
from signing.errors import NotAllowed, SigningError, WrongPassphrase
from signing.keystore import KeyStore
from signing.wording import WIB

from . import accounts
from .admin_views import (
    OFFICIAL_STATES,
    STATES,
    Ceremony,
    Filter,
    Signatory,
    Standing,
    Waiting,
    agency_list,
    candidates,
    ceremony,
    officials_shown,
    officials_sorted,
    pending_invitations,
    shown,
    standing,
    waiting,
    waiting_for,
)
from .errors import Forbidden, FormInvalid, WebError, message_of
from .mail import (
    DEADLINE_PASSED,
    DECLINED_MEANWHILE,
    NOT_A_SIGNATORY,
    SIGNED_MEANWHILE,
    MailFailed,
    mail_status,
    send_enrolment_link,
)
from .pages import AdminPage, csrf_protect
from .reauth import require_recent_password
from .views import OfficialStatus, Person, active_key, commitment_summaries, official_statuses

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf_protect)])

Field = Annotated[str, Form()]
Nip = Annotated[str, Path(max_length=40)]
Nips = Annotated[list[str] | None, Form()]
RECOVERABLE = (WebError, LedgerError, SigningError)
FLASHES = {
    "added": "vouching.flash.added",
    "revoked": "flash.revoked",
    "published": "flash.published",
    "approved": "vouching.flash.approved",
    "updated": "ceremony.flash.updated",
}
MODES = ("pick", "all", "role:official", "role:admin")
MAX_INVITES = 40  # officials one invitation form may name (within the form limit of `pages.FORM_LIMIT`)
SIGN = "sign"  # the throttle scope that counts wrong signing passphrases, an admin's own included


Search = Annotated[str, Query(max_length=300)]


@router.get("", response_class=HTMLResponse)
def dashboard(
    p: AdminPage, ok: str = "", id: Search = "", q: Search = "", unit: Search = "", state: Search = ""
) -> HTMLResponse:
    """The officials (by name without titles; searched by name or NIP, filtered by agency, key
    state or role), the invitations that wait for an approval, and the commitments."""
    assert p.user is not None
    ready = p.ledger.is_initialized()
    now = p.now()
    everyone = officials_sorted(official_statuses(p.ledger, now))
    wanted = Filter.of(q, unit, state, OFFICIAL_STATES)
    return p.render(
        "admin/index.html",
        officials=officials_shown(everyone, wanted),
        everyone=len(everyone),
        units=sorted({o.person.unit for o in everyone}),
        filter=wanted,
        official_states=OFFICIAL_STATES,
        commitments=commitment_summaries(p.ledger) if ready else [],
        ready=ready,
        flash=_flash(p, ok, id),
        own=standing(p.ledger, p.user.nip) if ready else None,
        waiting=waiting(p.ledger, p.user.nip, now) if ready else [],
        invitations=pending_invitations(p.ledger, now),
        mail=mail_status(p.runtime.settings),
    )


ACTING = ("", "Plt.", "Plh.")  # definitive, pelaksana tugas, pelaksana harian


def _identity_form(name: str, title: str, unit: str, rank: str, acting: str, appointment: str) -> dict[str, str]:
    """An official's identity as typed, to show again (each field cut to a sane length)."""
    return {
        "name": name[:300],
        "title": title[:300],
        "unit": unit[:300],
        "rank": rank[:100],
        "acting": acting[:8],
        "appointment": appointment[:200],
    }


def _official_page(p: AdminPage, form: dict[str, str], **context: Any) -> dict[str, Any]:
    return {
        "form": form,
        "roles": actions.ROLES,
        "acting": ACTING,
        "agencies": agency_list(p.runtime.settings),
        **context,
    }


def _flash(p: AdminPage, ok: str, given: str) -> str | None:
    """The dashboard's note of what was just done; an official added without a NIP is told
    with the identifier they log in with."""
    if ok == "added" and is_official_id(given):
        return p.t("ceremony.flash.added_id", id=given)
    return p.t(FLASHES[ok]) if ok in FLASHES else None


@router.get("/officials/new", response_class=HTMLResponse)
def official_form(p: AdminPage) -> HTMLResponse:
    return p.render("admin/official_new.html", **_official_page(p, {"role": "official"}))


@router.post("/officials/new", response_class=HTMLResponse)
def official_add(
    p: AdminPage,
    nip: Field = "",
    name: Field = "",
    title: Field = "",
    unit: Field = "",
    role: Field = "official",
    email: Field = "",
    rank: Field = "",
    acting: Field = "",
    appointment: Field = "",
) -> Response:
    """Register a person: the full position as written under a signature, the agency (from
    the city's list), an optional pangkat/golongan, acting (Plt./Plh.) with the number of the
    appointment letter, and a NIP — or none (the Wali Kota, the Wakil Wali Kota): they get an
    identifier to log in with, shown once the form is done."""
    form = {
        "nip": nip[:40],
        **_identity_form(name, title, unit, rank, acting, appointment),
        "role": role[:16],
        "email": email[:300],
    }
    try:
        if acting not in ACTING:
            raise FormInvalid("ceremony.err.acting")
        official = actions.register_official(
            p.ledger,
            nip.strip() or None,
            name,
            title,
            unit,
            role,
            p.now(),
            email,
            rank=rank,
            acting=acting or None,
            appointment=appointment if acting else None,
            agencies=agency_list(p.runtime.settings),
        )
    except RECOVERABLE as e:
        return p.form_error("admin/official_new.html", e, **_official_page(p, form))
    given = "" if is_nip(official.nip) else f"&id={official.nip}"
    return p.redirect(f"/admin?ok=added{given}#o-{official.nip}")


def _updatable(p: AdminPage, nip: str) -> OfficialRecord:
    """The official whose identity a mutasi changes; raises NotFound."""
    return actions.get_official(p.ledger, nip)


def _update_page(p: AdminPage, official: OfficialRecord, form: dict[str, str]) -> dict[str, Any]:
    assert p.user is not None
    own = standing(p.ledger, p.user.nip)
    return _official_page(p, form, official=official, has_nip=is_nip(official.nip), own=own)


@router.get("/officials/{nip}/update", response_class=HTMLResponse)
def update_form(p: AdminPage, nip: Nip) -> Response:
    """A mutasi, a promotion or a corrected name: the official's identity as the register
    holds it, to change, with the reason and the admin's own signing passphrase."""
    official = _updatable(p, nip)
    ask = require_recent_password(p)
    if ask is not None:
        return ask
    o = official
    form = {
        "name": o.name,
        "title": o.title,
        "unit": o.unit,
        "rank": o.rank or "",
        "acting": o.acting or "",
        "appointment": o.appointment or "",
        "reason": "",
    }
    return p.render("admin/official_update.html", **_update_page(p, official, form))


@router.post("/officials/{nip}/update", response_class=HTMLResponse)
def update(
    p: AdminPage,
    nip: Nip,
    name: Field = "",
    title: Field = "",
    unit: Field = "",
    rank: Field = "",
    acting: Field = "",
    appointment: Field = "",
    reason: Field = "",
    passphrase: Field = "",
) -> Response:
    """Append `official.updated`, attested with the admin's own key: the parts that changed
    (a new agency must be on the city's list), why; the official's key stays."""
    assert p.user is not None
    ask = require_recent_password(p, back=f"/admin/officials/{nip}/update")
    if ask is not None:
        return ask
    official = _updatable(p, nip)
    form = {**_identity_form(name, title, unit, rank, acting, appointment), "reason": reason[:500]}
    o = official

    def changed(new: str, old: str | None) -> str | None:
        return None if " ".join(new.split()) == (old or "") else new

    try:
        if acting not in ACTING:
            raise FormInvalid("ceremony.err.acting")
        ctx = with_own_key(p, standing(p.ledger, p.user.nip), passphrase)
        actions.update_official(
            ctx,
            o.nip,
            p.user.nip,
            passphrase,
            reason,
            p.now(),
            name=changed(name, o.name),
            title=changed(title, o.title),
            unit=changed(unit, o.unit),
            rank=changed(rank, o.rank),
            acting=changed(acting, o.acting),
            appointment=changed(appointment, o.appointment) if acting else None,
            agencies=agency_list(p.runtime.settings),
        )
    except RECOVERABLE as e:
        return p.form_error("admin/official_update.html", e, **_update_page(p, official, form))
    return p.redirect(f"/admin?ok=updated#o-{o.nip}")


# -- the admin's own signing key -------------------------------------------------------------


class OpenedOnce(KeyStore):
    """The key store of one request that acts with the admin's own key more than once
    (checking the passphrase, then inviting several officials): the key is opened — the slow
    key derivation — once, and each later `signer` call for the same key and passphrase gets
    the signer opened then. It lives as long as the request's `Context`."""

    def __init__(self, store: KeyStore) -> None:
        super().__init__(store.directory, store.iterations)
        self._opened: tuple[str, bytes, Callable[[bytes], bytes]] | None = None

    def signer(self, vkey: VerifierKey, passphrase: str) -> Callable[[bytes], bytes]:
        kept = self._opened
        if kept is not None and kept[0] == str(vkey) and hmac.compare_digest(kept[1], passphrase.encode()):
            return kept[2]
        sign = super().signer(vkey, passphrase)
        self._opened = (str(vkey), passphrase.encode(), sign)
        return sign


def with_own_key(p: AdminPage, own: Standing, passphrase: str) -> Context:
    """The context to act in with the admin's own key, once `passphrase` has opened it.

    Refuses, before anything is written: an admin without an active admin key (Forbidden),
    a missing or overlong passphrase (FormInvalid), a wrong one (Forbidden; counted by the
    "sign" throttle of the admin's NIP, which raises Throttled while it holds, or when this
    failure locks). A right passphrase clears the count before anything is signed."""
    assert p.user is not None
    if own.problem is not None:
        raise Forbidden(own.problem)
    if not passphrase:
        raise FormInvalid("err.passphrase_missing")
    if len(passphrase) > accounts.MAX_SECRET:
        raise FormInvalid("err.too_long")
    nip, now = p.user.nip, p.now()
    accounts.check_throttle(p.ledger, SIGN, nip, now)
    context = p.context()
    ctx = replace(context, keys=OpenedOnce(context.keys))
    try:
        vouching.voucher(ctx, nip, passphrase)
    except WrongPassphrase as e:
        accounts.settle_attempt(p.ledger, SIGN, nip, now, False)  # raises Throttled when this failure locks
        raise Forbidden("vouching.err.wrong_passphrase") from e
    accounts.settle_attempt(p.ledger, SIGN, nip, now, True)  # raises Throttled (nothing signed) while withheld
    return ctx


# -- invitations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    """A one-time link made for an official, shown once: an invitation (`waits`: for a second
    admin's approval), or a link that only sets a login password (`password_only`); or, when
    `refused` says why, none."""

    official: OfficialRecord
    link: str | None = None
    expires: datetime | None = None
    waits: bool = False
    password_only: bool = False
    refused: str | None = None
    mailed: str | None = None  # the address the link was mailed to
    mail_error: str | None = None  # why mailing it failed (the link is shown all the same)


def _link(p: AdminPage, token: str) -> str:
    return f"{p.runtime.settings.base_url}/enrol/{token}"  # IKRAR_BASE_URL, never the request's Host


def _picked(nips: list[str] | None) -> list[str]:
    """The NIPs ticked, once each, in order; each at most 40 characters (as a path's)."""
    return list(dict.fromkeys(n.strip() for n in nips or [] if 0 < len(n.strip()) <= 40))


def _invite_path(picked: list[str]) -> str:
    """The invitation form with `picked` ticked (where a stale password sends the admin back)."""
    return "/admin/invite" + (f"?{urlencode({'nip': picked}, doseq=True)}" if picked else "")


def _invite_page(p: AdminPage, picked: list[str]) -> dict[str, Any]:
    assert p.user is not None
    return {
        "candidates": candidates(p.ledger, p.now()),
        "picked": set(picked),
        "own": standing(p.ledger, p.user.nip),
        "hours": p.runtime.settings.enrol_hours,
        "max_invites": MAX_INVITES,
        "mail_on": p.runtime.settings.smtp_url is not None,
    }


@router.get("/invite", response_class=HTMLResponse)
def invite_form(p: AdminPage, nip: Annotated[list[str] | None, Query()] = None) -> Response:
    """Officials without an active key, to tick (`?nip=` ticks one), and the admin's own
    signing passphrase, typed once for all of them."""
    ask = require_recent_password(p)
    if ask is not None:
        return ask
    return p.render("admin/invite_form.html", **_invite_page(p, _picked(nip)))


@router.post("/invite", response_class=HTMLResponse)
def invite(p: AdminPage, nip: Nips = None, passphrase: Field = "", mail: Field = "") -> Response:
    """An invitation for each ticked official, attested with the admin's own key (opened
    once for all of them); the links are shown once. A wrong passphrase creates none; an
    official the rules refuse (they got a key meanwhile) is named with the reason, and the
    others are invited."""
    assert p.user is not None
    picked = _picked(nip)
    ask = require_recent_password(p, back=_invite_path(picked))
    if ask is not None:
        return ask
    try:
        if not picked:
            raise FormInvalid("vouching.err.none_picked")
        if len(picked) > MAX_INVITES:
            raise FormInvalid("vouching.err.too_many", n=MAX_INVITES)
        officials = [actions.get_official(p.ledger, n) for n in picked]
        ctx = with_own_key(p, standing(p.ledger, p.user.nip), passphrase)
    except RECOVERABLE as e:
        return p.form_error("admin/invite_form.html", e, **_invite_page(p, picked))
    hours = p.runtime.settings.enrol_hours
    issued = []
    for official in officials:
        try:
            made = vouching.invite(ctx, official, p.user.nip, passphrase, p.now(), hours)
        except RECOVERABLE as e:
            issued.append(Issued(official, refused=message_of(e, p.t)))
            continue
        link, expires = _link(p, made.token), made.invitation.expires_at
        issued.append(_mailed(p, Issued(official, link, expires, made.invitation.needs_approval), mail == "yes"))
    return p.render("admin/invite.html", issued=issued)


def _mailed(p: AdminPage, issued: Issued, send: bool) -> Issued:
    """`issued`, its link also mailed to the official's surel dinas when the admin asked (the
    link is sent at once and kept nowhere); a failure is told beside the link to copy."""
    if not send or issued.link is None or issued.expires is None:
        return issued
    try:
        send_enrolment_link(p.runtime.settings, issued.official, issued.link, issued.expires)
    except MailFailed as e:
        return replace(issued, mail_error=p.t(e.key, **e.params))
    return replace(issued, mailed=issued.official.email)


@router.post("/officials/{nip}/invite", response_class=HTMLResponse)
def password_link(p: AdminPage, nip: Nip) -> Response:
    """A one-time link with which an official who has an active key chooses a new login
    password; it makes no key. An official without one is sent to the invitation form."""
    assert p.user is not None
    ask = require_recent_password(p, back="/admin")
    if ask is not None:
        return ask
    official = actions.get_official(p.ledger, nip)
    if active_key(p.ledger, official.nip) is None:
        return p.redirect(_invite_path([official.nip]))
    token, expires = accounts.issue_enrolment(
        p.ledger, official.nip, p.user.nip, p.now(), p.runtime.settings.enrol_hours
    )
    return p.render("admin/invite.html", issued=[Issued(official, _link(p, token), expires, password_only=True)])


# -- approvals -------------------------------------------------------------------------------


def _waiting(p: AdminPage, nip: str) -> Waiting:
    """The official's invitation that waits for an approval; raises NotFound, NotAllowed."""
    assert p.user is not None
    official = actions.get_official(p.ledger, nip)
    shown = waiting_for(p.ledger, p.user.nip, official.nip, p.now())
    if shown is None:
        raise NotAllowed(
            f"official {official.nip} has no invitation waiting for an approval",
            code="vouch.nothing",
            nip=official.nip,
        )
    return shown


@router.get("/officials/{nip}/approve", response_class=HTMLResponse)
def approve_form(p: AdminPage, nip: Nip) -> Response:
    ask = require_recent_password(p)
    if ask is not None:
        return ask
    return p.render("admin/approve.html", item=_waiting(p, nip))


@router.post("/officials/{nip}/approve", response_class=HTMLResponse)
def approve(p: AdminPage, nip: Nip, invitation: Field = "", passphrase: Field = "") -> Response:
    """The second admin approves the invitation they were shown (`invitation`), signing with
    their own key; the official can then enrol with their link."""
    assert p.user is not None
    ask = require_recent_password(p, back=f"/admin/officials/{nip}/approve")
    if ask is not None:
        return ask
    item = _waiting(p, nip)
    try:
        if not hmac.compare_digest(invitation.encode(), item.invitation.id.encode()):
            raise Conflict(
                "the invitation was approved or replaced meanwhile", code="invite.changed", nip=item.invitation.nip
            )
        if item.refusal is not None:
            raise Forbidden(item.refusal)
        ctx = with_own_key(p, standing(p.ledger, p.user.nip), passphrase)
        official = actions.get_official(p.ledger, item.invitation.nip)
        vouching.approve(ctx, official, p.user.nip, passphrase, p.now(), invitation=item.invitation.id)
    except RECOVERABLE as e:
        return p.form_error("admin/approve.html", e, item=item)
    return p.redirect("/admin?ok=approved")


# -- revocation ------------------------------------------------------------------------------


def _revocable(p: AdminPage, nip: str) -> tuple[OfficialRecord, KeyRecord]:
    """The official and their active key; raises NotFound or NotAllowed (no active key)."""
    official = actions.get_official(p.ledger, nip)
    key = active_key(p.ledger, official.nip)
    if key is None:
        raise NotAllowed(
            f"official {official.nip} has no active key to revoke", code="key.none_to_revoke", nip=official.nip
        )
    return official, key


@router.get("/officials/{nip}/revoke", response_class=HTMLResponse)
def revoke_form(p: AdminPage, nip: Nip) -> Response:
    assert p.user is not None
    official, key = _revocable(p, nip)
    ask = require_recent_password(p)
    if ask is not None:
        return ask
    own = standing(p.ledger, p.user.nip)
    return p.render("admin/revoke.html", official=official, key=key, reason="", own=own)


@router.post("/officials/{nip}/revoke", response_class=HTMLResponse)
def revoke(p: AdminPage, nip: Nip, reason: Field = "", passphrase: Field = "") -> Response:
    """Append `key.revoked`, signed with the admin's own key."""
    assert p.user is not None
    ask = require_recent_password(p, back=f"/admin/officials/{nip}/revoke")
    if ask is not None:
        return ask
    official, key = _revocable(p, nip)
    own = standing(p.ledger, p.user.nip)
    try:
        ctx = with_own_key(p, own, passphrase)
        actions.revoke(ctx, official.nip, reason, p.user.nip, p.now(), passphrase)
    except RECOVERABLE as e:
        return p.form_error("admin/revoke.html", e, official=official, key=key, reason=reason[:500], own=own)
    return p.redirect("/admin?ok=revoked")


# -- publishing ------------------------------------------------------------------------------


def slugify(title: str) -> str:
    """A URL name from a title: ``Komitmen Bersama Smart City`` → ``komitmen-bersama-smart-city``
    (lowercase ASCII letters and digits, inner hyphens, at most 80 characters: the ledger's
    `SLUG`); empty when the title has no letter or digit in ASCII."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")[:80].strip("-")


FALLBACK_SLUG = "komitmen"  # for a title with no ASCII letter or digit


def free_slug(title: str, taken: Callable[[str], bool]) -> str:
    """The slug made from `title` that no commitment has (`taken`): its `slugify`, else that
    with ``-2``, ``-3``... (shortened to keep within 80 characters). Raises FormInvalid
    (``err.slug_taken``) after a thousand tries."""
    base = slugify(title) or FALLBACK_SLUG
    for n in range(1, 1001):
        suffix = "" if n == 1 else f"-{n}"
        slug = base[: 80 - len(suffix)].rstrip("-") + suffix
        if not taken(slug):
            return slug
    raise FormInvalid("err.slug_taken", slug=base)


END_OF_DAY = time(23, 59)  # a deadline given as a date alone


def wib_deadline(day: str, at: str, now: datetime) -> datetime | None:
    """The deadline a form gives as a date and a time in WIB (the time optional: 23.59), in
    UTC; None when neither is given. Raises FormInvalid when it cannot be read
    (``ceremony.err.deadline``) or is not after `now` (``ceremony.err.deadline_past``)."""
    day, at = day.strip()[:10], at.strip()[:8]
    if not day and not at:
        return None
    try:
        moment = datetime.combine(date.fromisoformat(day), time.fromisoformat(at) if at else END_OF_DAY, WIB)
    except ValueError as e:
        raise FormInvalid("ceremony.err.deadline") from e
    moment = moment.replace(second=0, microsecond=0).astimezone(UTC)
    if moment <= now:
        raise FormInvalid("ceremony.err.deadline_past", when=moment)
    return moment


GROUPS = {  # the signatories a publish form can add at once, by protocol rank
    "leaders": (protocol.WALI_KOTA, protocol.WAKIL_WALI_KOTA),
    "sekda": (protocol.SEKDA,),
    "asisten": (protocol.ASISTEN,),
    "staf_ahli": (protocol.STAF_AHLI,),
    "heads": (protocol.HEAD,),
}


def _signers(
    mode: str, picked: list[str], groups: list[str], units: list[str], officials: list[OfficialStatus]
) -> list[str]:
    """The NIPs a publish form chose: everyone, a role, or those ticked together with every
    official of the ticked protocol groups and agencies; in the register's order."""
    if mode == "all":
        return [o.person.nip for o in officials]
    if mode.startswith("role:"):
        return [o.person.nip for o in officials if o.person.role == mode[5:]]
    chosen, ranks, agencies = set(picked), {r for g in groups for r in GROUPS.get(g, ())}, set(units)
    return [
        o.person.nip
        for o in officials
        if o.person.nip in chosen or o.person.unit in agencies or protocol.position_rank(o.person.title) in ranks
    ]


def _in_protocol_order(people: list[Person], agencies: list[str]) -> list[Person]:
    return protocol.in_protocol_order(people, lambda o: o.title, lambda o: o.unit, lambda o: o.name, agencies)


def _publish_page(p: AdminPage, officials: list[OfficialStatus], **context: Any) -> dict[str, Any]:
    """What the publish form shows besides the form: officials by name without titles, the
    protocol groups and agencies to add at once (those with someone in them)."""
    ranks = {protocol.position_rank(o.person.title) for o in officials}
    return {
        "officials": officials_sorted(officials),
        "groups": [g for g, members in GROUPS.items() if ranks & set(members)],
        "units": _agencies(p, officials),
        **context,
    }


def _agencies(p: AdminPage, officials: list[OfficialStatus]) -> list[str]:
    """The agencies in the city's order (`signing.agencies` when there is such a list), then
    the others the register names, by name."""
    listed = agency_list(p.runtime.settings)
    return listed + sorted({o.person.unit for o in officials} - set(listed))


@router.get("/commitments/new", response_class=HTMLResponse)
def publish_form(p: AdminPage) -> Response:
    ask = require_recent_password(p)
    if ask is not None:
        return ask
    form = {
        "title": "",
        "slug": "",
        "text": "",
        "mode": "pick",
        "picked": [],
        "groups": [],
        "units": [],
        "deadline_date": "",
        "deadline_time": "",
    }
    officials = official_statuses(p.ledger, p.now())
    return p.render("admin/publish.html", **_publish_page(p, officials, form=form, preview=None))


@router.post("/commitments/new", response_class=HTMLResponse)
def publish(
    p: AdminPage,
    title: Field = "",
    slug: Field = "",
    text: Field = "",
    mode: Field = "pick",
    signer: Annotated[list[str] | None, Form()] = None,
    group: Annotated[list[str] | None, Form()] = None,
    unit: Annotated[list[str] | None, Form()] = None,
    deadline_date: Field = "",
    deadline_time: Field = "",
    step: Field = "preview",
    confirm: Field = "",
) -> Response:
    """Two steps: a preview with the text's SHA-256 and the signatories in protocol order,
    then publish, with the signatories in that order (`commitment.published` keeps it).

    The slug is made from the title when left empty (and kept free of those taken). The
    signatories are those ticked, with whole protocol groups and agencies added at once;
    the preview ticks each of them, to untick. Publishing needs the fingerprint of the
    preview the admin saw (`confirm`): a form changed after its preview is previewed again
    instead of published.
    """
    assert p.user is not None
    ask = require_recent_password(p, back="/admin/commitments/new")
    if ask is not None:
        return ask
    officials = official_statuses(p.ledger, p.now())
    picked = [n for n in (signer or []) if len(n) <= 40]
    groups = [g for g in (group or []) if g in GROUPS]
    units = [u for u in (unit or []) if len(u) <= 300]
    form = {
        "title": title[:300],
        "slug": slug.strip()[:80],
        "text": text,
        "mode": mode,
        "picked": picked,
        "groups": groups,
        "units": units,
        "deadline_date": deadline_date.strip()[:10],
        "deadline_time": deadline_time.strip()[:8],
    }
    try:
        if not title.strip() or not text.strip():
            raise FormInvalid("err.commitment_empty")
        if not title.strip().isprintable() or any(not c.isprintable() and c not in "\r\n\t" for c in text):
            raise FormInvalid("err.control_chars")  # refused at the preview, not only when publishing
        if mode not in MODES:
            raise FormInvalid("err.mode")
        deadline = wib_deadline(deadline_date, deadline_time, p.now())
        with p.ledger.read() as r:
            slug = slug.strip()[:80] or free_slug(title, lambda s: r.commitment(s) is not None)
            form["slug"] = slug
            if not SLUG.fullmatch(slug):
                raise FormInvalid("err.slug")
            if r.commitment(slug) is not None:
                raise FormInvalid("err.slug_taken", slug=slug)
        chosen = set(_signers(mode, picked, groups, units, officials))
        if not chosen:
            raise FormInvalid("err.no_signers")
        people = _in_protocol_order(
            [o.person for o in officials if o.person.nip in chosen], agency_list(p.runtime.settings)
        )
        nips = [o.nip for o in people]
        body = actions.commitment_text(text)
        signed = [slug, title.strip(), body, nips] + ([deadline.isoformat()] if deadline else [])
        fingerprint = hashlib.sha256(json.dumps(signed).encode()).hexdigest()
        if step == "publish" and hmac.compare_digest(confirm, fingerprint):
            actions.publish(p.context(), slug, title, text, nips, p.user.nip, p.now(), deadline)
            return p.redirect("/admin?ok=published")
    except RECOVERABLE as e:
        return p.form_error("admin/publish.html", e, **_publish_page(p, officials, form=form, preview=None))
    form |= {"mode": "pick", "picked": nips, "groups": [], "units": []}  # what the preview shows, to untick
    preview = {
        "sha256": hashlib.sha256(body.encode()).hexdigest(),
        "text": body,
        "fingerprint": fingerprint,
        "signers": people,
        "deadline": deadline,
        "changed": step == "publish",
    }
    return p.render("admin/publish.html", **_publish_page(p, officials, form=form, preview=preview))


# -- the ceremony: who still has to do what ----------------------------------------------------

CEREMONY_FLASHES = ("lifted", "gone")
Slug = Annotated[str, Path(max_length=80)]


def _ceremony_path(slug: str, wanted: Filter | None = None) -> str:
    query = wanted.query() if wanted is not None else ""
    return f"/admin/commitments/{slug}" + (f"?{query}" if query else "")


@router.get("/commitments/{slug}", response_class=HTMLResponse)
def ceremony_view(
    p: AdminPage, slug: Slug, q: Search = "", unit: Search = "", state: Search = "", ok: str = ""
) -> HTMLResponse:
    """Every required signatory of the commitment in its published (protocol) order, with
    their state (no key yet, enrolment pending, locked, not signed, signed, declined) and
    the action each state needs in place; searched by name or NIP, filtered by agency and
    state, on the server (the page works without script)."""
    now = p.now()
    seen = ceremony(p.ledger, slug, now)
    wanted = Filter.of(q, unit, state)
    return p.render(
        "admin/ceremony.html",
        c=seen,
        rows=shown(seen, wanted),
        filter=wanted,
        states=STATES,
        here=_ceremony_path(slug, wanted),
        remind=[s for s in shown(seen, wanted) if s.can_be_reminded],
        mail_on=p.runtime.settings.smtp_url is not None,
        now=now,
        flash=p.t(f"locks.flash.{ok}") if ok in CEREMONY_FLASHES else None,
        reminded=next(iter(_rounds(p, slug, 1)), None),
    )


def _recipients(c: Ceremony, wanted: Filter, nip: str) -> list[Signatory]:
    """Whom a reminder goes to: the official `nip` alone, or everyone the filter shows;
    in either case only those who have neither signed nor declined."""
    rows = [s for s in c.signatories if s.nip == nip] if nip else shown(c, wanted)
    return [s for s in rows if s.can_be_reminded]


def _fingerprint(rows: list[Signatory]) -> str:
    return hashlib.sha256(json.dumps(sorted(s.nip for s in rows)).encode()).hexdigest()


ONCE = re.compile(r"[0-9a-f]{32}")  # the confirmation form's once-only token
ROUNDS_SHOWN = 10  # earlier rounds of reminders the reminder page lists
UNSENT_REASONS = {  # why a reminder was settled unsent (`Notice.last_error`), as catalogue keys
    NO_ADDRESS: "ceremony.remind.why.no_address",
    SIGNED_MEANWHILE: "ceremony.remind.why.signed",
    DECLINED_MEANWHILE: "ceremony.remind.why.declined",
    DEADLINE_PASSED: "ceremony.remind.why.deadline",
    NOT_A_SIGNATORY: "ceremony.remind.why.not_a_signatory",
}


@dataclass(frozen=True)
class Round:
    """A round of reminders as the pages show it: the round, the name of the admin who sent
    it, and the names of its officials (by identifier)."""

    round: ReminderRound
    by: str
    names: dict[str, str]


def _rounds(p: AdminPage, slug: str, limit: int = ROUNDS_SHOWN) -> list[Round]:
    """The latest `limit` rounds of reminders to sign `slug`, newest first."""
    rounds = Outbox(p.ledger.engine).rounds(slug, limit)
    if not rounds:
        return []
    wanted = {r.sent_by for r in rounds} | {n.nip for r in rounds for n in r.notices}
    with p.ledger.read() as r:
        names = {o.nip: o.name for o in r.officials(wanted)}
    return [Round(r, names.get(r.sent_by, r.sent_by), names) for r in rounds]


def _remind_page(p: AdminPage, c: Ceremony, wanted: Filter, nip: str) -> dict[str, Any]:
    rows = _recipients(c, wanted, nip)
    return {
        "c": c,
        "rows": rows,
        "filter": wanted,
        "nip": nip,
        "fingerprint": _fingerprint(rows),
        "once": secrets.token_hex(16),
        "with_address": [s for s in rows if s.email],
        "without_address": [s for s in rows if not s.email],
        "mail_on": p.runtime.settings.smtp_url is not None,
        "back": _ceremony_path(c.commitment.slug, wanted),
        "changed": False,
        "queued": None,
        "rounds": _rounds(p, c.commitment.slug),
        "reasons": UNSENT_REASONS,
        "now": p.now(),
    }


def _remind_path(slug: str, wanted: Filter, nip: str) -> str:
    query = "&".join(part for part in (wanted.query(), urlencode({"nip": nip}) if nip else "") if part)
    return f"/admin/commitments/{slug}/remind" + (f"?{query}" if query else "")


@router.get("/commitments/{slug}/remind", response_class=HTMLResponse)
def remind_form(
    p: AdminPage, slug: Slug, q: Search = "", unit: Search = "", state: Search = "", nip: Search = ""
) -> Response:
    """Who the reminder would go to (those shown who have neither signed nor declined; or one
    official), and who has no address to send it to: the admin confirms before anything is
    queued. Below, the earlier rounds and what became of each mail."""
    ask = require_recent_password(p)
    if ask is not None:
        return ask
    c = ceremony(p.ledger, slug, p.now())
    return p.render("admin/remind.html", **_remind_page(p, c, Filter.of(q, unit, state), nip.strip()))


@router.post("/commitments/{slug}/remind", response_class=HTMLResponse)
def remind(
    p: AdminPage,
    slug: Slug,
    q: Field = "",
    unit: Field = "",
    state: Field = "",
    nip: Field = "",
    fingerprint: Field = "",
    once: Field = "",
) -> Response:
    """Queue the reminder for those the admin confirmed who have an address (`fingerprint` of
    the list they saw: a list changed meanwhile, someone signed say, is shown again to
    confirm instead): one round in the mail outbox (`Outbox.remind`, one transaction), which
    the server's mail sender sends and retries. The same form sent twice (`once`, its
    once-only token) queues one round."""
    assert p.user is not None
    wanted, nip = Filter.of(q, unit, state), nip.strip()[:40]
    ask = require_recent_password(p, back=_remind_path(slug, wanted, nip))
    if ask is not None:
        return ask
    c = ceremony(p.ledger, slug, p.now())
    page = _remind_page(p, c, wanted, nip)
    if not hmac.compare_digest(fingerprint.encode(), page["fingerprint"].encode()):
        return p.render("admin/remind.html", status=409, **{**page, "changed": True})
    if not page["rows"]:
        return p.render("admin/remind.html", **page)  # it says that nobody needs a reminder
    try:
        if not page["mail_on"]:
            raise FormInvalid("ceremony.remind.mail_off")
        if not ONCE.fullmatch(once):  # a form from no page of ours: show the list to confirm
            return p.render("admin/remind.html", status=409, **{**page, "changed": True})
        nips = [s.nip for s in page["with_address"]]
        if not nips:
            return p.render("admin/remind.html", **page)  # it says that none of them has an address
        queued = Outbox(p.ledger.engine).remind(slug, nips, p.user.nip, once, p.now())
    except RECOVERABLE as e:
        return p.form_error("admin/remind.html", e, **page)
    rounds = _rounds(p, slug)
    shown = next((r for r in rounds if r.round.id == queued.id), None)
    if shown is None:  # a token of another commitment's round: nothing was queued here
        return p.render("admin/remind.html", status=409, **{**page, "changed": True})
    return p.render("admin/remind.html", **{**page, "queued": shown, "rounds": rounds})
