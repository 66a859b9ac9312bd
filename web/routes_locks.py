"""The admin's page of locks (role `admin` only): who may not log in from which address, or
may not sign, and for how long; the locks lifted before, by whom and when. Lifting a lock
asks for the admin's password again when it was given too long ago (`web.reauth`), and is
recorded in the register (`lock_lift`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, Response

from ledger.reader import OfficialRecord
from ledger.register import LockLiftRecord, ThrottleRecord

from . import accounts
from .pages import AdminPage, csrf_protect, safe_next
from .reauth import require_recent_password

router = APIRouter(prefix="/admin/locks", include_in_schema=False, dependencies=[Depends(csrf_protect)])

Field = Annotated[str, Form()]
PAGE = "/admin/locks"
FLASHES = ("lifted", "gone")


@dataclass(frozen=True)
class HeldLock:
    lock: ThrottleRecord
    person: OfficialRecord | None  # None: a NIP no one registered has (someone guessed)


@dataclass(frozen=True)
class Lifted:
    lift: LockLiftRecord
    person: OfficialRecord | None
    by: OfficialRecord | None


def _people(p: AdminPage, nips: Iterable[str]) -> dict[str, OfficialRecord]:
    with p.ledger.read() as r:
        return {o.nip: o for o in r.officials(set(nips))}


@router.get("", response_class=HTMLResponse)
def locks(p: AdminPage, ok: str = "") -> HTMLResponse:
    now = p.now()
    held = accounts.current_locks(p.ledger, now)
    lifts = accounts.lock_lifts(p.ledger)
    people = _people(p, [h.nip for h in held] + [x.nip for x in lifts] + [x.lifted_by for x in lifts])
    return p.render(
        "admin/locks.html",
        locks=[HeldLock(h, people.get(h.nip)) for h in held],
        lifts=[Lifted(x, people.get(x.nip), people.get(x.lifted_by)) for x in lifts],
        now=now,
        flash=p.t(f"locks.flash.{ok}") if ok in FLASHES else None,
    )


@router.post("/lift", response_class=HTMLResponse)
def lift(p: AdminPage, scope: Field = "", nip: Field = "", address: Field = "", next: Field = "") -> Response:
    """Lift one lock (after the password, when it is stale) and record who did, and when;
    then back to this page, or to `next` (a page of this site: the ceremony view lifts in place)."""
    assert p.user is not None
    back = safe_next(next, PAGE)
    ask = require_recent_password(p, back=back)
    if ask is not None:
        return ask
    lifted = accounts.lift_lock(p.ledger, scope, nip, address or None, p.user.nip, p.now())
    path, _, fragment = back.partition("#")
    joined = f"{path}{'&' if '?' in path else '?'}ok={'lifted' if lifted else 'gone'}"
    return p.redirect(joined + (f"#{fragment}" if fragment else ""))
