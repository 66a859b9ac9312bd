"""The Diskominfo operator's pages (role `admin` only): officials, invitations and their
approval, key revocation and publishing a commitment. Every change to the ledger goes
through `signing.actions` or `signing.vouching`; `by` records the admin's NIP.

Under rules version 3 an admin invites, approves and revokes with their own signing key:
each of these forms asks for the admin's own signing passphrase (counted by the "sign"
throttle of their NIP, as a signature's is), and each of them, and publishing, asks for
their login password again when it was given too long ago (`web.reauth`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query
from fastapi.responses import HTMLResponse, Response

from ledger.errors import Conflict, LedgerError
from ledger.note import VerifierKey
from ledger.reader import KeyRecord, OfficialRecord
from ledger.rules import SLUG
from signing import actions, vouching
from signing.actions import Context
from signing.errors import NotAllowed, SigningError, WrongPassphrase
from signing.keystore import KeyStore

from . import accounts
from .admin_views import Standing, Waiting, candidates, pending_invitations, standing, waiting, waiting_for
from .errors import Forbidden, FormInvalid, WebError, message_of
from .mail import MailFailed, mail_status, send_enrolment_link
from .pages import AdminPage, csrf_protect
from .reauth import require_recent_password
from .views import OfficialStatus, active_key, commitment_summaries, official_statuses

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
}
MODES = ("pick", "all", "role:official", "role:admin")
MAX_INVITES = 40  # officials one invitation form may name (within the form limit of `pages.FORM_LIMIT`)
SIGN = "sign"  # the throttle scope that counts wrong signing passphrases, an admin's own included


@router.get("", response_class=HTMLResponse)
def dashboard(p: AdminPage, ok: str = "") -> HTMLResponse:
    assert p.user is not None
    ready = p.ledger.is_initialized()
    now = p.now()
    return p.render(
        "admin/index.html",
        officials=official_statuses(p.ledger, now),
        commitments=commitment_summaries(p.ledger) if ready else [],
        ready=ready,
        flash=p.t(FLASHES[ok]) if ok in FLASHES else None,
        own=standing(p.ledger, p.user.nip) if ready else None,
        waiting=waiting(p.ledger, p.user.nip, now) if ready else [],
        invitations=pending_invitations(p.ledger, now),
        mail=mail_status(p.runtime.settings),
    )


@router.get("/officials/new", response_class=HTMLResponse)
def official_form(p: AdminPage) -> HTMLResponse:
    return p.render("admin/official_new.html", form={"role": "official"}, roles=actions.ROLES)


@router.post("/officials/new", response_class=HTMLResponse)
def official_add(
    p: AdminPage,
    nip: Field = "",
    name: Field = "",
    title: Field = "",
    unit: Field = "",
    role: Field = "official",
    email: Field = "",
) -> Response:
    form = {
        "nip": nip[:40],
        "name": name[:300],
        "title": title[:300],
        "unit": unit[:300],
        "role": role[:16],
        "email": email[:300],
    }
    try:
        official = actions.register_official(p.ledger, nip, name, title, unit, role, p.now(), email)
    except RECOVERABLE as e:
        return p.form_error("admin/official_new.html", e, form=form, roles=actions.ROLES)
    return p.redirect(f"/admin?ok=added#o-{official.nip}")


# -- the admin's own signing key -------------------------------------------------------------


class _OpenedOnce(KeyStore):
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


def _acting(p: AdminPage, own: Standing, passphrase: str) -> Context:
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
    ctx = replace(context, keys=_OpenedOnce(context.keys))
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
        ctx = _acting(p, standing(p.ledger, p.user.nip), passphrase)
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
        ctx = _acting(p, standing(p.ledger, p.user.nip), passphrase)
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
        ctx = _acting(p, own, passphrase)
        actions.revoke(ctx, official.nip, reason, p.user.nip, p.now(), passphrase)
    except RECOVERABLE as e:
        return p.form_error("admin/revoke.html", e, official=official, key=key, reason=reason[:500], own=own)
    return p.redirect("/admin?ok=revoked")


# -- publishing ------------------------------------------------------------------------------


def slugify(title: str) -> str:
    """A URL name from a title: ``Komitmen Bersama Smart City`` → ``komitmen-bersama-smart-city``."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")[:80].strip("-")


def _signers(mode: str, picked: list[str], officials: list[OfficialStatus]) -> list[str]:
    if mode == "all":
        return [o.person.nip for o in officials]
    if mode.startswith("role:"):
        return [o.person.nip for o in officials if o.person.role == mode[5:]]
    chosen = set(picked)
    return [o.person.nip for o in officials if o.person.nip in chosen]


@router.get("/commitments/new", response_class=HTMLResponse)
def publish_form(p: AdminPage) -> Response:
    ask = require_recent_password(p)
    if ask is not None:
        return ask
    form = {"title": "", "slug": "", "text": "", "mode": "pick", "picked": []}
    return p.render("admin/publish.html", officials=official_statuses(p.ledger, p.now()), form=form, preview=None)


@router.post("/commitments/new", response_class=HTMLResponse)
def publish(
    p: AdminPage,
    title: Field = "",
    slug: Field = "",
    text: Field = "",
    mode: Field = "pick",
    signer: Annotated[list[str] | None, Form()] = None,
    step: Field = "preview",
    confirm: Field = "",
) -> Response:
    """Two steps: a preview with the text's SHA-256 and the signatories, then publish.

    Publishing needs the fingerprint of the preview the admin saw (`confirm`): a form
    changed after its preview is previewed again instead of published.
    """
    assert p.user is not None
    ask = require_recent_password(p, back="/admin/commitments/new")
    if ask is not None:
        return ask
    officials = official_statuses(p.ledger, p.now())
    picked = [n for n in (signer or []) if len(n) <= 40]
    slug = slug.strip()[:80] or slugify(title)
    form = {
        "title": title[:300],
        "slug": slug,
        "text": text,
        "mode": mode,
        "picked": picked,
    }
    try:
        if not title.strip() or not text.strip():
            raise FormInvalid("err.commitment_empty")
        if not title.strip().isprintable() or any(not c.isprintable() and c not in "\r\n\t" for c in text):
            raise FormInvalid("err.control_chars")  # refused at the preview, not only when publishing
        if mode not in MODES:
            raise FormInvalid("err.mode")
        if not SLUG.fullmatch(slug):
            raise FormInvalid("err.slug")
        nips = _signers(mode, picked, officials)
        if not nips:
            raise FormInvalid("err.no_signers")
        with p.ledger.read() as r:
            taken = r.commitment(slug) is not None
        if taken:
            raise FormInvalid("err.slug_taken", slug=slug)
        body = actions.commitment_text(text)
        fingerprint = hashlib.sha256(json.dumps([slug, title.strip(), body, nips]).encode()).hexdigest()
        if step == "publish" and hmac.compare_digest(confirm, fingerprint):
            actions.publish(p.context(), slug, title, text, nips, p.user.nip, p.now())
            return p.redirect("/admin?ok=published")
    except RECOVERABLE as e:
        return p.form_error("admin/publish.html", e, officials=officials, form=form, preview=None)
    chosen = set(nips)
    preview = {
        "sha256": hashlib.sha256(body.encode()).hexdigest(),
        "text": body,
        "fingerprint": fingerprint,
        "signers": [o.person for o in officials if o.person.nip in chosen],
        "changed": step == "publish",
    }
    return p.render("admin/publish.html", officials=officials, form=form, preview=preview)
