"""What officials and operators do, as ledger appends: register, enrol, publish, sign, revoke.

These are the one implementation behind the command line and the web pages. Each takes
the time as `now`. Before the slow key derivation each asks the ledger's own rules
(`Ledger.precheck`) whether its entry could be appended, so that a refusal is quick and
clear and no rule is written twice; the ledger asks them again under its append lock.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.nip import validate_nip
from ledger.note import NoteSigner, VerifierKey
from ledger.reader import OfficialRecord
from ledger.rules import SLUG, official_key_name
from ledger.statements import encode_signature
from ledger.store import Appended, Ledger

from .errors import NotAllowed, WeakPassphrase
from .keystore import KeyStore
from .statement import Statement

logger = logging.getLogger(__name__)

ROLES = ("official", "admin")
MIN_PASSPHRASE = 10
MAX_TEXT = 200


@dataclass(frozen=True)
class Context:
    """The ledger, the key directory, and the ledger's checkpoint signer (unlocked)."""

    ledger: Ledger
    keys: KeyStore
    signer: NoteSigner


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
    ledger: Ledger, nip: str, name: str, title: str, unit: str, role: str, now: datetime
) -> OfficialRecord:
    """Add a person to the register. Raises InvalidInput (bad NIP, role) or Conflict (known NIP)."""
    nip = validate_nip(nip, now.date())
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", code="official.role")
    official = OfficialRecord(nip, _clean(name, "name"), _clean(title, "title"), _clean(unit, "unit"), role, now)
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


def enrol(ctx: Context, nip: str, passphrase: str, now: datetime, password: str | None = None) -> Appended:
    """Make the official's key under `passphrase` and append `key.enrolled`.

    Raises NotFound (unknown NIP), WeakPassphrase, Conflict (already has an active key).
    """
    official = get_official(ctx.ledger, nip)
    check_new_passphrase(passphrase, password)
    name = official_key_name(ctx.ledger.origin, official.nip)
    fields = {"nip": official.nip, "name": official.name, "title": official.title, "unit": official.unit}
    # The rules, asked with a stand-in key of the right name before the key is made.
    ctx.ledger.precheck("key.enrolled", {**fields, "key": str(VerifierKey(name, bytes(32)))}, now)
    vkey = ctx.keys.create(name, passphrase)
    try:
        return ctx.ledger.append("key.enrolled", {**fields, "key": str(vkey)}, ctx.signer, now)
    except BaseException:
        ctx.keys.path_for(vkey).unlink(missing_ok=True)  # never keep a key the ledger does not know
        raise


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
    ctx: Context, slug: str, nip: str, passphrase: str, now: datetime, authorize: Callable[[], None] | None = None
) -> Appended:
    """The official signs the commitment: ask the rules, open the key, sign the statement,
    check it, append.

    `authorize`, when given, is called once the passphrase has opened the key and before
    anything is appended; it may raise to refuse (the web's throttle does).
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
        ctx.ledger.precheck("commitment.signed", {**fields, "signature": _NO_SIGNATURE}, now)
    except Conflict as e:  # the official may not sign this: say so before the key is opened
        raise NotAllowed(str(e), code=e.code, **e.params) from e
    statement = Statement(ctx.ledger.origin, slug, commitment.text_sha256, nip, vkey, now)
    signature = ctx.keys.sign(vkey, passphrase, statement.message())
    if authorize is not None:
        authorize()
    statement.verify(signature)
    return ctx.ledger.append("commitment.signed", {**fields, "signature": encode_signature(signature)}, ctx.signer, now)


def revoke(ctx: Context, nip: str, reason: str, by: str, now: datetime) -> Appended:
    """Append `key.revoked` for the official's active key. Raises NotFound or NotAllowed."""
    nip = get_official(ctx.ledger, nip).nip
    vkey = active_key(ctx.ledger, nip)
    if vkey is None:
        raise NotAllowed(f"official {nip} has no active key to revoke", code="key.none_to_revoke", nip=nip)
    fields = {"nip": nip, "key": str(vkey), "reason": _clean(reason, "reason"), "by": by}
    return ctx.ledger.append("key.revoked", fields, ctx.signer, now)
