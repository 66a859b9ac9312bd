"""Log in and out, enrol from a one-time link, the official's own page, and signing.

Every POST here carries the session's CSRF token (`csrf_protect`, on the router). An
official signs only as themself: the signer is the session's official, never a form field.
The signing page `comes_back`: a session that ended while it was open leads to the login
form and back to it, a stale form to the page again, never to an error page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ledger.errors import LedgerError
from ledger.note import VerifierKey
from ledger.reader import KeyRecord, OfficialRecord, RoleRecord
from ledger.state import IDENTITY_RULES
from ledger.statements import Statement
from ledger.store import Appended
from signing import actions, vouching
from signing.errors import NotAllowed, SigningError, WeakPassphrase, WrongPassphrase

from . import accounts, key_history
from .errors import FormInvalid, Throttled, WebError
from .pages import (
    AGAIN,
    ENDED,
    SESSION_COOKIE,
    AnyPage,
    Page,
    SessionRoute,
    UserPage,
    comes_back,
    csrf_protect,
    safe_next,
    set_cookie,
)
from .views import CommitmentView, DeclinedBy, Person, SignedBy, active_key, commitment_view, duties

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)], route_class=SessionRoute)

Field = Annotated[str, Form()]
Slug = Annotated[str, Path(max_length=80)]
Token = Annotated[str, Path(max_length=100)]
RECOVERABLE = (WebError, LedgerError, SigningError)
DEVICE_COOKIE = "ikrar_device"  # signed at a login: this browser may skip its NIP's ceiling (`accounts`)
ENDED_NOTICES = {"sign": "sign.session_ended"}  # why the login form is shown again (`pages.comes_back`)


def _home_of(p: AnyPage) -> str:
    return "/admin" if p.user is not None and p.user.role == "admin" else "/me"


@router.get("/login", response_class=HTMLResponse)
def login_form(p: AnyPage, next: str = "", ended: Annotated[str, Query(alias=ENDED, max_length=20)] = "") -> Response:
    """The login form; `ended` says why it is shown again (a session that ended on a form)."""
    if p.user is not None:
        return p.redirect(safe_next(next, _home_of(p)))
    notice = ENDED_NOTICES.get(ended)
    return p.render("login.html", next=safe_next(next, ""), nip="", notice=p.t(notice) if notice else None)


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
    previous = _log_in(p, official)
    response = p.redirect(key_history.first_page(p, previous, safe_next(next, _home_of(p))))
    _remember(p, response, previous)
    return response


def _log_in(p: Page, official: OfficialRecord) -> datetime | None:
    """Start `official`'s session (ending the request's own, if any) for this request's
    answer; returns their login before this one."""
    previous = p.ledger.register.record_login(official.nip, p.now())  # before the session notes this one
    replaced = p.session.id_hash if p.session is not None else None
    p.new_cookie, p.session = accounts.new_session(
        p.ledger, official.nip, p.now(), p.runtime.settings.session_hours, replaced
    )
    p.user = official
    return previous


def _remember(p: Page, response: Response, previous: datetime | None) -> None:
    """The cookies of a login on its answer: the previous login (a key event since then is
    told first, `key_history`) and this browser's device token."""
    key_history.remember_login(p, response, previous)
    device = accounts.device_token(p.runtime.form_secret, p.user.nip if p.user else "", p.now())
    set_cookie(p.request, response, DEVICE_COOKIE, device, accounts.DEVICE_DAYS * 86400)


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
    passphrase; the key is made and `key.enrolled` appended. The link is then used up, and
    the official logged in. After an error the form comes back with the field marked, and
    empty: secrets are never sent back in a page."""
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
        return p.form_error("enrol.html", e, enrolment=shown, invalid=_enrol_field(e))
    previous = _log_in(p, shown.official)  # enrolled: logged in at once
    response = p.render("enrol_done.html", official=shown.official, entry=appended.entry if appended else None)
    _remember(p, response, previous)
    return response


_ENROL_FIELDS = {
    "err.password_short": "password",
    "err.password_weak": "password",
    "err.too_long": "password",
    "err.password_mismatch": "password2",
    "err.passphrase_mismatch": "passphrase2",
}


def _enrol_field(e: Exception) -> str | None:
    """The enrolment form's field an error is about (marked invalid), if it is about one."""
    if isinstance(e, WeakPassphrase):
        return "passphrase"
    return _ENROL_FIELDS.get(e.key) if isinstance(e, FormInvalid) else None


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
        declined=_declined_by(p, nip),
        throttled=accounts.throttle_state(p.ledger, "sign", nip, p.now()),
        work_roles=_work_roles(p, nip),
    )


