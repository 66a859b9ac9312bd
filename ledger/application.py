"""Applications an agency asks Diskominfo to verify (rules version 5): the shapes on the ledger.

A Perangkat Daerah (PD) that wants to build, develop, license or subscribe to an application
asks Dinas Kominfo first. The request is an object (`REQUEST`, checked by `check_request`)
that travels in the `app.submitted` entry as a string: its RFC 8785 canonical JSON
(`canonical_request`), hashed as its UTF-8 bytes (`request_sha256`), and signed by the Kepala
PD over `ikrar/app-request/v1` (`ledger.statements.AppRequest`). A reviewer's checklist
(`CHECKLIST`, `check_checklist`) travels the same way in `app.reviewed`; the Kepala Dinas
Kominfo's decision (`DECISIONS`, with `check_notes`) is signed over `ikrar/app-decision/v1`.
Who may do what is a role given by a `role.assigned` entry (`ROLES`).

Every refusal here is an InvalidInput whose `code` names the object (``app.request``,
``app.checklist``, ``app.notes``, ``app.reasons``) and whose params say which `field` and
what `problem` (one of `PROBLEMS`, plus `limit` or `choices` where the problem has one), so
that a shell can say it in the reader's language: ``app.request`` with ``field="vendor",
problem="required"`` is "the vendor is required when the builder is a vendor".

The rules that use these shapes are the kinds' (`ledger.kinds.app_submitted` and its
siblings); this module knows nothing of the ledger's state.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from .canonical import MAX_INT_DIGITS, canonical_json
from .errors import InvalidInput
from .nip import is_nip, is_official_id

__all__ = [
    "APP_ID",
    "ATTACHMENT",
    "BUILDERS",
    "CHECKLIST",
    "DECIDER",
    "DECISIONS",
    "FINDINGS",
    "HOSTINGS",
    "KINDS_OF_APP",
    "MAX_ATTACHMENT",
    "MAX_ATTACHMENTS",
    "MAX_ITEM",
    "MAX_ITEMS",
    "MAX_NOTE",
    "PD_HEAD",
    "PD_OPERATOR",
    "PROBLEMS",
    "REQUEST",
    "REVIEWER",
    "REVIEWERS",
    "ROLES",
    "SINGLE_HOLDER",
    "SINGLE_PER_UNIT",
    "STATUSES",
    "Field",
    "canonical_checklist",
    "canonical_request",
    "check_checklist",
    "check_notes",
    "check_reasons",
    "check_request",
    "check_text",
    "parse_checklist",
    "parse_request",
    "request_sha256",
]

# -- roles ---------------------------------------------------------------------------------

PD_HEAD = "pd-head"  # Kepala Perangkat Daerah of `unit` (the agency's exact name): signs requests
PD_OPERATOR = "pd-operator"  # prepares requests for `unit`
REVIEWER = "reviewer"  # Diskominfo reviewer (`unit`: the reviewer's office)
DECIDER = "kominfo-head"  # Kepala Dinas Kominfo (`unit`: the office): signs decisions
ROLES = (PD_HEAD, PD_OPERATOR, REVIEWER, DECIDER)
SINGLE_PER_UNIT = (PD_HEAD,)  # one holder a unit: a grant to another ends the previous holder's
SINGLE_HOLDER = (DECIDER,)  # one holder in the whole ledger
REVIEWERS = (REVIEWER, DECIDER)  # who may review or return a request

# -- requests, reviews, decisions ----------------------------------------------------------

APP_ID = re.compile(r"[0-9]{4}-[0-9]{4}")  # YYYY-NNNN: the year of first submission (WIB), a running number
KINDS_OF_APP = ("new", "development", "licence", "subscription")
BUILDERS = ("in_house", "vendor")
HOSTINGS = ("pdn", "city_dc", "other")  # Pusat Data Nasional, the city's data centre, other (with a reason)
DECISIONS = ("recommended", "recommended_with_notes", "not_recommended")
STATUSES = ("submitted", "returned", *DECISIONS)  # diajukan, dikembalikan, and the three decisions
CHECKLIST = ("architecture", "duplication", "hosting", "integration", "security", "personal_data")
FINDINGS = ("fits", "concern", "does_not_fit")
MAX_ATTACHMENT = 10 * 1024 * 1024  # bytes of one attachment
MAX_ATTACHMENTS = 10
MAX_NOTE = 2000  # characters of a checklist note
MAX_ITEMS = 20  # a decision's notes, a return's reasons
MAX_ITEM = 2000  # characters of one of them

# What a refusal's `problem` param may be: the words a shell translates.
PROBLEMS = (
    "json",  # the text is not JSON, or not an object
    "not_canonical",  # the text is not the object's RFC 8785 canonical JSON
    "missing",  # a field is not there
    "unexpected",  # a field that is not one of the object's
    "type",  # a field of another JSON type (`limit`: the type asked for)
    "blank",  # empty or only spaces where a text is asked for
    "too_long",  # longer than `limit` characters
    "line_break",  # a line break in a one-line text
    "control_chars",  # characters that cannot be shown (other than a line break or a tab)
    "choice",  # not one of `choices`
    "range",  # a number outside `minimum`..`limit`
    "date",  # not a date written YYYY-MM-DD
    "required",  # empty, although another answer asks for it
    "personal_data",  # specific personal data, yet no personal data
    "too_many",  # more than `limit` items
    "too_few",  # fewer than `minimum` items
    "sha256",  # not 64 lowercase hex digits
    "twice",  # the same file attached twice
    "identifier",  # not a NIP or an identifier Ikrar gives
    "not_allowed",  # notes with a decision that takes none
)


@dataclass(frozen=True)
class Field:
    """One field of the request object: its JSON type and its bounds.

    A text has `minimum`..`limit` characters (`minimum` 1: not blank) and, when `one_line`,
    no line break; a number lies in `minimum`..`limit`; a choice is one of `choices`.
    """

    type: type
    minimum: int = 0
    limit: int = 0
    one_line: bool = False
    choices: tuple[str, ...] = ()


def _text(minimum: int, limit: int, one_line: bool = False) -> Field:
    return Field(str, minimum, limit, one_line)


def _choice(choices: tuple[str, ...]) -> Field:
    return Field(str, choices=choices)


_BOOL = Field(bool)

# The request object: every field present, no others (README, "Version 5").
REQUEST: Mapping[str, Field] = {
    "name": _text(1, 120, True),
    "description": _text(1, 2000),
    "agency": _text(1, 200, True),
    "developer_unit": _text(0, 200, True),
    "user_unit": _text(0, 200, True),
    "contact": _text(1, 300, True),
    "legal_basis": _text(1, 2000),
    "problem": _text(1, 4000),
    "need": _text(1, 4000),
    "kind": _choice(KINDS_OF_APP),
    "shared_app": _text(0, 200, True),
    "shared_why_not": _text(0, 2000),
    "goals": _text(1, 4000),
    "users_internal": _BOOL,
    "users_external": _BOOL,
    "users_count": Field(int, 0, 100_000_000),
    "target_date": Field(date),
    "budget_amount": Field(int, 0, 10**15),
    "budget_source": _text(1, 200, True),
    "fiscal_year": Field(int, 2000, 2100),
    "builder": _choice(BUILDERS),
    "vendor": _text(0, 200, True),
    "data_processed": _text(1, 4000),
    "personal_data": _BOOL,
    "specific_personal_data": _BOOL,
    "dpia_done": _BOOL,
    "hosting": _choice(HOSTINGS),
    "hosting_reason": _text(0, 2000),
    "splp": _BOOL,
    "sso": _BOOL,
    "integration_note": _text(0, 2000),
    "security_testing": _text(1, 4000),
    "attachments": Field(list, 0, MAX_ATTACHMENTS),
    "prepared_by": Field(str),  # a NIP or identifier; "" when the Kepala PD prepared it
}

# One attachment of a request: the file's title, name, hash and size, and whether the
# public register may serve it (`internal`: the hash stays public, the file does not).
ATTACHMENT: Mapping[str, Field] = {
    "title": _text(1, 200, True),
    "file": _text(1, 200, True),
    "sha256": Field(str),
    "bytes": Field(int, 1, MAX_ATTACHMENT),
    "internal": _BOOL,
}

_HEX64 = re.compile(r"[0-9a-f]{64}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TYPE_NAMES = {str: "string", int: "integer", bool: "boolean", list: "list", dict: "object"}


def _refuse(code: str, what: str, field: str, problem: str, message: str, **params: Any) -> InvalidInput:
    return InvalidInput(f"the {what}'s {field} {message}", code=code, field=field, problem=problem, **params)


def check_text(value: str, spec: Field, refuse: Any, field: str) -> None:
    """A text's bounds: not blank when `minimum` is 1, at most `limit` characters, one line
    when asked, and no character an entry refuses (a control character other than a line
    break or a tab, or any other that cannot be shown). `refuse(field, problem, message,
    **params)` makes the error."""
    if spec.minimum and not value.strip():
        raise refuse(field, "blank", "is blank")
    if spec.limit and len(value) > spec.limit:
        raise refuse(field, "too_long", f"is longer than {spec.limit} characters", limit=spec.limit)
    if spec.one_line and ("\n" in value or "\r" in value):
        raise refuse(field, "line_break", "holds a line break")
    if not value.isprintable() and not value.replace("\n", "").replace("\t", "").isprintable():
        raise refuse(field, "control_chars", "holds characters that cannot be shown")


def _check_field(value: Any, spec: Field, refuse: Any, field: str) -> None:
    kind: Any = spec.type
    if kind is date:
        if type(value) is not str:
            raise refuse(field, "type", "must be of JSON type string", limit="string")
        try:
            if not _DATE.fullmatch(value):
                raise ValueError(value)
            date.fromisoformat(value)
        except ValueError:
            raise refuse(field, "date", "is not a date written YYYY-MM-DD") from None
        return
    if type(value) is not kind:  # a bool is no int here, nor an int a bool
        raise refuse(field, "type", f"must be of JSON type {_TYPE_NAMES[kind]}", limit=_TYPE_NAMES[kind])
    if spec.choices:
        if value not in spec.choices:
            raise refuse(field, "choice", f"is not one of {', '.join(spec.choices)}", choices=", ".join(spec.choices))
    elif kind is str and (spec.minimum or spec.limit):
        check_text(value, spec, refuse, field)
    elif kind is int and not spec.minimum <= value <= spec.limit:
        raise refuse(
            field, "range", f"is not within {spec.minimum}..{spec.limit}", minimum=spec.minimum, limit=spec.limit
        )


def _check_object(obj: Any, spec: Mapping[str, Field], refuse: Any, prefix: str = "") -> None:
    if not isinstance(obj, dict):
        raise refuse(prefix.rstrip(".") or "request", "type", "must be of JSON type object", limit="object")
    for name in spec:
        if name not in obj:
            raise refuse(f"{prefix}{name}", "missing", "is missing")
    for name in obj:
        if name not in spec:
            raise refuse(f"{prefix}{name}", "unexpected", "is not a field of it")
    for name, field_spec in spec.items():
        _check_field(obj[name], field_spec, refuse, f"{prefix}{name}")


def check_request(obj: Any) -> None:
    """Raise InvalidInput (``app.request``, params `field` and `problem`) unless `obj` is a
    request object: exactly the fields of `REQUEST`, each of its type and within its bounds,
    and the answers that ask for another given (`shared_why_not` when `shared_app` names an
    application, `vendor` when a vendor builds it, `hosting_reason` when hosting is
    ``other``, `personal_data` when `specific_personal_data`); at most `MAX_ATTACHMENTS`
    attachments, each of `ATTACHMENT`'s fields, none twice; `prepared_by` empty or a NIP or
    identifier."""

    def refuse(field: str, problem: str, message: str, **params: Any) -> InvalidInput:
        return _refuse("app.request", "request", field, problem, message, **params)

    _check_object(obj, REQUEST, refuse)
    if obj["shared_app"].strip() and not obj["shared_why_not"].strip():
        raise refuse("shared_why_not", "required", "is required when a shared application is named")
    if obj["builder"] == "vendor" and not obj["vendor"].strip():
        raise refuse("vendor", "required", "is required when a vendor builds it")
    if obj["hosting"] == "other" and not obj["hosting_reason"].strip():
        raise refuse("hosting_reason", "required", "is required when it is hosted elsewhere")
    if obj["specific_personal_data"] and not obj["personal_data"]:
        raise refuse("specific_personal_data", "personal_data", "is true although personal_data is false")
    attachments = obj["attachments"]
    if len(attachments) > MAX_ATTACHMENTS:
        raise refuse("attachments", "too_many", f"holds more than {MAX_ATTACHMENTS}", limit=MAX_ATTACHMENTS)
    seen: set[str] = set()
    for i, attachment in enumerate(attachments):
        _check_object(attachment, ATTACHMENT, refuse, f"attachments.{i}.")
        if not _HEX64.fullmatch(attachment["sha256"]):
            raise refuse(f"attachments.{i}.sha256", "sha256", "is not 64 lowercase hex digits")
        if attachment["sha256"] in seen:
            raise refuse(f"attachments.{i}.sha256", "twice", "names a file attached before")
        seen.add(attachment["sha256"])
    prepared_by = obj["prepared_by"]
    if prepared_by and not (is_nip(prepared_by) or is_official_id(prepared_by)):
        raise refuse("prepared_by", "identifier", "is neither a NIP nor an identifier Ikrar gives")


def _canonical_text(obj: Any) -> str:
    return canonical_json(obj).decode("utf-8")


def canonical_request(obj: Any) -> str:
    """The request object as it travels in `app.submitted`'s `request`: its RFC 8785
    canonical JSON, after `check_request` (raises InvalidInput)."""
    check_request(obj)
    return _canonical_text(obj)


def request_sha256(text: str) -> str:
    """The hex SHA-256 of a request's (or any statement field's) UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"a number of {len(text)} digits")
    return int(text)


