"""What officials and operators do, as ledger appends: register, enrol, publish, sign, revoke.

These are the one implementation behind the command line and the web pages. Each takes
the time as `now`. Before the slow key derivation each asks the ledger's own rules
(`Ledger.precheck`) whether its entry could be appended, so that a refusal is quick and
clear and no rule is written twice; the ledger asks them again under its append lock.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger import outbox
from ledger.db import DriverError
from ledger.errors import CodedError, Conflict, InvalidInput, LedgerError, NotFound
from ledger.nip import validate_nip
from ledger.note import NoteSigner, VerifierKey
from ledger.reader import OfficialRecord
from ledger.rules import SLUG, official_key_name
from ledger.state import VOUCHING_RULES
from ledger.statements import encode_signature
from ledger.store import Appended, Ledger

from . import vouching
from .errors import NotAllowed, WeakPassphrase
from .keystore import KeyStore
from .statement import Statement

logger = logging.getLogger(__name__)

ROLES = ("official", "admin")
MIN_PASSPHRASE = 10
MAX_TEXT = 200
_SETTLE_SECONDS = 1.0  # how long a COMMIT whose reply was lost is given before the ledger is read again


@dataclass(frozen=True)
class Context:
    """The ledger, the key directory, and the ledger's checkpoint signer (unlocked);
    `mail`: officials are told of their key events and signatures by mail (`ledger.outbox`)."""

    ledger: Ledger
    keys: KeyStore
    signer: NoteSigner
    mail: bool = False

    def notices(self, event: str, nip: str) -> tuple[tuple[str, str], ...]:
        """The notices an append queues in its transaction: none when mail is off."""
        return ((event, nip),) if self.mail else ()


def check_new_passphrase(passphrase: str, password: str | None = None) -> None:
    """Raise WeakPassphrase unless `passphrase` is acceptable as a new signing passphrase."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise WeakPassphrase(
            f"the signing passphrase needs at least {MIN_PASSPHRASE} characters",
            code="passphrase.short",
            n=MIN_PASSPHRASE,
        )
    if len(set(passphrase)) < 4:
        raise WeakPassphrase("the signing passphrase needs at least 4 different characters", code="passphrase.varied")
    if password is not None and passphrase == password:
        raise WeakPassphrase("the signing passphrase must differ from the login password", code="passphrase.same")


