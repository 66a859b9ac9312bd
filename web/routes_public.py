"""Public pages, no login: the commitments and who signed them, the ledger explorer, the
language switch and the API reference."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ledger.entries import Entry
from ledger.errors import InvalidInput, NotFound
from ledger.identity import Identity
from ledger.nip import is_nip
from ledger.reader import Reader
from ledger.times import parse_time
from signing.cert_words import format_nip
from signing.facts import is_signature

from .cache import cached
from .i18n import LANGS, Translator
from .pages import AnyPage, safe_next, set_language
from .routes_api import MAX_INDEX, Index
from .views import Person, Revocation, commitment_summaries, commitment_view, people_by_key

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25


@router.get("/", response_class=HTMLResponse)
@cached
def home(p: AnyPage) -> HTMLResponse:
    ready = p.ledger.is_initialized()
    commitments = commitment_summaries(p.ledger) if ready else []
    return p.render("home.html", commitments=commitments, ready=ready, now=p.now())


@router.get("/commitments/{slug}", response_class=HTMLResponse)
@cached
def commitment(p: AnyPage, slug: Annotated[str, Path(max_length=80)]) -> HTMLResponse:
    view = commitment_view(p.ledger, slug)
    closed = view.closed(p.now())
    may_sign = p.user is not None and view.asks(p.user.nip) and not closed
    return p.render("commitment.html", view=view, summary=view.summary, may_sign=may_sign, closed=closed)


@dataclass(frozen=True)
class EntryLine:
    """One entry as the explorer lists it: what happened, in the page's language."""

    entry: Entry
    summary: str

    @property
    def time(self) -> datetime:
        return self.entry.time


def _describe(entries: list[Entry], r: Reader, p: AnyPage) -> list[EntryLine]:
    """The entries' lines; an official an entry names by NIP and key only (a revocation, a
    signature before rules 4, a decline) is named as the ledger knew them at that entry."""
    unnamed = [e for e in entries if "key" in e.fields and "name" not in e.fields]
    at = r.identities_at((e.fields["nip"], e.index) for e in unnamed)
    missing = {e.fields["key"] for e in unnamed if (e.fields["nip"], e.index) not in at}
    by_key = people_by_key(r, missing) if missing else {}  # none in force before it: its key's enrolment
    lines = []
    for e in entries:
        identity = at.get((e.fields.get("nip", ""), e.index))
        who = {e.fields["key"]: Person.holding(e.fields["nip"], identity)} if identity is not None else by_key
        lines.append(EntryLine(e, _summary(e, who, p.t)))
    return lines


# The message of a kind whose entry holds an optional field: (field, message key).
_SUMMARY_WITH = {"commitment.published": ("deadline", "kind.commitment.published.summary_deadline")}


def _time(value: object) -> object:
    """A time field of an entry (the ledger's spelling) as a datetime, shown in WIB."""
    try:
        return parse_time(value) if isinstance(value, str) else value
    except InvalidInput:
        return value


def _summary(e: Entry, who: dict[str, Person], t: Translator) -> str:
    """One line about an entry: its kind's `kind.<kind>.summary` message, filled from its
    fields (a name the entry itself does not carry: from `who`, by the entry's key).
    `who` in a message is the name, with "(NIP …)" only when the identifier is a NIP."""
    f = {name: value for name, value in e.fields.items() if name != "key"}  # `key` names the message
    if "key" in e.fields and "name" not in f:  # as the ledger knew them at this entry
        f["name"] = who[e.fields["key"]].name if e.fields["key"] in who else f.get("nip", "")
    if "name" in f:
        nip = f.get("nip")
        f["who"] = t("public.who_nip", name=f["name"], nip=format_nip(nip)) if nip and is_nip(nip) else f["name"]
    if {"name", "title", "unit"} <= f.keys():  # an identity: the position as signed under it
        f["capacity"] = Identity.of_fields(f).capacity
    if "signers" in f:
        f["n"] = len(f["signers"])
    if "deadline" in f:
        f["deadline"] = _time(f["deadline"])
    optional = _SUMMARY_WITH.get(e.kind)
    if optional is not None and optional[0] in f:  # a field a later version added, said when there
        return t(optional[1], **f)
    return t(f"kind.{e.kind}.summary", **f)


@router.get("/ledger", response_class=HTMLResponse)
@cached
def ledger_page(p: AnyPage, start: Annotated[int | None, Query(ge=0, le=MAX_INDEX)] = None) -> HTMLResponse:
    ledger = p.ledger
    size, lines, checkpoint = 0, [], None
    if ledger.is_initialized():
        with ledger.read() as r:  # one snapshot: the entries, their names and the checkpoint agree
            size = r.size()
            if start is None:
                start = max(0, size - PAGE_SIZE)
            lines = _describe(r.entries(start, PAGE_SIZE), r, p) if start < size else []
            checkpoint = r.checkpoint().note if size else None
    start = start or 0
    pager = {
        "older": max(0, start - PAGE_SIZE) if start > 0 else None,
        "newer": start + PAGE_SIZE if start + PAGE_SIZE < size else None,
        "first": start,
        "last": start + len(lines) - 1,
    }
    return p.render(
        "ledger.html",
        size=size,
        lines=list(reversed(lines)),
        pager=pager,
        checkpoint=checkpoint,
        vkey=str(ledger.verifier) if size else None,
    )


@router.get("/ledger/{index}", response_class=HTMLResponse)
@cached
def entry_page(p: AnyPage, index: Index) -> HTMLResponse:
    with p.ledger.read() as r:
        entry = r.entry(index)
        line = _describe([entry], r, p)[0]
        size = r.size()
        signed = is_signature(entry)
        revoked = Revocation.of(r.key(entry.fields["key"])) if signed else None
    body = json.dumps(entry.body(), indent=2, ensure_ascii=False)
    revoked_later = revoked if revoked is not None and revoked.index > entry.index else None
    return p.render("entry.html", line=line, entry=entry, body=body, size=size, revoked_later=revoked_later)


@router.get("/lang/{lang}")
def switch_language(request: Request, lang: str, next: str = "/") -> RedirectResponse:
    """Remember the chosen language in a cookie and go back to the page it was chosen on."""
    if lang not in LANGS:
        raise NotFound(f"there is no language {lang!r}", code="language.unknown", lang=lang)
    response = RedirectResponse(safe_next(next, "/"), status_code=303)
    set_language(request, response, lang)
    return response


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request, p: AnyPage) -> HTMLResponse:
    """The API reference, rendered here from the OpenAPI schema: no CDN, no script."""
    schema: dict[str, Any] = request.app.openapi()
    operations = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            params = [
                {
                    "name": prm["name"],
                    "where": prm["in"],
                    "required": prm.get("required", False),
                    "schema": _type_of(prm.get("schema", {})),
                }
                for prm in op.get("parameters", [])
            ]
            content = sorted({ctype for r in op.get("responses", {}).values() for ctype in r.get("content", {})})
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "params": params,
                    "content": content,
                }
            )
    return p.render("docs.html", operations=operations, info=schema.get("info", {}))


def _type_of(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        return " | ".join(_type_of(s) for s in schema["anyOf"])
    bounds = [f"{k} {schema[k]}" for k in ("minimum", "maximum", "maxLength") if k in schema]
    json_type: str = schema.get("type", "?")
    return json_type + (f" ({', '.join(bounds)})" if bounds else "")
