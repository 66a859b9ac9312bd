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
from ledger.errors import NotFound
from ledger.reader import Reader

from .cache import cached
from .i18n import LANGS, Translator
from .pages import AnyPage, safe_next, set_language
from .routes_api import MAX_INDEX, Index
from .views import Person, commitment_summaries, commitment_view, people_by_key

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25


@router.get("/", response_class=HTMLResponse)
@cached
def home(p: AnyPage) -> HTMLResponse:
    ready = p.ledger.is_initialized()
    return p.render("home.html", commitments=commitment_summaries(p.ledger) if ready else [], ready=ready)


@router.get("/commitments/{slug}", response_class=HTMLResponse)
@cached
def commitment(p: AnyPage, slug: Annotated[str, Path(max_length=80)]) -> HTMLResponse:
    view = commitment_view(p.ledger, slug)
    may_sign = p.user is not None and view.asks(p.user.nip)
    return p.render("commitment.html", view=view, summary=view.summary, may_sign=may_sign)


@dataclass(frozen=True)
class EntryLine:
    """One entry as the explorer lists it: what happened, in the page's language."""

    entry: Entry
    summary: str

    @property
    def time(self) -> datetime:
        return self.entry.time


def _describe(entries: list[Entry], r: Reader, p: AnyPage) -> list[EntryLine]:
    keys = {e.fields["key"] for e in entries if "key" in e.fields and "name" not in e.fields}
    who: dict[str, Person] = people_by_key(r, keys) if keys else {}
    return [EntryLine(e, _summary(e, who, p.t)) for e in entries]


def _summary(e: Entry, who: dict[str, Person], t: Translator) -> str:
    """One line about an entry: its kind's `kind.<kind>.summary` message, filled from its
    fields (a name the entry itself does not carry comes from the register)."""
    f = {name: value for name, value in e.fields.items() if name != "key"}  # `key` names the message
    if "key" in e.fields and "name" not in f:  # as the key's enrolment recorded them
        f["name"] = who[e.fields["key"]].name if e.fields["key"] in who else f.get("nip", "")
    if "signers" in f:
        f["n"] = len(f["signers"])
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
    body = json.dumps(entry.body(), indent=2, ensure_ascii=False)
    return p.render("entry.html", line=line, entry=entry, body=body, size=size)


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
