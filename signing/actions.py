"""What officials and operators do, as ledger appends: register, enrol, publish, sign, revoke.

These are the one implementation behind the command line and the web pages. Each takes
the time as `now`. Before the slow key derivation each asks the ledger's own rules
(`Ledger.precheck`) whether its entry could be appended, so that a refusal is quick and
clear and no rule is written twice; the ledger asks them again under its append lock.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger import outbox
from ledger.db import DriverError
from ledger.errors import CodedError, Conflict, InvalidInput, LedgerError, NotFound
from ledger.identity import Identity, check_identity
from ledger.nip import clean_identifier, is_nip, is_official_id, new_official_id, validate_identifier
from ledger.note import NoteSigner, VerifierKey
from ledger.reader import OfficialRecord
from ledger.rules import SLUG, official_key_name
from ledger.state import IDENTITY_RULES, VOUCHING_RULES
from ledger.statements import Decline, Update, encode_signature
from ledger.store import Appended, Ledger
from ledger.times import format_time

from . import vouching
from .agencies import check_unit
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
    nip: str | None,
    name: str,
    title: str,
    unit: str,
    role: str,
    now: datetime,
    email: str | None = None,
    *,
    rank: str | None = None,
    acting: str | None = None,
    appointment: str | None = None,
    agencies: Sequence[str] | None = None,
    choose: Callable[[str], str] = secrets.choice,
) -> OfficialRecord:
    """Add a person to the register, with the address their notices are mailed to (the
    official surel dinas, optional). Without a NIP (`nip` None or blank: the Wali Kota and
    the Wakil Wali Kota have none) the person gets an identifier (`ledger.nip.new_official_id`,
    drawn with `choose`), which the returned record carries: they log in and are named on the
    ledger with it. `title` is the full position as written under a signature; `unit`, when
    `agencies` is given, must be one of them; `rank` (pangkat/golongan) is optional, and
    `acting` (Plt. or Plh.) comes with `appointment`, the appointment letter's number.

    Raises InvalidInput (bad NIP, role, address, unit, acting) or Conflict (known NIP)."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", code="official.role")
    identity = clean_identity(name, title, unit, rank, acting, appointment, agencies)
    given = (nip or "").strip()
    for _attempt in range(5):  # a drawn identifier already taken (one chance in 10^8) is drawn again
        identifier = validate_identifier(clean_identifier(given), now.date()) if given else new_official_id(choose)
        official = OfficialRecord(
            identifier,
            identity.name,
            identity.title,
            identity.unit,
            role,
            now,
            (email or "").strip() or None,
            identity.rank,
            identity.acting,
            identity.appointment,
        )
        try:
            ledger.register.add_official(official)
        except Conflict:
            if given:
                raise
            continue
        return official
    raise Conflict("no free identifier was found; try again", code="official.exists", nip="pn-")


def clean_identity(
    name: str,
    title: str,
    unit: str,
    rank: str | None = None,
    acting: str | None = None,
    appointment: str | None = None,
    agencies: Sequence[str] | None = None,
) -> Identity:
    """An identity as typed, tidied and checked (`ledger.identity.check_identity`): blank
    optional parts are none; `unit` is one of `agencies` when they are given. Raises InvalidInput."""
    extra = {
        k: " ".join(v.split()) or None
        for k, v in (("rank", rank), ("acting", acting), ("appointment", appointment))
        if v is not None
    }
    name, title, unit = _clean(name, "name"), _clean(title, "title"), _clean(unit, "unit")  # what is typed first
    if agencies is not None:
        unit = check_unit(unit, agencies)
    identity = Identity(name, title, unit, **extra)
    for what in ("rank", "appointment"):
        value = getattr(identity, what)
        if value is not None:
            _clean(value, what)
    try:
        check_identity(identity.fields(), "")
    except Conflict as e:
        raise InvalidInput(str(e), code=e.code, **e.params) from e
    return identity


def get_official(ledger: Ledger, nip: str) -> OfficialRecord:
    """The registered person of a NIP or identifier (spaces and case as typed are forgiven).
    Raises NotFound for an unknown one."""
    number = clean_identifier(nip)
    official = None
    if is_nip(number) or is_official_id(number):
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


def publish(
    ctx: Context,
    slug: str,
    title: str,
    text: str,
    signers: Sequence[str],
    by: str,
    now: datetime,
    deadline: datetime | None = None,
) -> Appended:
    """Append `commitment.published`, its signatories in the order given (the protocol
    order, kept and shown). Every signatory must be a registered official. `deadline` (rules
    version 4 on, later than `now`): no one signs or declines after it.

    Raises InvalidInput or Conflict (slug taken, unknown or repeated signatory, empty list,
    a deadline not later).
    """
    text = commitment_text(text)
    if not signers:
        raise InvalidInput("a commitment needs at least one required signatory", code="commitment.no_signers")
    nips = [validate_identifier(clean_identifier(n), now.date()) for n in signers]
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
    if deadline is not None:
        fields["deadline"] = format_time(deadline)
    return ctx.ledger.append("commitment.published", fields, ctx.signer, now)