def _parse(text: str, code: str, what: str) -> Any:
    """The object a canonical JSON text holds; refuses (InvalidInput `code`, field `what`)
    what is not JSON, not an object, or not written in its one canonical spelling."""
    try:
        value = json.loads(text, parse_int=_bounded_int, parse_float=_no_float, parse_constant=_no_float)
    except (ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
        raise InvalidInput(f"the {what} is not JSON: {e}", code=code, field=what, problem="json") from e
    if not isinstance(value, dict):
        raise InvalidInput(f"the {what} is not a JSON object", code=code, field=what, problem="json")
    if _canonical_text(value) != text:
        raise InvalidInput(
            f"the {what} is not written in its canonical JSON (RFC 8785)",
            code=code,
            field=what,
            problem="not_canonical",
        )
    return value


def _no_float(text: str) -> Any:
    raise ValueError(f"{text} is not an integer")


def parse_request(text: str) -> dict[str, Any]:
    """The request object that `app.submitted`'s `request` holds: canonical JSON of an object
    that passes `check_request`. Raises InvalidInput (``app.request``)."""
    value = _parse(text, "app.request", "request")
    check_request(value)
    return dict(value)


# -- the reviewer's checklist --------------------------------------------------------------

_FINDING = {"finding": _choice(FINDINGS), "note": _text(0, MAX_NOTE)}


def check_checklist(obj: Any) -> None:
    """Raise InvalidInput (``app.checklist``, params `field` and `problem`) unless `obj` is a
    checklist: exactly the points of `CHECKLIST`, each ``{"finding": one of FINDINGS,
    "note": text of at most MAX_NOTE characters}``, the note not blank unless the finding is
    ``fits``."""

    def refuse(field: str, problem: str, message: str, **params: Any) -> InvalidInput:
        return _refuse("app.checklist", "checklist", field, problem, message, **params)

    _check_object(obj, dict.fromkeys(CHECKLIST, Field(dict)), refuse)
    for point in CHECKLIST:
        _check_object(obj[point], _FINDING, refuse, f"{point}.")
        if obj[point]["finding"] != "fits" and not obj[point]["note"].strip():
            raise refuse(f"{point}.note", "required", "is required when the finding is not 'fits'")


def canonical_checklist(obj: Any) -> str:
    """The checklist as `app.reviewed`'s `checklist` holds it (canonical JSON), after
    `check_checklist` (raises InvalidInput)."""
    check_checklist(obj)
    return _canonical_text(obj)


def parse_checklist(text: str) -> dict[str, Any]:
    """The checklist `app.reviewed`'s `checklist` holds; raises InvalidInput (``app.checklist``)."""
    value = _parse(text, "app.checklist", "checklist")
    check_checklist(value)
    return dict(value)


# -- a decision's notes, a return's reasons ------------------------------------------------


def _check_items(items: Sequence[Any], code: str, what: str, one_line: bool) -> None:
    def refuse(field: str, problem: str, message: str, **params: Any) -> InvalidInput:
        return InvalidInput(f"{field} {message}", code=code, field=field, problem=problem, **params)

    if len(items) > MAX_ITEMS:
        raise refuse(what, "too_many", f"are more than {MAX_ITEMS}", limit=MAX_ITEMS)
    spec = _text(1, MAX_ITEM, one_line)
    for i, item in enumerate(items):
        if type(item) is not str:
            raise refuse(f"{what}.{i}", "type", "must be of JSON type string", limit="string")
        check_text(item, spec, refuse, f"{what}.{i}")


def check_notes(decision: str, notes: Sequence[Any]) -> None:
    """Raise InvalidInput (``app.notes``) unless `notes` suit `decision`: none for
    ``recommended``; otherwise 1 to `MAX_ITEMS`, each one line, not blank, at most `MAX_ITEM`
    characters (each is a line of the signed decision). A decision not in `DECISIONS` is
    refused too (field ``decision``, problem ``choice``)."""
    if decision not in DECISIONS:
        raise InvalidInput(
            f"decision {decision!r} is not one of {', '.join(DECISIONS)}",
            code="app.notes",
            field="decision",
            problem="choice",
            choices=", ".join(DECISIONS),
        )
    if decision == "recommended":
        if notes:
            raise InvalidInput(
                "a decision 'recommended' carries no notes (choose 'recommended_with_notes')",
                code="app.notes",
                field="notes",
                problem="not_allowed",
            )
        return
    if not notes:
        raise InvalidInput(
            f"a decision {decision!r} needs at least one note",
            code="app.notes",
            field="notes",
            problem="too_few",
            minimum=1,
        )
    _check_items(notes, "app.notes", "notes", one_line=True)


def check_reasons(reasons: Sequence[Any]) -> None:
    """Raise InvalidInput (``app.reasons``) unless `reasons` (why a request goes back to its PD)
    are 1 to `MAX_ITEMS` texts, each not blank and at most `MAX_ITEM` characters."""
    if not reasons:
        raise InvalidInput(
            "a request is returned with at least one reason",
            code="app.reasons",
            field="reasons",
            problem="too_few",
            minimum=1,
        )
    _check_items(reasons, "app.reasons", "reasons", one_line=False)
