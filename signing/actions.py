"""What officials and operators do, as ledger appends: register, enrol, publish, sign, revoke.

These are the one implementation behind the command line and the web pages. Each takes
the time as `now`; each checks what it can before the slow key derivation so that a
refusal is quick and clear, and the ledger re-checks every rule under its append lock.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.models import Commitment, CommitmentSigner, Official, OfficialKey, Signature
from ledger.nip import validate_nip
from ledger.note import NoteSigner, VerifierKey
from ledger.rules import SLUG, official_key_name
from ledger.store import Appended, Ledger

from .errors import NotAllowed, WeakPassphrase
from .keystore import KeyStore
from .statement import Statement, check_signed_entry

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
        raise WeakPassphrase(f"the signing passphrase needs at least {MIN_PASSPHRASE} characters")
    if len(set(passphrase)) < 4:
        raise WeakPassphrase("the signing passphrase needs at least 4 different characters")
    if password is not None and passphrase == password:
        raise WeakPassphrase("the signing passphrase must differ from the login password")


def _clean(value: str, what: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise InvalidInput(f"{what} is empty")
    if not value.isprintable():  # NUL, bidi overrides...: PostgreSQL refuses some, readers are fooled by others
        raise InvalidInput(f"{what} holds control characters")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{what} is longer than {MAX_TEXT} characters")
    return value


def register_official(ledger: Ledger, nip: str, name: str, title: str, unit: str, role: str, now: datetime) -> Official:
    """Add a person to the register. Raises InvalidInput (bad NIP, role) or Conflict (known NIP)."""
    nip = validate_nip(nip, now.date())
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    official = Official(
        nip=nip,
        name=_clean(name, "name"),
        title=_clean(title, "title"),
        unit=_clean(unit, "unit"),
        role=role,
        created_at=now,
    )
    try:
        with ledger.session() as s:
            s.add(official)
            s.commit()
            s.refresh(official)
    except IntegrityError as e:
        raise Conflict(f"an official with NIP {nip} is already registered") from e
    return official


def get_official(ledger: Ledger, nip: str) -> Official:
    """Raises NotFound for an unknown NIP."""
    number = "".join(nip.split())
    if len(number) != 18 or not (number.isascii() and number.isdigit()):
        raise NotFound(f"no official with NIP {nip} is registered")
    with ledger.session() as s:
        official = s.get(Official, number)
    if official is None:
        raise NotFound(f"no official with NIP {nip} is registered")
    return official


def active_key(ledger: Ledger, nip: str) -> VerifierKey | None:
    with ledger.session() as s:
        q = select(OfficialKey.key).where(OfficialKey.nip == nip, col(OfficialKey.revoked_index).is_(None))
        key = s.exec(q).first()
    return VerifierKey.parse(key) if key else None


def enrol(ctx: Context, nip: str, passphrase: str, now: datetime, password: str | None = None) -> Appended:
    """Make the official's key under `passphrase` and append `key.enrolled`.

    Raises NotFound (unknown NIP), WeakPassphrase, Conflict (already has an active key).
    """
    official = get_official(ctx.ledger, nip)
    check_new_passphrase(passphrase, password)
    if active_key(ctx.ledger, official.nip) is not None:
        raise Conflict(f"official {official.nip} already has an active key; revoke it first")
    vkey = ctx.keys.create(official_key_name(ctx.ledger.origin, official.nip), passphrase)
    fields = {
        "nip": official.nip,
        "name": official.name,
        "title": official.title,
        "unit": official.unit,
        "key": str(vkey),
    }
    try:
        return ctx.ledger.append("key.enrolled", fields, ctx.signer, now)
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
        raise InvalidInput("a commitment needs at least one required signatory")
    nips = [validate_nip(n, now.date()) for n in signers]
    with ctx.ledger.session() as s:
        known = set(s.exec(select(Official.nip).where(col(Official.nip).in_(nips))))
    unknown = [n for n in nips if n not in known]
    if unknown:
        raise InvalidInput(f"not registered officials: {', '.join(unknown)}")
    fields = {
        "slug": slug,
        "title": _clean(title, "title"),
        "text": text,
        "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "signers": nips,
        "by": by,
    }
    return ctx.ledger.append("commitment.published", fields, ctx.signer, now)


def sign(
    ctx: Context, slug: str, nip: str, passphrase: str, now: datetime, authorize: Callable[[], None] | None = None
) -> Appended:
    """The official signs the commitment: open the key, sign the statement, check it, append.

    `authorize`, when given, is called once the passphrase has opened the key and before
    anything is appended; it may raise to refuse (the web's throttle does).
    Raises NotFound (commitment), NotAllowed (not a signatory, already signed, no active
    key), WrongPassphrase; the ledger re-checks the rules under its lock (Conflict).
    """
    if not SLUG.fullmatch(slug):
        raise NotFound(f"there is no commitment {slug!r}")
    nip = get_official(ctx.ledger, nip).nip
    with ctx.ledger.session() as s:
        commitment = s.get(Commitment, slug)
        if commitment is None:
            raise NotFound(f"there is no commitment {slug!r}")
        if s.get(CommitmentSigner, (slug, nip)) is None:
            raise NotAllowed(f"official {nip} is not a required signatory of {slug!r}")
        done = s.exec(select(Signature.idx).where(Signature.slug == slug, Signature.nip == nip)).first()
        if done is not None:
            raise NotAllowed(f"official {nip} has already signed {slug!r} (entry {done})")
    vkey = active_key(ctx.ledger, nip)
    if vkey is None:
        raise NotAllowed(f"official {nip} has no active key: enrol first (or again, after a revocation)")
    statement = Statement(ctx.ledger.origin, slug, commitment.text_sha256, nip, vkey, now)
    signature = ctx.keys.sign(vkey, passphrase, statement.message())
    if authorize is not None:
        authorize()
    statement.verify(signature)
    fields = {
        "slug": slug,
        "commitment_sha256": commitment.text_sha256,
        "commitment_index": commitment.published_index,
        "nip": nip,
        "key": str(vkey),
        "signature": base64.b64encode(signature).decode(),
    }
    return ctx.ledger.append("commitment.signed", fields, ctx.signer, now, check_signed_entry)


def revoke(ctx: Context, nip: str, reason: str, by: str, now: datetime) -> Appended:
    """Append `key.revoked` for the official's active key. Raises NotFound or NotAllowed."""
    nip = get_official(ctx.ledger, nip).nip
    vkey = active_key(ctx.ledger, nip)
    if vkey is None:
        raise NotAllowed(f"official {nip} has no active key to revoke")
    fields = {"nip": nip, "key": str(vkey), "reason": _clean(reason, "reason"), "by": by}
    return ctx.ledger.append("key.revoked", fields, ctx.signer, now)