def _clean(value: str, what: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise InvalidInput(f"{what} is empty", code=f"text.empty.{what}", what=what)
    if not value.isprintable():  # NUL, bidi overrides...: PostgreSQL refuses some, readers are fooled by others
        raise InvalidInput(f"{what} holds control characters", code="text.control_chars", what=what)
    if len(value) > MAX_TEXT:
        raise InvalidInput(
            f"{what} is longer than {MAX_TEXT} characters", code=f"text.long.{what}", what=what, n=MAX_TEXT
        )
    return value


def register_official(
    ledger: Ledger,
    nip: str,
    name: str,
    title: str,
    unit: str,
    role: str,
    now: datetime,
    email: str | None = None,
) -> OfficialRecord:
    """Add a person to the register, with the address their notices are mailed to (the
    official surel dinas, optional). Raises InvalidInput (bad NIP, role, address) or
    Conflict (known NIP)."""
    nip = validate_nip(nip, now.date())
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", code="official.role")
    person = (_clean(name, "name"), _clean(title, "title"), _clean(unit, "unit"))
    official = OfficialRecord(nip, *person, role, now, (email or "").strip() or None)
    ledger.register.add_official(official)
    return official


def get_official(ledger: Ledger, nip: str) -> OfficialRecord:
    """Raises NotFound for an unknown NIP."""
    number = "".join(nip.split())
    official = None
    if len(number) == 18 and number.isascii() and number.isdigit():
        with ledger.read() as r:
            official = r.official(number)
    if official is None:
        raise NotFound(f"no official with NIP {nip} is registered", code="official.unknown", nip=nip)
    return official


def active_key(ledger: Ledger, nip: str) -> VerifierKey | None:
    with ledger.read() as r:
        key = r.active_key(nip)
    return VerifierKey.parse(key.key) if key else None


def enrol(
    ctx: Context, nip: str, passphrase: str, now: datetime, password: str | None = None, token: str | None = None
) -> Appended:
    """Make the official's key under `passphrase` and append `key.enrolled`.

    Under rules version 3 the key must be vouched for (`vouching.vouched_fields`): by the
    invitation of the link `token`, or the official's pending invitation; a replacement
    needs its second approval. Raises NotFound (unknown NIP), WeakPassphrase, NotAllowed
    (no invitation, not approved, already has an active key) — with nothing written.
    """
    official = get_official(ctx.ledger, nip)
    check_new_passphrase(passphrase, password)
    if active_key(ctx.ledger, official.nip) is not None:
        raise NotAllowed(
            f"official {official.nip} already has an active key; revoke it first",
            code="key.active_exists",
            nip=official.nip,
        )
    name = official_key_name(ctx.ledger.origin, official.nip)
    fields: dict[str, Any] = {
        "nip": official.nip,
        "name": official.name,
        "title": official.title,
        "unit": official.unit,
    }
    if vouching.rules_version(ctx) >= VOUCHING_RULES:
        fields |= vouching.vouched_fields(ctx, official, now, token)
    # The rules, asked with a stand-in key of the right name before the key is made.
    try:
        ctx.ledger.precheck("key.enrolled", {**fields, "key": str(VerifierKey(name, bytes(32)))}, now)
    except Conflict as e:
        raise NotAllowed(str(e), code=e.code, **e.params) from e
    with ctx.ledger.read() as r:
        event = outbox.KEY_REPLACED if r.had_key(official.nip) else outbox.KEY_ENROLLED
    vkey = ctx.keys.create(name, passphrase)
    try:
        appended = ctx.ledger.append(
            "key.enrolled", {**fields, "key": str(vkey)}, ctx.signer, now, ctx.notices(event, official.nip)
        )
    except BaseException as e:
        _after_failed_enrolment(ctx, official.nip, vkey, e)
        raise
    if token is None and "invitation" in fields:
        used = ctx.ledger.invitations.latest(official.nip)
        if used is not None and used.id == fields["invitation"]:
            ctx.ledger.register.claim_enrolment(used.token_hash, now)  # the link is spent
    return appended


def unconfirmed(error: BaseException) -> bool:
    """Whether a write that raised `error` may all the same have been committed: the database
    failed or the connection was lost (its reply to COMMIT may be what was lost), or the
    process was interrupted. A refusal by the ledger's rules is not such an error."""
    return not isinstance(error, CodedError) or any(isinstance(c, DriverError) for c in _causes(error))


def _causes(error: BaseException) -> Iterator[BaseException]:
    cause: BaseException | None = error
    while cause is not None:
        yield cause
        cause = cause.__cause__ or cause.__context__


def _after_failed_enrolment(ctx: Context, nip: str, vkey: VerifierKey, error: BaseException) -> None:
    """Clean up after an append of `key.enrolled` that raised `error`, without ever deleting
    a key the ledger may record: read the ledger again, remove the new key file only when
    its key is not there, and say what is known. Raises LedgerError (``commit.*``) when the
    database did not confirm the append; returns (and `error` is raised) otherwise."""
    path = ctx.keys.path_for(vkey)
    doubt = unconfirmed(error)
    try:
        enrolled = _key_recorded(ctx.ledger, vkey)
        if not enrolled and doubt and ctx.ledger.engine.dialect.name == "postgresql":
            time.sleep(_SETTLE_SECONDS)  # a COMMIT the server received may still be under way
            enrolled = _key_recorded(ctx.ledger, vkey)
    except Exception as e:
        logger.error("enrolment of %s unconfirmed and unreadable; key file kept at %s: %s", nip, path, e)
        raise LedgerError(
            f"the database did not confirm the enrolment of {nip}, and could not tell whether the key is enrolled: "
            f"its key file is kept at {path}; run `ikrar doctor` once the database answers",
            code="commit.unknown",
            path=path,
        ) from error
    if enrolled:
        logger.warning("enrolment of %s unconfirmed but recorded; key file kept at %s", nip, path)
        raise LedgerError(
            f"the database did not confirm the enrolment of {nip}, but the key IS enrolled "
            f"({vkey.name}); its key file is kept at {path}",
            code="commit.written",
            path=path,
        ) from error
    path.unlink(missing_ok=True)  # the ledger does not know this key: never keep it
    if doubt:
        raise LedgerError(
            f"the database did not confirm the enrolment of {nip}, and the key is NOT enrolled "
            "(its new key file was removed): try again",
            code="commit.not_written",
        ) from error


def _key_recorded(ledger: Ledger, vkey: VerifierKey) -> bool:
    """Whether the ledger records the key `vkey` (read afresh)."""
    with ledger.read() as r:
        return r.key(str(vkey)) is not None


def commitment_text(text: str) -> str:
    """The text exactly as `publish` records it (LF line ends, one final newline): its
    SHA-256 is the one signatories sign, so a preview can show it before publishing."""
    return text.replace("\r\n", "\n").strip() + "\n"


def publish(ctx: Context, slug: str, title: str, text: str, signers: Sequence[str], by: str, now: datetime) -> Appended:
    """Append `commitment.published`. Every signatory must be a registered official.

    Raises InvalidInput or Conflict (slug taken, unknown or repeated signatory, empty list).
    """
    text = commitment_text(text)
    if not signers:
        raise InvalidInput("a commitment needs at least one required signatory", code="commitment.no_signers")
    nips = [validate_nip(n, now.date()) for n in signers]
    known = ctx.ledger.register.known_nips(nips)
    unknown = [n for n in nips if n not in known]
    if unknown:
        raise InvalidInput(
            f"not registered officials: {', '.join(unknown)}", code="commitment.unregistered", nips=", ".join(unknown)
        )
    fields = {
        "slug": slug,
        "title": _clean(title, "title"),
        "text": text,
        "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "signers": nips,
        "by": by,
    }
    return ctx.ledger.append("commitment.published", fields, ctx.signer, now)


_NO_SIGNATURE = encode_signature(bytes(64))  # what `precheck` sees before the key has signed


def sign(
    ctx: Context,
    slug: str,
    nip: str,
    passphrase: str,
    now: datetime | Callable[[], datetime],
    authorize: Callable[[], None] | None = None,
) -> Appended:
    """The official signs the commitment: ask the rules, open the key, sign the statement,
    check it, append.

    `now` is the time signed, or a clock (live signing): the statement then names the time
    read under the ledger's append lock, so that signatures made at once keep their times
    in ledger order. `authorize`, when given, is called once the passphrase has opened the
    key and before anything is appended; it may raise to refuse (the web's throttle does).
    Raises NotFound (commitment), NotAllowed (not a signatory, already signed, no active
    key), WrongPassphrase; the ledger re-checks the rules under its lock (Conflict).
    """
    nip = get_official(ctx.ledger, nip).nip
    with ctx.ledger.read() as r:
        commitment = r.commitment(slug) if SLUG.fullmatch(slug) else None
        key = r.active_key(nip)
    if commitment is None:
        raise NotFound(f"there is no commitment {slug!r}", code="commitment.not_found", slug=slug)
    if key is None:
        raise NotAllowed(
            f"official {nip} has no active key: enrol first (or again, after a revocation)",
            code="sign.no_key",
            nip=nip,
        )
    vkey = VerifierKey.parse(key.key)
    fields = {
        "slug": slug,
        "commitment_sha256": commitment.text_sha256,
        "commitment_index": commitment.published_index,
        "nip": nip,
        "key": key.key,
    }
    try:
        ctx.ledger.precheck(
            "commitment.signed", {**fields, "signature": _NO_SIGNATURE}, now() if callable(now) else now
        )
    except Conflict as e:  # the official may not sign this: say so before the key is opened
        raise NotAllowed(str(e), code=e.code, **e.params) from e
    sign_with_key = ctx.keys.signer(vkey, passphrase)
    if authorize is not None:
        authorize()

    def signed_at(moment: datetime) -> dict[str, Any]:
        statement = Statement(ctx.ledger.origin, slug, commitment.text_sha256, nip, vkey, moment)
        signature = sign_with_key(statement.message())
        statement.verify(signature)
        return {**fields, "signature": encode_signature(signature)}

    return ctx.ledger.append("commitment.signed", signed_at, ctx.signer, now, ctx.notices(outbox.SIGNED, nip))


def revoke(
    ctx: Context, nip: str, reason: str, by: str, now: datetime | Callable[[], datetime], passphrase: str | None = None
) -> Appended:
    """Append `key.revoked` for the official's active key. Under rules version 3 the admin
    `by` signs it with their own key, opened with `passphrase` (or `by` is
    `vouching.LEDGER`). Raises NotFound, NotAllowed, WrongPassphrase."""
    nip = get_official(ctx.ledger, nip).nip
    vkey = active_key(ctx.ledger, nip)
    if vkey is None:
        raise NotAllowed(f"official {nip} has no active key to revoke", code="key.none_to_revoke", nip=nip)
    fields = vouching.revocation_fields(ctx, nip, str(vkey), _clean(reason, "reason"), by, passphrase)
    return ctx.ledger.append("key.revoked", fields, ctx.signer, now, ctx.notices(outbox.KEY_REVOKED, nip))