def _work_roles(p: Page, nip: str) -> list[RoleRecord]:
    """The application-verification roles `nip` holds (rules version 5): the way to their work."""
    if not p.ledger.is_initialized():
        return []
    with p.ledger.read() as r:
        return r.roles(nip=nip)


def _declined_by(p: Page, nip: str) -> set[str]:
    """The slugs of the commitments `nip` declined (rules version 4)."""
    if not p.ledger.is_initialized():
        return set()
    with p.ledger.read() as r:
        return {d.slug for d in r.declines() if d.nip == nip}


@dataclass(frozen=True)
class Signing:
    """What the signing page shows: the commitment, the official's key and any throttle,
    who they sign as (`person`: their name and the capacity in force on the ledger), the
    statement their key will sign (its time left open), and whether they may decline
    (rules version 4 on)."""

    view: CommitmentView
    key: KeyRecord | None
    throttled: Throttled | None
    person: Person
    statement: str
    can_decline: bool
    closed: bool = False  # its deadline (rules version 4) has passed: no signing or declining
    max_reason: int = actions.MAX_TEXT  # a decline's reason, in characters

    def mine(self, nip: str) -> SignedBy | None:
        return next((s for s in self.view.signed if s.person.nip == nip), None)

    def declined(self, nip: str) -> DeclinedBy | None:
        return next((d for d in self.view.declined if d.person.nip == nip), None)

    def asks(self, nip: str) -> bool:
        return self.view.asks(nip)


def _statement(p: Page, view: CommitmentView, key: KeyRecord | None, person: Person, rules: int) -> str:
    """The statement `key` would sign now (`ikrar/signature/v2`, naming the capacity, from
    rules version 4), its last line "time …": the moment is the append's."""
    if key is None:
        return ""
    c = view.commitment
    v2 = rules >= IDENTITY_RULES
    name, capacity = (person.name, person.capacity) if v2 else (None, None)
    text = Statement(
        p.ledger.origin, c.slug, c.text_sha256, person.nip, VerifierKey.parse(key.key), p.now(), name, capacity
    )
    return text.text().rsplit("time ", 1)[0] + "time …"


def _signing(p: UserPage, slug: str) -> Signing:
    assert p.user is not None
    nip = p.user.nip
    view = commitment_view(p.ledger, slug)
    with p.ledger.read() as r:
        rules = int(r.meta().get("rules", "1"))
    person = next((x for x in view.pending if x.nip == nip), None) or Person.of(p.user, nip)
    key = active_key(p.ledger, nip)
    return Signing(
        view,
        key,
        accounts.throttle_state(p.ledger, "sign", nip, p.now()),
        person,
        _statement(p, view, key, person, rules),
        rules >= IDENTITY_RULES,
        view.closed(p.now()),
    )


@router.get("/sign/{slug}", response_class=HTMLResponse)
@comes_back("sign")
def sign_form(
    p: UserPage, slug: Slug, done: bool = False, again: Annotated[bool, Query(alias=AGAIN)] = False
) -> HTMLResponse:
    """The text to sign, or, once signed (or declined), the signature (the decline): ledger
    index, time and links. `again`: the form was sent back stale (`pages.comes_back`)."""
    assert p.user is not None
    shown = _signing(p, slug)
    mine, declined = shown.mine(p.user.nip), shown.declined(p.user.nip)
    if mine is not None or declined is not None:
        return p.render("signed.html", signing=shown, signature=mine, decline=declined, fresh=done)
    if not shown.asks(p.user.nip):
        raise NotAllowed(
            f"official {p.user.nip} is not a required signatory of {slug!r}",
            code="sign.not_signatory",
            nip=p.user.nip,
            slug=slug,
        )
    return p.render("sign.html", signing=shown, notice=p.t("sign.form_again") if again else None)


