"""Builders for ledgers in tests: exact times, fast key derivation, readable names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from ledger.note import NoteSigner
from ledger.state import RULES, VOUCHING_RULES
from ledger.store import Ledger
from signing import actions, vouching
from signing.actions import Context
from signing.keystore import KeyStore

FAST_KDF = 1000  # tests only; the default is 600,000
ORIGIN = "test.kedirikota.go.id/ikrar"
T0 = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


def nip(n: int) -> str:
    """A plausible, distinct NIP: born 1975-03-14, appointed 2001-04, male, sequence n."""
    return f"19750314200104100{n:1d}" if n < 10 else f"1975031420010410{n:02d}"


def passphrase(n: int) -> str:
    return f"rahasia-tanda-{n}-tangan"


def passphrase_of(identifier: str) -> str:
    """The signing passphrase the factory gives the official of a NIP or identifier."""
    for n in range(100):
        if nip(n) == identifier:
            return passphrase(n)
    return f"rahasia-tanda-{identifier}-tangan"


ADMIN, SECOND_ADMIN = 99, 98  # the factory's Diskominfo admins: nip(ADMIN), nip(SECOND_ADMIN)
ADMIN_NIP, ADMIN_PASSPHRASE = nip(ADMIN), passphrase(ADMIN)


@dataclass
class LedgerFactory:
    ledger: Ledger
    keys: KeyStore
    clock: datetime = T0
    officials: list[str] = field(default_factory=list)
    signer: NoteSigner | None = None

    def now(self) -> datetime:
        self.clock += timedelta(minutes=1)
        return self.clock

    @property
    def ctx(self) -> Context:
        assert self.signer is not None, "call created() first"
        return Context(self.ledger, self.keys, self.signer)

    def created(self, rules: int = RULES) -> LedgerFactory:
        """The ledger, keeping `rules` from its start (default: the newest)."""
        self.signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
        self.ledger.create("Pemerintah Kota Kediri (uji)", ORIGIN, self.signer, self.now(), rules=rules)
        return self

    def admin(self) -> str:
        """The founding admin (enrolled on first need, attested by the ledger's key)."""
        if self.ledger.register.has_account(nip(ADMIN)) or actions.active_key(self.ledger, nip(ADMIN)):
            return nip(ADMIN)
        actions.register_official(
            self.ledger, nip(ADMIN), "Admin Diskominfo", "Pranata Komputer", "Dinas Kominfo", "admin", self.now()
        )
        actions.enrol(self.ctx, nip(ADMIN), passphrase(ADMIN), self.now())
        return nip(ADMIN)

    def invite(self, n: int, by: int = ADMIN) -> vouching.Invited:
        """The admin `by` invites official `n` (rules version 3: every key is vouched for)."""
        if by == ADMIN:
            self.admin()
        official = actions.get_official(self.ledger, nip(n))
        return vouching.invite(self.ctx, official, nip(by), passphrase(by), self.now(), hours=72)

    def second_admin(self) -> str:
        """A second admin: invited by the first, approved with the ledger's key, enrolled."""
        self.admin()
        actions.register_official(
            self.ledger, nip(SECOND_ADMIN), "Admin Kedua", "Pranata Komputer", "Dinas Kominfo", "admin", self.now()
        )
        self.invite(SECOND_ADMIN)
        official = actions.get_official(self.ledger, nip(SECOND_ADMIN))
        vouching.approve(self.ctx, official, vouching.LEDGER, None, self.now())
        actions.enrol(self.ctx, nip(SECOND_ADMIN), passphrase(SECOND_ADMIN), self.now())
        return nip(SECOND_ADMIN)

    def approve(self, n: int, by: int = SECOND_ADMIN) -> None:
        """The admin `by` approves official `n`'s pending invitation (a replacement key)."""
        if by == SECOND_ADMIN and actions.active_key(self.ledger, nip(SECOND_ADMIN)) is None:
            self.second_admin()
        vouching.approve(self.ctx, actions.get_official(self.ledger, nip(n)), nip(by), passphrase(by), self.now())

    def official(self, n: int, enrol: bool = True) -> str:
        actions.register_official(
            self.ledger, nip(n), f"Pejabat {n}", f"Kepala Dinas {n}", f"Dinas {n}", "official", self.now()
        )
        if enrol:
            if vouching.rules_version(self.ctx) >= VOUCHING_RULES:
                self.invite(n)
            actions.enrol(self.ctx, nip(n), passphrase(n), self.now())
        self.officials.append(nip(n))
        return nip(n)

    def without_nip(self, name: str = "Wali Kota Uji", title: str = "Wali Kota Kediri", enrol: bool = True) -> str:
        """An official without a NIP (rules version 4): registered with the identifier the
        system gives, invited and enrolled; returns the identifier. Their passphrase is
        `passphrase_of(identifier)`."""
        official = actions.register_official(
            self.ledger, None, name, title, "Pemerintah Kota Kediri", "official", self.now()
        )
        if enrol:
            self.admin()
            vouching.invite(self.ctx, official, nip(ADMIN), passphrase(ADMIN), self.now(), hours=72)
            actions.enrol(self.ctx, official.nip, passphrase_of(official.nip), self.now())
        self.officials.append(official.nip)
        return official.nip

    def with_commitment(
        self, officials: int = 3, slug: str = "smart-city", deadline: datetime | None = None
    ) -> LedgerFactory:
        for n in range(1, officials + 1):
            self.official(n)
        actions.publish(
            self.ctx, slug, "Komitmen Bersama", "Kami berkomitmen.\n", self.officials, "admin", self.now(), deadline
        )
        return self

    def sign(self, n: int | str, slug: str = "smart-city"):
        """Official `n` (a number of `nip`, or an identifier) signs."""
        who = nip(n) if isinstance(n, int) else n
        return actions.sign(self.ctx, slug, who, passphrase_of(who), self.now())

    def decline(self, n: int | str, reason: str = "Sedang cuti di luar negeri", slug: str = "smart-city"):
        """Official `n` declines the commitment (rules version 4)."""
        who = nip(n) if isinstance(n, int) else n
        return actions.decline(self.ctx, slug, who, passphrase_of(who), reason, self.now())

    def update(self, n: int | str, reason: str = "Mutasi jabatan", by: int = ADMIN, **identity: str):
        """The admin `by` records official `n`'s new identity (`actions.update_official` parts)."""
        who = nip(n) if isinstance(n, int) else n
        self.admin()
        return actions.update_official(self.ctx, who, nip(by), passphrase(by), reason, self.now(), **identity)


def tables(ledger: Ledger) -> Session:
    """A session over the stored tables, for tests that look at what was written (the
    application itself reads only through `Ledger.read()` and `Ledger.register`)."""
    return Session(ledger.engine)
