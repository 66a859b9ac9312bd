"""The admins' page of roles (rules version 5), `/admin/roles`: who holds which role for
which unit as the ledger's `role.assigned` entries say, every grant and withdrawal before,
and the form that grants or withdraws a role, attested with the admin's own signing key
(`signing.apps.assign_role`) as a mutasi is (`web.routes_admin`).

The roles are `ledger.application.ROLES`. The unit of a Kepala PD's or a PD operator's role
is a Perangkat Daerah of the city's list (`signing.agencies`, ``IKRAR_AGENCIES_FILE``),
exactly as named there; a reviewer's or the Kepala Dinas Kominfo's is their office, any
one-line text. The form asks for the admin's login password again when it was given too
long ago (`web.reauth`), and for their signing passphrase, counted by the "sign" throttle of
their NIP (`routes_admin.with_own_key`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import HTMLResponse, Response

from ledger.application import PD_HEAD, PD_OPERATOR, ROLES
from ledger.errors import LedgerError
from ledger.reader import OfficialRecord
from ledger.state import APPS_RULES
from signing import apps
from signing.agencies import check_unit
from signing.errors import SigningError
from signing.protocol import name_key

from .admin_views import agency_list, standing
from .errors import FormInvalid, WebError, message_of
from .pages import AdminPage, csrf_protect
from .reauth import require_recent_password
from .routes_admin import with_own_key  # the admin's own key, opened under the "sign" throttle
from .views import Person, official_statuses

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf_protect)])

Field = Annotated[str, Form()]
Given = Annotated[str, Query(max_length=300)]
RECOVERABLE = (WebError, LedgerError, SigningError)
AGENCY_ROLES = (PD_HEAD, PD_OPERATOR)  # their unit is a Perangkat Daerah of the city's list
GRANTS = ("yes", "no")  # the form's `grant`: give the role, or withdraw it
FLASHES = {"granted": "work.roles.flash.granted", "withdrawn": "work.roles.flash.withdrawn"}
MAX_REASON = 500  # characters of a reason shown again in the form


@dataclass(frozen=True)
class Holding:
    """A role in force as the page lists it: who (`person`, their identity in the register),
    the role, its unit, and the entry that gave it."""

    person: Person
    role: str
    unit: str
    index: int
    time: datetime

    def withdraw_link(self) -> str:
        """The form below, filled in to withdraw this role."""
        query = urlencode({"nip": self.person.nip, "role": self.role, "unit": self.unit, "grant": "no"})
        return f"/admin/roles?{query}#role-form"


@dataclass(frozen=True)
class Change:
    """A grant or a withdrawal, as the history lists it: who, which role and unit, why, and
    the admin who attested it (names from the register; the NIP when it knows none)."""

    index: int
    time: datetime
    person: Person
    role: str
    unit: str
    grant: bool
    reason: str
    by: Person


def _person(people: dict[str, OfficialRecord], nip: str) -> Person:
    return Person.of(people.get(nip), nip)


def roles_view(p: AdminPage) -> tuple[int, list[Holding], list[Change]]:
    """The ledger's rules version, the roles in force (by role, then unit, then name) and
    every grant and withdrawal, newest first: one snapshot."""
    with p.ledger.read() as r:
        rules = int(r.meta().get("rules", "1"))
        if rules < APPS_RULES:
            return rules, [], []
        held, events = r.roles(), r.role_events()
        people = {
            o.nip: o
            for o in r.officials({x.nip for x in held} | {e.nip for e in events} | {e.attested_by for e in events})
        }
    order = {role: n for n, role in enumerate(ROLES)}
    holdings = sorted(
        (Holding(_person(people, x.nip), x.role, x.unit, x.index, x.time) for x in held),
        key=lambda h: (order.get(h.role, len(order)), h.unit, h.person.name),
    )
    changes = [
        Change(
            e.index, e.time, _person(people, e.nip), e.role, e.unit, e.grant, e.reason, _person(people, e.attested_by)
        )
        for e in sorted(events, key=lambda e: e.index, reverse=True)
    ]
    return rules, holdings, changes


def _page(p: AdminPage, form: dict[str, str], **context: Any) -> dict[str, Any]:
    assert p.user is not None
    rules, holdings, changes = roles_view(p)
    people = sorted((o.person for o in official_statuses(p.ledger, p.now())), key=lambda x: name_key(x.name))
    return {
        "form": form,
        "rules": rules,
        "apps_rules": APPS_RULES,
        "holdings": holdings,
        "changes": changes,
        "officials_options": [(o.nip, f"{o.name} — {o.nip} ({o.unit})") for o in people],
        "roles_options": [(role, p.t(f"work.role.{role}")) for role in ROLES],
        "agencies": agency_list(p.runtime.settings),
        "own": standing(p.ledger, p.user.nip),
        "max_reason": MAX_REASON,
        **context,
    }


FIELDS = {  # the field an error is about, by its code (a web error's key, a core error's code)
    "work.roles.err.nip": "nip",
    "work.roles.err.role": "role",
    "work.roles.err.grant": "grant",
    "work.roles.err.unit": "unit",
    "official.unit_unknown": "unit",
    "official.unknown": "nip",
    "role.unknown": "nip",
    "role.no_key": "nip",
    "role.held": "role",
    "role.not_held": "role",
    "role.role": "role",
    "role.unit": "unit",
    "role.reason": "reason",
    "text.control_chars": "reason",
    "statement.line_break": "reason",
    "key.self_attested": "nip",
    "err.passphrase_missing": "passphrase",
    "err.too_long": "passphrase",
    "vouching.err.wrong_passphrase": "passphrase",
}


def field_errors(e: Exception, message: str) -> dict[str, str]:
    """The form's field `e` is about, with its message (none when it is about the whole form)."""
    code = e.key if isinstance(e, WebError) else getattr(e, "code", "")
    field = FIELDS.get(code)
    return {field: message} if field else {}


