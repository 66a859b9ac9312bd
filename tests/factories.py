"""Builders for ledgers in tests: exact times, fast key derivation, readable names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from ledger.note import NoteSigner
from ledger.store import Ledger
from signing import actions
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

    def created(self) -> LedgerFactory:
        self.signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
        self.ledger.create("Pemerintah Kota Kediri (uji)", ORIGIN, self.signer, self.now())
        return self

    def official(self, n: int, enrol: bool = True) -> str:
        actions.register_official(
            self.ledger, nip(n), f"Pejabat {n}", f"Kepala Dinas {n}", f"Dinas {n}", "official", self.now()
        )
        if enrol:
            actions.enrol(self.ctx, nip(n), passphrase(n), self.now())
        self.officials.append(nip(n))
        return nip(n)

    def with_commitment(self, officials: int = 3, slug: str = "smart-city") -> LedgerFactory:
        for n in range(1, officials + 1):
            self.official(n)
        actions.publish(self.ctx, slug, "Komitmen Bersama", "Kami berkomitmen.\n", self.officials, "admin", self.now())
        return self

    def sign(self, n: int, slug: str = "smart-city"):
        return actions.sign(self.ctx, slug, nip(n), passphrase(n), self.now())


def tables(ledger: Ledger) -> Session:
    """A session over the stored tables, for tests that look at what was written (the
    application itself reads only through `Ledger.read()` and `Ledger.register`)."""
    return Session(ledger.engine)
