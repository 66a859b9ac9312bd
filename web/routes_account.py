"""Log in and out, enrol from a one-time link, the official's own page, and signing.

Every POST here carries the session's CSRF token (`csrf_protect`, on the router). An
official signs only as themself: the signer is the session's official, never a form field.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ledger.errors import LedgerError
from ledger.reader import KeyRecord, OfficialRecord
from ledger.store import Appended
from signing import actions, vouching
from signing.errors import NotAllowed, SigningError, WrongPassphrase

from . import accounts, key_history
from .errors import FormInvalid, Throttled, WebError
from .pages import SESSION_COOKIE, AnyPage, Page, UserPage, csrf_protect, safe_next, set_cookie
from .views import CommitmentView, SignedBy, active_key, commitment_view, duties

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Field = Annotated[str, Form()]
Slug = Annotated[str, Path(max_length=80)]
Token = Annotated[str, Path(max_length=100)]
RECOVERABLE = (WebError, LedgerError, SigningError)
DEVICE_COOKIE = "ikrar_device"  # signed at a login: this browser may skip its NIP's ceiling (`accounts`)


def _home_of(p: AnyPage) -> str:
    return "/admin" if p.user is not None and p.user.role == "admin" else "/me"


@router.get("/login", response_class=HTMLResponse)
def login_form(p: AnyPage, next: str = "") -> Response:
    if p.user is not None:
        return p.redirect(safe_next(next, _home_of(p)))
    return p.render("login.html", next=safe_next(next, ""), nip="")


def login_origin(p: Page, nip: str) -> tuple[str, bool]:
    """Where a login attempt for `nip` comes from: the client address it is counted under
    (`request.client`, which uvicorn takes from a trusted proxy's header only), and whether
    the browser holds this NIP's device cookie."""
    client = p.request.client
    cookie = p.request.cookies.get(DEVICE_COOKIE)
    known = accounts.known_device(p.runtime.form_secret, cookie, nip, p.now())
    return accounts.address_of(client.host if client else None), known


@router.post("/login", response_class=HTMLResponse)
def login(p: AnyPage, nip: Field = "", password: Field = "", next: Field = "") -> Response:
    try:
        official = accounts.authenticate(p.ledger, nip, password, p.now(), *login_origin(p, nip))
    except RECOVERABLE as e:
        return p.form_error("login.html", e, next=safe_next(next, ""), nip=nip[:40])
    previous = p.ledger.register.record_login(official.nip, p.now())  # before the session notes this one
    replaced = p.session.id_hash if p.session is not None else None
    p.new_cookie, p.session = accounts.new_session(
        p.ledger, official.nip, p.now(), p.runtime.settings.session_hours, replaced
    )
    p.user = official
    response = p.redirect(key_history.first_page(p, previous, safe_next(next, _home_of(p))))
    key_history.remember_login(p, response, previous)  # a key event since `previous` is told first
    device = accounts.device_token(p.runtime.form_secret, official.nip, p.now())
    set_cookie(p.request, response, DEVICE_COOKIE, device, accounts.DEVICE_DAYS * 86400)
    return response


@router.post("/logout")
def logout(p: AnyPage) -> RedirectResponse:
    if p.session is not None:
        accounts.end_session(p.ledger, p.session.id_hash)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows about a pending link; `waits`: the link's invitation
    still waits for a second admin's approval, so no key can be made with it yet."""

    official: OfficialRecord
    has_key: bool
    token: str
    expires: datetime
    waits: bool = False
    min_password: int = accounts.MIN_PASSWORD
    min_passphrase: int = actions.MIN_PASSPHRASE


def _enrolment(p: AnyPage, token: str) -> Enrolment:
    """Raises LinkInvalid for an unknown, used or expired link."""
    link = accounts.pending_enrolment(p.ledger, token, p.now())
    official = actions.get_official(p.ledger, link.nip)
    invitation = p.ledger.invitations.by_token(vouching.token_hash(token))
    waits = invitation is not None and not invitation.ready()
    return Enrolment(official, active_key(p.ledger, official.nip) is not None, token, link.expires_at, waits)


@router.get("/enrol/{token}", response_class=HTMLResponse)
def enrol_form(p: AnyPage, token: Token) -> HTMLResponse:
    return p.render("enrol.html", enrolment=_enrolment(p, token))


@router.post("/enrol/{token}", response_class=HTMLResponse)
def enrol(
    p: AnyPage,
    token: Token,
    password: Field = "",
    password2: Field = "",
    passphrase: Field = "",
    passphrase2: Field = "",
) -> HTMLResponse:
    """Choose the login password and, when there is no active key yet, the signing
    passphrase; the key is made and `key.enrolled` appended. The link is then used up."""
    shown = _enrolment(p, token)
    nip, now = shown.official.nip, p.now()
    appended: Appended | None = None
    try:
        accounts.check_new_password(password, password2, nip)
        if not shown.has_key:
            actions.check_new_passphrase(passphrase, password)
            if passphrase != passphrase2:
                raise FormInvalid("err.passphrase_mismatch")
        hashed = accounts.hash_password(password)  # a Busy comes before the link is used and the key made
        accounts.claim_enrolment(p.ledger, token, now)
        try:
            if not shown.has_key:
                appended = actions.enrol(p.context(), nip, passphrase, now, password, token=token)  # its invitation
            accounts.set_password(p.ledger, nip, password, now, hashed)
        except BaseException:
            accounts.release_enrolment(p.ledger, token)
            raise
    except RECOVERABLE as e:
        return p.form_error("enrol.html", e, enrolment=shown)
    return p.render("enrol_done.html", official=shown.official, entry=appended.entry if appended else None)


@router.get("/me", response_class=HTMLResponse)
def me(p: UserPage, then: Annotated[str, Query(max_length=500)] = "") -> HTMLResponse:
    """The official's page: the news of their key since their previous login first (then
    the way on to `then`, where the login was going), their key and its history, their duties."""
    assert p.user is not None
    nip = p.user.nip
    return p.render(
        "me.html",
        key=active_key(p.ledger, nip),
        history=key_history.history(p, then),
        duties=duties(p.ledger, nip) if p.ledger.is_initialized() else [],
        throttled=accounts.throttle_state(p.ledger, "sign", nip, p.now()),
    )


@dataclass(frozen=True)
class Signing:
    """What the signing page shows: the commitment, the official's key and any throttle."""

    view: CommitmentView
    key: KeyRecord | None
    throttled: Throttled | None
    origin: str

    def mine(self, nip: str) -> SignedBy | None:
        return next((s for s in self.view.signed if s.person.nip == nip), None)

    def asks(self, nip: str) -> bool:
        return self.view.asks(nip)


def _signing(p: UserPage, slug: str) -> Signing:
    assert p.user is not None
    nip = p.user.nip
    return Signing(
        commitment_view(p.ledger, slug),
        active_key(p.ledger, nip),
        accounts.throttle_state(p.ledger, "sign", nip, p.now()),
        p.ledger.origin,
    )


@router.get("/sign/{slug}", response_class=HTMLResponse)
def sign_form(p: UserPage, slug: Slug, done: bool = False) -> HTMLResponse:
    """The text to sign, or, once signed, the signature: ledger index, time and links."""
    assert p.user is not None
    shown = _signing(p, slug)
    mine = shown.mine(p.user.nip)
    if mine is not None:
        return p.render("signed.html", signing=shown, signature=mine, fresh=done)
    if not shown.asks(p.user.nip):
        raise NotAllowed(
            f"official {p.user.nip} is not a required signatory of {slug!r}",
            code="sign.not_signatory",
            nip=p.user.nip,
            slug=slug,
        )
    return p.render("sign.html", signing=shown)


@router.post("/sign/{slug}", response_class=HTMLResponse)
def sign(p: UserPage, slug: Slug, read: Field = "", passphrase: Field = "") -> Response:
    assert p.user is not None
    nip, now = p.user.nip, p.now()
    try:
        if read != "yes":
            raise FormInvalid("err.must_read")
        if not passphrase:
            raise FormInvalid("err.passphrase_missing")
        if len(passphrase) > accounts.MAX_SECRET:
            raise FormInvalid("err.too_long")
        accounts.check_throttle(p.ledger, "sign", nip, now)
        settle = partial(accounts.settle_attempt, p.ledger, "sign", nip, now)
        try:
            # Settled once the key opened, before anything is appended: a throttled attempt signs nothing.
            actions.sign(p.context(), slug, nip, passphrase, p.now, authorize=partial(settle, True))
        except WrongPassphrase:
            settle(False)  # raises Throttled while withheld, or when this failure locks signing
            raise
    except RECOVERABLE as e:
        # The page is read only to show the form again: a signature that went through
        # never builds it (it was half of a signing request's cost; docs/PERFORMANCE.md).
        return p.form_error("sign.html", e, signing=replace(_signing(p, slug), throttled=None))
    return p.redirect(f"/sign/{slug}?done=1")