def extend(ctx: Context, slug: str, deadline: datetime, by: str, reason: str, now: datetime) -> Appended:
    """Append `commitment.extended`: the commitment's deadline moves to the later `deadline`.
    Raises Conflict (no such commitment, no deadline, not later), InvalidInput (reason)."""
    fields = {"slug": slug, "deadline": format_time(deadline), "by": by, "reason": _clean(reason, "reason")}
    return ctx.ledger.append("commitment.extended", fields, ctx.signer, now)


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
        rules = int(r.meta().get("rules", "1"))
        identity = r.identities([nip]).get(nip) if rules >= IDENTITY_RULES else None
    if commitment is None:
        raise NotFound(f"there is no commitment {slug!r}", code="commitment.not_found", slug=slug)
    if key is None:
        raise NotAllowed(
            f"official {nip} has no active key: enrol first (or again, after a revocation)",
            code="sign.no_key",
            nip=nip,
        )
    vkey = VerifierKey.parse(key.key)
    fields: dict[str, Any] = {
        "slug": slug,
        "commitment_sha256": commitment.text_sha256,
        "commitment_index": commitment.published_index,
        "nip": nip,
        "key": key.key,
    }
    if identity is not None:  # rules version 4: the statement names the capacity (ikrar/signature/v2)
        fields |= {"name": identity.name, "capacity": identity.capacity, "unit": identity.unit}
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
        statement = Statement(
            ctx.ledger.origin,
            slug,
            commitment.text_sha256,
            nip,
            vkey,
            moment,
            fields.get("name"),
            fields.get("capacity"),
        )
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


def decline(
    ctx: Context,
    slug: str,
    nip: str,
    passphrase: str,
    reason: str,
    now: datetime | Callable[[], datetime],
    authorize: Callable[[], None] | None = None,
) -> Appended:
    """The official declines the commitment, for `reason`, signing `ikrar/decline/v1` with
    their key (rules version 4 on). Final: they cannot sign it afterwards. `now` and
    `authorize` as for `sign`. Raises NotFound, NotAllowed (not a signatory, signed or
    declined already, no active key, the deadline passed), WrongPassphrase, InvalidInput."""
    nip = get_official(ctx.ledger, nip).nip
    reason = _clean(reason, "reason")
    with ctx.ledger.read() as r:
        commitment = r.commitment(slug) if SLUG.fullmatch(slug) else None
        key = r.active_key(nip)
    if commitment is None:
        raise NotFound(f"there is no commitment {slug!r}", code="commitment.not_found", slug=slug)
    if key is None:
        raise NotAllowed(f"official {nip} has no active key: enrol first", code="sign.no_key", nip=nip)
    vkey = VerifierKey.parse(key.key)
    fields = {
        "slug": slug,
        "commitment_sha256": commitment.text_sha256,
        "commitment_index": commitment.published_index,
        "nip": nip,
        "key": key.key,
        "reason": reason,
    }
    try:
        ctx.ledger.precheck(
            "commitment.declined", {**fields, "signature": _NO_SIGNATURE}, now() if callable(now) else now
        )
    except Conflict as e:
        raise NotAllowed(str(e), code=e.code, **e.params) from e
    sign_with_key = ctx.keys.signer(vkey, passphrase)
    if authorize is not None:
        authorize()

    def declined_at(moment: datetime) -> dict[str, Any]:
        statement = Decline(ctx.ledger.origin, slug, commitment.text_sha256, nip, vkey, reason, moment)
        signature = sign_with_key(statement.message())
        statement.verify(signature)
        return {**fields, "signature": encode_signature(signature)}

    return ctx.ledger.append("commitment.declined", declined_at, ctx.signer, now)


_KEEP = None  # an identity part not given to `update_official`: kept as it is


def update_official(
    ctx: Context,
    nip: str,
    by: str,
    passphrase: str | None,
    reason: str,
    now: datetime | Callable[[], datetime],
    *,
    name: str | None = _KEEP,
    title: str | None = _KEEP,
    unit: str | None = _KEEP,
    rank: str | None = _KEEP,
    acting: str | None = _KEEP,
    appointment: str | None = _KEEP,
    agencies: Sequence[str] | None = None,
) -> Appended:
    """Record an official's new identity (a mutasi, a promotion, a corrected name) as an
    `official.updated` entry attested by the admin `by` with their own key (opened with
    `passphrase`, as for an invitation), then the register follows. Each part not given
    stays as the ledger has it; `rank` or `acting` given blank ("") is removed (ending an
    acting position removes its appointment too). The official's key stays.

    Raises NotFound, InvalidInput (a part, the unit not among `agencies`), NotAllowed (the
    rules refuse: never enrolled, nothing changes, `by` is no admin or the official),
    WrongPassphrase."""
    official = get_official(ctx.ledger, nip)
    with ctx.ledger.read() as r:
        current = r.identities([official.nip]).get(official.nip)
    if current is None:
        raise NotAllowed(
            f"official {official.nip} has never enrolled: correct the register instead",
            code="update.unknown",
            nip=official.nip,
        )
    if acting == "":
        appointment = ""
    identity = clean_identity(
        current.name if name is None else name,
        current.title if title is None else title,
        current.unit if unit is None else unit,
        current.rank if rank is None else rank,
        current.acting if acting is None else acting,
        current.appointment if appointment is None else appointment,
        agencies if unit is not None else None,
    )
    reason = _clean(reason, "reason")
    fields: dict[str, Any] = {"nip": official.nip, **identity.fields(), "reason": reason}
    key = vouching.admin_key(ctx, by)
    draft = {**fields, "attested_by": by, "attester": key, "attestation": _NO_SIGNATURE}
    try:
        ctx.ledger.precheck("official.updated", draft, now() if callable(now) else now)
    except Conflict as e:
        raise NotAllowed(str(e), code=e.code, **e.params) from e
    acting_admin = vouching.voucher(ctx, by, passphrase)

    def attested_at(moment: datetime) -> dict[str, Any]:
        statement = Update.of_fields(ctx.ledger.origin, fields, moment)
        signature = encode_signature(acting_admin.sign(statement.text().encode()))
        return {**fields, "attested_by": by, "attester": key, "attestation": signature}

    appended = ctx.ledger.append("official.updated", attested_at, ctx.signer, now)
    ctx.ledger.register.set_identity(official.nip, identity)
    logger.info("official updated nip=%s by=%s index=%d", official.nip, by, appended.entry.index)
    return appended
