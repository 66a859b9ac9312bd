"""What the admin pages show about vouching (rules version 3): whether the logged-in admin
holds an active admin key to act with, the invitations that wait for a second admin's
approval (who attested, and for a replacement who revoked the previous key and why), and
the officials an admin may invite. Everything about keys is read from the ledger; the
invitations come from the register (`ledger.invitations`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ledger.invitations import InvitationRecord
from ledger.reader import KeyRecord, OfficialRecord, Reader
from ledger.state import LEDGER
from ledger.store import Ledger

from .views import OfficialStatus, official_statuses

__all__ = [
    "Candidate",
    "Standing",
    "Waiting",
    "candidates",
    "pending_invitations",
    "standing",
    "waiting",
    "waiting_for",
]

# Why an admin may not act with their own key, or approve one invitation: catalogue keys.
NO_KEY = "vouching.own.none"
NOT_ADMIN_KEY = "vouching.own.not_admin"
ATTESTER = "vouching.cannot.attester"
REVOKER = "vouching.cannot.revoker"
THEMSELF = "vouching.cannot.self"
NO_ADMIN_KEY = "vouching.cannot.no_key"


@dataclass(frozen=True)
class Standing:
    """The admin's own key, and `problem`: None when it is an active admin key they can
    invite, approve and revoke with; else the catalogue key saying why they cannot."""

    key: KeyRecord | None
    problem: str | None

    @property
    def can_vouch(self) -> bool:
        return self.problem is None


def _is_admin_key(r: Reader, key: KeyRecord) -> bool:
    """Whether the active `key` was enrolled as an admin's key (only such a key vouches)."""
    return r.entry(key.enrolled_index).fields.get("role") == "admin"


def standing(ledger: Ledger, nip: str) -> Standing:
    with ledger.read() as r:
        key = r.active_key(nip)
        admin = key is not None and _is_admin_key(r, key)
    if key is None:
        return Standing(None, NO_KEY)
    return Standing(key, None if admin else NOT_ADMIN_KEY)


@dataclass(frozen=True)
class Waiting:
    """An invitation waiting for a second admin's approval, with what the approver should
    know; `refusal` is why the admin looking at it may not approve it (None: they may)."""

    invitation: InvitationRecord
    attester: OfficialRecord | None  # None: attested with the ledger's own key
    previous: KeyRecord | None  # the official's last revoked key: this one replaces it
    revoked_by: str | None  # who revoked it: a NIP, or `ledger`
    revoker: OfficialRecord | None
    refusal: str | None

    @property
    def replacement(self) -> bool:
        return self.previous is not None

    @property
    def attester_label(self) -> str | None:
        """Who attested, as a page names them (None: the ledger's key)."""
        return _label(self.attester, self.invitation.attested_by)

    @property
    def revoker_label(self) -> str | None:
        """Who revoked the previous key, as a page names them (None: the ledger's key)."""
        return _label(self.revoker, self.revoked_by) if self.revoked_by else None


def _label(person: OfficialRecord | None, nip: str) -> str | None:
    if nip == LEDGER:
        return None
    return f"{person.name} (NIP {nip})" if person else f"NIP {nip}"


def _last_revoked(r: Reader, nip: str) -> tuple[KeyRecord | None, str | None]:
    revoked = [k for k in r.enrolled_keys(nip) if k.revoked_index is not None]
    if not revoked:
        return None, None
    last = max(revoked, key=lambda k: k.revoked_index or 0)
    assert last.revoked_index is not None
    return last, str(r.entry(last.revoked_index).fields["by"])


def _refusal(invitation: InvitationRecord, revoked_by: str | None, viewer: str, own: Standing) -> str | None:
    """Why `viewer` may not approve `invitation` (as the rules of `kinds.key_enrolled` say), or None."""
    if viewer == invitation.nip:
        return THEMSELF
    if viewer == invitation.attested_by:
        return ATTESTER
    if viewer == revoked_by:
        return REVOKER
    return None if own.can_vouch else NO_ADMIN_KEY


def waiting(ledger: Ledger, viewer: str, now: datetime, only: str | None = None) -> list[Waiting]:
    """The pending invitations that need an approval and have none yet, oldest first (of
    the official `only`, when given), as the admin `viewer` sees them."""
    pending = [
        i
        for i in ledger.invitations.pending(now)
        if i.needs_approval and i.approved_by is None and (only is None or i.nip == only)
    ]
    if not pending:
        return []
    own = standing(ledger, viewer)
    with ledger.read() as r:
        revocations = {i.nip: _last_revoked(r, i.nip) for i in pending}
        people = _people(r, [i.attested_by for i in pending] + [by for _k, by in revocations.values() if by])
    shown = []
    for i in pending:
        previous, revoked_by = revocations[i.nip]
        shown.append(
            Waiting(
                i,
                people.get(i.attested_by),
                previous,
                revoked_by,
                people.get(revoked_by) if revoked_by else None,
                _refusal(i, revoked_by, viewer, own),
            )
        )
    return shown


def waiting_for(ledger: Ledger, viewer: str, nip: str, now: datetime) -> Waiting | None:
    """The official's invitation waiting for an approval, or None."""
    found = waiting(ledger, viewer, now, only=nip)
    return found[-1] if found else None


def _people(r: Reader, nips: Iterable[str]) -> dict[str, OfficialRecord]:
    wanted = {n for n in nips if n != LEDGER}
    return {o.nip: o for o in r.officials(wanted)} if wanted else {}


@dataclass(frozen=True)
class Candidate:
    """An official without an active key, whom an admin may invite: `replacement` when they
    had a key (their new one then needs a second admin's approval, as an admin's does), and
    their pending invitation, if any (a new one replaces it)."""

    status: OfficialStatus
    pending: InvitationRecord | None

    @property
    def needs_approval(self) -> bool:
        return self.status.key is not None or self.status.person.role == "admin"


def candidates(ledger: Ledger, now: datetime) -> list[Candidate]:
    """Everyone registered who has no active key, by name."""
    invitations = pending_invitations(ledger, now)
    return [
        Candidate(o, invitations.get(o.person.nip)) for o in official_statuses(ledger, now) if o.key_state != "active"
    ]


def pending_invitations(ledger: Ledger, now: datetime) -> dict[str, InvitationRecord]:
    """Each official's unused, unexpired invitation (the newest), by NIP."""
    return {i.nip: i for i in ledger.invitations.pending(now)}
