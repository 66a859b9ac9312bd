"""The web shell's own error family, and the one table that shows every error in the page's
language.

A web error carries its catalogue key. The ledger's and signing's errors carry a `code` and
the `params` of their message (`ledger.errors.CodedError`); `CODES` maps each code to a
catalogue key of `web/locales/*/*.json` and, where it differs from the class's, an HTTP
status. `web.app` answers every error with `status_of` and `message_of`, in one handler.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from ledger import errors as le
from ledger.nip import is_official_id
from signing import errors as se
from web.i18n import catalogue


class WebError(Exception):
    """Base of the web errors: `key` names the message in `web/locales/*/*.json`."""

    status = 400

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(key)


class FormInvalid(WebError):
    """A form field is missing or malformed; the form is shown again with the message."""

    status = 422


class LoginRequired(WebError):
    """The page needs a logged-in user; pages answer with a redirect to the login form."""

    status = 401

    def __init__(self) -> None:
        super().__init__("err.login_required")


class Forbidden(WebError):
    """The user is logged in but their role does not allow this."""

    status = 403


class CsrfRejected(WebError):
    """A form came back without the token of the session that rendered it."""

    status = 403

    def __init__(self) -> None:
        super().__init__("err.csrf")


class LinkInvalid(WebError):
    """An enrolment link that is unknown, used or expired."""

    status = 410

    def __init__(self) -> None:
        super().__init__("err.link_invalid")


class Throttled(WebError):
    """Too many failed attempts: `until` is when the next attempt is allowed (`params` may
    add `wait`, the timedelta until then, `left`, the attempts before a lock, and `address`)."""

    status = 429

    def __init__(self, key: str, until: datetime, **params: Any) -> None:
        super().__init__(key, until=until, **params)
        self.until = until


class TooLarge(WebError):
    """An upload larger than the route accepts."""

    status = 413


class Busy(WebError):
    """Too much of a bounded resource is in use (say password hashing); come back in `seconds`."""

    status = 503

    def __init__(self, key: str, seconds: int) -> None:
        super().__init__(key, seconds=seconds)
        self.headers = {"Retry-After": str(seconds)}


class UploadMissing(WebError):
    """A form that needs a file came without one (or with an empty one)."""

    status = 400


# -- the one translation of every error into a status and a message ----------------------


class Shown(NamedTuple):
    """How the web shows an error code: the catalogue key of its message, and its status
    (None: the status of the error's class)."""

    key: str
    status: int | None = None


CODES: dict[str, Shown] = {
    # The classes' own codes: the status of the class, and its message when the raise site
    # names no code of its own (or one the web does not know).
    "error": Shown("err.class.unavailable", 500),
    "ledger": Shown("err.class.unavailable", 503),  # the database is busy or refused; the runtime is not set up
    "invalid": Shown("err.class.invalid", 400),
    "not_found": Shown("err.class.not_found", 404),
    "already_initialized": Shown("err.class.conflict", 409),
    "not_initialized": Shown("err.not_initialized", 503),
    "conflict": Shown("err.class.conflict", 409),
    "proof_invalid": Shown("err.class.invalid", 400),
    "note_invalid": Shown("err.class.invalid", 400),
    "chain_broken": Shown("err.class.damaged", 500),
    "signature_rejected": Shown("err.class.invalid", 400),
    "signing": Shown("err.class.unavailable", 400),
    "wrong_passphrase": Shown("err.wrong_passphrase", 403),
    "weak_passphrase": Shown("err.class.weak_passphrase", 422),
    "key_not_found": Shown("err.class.unavailable", 503),
    "key_file_invalid": Shown("err.class.unavailable", 503),
    "signature_invalid": Shown("err.class.unavailable", 400),
    "not_allowed": Shown("err.class.not_allowed", 403),
    "no_certificate": Shown("err.no_certificate", 404),
    "evidence_mismatch": Shown("err.class.unavailable", 400),
    "cert.invalid": Shown("err.cert.edited", 422),  # damaged, not a certificate, an attachment missing, edited, foreign
    "cert.not_pdf": Shown("err.cert.not_pdf", 415),
    "cert.damaged": Shown("err.cert.damaged"),
    "cert.not_certificate": Shown("err.cert.not_certificate"),
    "cert.summary": Shown("verdict.summary_pdf", 422),  # a summary PDF: checked row by row, by its QR codes
    "cert.attachment_missing": Shown("err.cert.attachment_missing"),
    "cert.edited": Shown("err.cert.edited"),
    "cert.foreign": Shown("err.cert.foreign"),
    "cert.file_too_large": Shown("err.cert.file_too_large", 413),
    "cert.too_many_attachments": Shown("err.cert.too_many_attachments", 413),
    "cert.stream_too_large": Shown("err.cert.stream_too_large", 413),
    "cert.decoded_too_large": Shown("err.cert.decoded_too_large", 413),
    "cert.filters": Shown("err.cert.filters"),
    "cert.number_too_long": Shown("err.cert.number_too_long"),
    "cert.too_slow": Shown("err.cert.too_slow"),
    "cert.too_costly": Shown("err.cert.too_costly"),
    "sandbox.busy": Shown("err.upload_busy", 503),
    # NIPs
    "nip.digits": Shown("err.nip.digits"),
    "nip.birth": Shown("err.nip.birth"),
    "nip.birth_implausible": Shown("err.nip.birth_implausible"),
    "nip.appointment": Shown("err.nip.appointment"),
    "nip.appointment_implausible": Shown("err.nip.appointment_implausible"),
    "nip.gender": Shown("err.nip.gender"),
    "nip.sequence": Shown("err.nip.sequence"),
    # officials, their texts and passphrases
    "official.role": Shown("err.role"),
    "official.exists": Shown("err.official_exists"),
    "official.unknown": Shown("err.unknown_official"),
    "official.email": Shown("err.official_email"),
    "text.empty.name": Shown("err.empty.name"),
    "text.empty.title": Shown("err.empty.title"),
    "text.empty.unit": Shown("err.empty.unit"),
    "text.empty.reason": Shown("err.empty.reason"),
    "text.long.name": Shown("err.long.name"),
    "text.long.title": Shown("err.long.title"),
    "text.long.unit": Shown("err.long.unit"),
    "text.long.reason": Shown("err.long.reason"),
    "text.control_chars": Shown("err.control_chars"),
    "passphrase.short": Shown("err.passphrase_short"),
    "passphrase.varied": Shown("err.passphrase_varied"),
    "passphrase.same": Shown("err.passphrase_same"),
    "passphrase.missing": Shown("err.passphrase_missing"),
    "passphrase.wrong": Shown("err.wrong_passphrase"),
    # officials' keys
    "key.name": Shown("err.key.name"),
    "key.active_exists": Shown("err.has_key"),
    "key.reused": Shown("err.key.reused"),
    "key.none_to_revoke": Shown("err.no_key_to_revoke"),
    "key.revoke_reason": Shown("err.empty.reason"),
    # vouching (rules version 3): admins invite, approve and revoke with their own keys
    "vouch.no_key": Shown("vouching.err.vouch.no_key"),
    "vouch.passphrase": Shown("vouching.err.vouch.passphrase", 422),
    "vouch.nothing": Shown("vouching.err.vouch.nothing", 404),
    "enrol.uninvited": Shown("vouching.err.enrol.uninvited"),
    "enrol.unapproved": Shown("vouching.err.enrol.unapproved"),
    "invite.changed": Shown("vouching.err.invite.changed"),
    "key.unvouched": Shown("vouching.err.key.unvouched"),
    "key.unapproved": Shown("vouching.err.key.unapproved"),
    "key.same_admin": Shown("vouching.err.key.same_admin"),
    "key.attester_not_admin": Shown("vouching.err.key.attester_not_admin"),
    "key.approver_not_admin": Shown("vouching.err.key.approver_not_admin"),
    "key.revoker_not_admin": Shown("vouching.err.key.revoker_not_admin"),
    "key.ledger_attests": Shown("vouching.err.key.ledger_attests"),
    "key.ledger_approves": Shown("vouching.err.key.ledger_approves"),
    "key.self_attested": Shown("vouching.err.key.self_attested"),
    "key.voucher_name": Shown("vouching.err.key.voucher_name"),
    "key.vouch_future": Shown("vouching.err.key.vouch_future"),
    "key.approval_early": Shown("vouching.err.key.approval_early"),
    "key.approval_unasked": Shown("vouching.err.key.approval_unasked"),
    "key.role": Shown("vouching.err.key.role"),
    "key.invitation": Shown("vouching.err.key.invitation"),
    "key.revoke_unsigned": Shown("vouching.err.key.revoke_unsigned"),
    "key.vouching_early": Shown("vouching.err.key.vouching_early"),
    "statement.line_break": Shown("vouching.err.statement.line_break"),
    # rules version 4: identities, the capacity signed, declines, deadlines (web/locales/*/ledger4.json)
    "nip.identifier": Shown("ledger4.err.nip.identifier"),
    "identity.blank": Shown("ledger4.err.identity.blank"),
    "identity.acting": Shown("ledger4.err.identity.acting"),
    "identity.appointment": Shown("ledger4.err.identity.appointment"),
    "identity.early": Shown("ledger4.err.identity.early"),
    "update.early": Shown("ledger4.err.update.early"),
    "update.unknown": Shown("ledger4.err.update.unknown"),
    "update.reason": Shown("ledger4.err.update.reason"),
    "update.unchanged": Shown("ledger4.err.update.unchanged"),
    "sign.declined": Shown("ledger4.err.sign.declined"),
    "sign.deadline_passed": Shown("ledger4.err.sign.deadline_passed"),
    "sign.capacity_early": Shown("ledger4.err.sign.capacity_early"),
    "sign.capacity_missing": Shown("ledger4.err.sign.capacity_missing"),
    "sign.capacity_differs": Shown("ledger4.err.sign.capacity_differs"),
    "decline.early": Shown("ledger4.err.decline.early"),
    "decline.reason": Shown("ledger4.err.decline.reason"),
    "deadline.early": Shown("ledger4.err.deadline.early"),
    "deadline.not_later": Shown("ledger4.err.deadline.not_later"),
    "deadline.none": Shown("ledger4.err.deadline.none"),
    "deadline.reason": Shown("ledger4.err.deadline.reason"),
    "official.unit_unknown": Shown("ledger4.err.official.unit_unknown"),
    "agencies.unreadable": Shown("ledger4.err.agencies.unreadable"),
    "text.long.rank": Shown("ledger4.err.long.rank"),
    "text.long.appointment": Shown("ledger4.err.long.appointment"),
    "text.empty.rank": Shown("ledger4.err.empty.rank"),
    "text.empty.appointment": Shown("ledger4.err.empty.appointment"),
    # rules version 5: roles given by entries, applications verified (web/locales/*/ledger5.json)
    "role.early": Shown("ledger5.err.role.early"),
    "role.unknown": Shown("ledger5.err.role.unknown"),
    "role.no_key": Shown("ledger5.err.role.no_key"),
    "role.role": Shown("ledger5.err.role.role"),
    "role.unit": Shown("ledger5.err.role.unit"),
    "role.reason": Shown("ledger5.err.role.reason"),
    "role.held": Shown("ledger5.err.role.held"),
    "role.not_held": Shown("ledger5.err.role.not_held"),
    "app.early": Shown("ledger5.err.app.early"),
    "app.id": Shown("ledger5.err.app.id"),
    "app.revision": Shown("ledger5.err.app.revision"),
    "app.revision_low": Shown("ledger5.err.app.revision_low"),
    "app.exists": Shown("ledger5.err.app.exists"),
    "app.not_found": Shown("ledger5.err.app.not_found"),
    "app.state": Shown("ledger5.err.app.state"),
    "app.agency": Shown("ledger5.err.app.agency"),
    "app.request": Shown("ledger5.err.app.request"),
    "app.request_sha256": Shown("ledger5.err.app.request_sha256"),
    "app.not_head": Shown("ledger5.err.app.not_head"),
    "app.key_inactive": Shown("ledger5.err.app.key_inactive"),
    "app.identity": Shown("ledger5.err.app.identity"),
    "app.not_reviewer": Shown("ledger5.err.app.not_reviewer"),
    "app.checklist": Shown("ledger5.err.app.checklist"),
    "app.reasons": Shown("ledger5.err.app.reasons"),
    "app.notes": Shown("ledger5.err.app.notes"),
    "app.unreviewed": Shown("ledger5.err.app.unreviewed"),
    "app.not_decider": Shown("ledger5.err.app.not_decider"),
    "app.year": Shown("ledger5.err.app.year"),
    "app.ids_used": Shown("ledger5.err.app.ids_used"),
    "app.draft_not_found": Shown("ledger5.err.app.draft_not_found"),
    "app.attachment_sha256": Shown("ledger5.err.app.attachment_sha256"),
    "app.field": Shown("ledger5.err.app.field", 422),
    "app.attachment_size": Shown("ledger5.err.app.attachment_size", 413),
    "app.attachment_not_pdf": Shown("ledger5.err.app.attachment_not_pdf", 415),
    "app.attachment_damaged": Shown("ledger5.err.app.attachment_damaged"),
    "app.attachment_name": Shown("ledger5.err.app.attachment_name"),
    "app.attachment_not_found": Shown("ledger5.err.app.attachment_not_found"),
    "app.busy": Shown("ledger5.err.app.busy", 503),
    "app.no_decision": Shown("ledger5.err.app.no_decision"),
    "app.not_operator": Shown("ledger5.err.app.not_operator"),
    "app.source": Shown("ledger5.err.app.source"),
    "statement.signature": Shown("vouching.err.statement.signature"),
    "key.nip_form": Shown("vouching.err.key.nip_form"),
    "key.invitation_used": Shown("vouching.err.key.invitation_used"),
    "key.spelling": Shown("vouching.err.key.spelling"),
    "key.time_form": Shown("vouching.err.key.time_form"),
    "keyfile.missing": Shown("err.keyfile.missing"),
    "keyfile.mode": Shown("err.keyfile.mode"),
    "keyfile.not_a_key": Shown("err.keyfile.not_a_key"),
    "keyfile.unencrypted": Shown("err.keyfile.unencrypted"),
    "keyfile.other_key": Shown("err.keyfile.other_key"),
    "keyfile.damaged": Shown("err.keyfile.damaged"),
    # the database under faults, and what a write that was not confirmed did
    "database.unavailable": Shown("err.database.unavailable", 503),
    "database.full": Shown("err.database.full", 503),
    "database.read_only": Shown("err.database.read_only", 503),
    "database.failed": Shown("err.database.failed", 503),
    "database.missing": Shown("err.database.unavailable", 503),
    "schema.newer": Shown("err.schema.newer", 503),
    "schema.older": Shown("err.schema.older", 503),
    "commit.written": Shown("err.commit.written", 503),
    "commit.not_written": Shown("err.commit.not_written", 503),
    "commit.unknown": Shown("err.commit.unknown", 503),
    "setup.passphrase_empty": Shown("err.class.unavailable", 503),
    # commitments and signatures
    "commitment.slug": Shown("err.slug"),
    "commitment.slug_taken": Shown("err.slug_taken"),
    "commitment.empty": Shown("err.commitment_empty"),
    "commitment.text_sha256": Shown("err.commitment.text_sha256"),
    "commitment.no_signers": Shown("err.no_signers"),
    "commitment.signer_twice": Shown("err.signer_twice"),
    "commitment.unregistered": Shown("err.unregistered_signers"),
    "commitment.not_found": Shown("err.no_commitment"),
    "commitment.not_published": Shown("err.commitment.not_published"),
    "commitment.other_text": Shown("err.commitment.other_text"),
    "sign.not_signatory": Shown("err.not_signatory"),
    "sign.already": Shown("err.already_signed"),
    "sign.no_key": Shown("err.no_key_to_sign"),
    "sign.key_inactive": Shown("err.no_key_to_sign"),
    "signature.invalid": Shown("err.signature.invalid"),
    "signature.base64": Shown("err.signature.base64"),
    "signature.length": Shown("err.signature.length"),
    # the ledger, its entries and checkpoints
    "ledger.not_initialized": Shown("err.not_initialized"),
    "ledger.exists": Shown("err.ledger.exists"),
    "ledger.created_twice": Shown("err.ledger.created_twice"),
    "ledger.key_name": Shown("err.ledger.key_name"),
    "ledger.wrong_signer": Shown("err.ledger.wrong_signer"),
    "append.race": Shown("err.race"),
    "append.refused": Shown("err.append.refused"),
    "tree.damaged": Shown("err.class.damaged"),
    "tree.diverged": Shown("err.tree.diverged", 503),
    "derived.mismatch": Shown("err.derived.mismatch", 503),
    # backups are made and restored on the command line, which prints the English message
    "backup.failed": Shown("err.backup"),
    "backup.missing": Shown("err.backup"),
    "backup.not_a_ledger": Shown("err.backup"),
    "backup.not_sqlite": Shown("err.backup"),
    "backup.exists": Shown("err.backup"),
    "backup.not_a_dump": Shown("err.backup"),
    "backup.incomplete": Shown("err.backup"),
    "backup.pg_restore": Shown("err.backup"),
    "backup.older": Shown("err.backup"),
    "rebuild.moved": Shown("err.rebuild.moved", 409),
    "rules.unknown": Shown("err.rules.unknown"),
    "rules.order": Shown("err.rules.order"),
    "time.backwards": Shown("err.time.backwards"),
    "time.behind": Shown("err.time.behind", 503),
    "time.ahead": Shown("err.time.ahead", 503),
    "entry.not_found": Shown("err.no_entry"),
    "entries.range": Shown("err.entries_range"),
    "checkpoint.not_found": Shown("err.no_checkpoint"),
    "size.range": Shown("err.size_range"),
    "index.range": Shown("err.index_range"),
    "consistency.range": Shown("err.consistency_range"),
    "language.unknown": Shown("err.language.unknown"),
    # what a proof, a checkpoint, a signed note or a verifier key may get wrong
    "tree.size": Shown("err.tree.size"),
    "tree.frontier": Shown("err.tree.frontier"),
    "tree.beyond_end": Shown("err.tree.beyond_end"),
    "hash.size": Shown("err.hash.size"),
    "proof.length": Shown("err.proof.length"),
    "proof.inclusion": Shown("err.proof.inclusion"),
    "consistency.order": Shown("err.consistency.order"),
    "consistency.roots_differ": Shown("err.consistency.roots_differ"),
    "consistency.old_root": Shown("err.consistency.old_root"),
    "consistency.new_root": Shown("err.consistency.new_root"),
    "number.malformed": Shown("err.number.malformed"),
    "hash.malformed": Shown("err.hash.malformed"),
    "checkpoint.lines": Shown("err.checkpoint.lines"),
    "checkpoint.origin": Shown("err.checkpoint.origin"),
    "checkpoint.origin_empty": Shown("err.checkpoint.origin_empty"),
    "proof.not_utf8": Shown("err.proof.not_utf8"),
    "proof.no_checkpoint": Shown("err.proof.no_checkpoint"),
    "proof.header": Shown("err.proof.header"),
    "proof.no_index": Shown("err.proof.no_index"),
    "proof.too_many_hashes": Shown("err.proof.too_many_hashes"),
    "proof.outside_checkpoint": Shown("err.proof.outside_checkpoint"),
    "base64.invalid": Shown("err.base64.invalid"),
    "vkey.name": Shown("err.vkey.name"),
    "vkey.malformed": Shown("err.vkey.malformed"),
    "vkey.key_id": Shown("err.vkey.key_id"),
    "note.signature_invalid": Shown("err.note.signature_invalid"),
    "note.text_end": Shown("err.note.text_end"),
    "note.text_blank_line": Shown("err.note.text_blank_line"),
    "note.text_control_chars": Shown("err.note.text_control_chars"),
    "note.too_large": Shown("err.note.too_large"),
    "note.not_utf8": Shown("err.note.not_utf8"),
    "note.unsigned": Shown("err.note.unsigned"),
    "note.too_many_signatures": Shown("err.note.too_many_signatures"),
    "note.signature_line": Shown("err.note.signature_line"),
    "note.not_signed_by": Shown("err.note.not_signed_by"),
    "json.not_canonicalizable": Shown("err.json.not_canonicalizable"),
    "json.malformed": Shown("err.json.malformed"),
    "json.not_object": Shown("err.json.not_object"),
    "json.not_canonical": Shown("err.json.not_canonical"),
}


def _class_codes(exc: le.CodedError) -> list[str]:
    """The codes of the error's class and of its ancestors, nearest first."""
    return [vars(cls)["code"] for cls in type(exc).__mro__ if "code" in vars(cls)]


def _is_class_code(code: str, family: type[le.CodedError] = le.CodedError) -> bool:
    """Whether `code` is the own code of a class of the families: it names a class, not a message."""
    return vars(family).get("code") == code or any(_is_class_code(code, c) for c in family.__subclasses__())


# Errors whose own text speaks of the request only (never of paths, SQL or the server).
_SAYS_WHAT_INPUT = (
    le.InvalidInput,
    le.NotFound,
    le.Conflict,
    le.ProofInvalid,
    le.NoteInvalid,
    se.NotAllowed,
    se.WeakPassphrase,
)


def _own_code(exc: le.CodedError) -> tuple[str, dict[str, Any]] | None:
    """The error's code and params, when its raise site named a code (None: its class's only)."""
    if not _is_class_code(exc.code):
        return exc.code, exc.params
    return None


def status_of(exc: Exception) -> int:
    """The HTTP status of an error of the web, ledger or signing family (500 for anything else)."""
    if isinstance(exc, WebError):
        return exc.status
    if not isinstance(exc, le.CodedError):
        return 500
    own = _own_code(exc)
    for code in ([own[0]] if own else []) + _class_codes(exc):
        shown = CODES.get(code)
        if shown is not None and shown.status is not None:
            return shown.status
    return 500


def message_key(exc: Exception) -> tuple[str, dict[str, Any]] | None:
    """The catalogue key and fields of an error's own message; None when only its class is known."""
    if isinstance(exc, WebError):
        return exc.key, exc.params
    own = _own_code(exc) if isinstance(exc, le.CodedError) else None
    if own is None or own[0] not in CODES:
        return None
    return CODES[own[0]].key, own[1]


def message_of(exc: Exception, t: Callable[..., str]) -> str:
    """The error's message in the language of the translator `t`.

    A core message about the input without a catalogue entry is shown as it is on English
    pages (it is written for a person, in English); otherwise the class's message is shown.
    """
    known = message_key(exc)
    if known is not None:
        return said(t, *known)
    if getattr(t, "lang", "id") == "en" and isinstance(exc, _SAYS_WHAT_INPUT) and str(exc):
        return str(exc)
    for code in _class_codes(exc) if isinstance(exc, le.CodedError) else []:
        if code in CODES:
            return t(CODES[code].key)
    return t("err.class.unavailable")


def detail_of(exc: Exception, t: Callable[..., str]) -> str:
    """What went wrong, for the detail under a failed check: the error's own message in the
    language of `t` when its code is known, else its English text (which is more precise
    than its class's message)."""
    known = message_key(exc)
    return said(t, *known) if known is not None else str(exc)


def said(t: Callable[..., str], key: str, params: dict[str, Any]) -> str:
    """The catalogue message `key` with `params`, in the language of `t`. An official without a
    NIP (rules version 4) is named by their identifier, never as a NIP: "NIP pn-7kq3xa" in a
    message becomes "pengenal pn-7kq3xa" / "identifier pn-7kq3xa" (`ledger4.identifier`). The
    words of rules version 5's params are said in the reader's language (`_words`)."""
    text = t(key, **_words(t, key, params))
    nip = params.get("nip")
    if isinstance(nip, str) and is_official_id(nip):
        text = text.replace(f"NIP {nip}", t("ledger4.identifier", id=nip))
    return text


# A request's field paths name a field of the request or a point of the checklist, an
# attachment or a note by its place (``attachments.0.title``, ``architecture.note``,
# ``notes.2``); a shell's catalogue names each part (`apps.*`), and `ledger5.field.*` the rest.
_FIELD_LABELS = ("apps.field.", "ledger5.field.")
_CHECKLIST_LABELS = ("apps.check.", "ledger5.field.")


def _words(t: Callable[..., str], key: str, params: dict[str, Any]) -> dict[str, Any]:
    """`params` with the words of rules version 5 said in the language of `t` where its
    catalogue has them: the `problem` of a field (``ledger5.problem.*``, with the error's own
    params), the `field` it names (its labels, joined: "Lampiran 1, judul"), an application's
    `status` (``apps.status.*``) and a `role` (``ledger5.role.*``). Anything else, and any value
    the catalogue does not name, is left as it is."""
    lang = getattr(t, "lang", None)
    if lang is None or not params.keys() & {"problem", "field", "status", "role"}:
        return params
    texts = catalogue(lang)
    said = dict(params)
    for name, prefix in (("problem", "ledger5.problem."), ("status", "apps.status."), ("role", "ledger5.role.")):
        value = params.get(name)
        if isinstance(value, str) and prefix + value in texts:
            said[name] = t(prefix + value, **params)
    field = params.get("field")
    if isinstance(field, str) and field:
        labels = _CHECKLIST_LABELS if key == "ledger5.err.app.checklist" else _FIELD_LABELS
        said["field"] = _field_said(texts, field, labels)
    return said


def _field_said(texts: Mapping[str, str], field: str, labels: Sequence[str]) -> str:
    parts: list[str] = []
    for part in field.split("."):
        if part.isdigit() and parts:
            parts[-1] = f"{parts[-1]} {int(part) + 1}"
            continue
        label = next((texts[p + part] for p in labels if p + part in texts), part)
        parts.append(label)
        labels = ("ledger5.field.",)  # what follows the first part is a part of it
    return ", ".join(parts)