DECIDED = ("sign.already", "sign.declined")  # the official signed or declined this commitment already


def _decided(e: Exception) -> bool:
    """Whether `e` refuses a signature or decline because the official has already signed or
    declined: a second tap while the first was on its way, or a form sent again after its
    answer was lost on the network. The page then shows what the ledger holds (`sign_form`:
    the signature or the decline), not an error; nothing new is appended, no key opened."""
    return getattr(e, "code", None) in DECIDED


def _field_of(e: Exception) -> str | None:
    """The signing or declining form's field an error is about: the box, the reason or the passphrase."""
    if isinstance(e, FormInvalid):
        return {"err.must_read": "read", "err.empty.reason": "reason"}.get(e.key, "passphrase")
    if isinstance(e, LedgerError) and e.code in ("text.empty.reason", "text.long.reason", "text.control_chars"):
        return "reason"
    return "passphrase" if isinstance(e, WrongPassphrase) else None


def _with_passphrase(p: Page, nip: str, act: Callable[[Callable[[], None]], object]) -> None:
    """Run `act` (a signing action given its `authorize`) under the signing throttle: refused
    while it holds, and a wrong passphrase counted (Throttled when it locks)."""
    now = p.now()
    accounts.check_throttle(p.ledger, "sign", nip, now)
    settle = partial(accounts.settle_attempt, p.ledger, "sign", nip, now)
    try:
        # Settled once the key opened, before anything is appended: a throttled attempt signs nothing.
        act(partial(settle, True))
    except WrongPassphrase:
        settle(False)  # raises Throttled while withheld, or when this failure locks signing
        raise


def _check_passphrase(passphrase: str) -> None:
    if not passphrase:
        raise FormInvalid("err.passphrase_missing")
    if len(passphrase) > accounts.MAX_SECRET:
        raise FormInvalid("err.too_long")


def _again(p: Page, slug: str, e: Exception, failed: str, **typed: Any) -> HTMLResponse:
    """The signing page again after a refused `failed` form ("sign" or "decline"), at its
    message, with what was `typed` (never the passphrase)."""
    # The page is read only to show the form again: a signature that went through
    # never builds it (it was half of a signing request's cost; docs/PERFORMANCE.md).
    shown = replace(_signing(p, slug), throttled=None)
    return p.form_error("sign.html", e, signing=shown, failed=failed, invalid=_field_of(e), **typed)


@router.post("/sign/{slug}", response_class=HTMLResponse)
@comes_back("sign")
def sign(p: UserPage, slug: Slug, read: Field = "", passphrase: Field = "") -> Response:
    """Sign as the session's official. After an error the form comes back at its message
    (the form posts to `#sign-box`), with the box as it was and the field marked; the
    passphrase is never sent back."""
    assert p.user is not None
    nip = p.user.nip
    try:
        if read != "yes":
            raise FormInvalid("err.must_read")
        _check_passphrase(passphrase)
        _with_passphrase(p, nip, lambda ok: actions.sign(p.context(), slug, nip, passphrase, p.now, authorize=ok))
    except RECOVERABLE as e:
        if _decided(e):
            return p.redirect(f"/sign/{slug}")
        return _again(p, slug, e, "sign", read=read == "yes")
    return p.redirect(f"/sign/{slug}?done=1")


@router.post("/sign/{slug}/decline", response_class=HTMLResponse)
@comes_back("sign", page="/sign/{slug}")
def decline(p: UserPage, slug: Slug, reason: Field = "", passphrase: Field = "") -> Response:
    """Decline to sign, for a reason, with the signing passphrase (rules version 4 on): a
    signed `commitment.declined` entry, final. Errors as for signing, the reason kept."""
    assert p.user is not None
    nip = p.user.nip
    try:
        if not reason.strip():
            raise FormInvalid("err.empty.reason")
        _check_passphrase(passphrase)
        _with_passphrase(
            p, nip, lambda ok: actions.decline(p.context(), slug, nip, passphrase, reason, p.now, authorize=ok)
        )
    except RECOVERABLE as e:
        if _decided(e):
            return p.redirect(f"/sign/{slug}")
        return _again(p, slug, e, "decline", reason=reason[: actions.MAX_TEXT * 2])
    return p.redirect(f"/sign/{slug}?done=1")
