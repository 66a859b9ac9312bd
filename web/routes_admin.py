"""The Diskominfo operator's pages (role `admin` only): officials, enrolment links, key
revocation and publishing a commitment. Every change to the ledger goes through
`signing.actions`, which appends its entry; `by` records the admin's NIP."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path
from fastapi.responses import HTMLResponse, Response

from ledger.errors import LedgerError
from ledger.reader import KeyRecord, OfficialRecord
from ledger.rules import SLUG
from signing import actions
from signing.errors import NotAllowed, SigningError

from . import accounts
from .errors import FormInvalid, WebError
from .pages import AdminPage, csrf_protect
from .views import OfficialStatus, active_key, commitment_summaries, official_statuses

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf_protect)])

Field = Annotated[str, Form()]
Nip = Annotated[str, Path(max_length=40)]
RECOVERABLE = (WebError, LedgerError, SigningError)
FLASHES = ("added", "revoked", "published")
MODES = ("pick", "all", "role:official", "role:admin")


@router.get("", response_class=HTMLResponse)
def dashboard(p: AdminPage, ok: str = "") -> HTMLResponse:
    ready = p.ledger.is_initialized()
    return p.render(
        "admin/index.html",
        officials=official_statuses(p.ledger, p.now()),
        commitments=commitment_summaries(p.ledger) if ready else [],
        ready=ready,
        flash=p.t(f"flash.{ok}") if ok in FLASHES else None,
    )


@router.get("/officials/new", response_class=HTMLResponse)
def official_form(p: AdminPage) -> HTMLResponse:
    return p.render("admin/official_new.html", form={"role": "official"}, roles=actions.ROLES)


@router.post("/officials/new", response_class=HTMLResponse)
def official_add(
    p: AdminPage, nip: Field = "", name: Field = "", title: Field = "", unit: Field = "", role: Field = "official"
) -> Response:
    form = {"nip": nip[:40], "name": name[:300], "title": title[:300], "unit": unit[:300], "role": role[:16]}
    try:
        official = actions.register_official(p.ledger, nip, name, title, unit, role, p.now())
    except RECOVERABLE as e:
        return p.form_error("admin/official_new.html", e, form=form, roles=actions.ROLES)
    return p.redirect(f"/admin?ok=added#o-{official.nip}")


@router.post("/officials/{nip}/invite", response_class=HTMLResponse)
def invite(p: AdminPage, nip: Nip) -> HTMLResponse:
    """A new one-time enrolment link, shown once for the admin to pass on."""
    assert p.user is not None
    official = actions.get_official(p.ledger, nip)
    token, expires = accounts.issue_enrolment(
        p.ledger, official.nip, p.user.nip, p.now(), p.runtime.settings.enrol_hours
    )
    link = f"{p.runtime.settings.base_url}/enrol/{token}"  # IKRAR_BASE_URL, never the request's Host
    return p.render(
        "admin/invite.html",
        official=official,
        link=link,
        expires=expires,
        has_key=active_key(p.ledger, official.nip) is not None,
    )


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
def revoke_form(p: AdminPage, nip: Nip) -> HTMLResponse:
    official, key = _revocable(p, nip)
    return p.render("admin/revoke.html", official=official, key=key, reason="")


@router.post("/officials/{nip}/revoke", response_class=HTMLResponse)
def revoke(p: AdminPage, nip: Nip, reason: Field = "") -> Response:
    assert p.user is not None
    official, key = _revocable(p, nip)
    try:
        actions.revoke(p.context(), official.nip, reason, p.user.nip, p.now())
    except RECOVERABLE as e:
        return p.form_error("admin/revoke.html", e, official=official, key=key, reason=reason[:500])
    return p.redirect("/admin?ok=revoked")


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
def publish_form(p: AdminPage) -> HTMLResponse:
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
