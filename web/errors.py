"""The web shell's own error family. Each carries a catalogue key, so that its message is
shown in the page's language; `web.app` maps these, and the ledger's and signing's errors,
to HTTP statuses in one handler."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ledger import errors as le
from signing import errors as se


class WebError(Exception):
    """Base of the web errors: `key` names the message in `web/locales/*.json`."""

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
    """Too many failed attempts: `until` is when the next attempt is allowed."""

    status = 429

    def __init__(self, key: str, until: datetime) -> None:
        super().__init__(key, until=until)
        self.until = until


class TooLarge(WebError):
    """An upload larger than the route accepts."""

    status = 413


class UploadMissing(WebError):
    """A form that needs a file came without one (or with an empty one)."""

    status = 400


# -- the one translation of every error into a status and a message ----------------------

_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (le.ChainBroken, 500),
    (le.NotFound, 404),
    (le.InvalidInput, 400),
    (le.AlreadyInitialized, 409),
    (le.NotInitialized, 503),
    (le.Conflict, 409),
    (le.ProofInvalid, 400),
    (le.NoteInvalid, 400),
    (le.SignatureRejected, 400),
    (le.LedgerError, 503),  # the database is busy or refused; the runtime is not set up
    (se.NoCertificate, 404),
    (se.NotAPdf, 415),
    (se.CertificateInvalid, 422),  # damaged, not a certificate, an attachment missing, edited, foreign
    (se.WrongPassphrase, 403),
    (se.WeakPassphrase, 422),
    (se.NotAllowed, 403),
    (se.SignatureInvalid, 400),
    (se.KeyNotFound, 503),
    (se.KeyFileInvalid, 503),
    (se.SigningError, 400),
)

_CLASS_KEYS: tuple[tuple[type[Exception], str], ...] = (
    (le.ChainBroken, "err.class.damaged"),
    (le.NotFound, "err.class.not_found"),
    (le.InvalidInput, "err.class.invalid"),
    (le.NotInitialized, "err.not_initialized"),
    (le.Conflict, "err.class.conflict"),
    (le.AlreadyInitialized, "err.class.conflict"),
    (le.ProofInvalid, "err.class.invalid"),
    (le.NoteInvalid, "err.class.invalid"),
    (le.SignatureRejected, "err.class.invalid"),
    (le.LedgerError, "err.class.unavailable"),
    (se.NoCertificate, "err.no_certificate"),
    (se.NotAPdf, "err.cert.not_pdf"),
    (se.CertificateDamaged, "err.cert.damaged"),
    (se.NotACertificate, "err.cert.not_certificate"),
    (se.AttachmentMissing, "err.cert.attachment_missing"),
    (se.ForeignCertificate, "err.cert.foreign"),
    (se.CertificateInvalid, "err.cert.edited"),
    (se.WrongPassphrase, "err.wrong_passphrase"),
    (se.WeakPassphrase, "err.class.weak_passphrase"),
    (se.NotAllowed, "err.class.not_allowed"),
    (se.SigningError, "err.class.unavailable"),
)

# The core's messages are written for a person, in English; these are the ones a user of
# the web pages meets, each with its catalogue key (named groups become its fields).
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), key)
    for pattern, key in (
        (r"NIP must be exactly 18 digits", "err.nip.digits"),
        (r"NIP digits 1-8 are not a date of birth \(YYYYMMDD\): (?P<part>\d+)", "err.nip.birth"),
        (r"NIP date of birth (?P<date>\S+) is not plausible for a civil servant", "err.nip.birth_implausible"),
        (r"NIP digits 9-14 are not a month of appointment \(YYYYMM\): (?P<part>\d+)", "err.nip.appointment"),
        (r"NIP appointment (?P<month>\S+) is not plausible for that date of birth", "err.nip.appointment_implausible"),
        (r"NIP digit 15 must be 1 or 2", "err.nip.gender"),
        (r"NIP sequence \(digits 16-18\) cannot be 000", "err.nip.sequence"),
        (r"the signing passphrase needs at least (?P<n>\d+) characters", "err.passphrase_short"),
        (r"the signing passphrase needs at least 4 different characters", "err.passphrase_varied"),
        (r"the signing passphrase must differ from the login password", "err.passphrase_same"),
        (r"the passphrase does not open this key", "err.wrong_passphrase"),
        (r"(?P<what>name|title|unit|reason) is empty", "err.empty.{what}"),
        (r"(?P<what>name|title|unit|reason) is longer than (?P<n>\d+) characters", "err.long.{what}"),
        (r"(?P<what>name|title|unit|reason) holds control characters", "err.control_chars"),
        (r"\S+ field '(?P<field>\w+)' holds control characters", "err.control_chars"),
        (r"role must be one of .*", "err.role"),
        (r"an official with NIP (?P<nip>\d+) is already registered", "err.official_exists"),
        (r"no official with NIP (?P<nip>.*) is registered", "err.unknown_official"),
        (r"official (?P<nip>\d+) already has an active key.*", "err.has_key"),
        (r"not registered officials: (?P<nips>.+)", "err.unregistered_signers"),
        (r"a commitment needs at least one required signatory", "err.no_signers"),
        (r"a signatory is listed twice", "err.signer_twice"),
        (r"there is no commitment (?P<slug>.+)", "err.no_commitment"),
        (r"official (?P<nip>\d+) is not a required signatory of .*", "err.not_signatory"),
        (r"official (?P<nip>\d+) has already signed .*", "err.already_signed"),
        (r"official (?P<nip>\d+) has no active key: .*", "err.no_key_to_sign"),
        (r"the key is not the active key of official (?P<nip>\d+).*", "err.no_key_to_sign"),
        (r"official (?P<nip>\d+) has no active key to revoke", "err.no_key_to_revoke"),
        (r"there is no entry (?P<index>.+)", "err.no_entry"),
        (r"there is no checkpoint of size (?P<size>.+)", "err.no_checkpoint"),
        (r"no ledger here yet.*", "err.not_initialized"),
        (r"start must be >= 0 and limit between 1 and 1000", "err.entries_range"),
        (r"size (?P<size>-?\d+) is not between 1 and the ledger's size (?P<latest>\d+)", "err.size_range"),
        (r"index (?P<index>-?\d+) is not in a tree of size (?P<size>-?\d+)", "err.index_range"),
        (r"no consistency proof from size (?P<old>-?\d+) to size (?P<new>-?\d+).*", "err.consistency_range"),
        (r"slug must be .*", "err.slug"),
        (r"commitment (?P<slug>.+) is already published", "err.slug_taken"),
        (r"a commitment needs a title and a text", "err.commitment_empty"),
        (r"the entry conflicts with one written at the same moment.*", "err.race"),
    )
)


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


def status_of(exc: Exception) -> int:
    """The HTTP status of an error of the web, ledger or signing family (500 for anything else)."""
    if isinstance(exc, WebError):
        return exc.status
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def message_key(exc: Exception) -> tuple[str, dict[str, Any]] | None:
    """The catalogue key and fields of an error's message; None when only its class is known."""
    if isinstance(exc, WebError):
        return exc.key, exc.params
    text = str(exc)
    for pattern, key in _PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            fields = {k: v.strip("'\"") for k, v in m.groupdict().items()}
            return key.format_map(fields), fields
    return None


def message_of(exc: Exception, t: Callable[..., str]) -> str:
    """The error's message in the language of the translator `t`.

    A core message about the input without a catalogue entry is shown as it is on English
    pages (it is written for a person, in English); otherwise the class's message is shown.
    """
    known = message_key(exc)
    if known is not None:
        return t(known[0], **known[1])
    if getattr(t, "lang", "id") == "en" and isinstance(exc, _SAYS_WHAT_INPUT) and str(exc):
        return str(exc)
    for cls, key in _CLASS_KEYS:
        if isinstance(exc, cls):
            return t(key)
    return t("err.class.unavailable")
