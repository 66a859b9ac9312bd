"""Sensitive admin actions ask for the password again.

Revoke, invite, approve, publish and unlock go ahead only when the admin gave their
password in this session at most `IKRAR_REAUTH_MINUTES` ago: at login, or again on
`/admin/confirm`. Otherwise the route returns `require_recent_password`'s redirect to that
page, which checks the password as the login does (the same argon2id check, counted by the
same throttle per NIP and client address), notes the time on the session and sends the
admin back to the action's page (a path of this site only). A form whose typed content a
redirect would lose (a commitment's text) can instead carry the password itself:
`require_password_in_form`, with the field of `admin/reauth.html` in its template. A
session cookie on its own, left open or stolen, thus cannot do any of them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ledger.errors import LedgerError
from signing.errors import SigningError

from . import accounts
from .errors import FormInvalid, WebError
from .pages import AdminPage, Page, csrf_protect, safe_next
from .routes_account import login_origin

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf_protect)])

Field = Annotated[str, Form()]
RECOVERABLE = (WebError, LedgerError, SigningError)
CONFIRM = "/admin/confirm"
HOME = "/admin"


def recently_confirmed(session: accounts.SessionInfo | None, now: datetime, minutes: int) -> bool:
    """Whether the password of `session` was given at most `minutes` before `now`."""
    if session is None or session.confirmed_at is None:
        return False
    return now - session.confirmed_at <= timedelta(minutes=minutes)


def password_is_stale(p: Page) -> bool:
    """Whether the admin of `p` gave their password longer ago than IKRAR_REAUTH_MINUTES."""
    return not recently_confirmed(p.session, p.now(), p.runtime.settings.reauth_minutes)


def check_password_again(p: Page, password: str) -> None:
    """Check the logged-in admin's `password` as a login does (argon2id; counted by the
    throttle of their NIP and this client address) and note it on the session. Raises
    FormInvalid, Throttled and Busy as `accounts.authenticate` does."""
    assert p.user is not None and p.session is not None
    accounts.authenticate(p.ledger, p.user.nip, password, p.now(), *login_origin(p, p.user.nip))
    accounts.confirm_password(p.ledger, p.session, p.now())


def require_recent_password(p: Page, back: str | None = None) -> RedirectResponse | None:
    """None when the logged-in admin of `p` gave their password within IKRAR_REAUTH_MINUTES;
    else the redirect to the confirm page, which returns to `back` afterwards (a local path;
    by default the page of this GET, or `/admin` after a POST)."""
    if not password_is_stale(p):
        return None
    if back is None and p.request.method == "GET":
        query = p.request.url.query
        back = p.request.url.path + (f"?{query}" if query else "")
    target = safe_next(back, HOME)
    logger.info("password asked again nip=%s before %s %s", p.user.nip if p.user else None, p.request.method, target)
    return p.redirect(f"{CONFIRM}?next={quote(target, safe='/')}")


def require_password_in_form(p: Page, password: str) -> None:
    """For a form whose typed content a redirect would lose: when the admin's password is
    stale it must come in the form's own `password` field (`password_again` of
    `admin/reauth.html` shows it when `password_is_stale`), and is checked by
    `check_password_again`. Raises FormInvalid (`err.reauth_needed` when it is missing),
    Throttled, Busy; the caller shows its form again with the message, content kept."""
    if not password_is_stale(p):
        return
    if not password:
        raise FormInvalid("err.reauth_needed", minutes=p.runtime.settings.reauth_minutes)
    check_password_again(p, password)


def _form(p: Page, next: str) -> dict[str, Any]:
    return {"next": safe_next(next, HOME), "minutes": p.runtime.settings.reauth_minutes}


@router.get("/confirm", response_class=HTMLResponse)
def confirm_form(p: AdminPage, next: str = "") -> HTMLResponse:
    return p.render("admin/confirm.html", **_form(p, next))


@router.post("/confirm", response_class=HTMLResponse)
def confirm(p: AdminPage, password: Field = "", next: Field = "") -> Response:
    """Check the admin's password as a login does, note it on the session, and go back."""
    try:
        check_password_again(p, password)
    except RECOVERABLE as e:
        return p.form_error("admin/confirm.html", e, **_form(p, next))
    return p.redirect(safe_next(next, HOME))