def _form(nip: str, role: str, unit: str, grant: str, reason: str) -> dict[str, str]:
    """The form as typed, to show again (each field cut to a sane length)."""
    return {
        "nip": nip.strip()[:40],
        "role": role[:20],
        "unit": unit[:300],
        "grant": grant if grant in GRANTS else "yes",
        "reason": reason[:MAX_REASON],
    }


@router.get("/roles", response_class=HTMLResponse)
def roles_page(
    p: AdminPage, nip: Given = "", role: Given = "", unit: Given = "", grant: Given = "yes", ok: Given = ""
) -> Response:
    """The roles in force, their history, and the form (filled in from the query: a row's
    "withdraw" link names the role to withdraw)."""
    ask = require_recent_password(p)
    if ask is not None:
        return ask
    flash = p.t(FLASHES[ok]) if ok in FLASHES else None
    return p.render("admin/roles.html", **_page(p, _form(nip, role, unit, grant, ""), flash=flash))


@router.post("/roles", response_class=HTMLResponse)
def assign(
    p: AdminPage,
    nip: Field = "",
    role: Field = "",
    unit: Field = "",
    grant: Field = "yes",
    reason: Field = "",
    passphrase: Field = "",
) -> Response:
    """Append `role.assigned`: grant (or withdraw) `role` for `unit` to the official `nip`,
    for `reason`, attested with the admin's own key. Refused, with nothing written and the
    form kept: a role or grant not of the lists, an agency not of the city's list for a
    Kepala PD or a PD operator, a wrong passphrase, or whatever the rules refuse (the
    official has no key, holds the role already or does not hold it, gives it themself)."""
    assert p.user is not None
    form = _form(nip, role, unit, grant, reason)
    ask = require_recent_password(p, back="/admin/roles")
    if ask is not None:
        return ask
    try:
        if not form["nip"]:
            raise FormInvalid("work.roles.err.nip")
        if role not in ROLES:
            raise FormInvalid("work.roles.err.role")
        if grant not in GRANTS:
            raise FormInvalid("work.roles.err.grant")
        chosen = check_unit(unit, agency_list(p.runtime.settings)) if role in AGENCY_ROLES else " ".join(unit.split())
        if not chosen:
            raise FormInvalid("work.roles.err.unit")
        ctx = with_own_key(p, standing(p.ledger, p.user.nip), passphrase)
        apps.assign_role(ctx, form["nip"], role, chosen, grant == "yes", reason, p.user.nip, passphrase, p.now())
    except RECOVERABLE as e:
        page = _page(p, form)
        return p.form_error("admin/roles.html", e, field_errors=field_errors(e, message_of(e, p.t)), **page)
    done = "granted" if grant == "yes" else "withdrawn"
    return p.redirect(f"/admin/roles?ok={done}#history-h")
