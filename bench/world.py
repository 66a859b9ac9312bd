"""The benchmark's city: deterministic keys, officials, commitments and the entries they make.

Every key is derived from a fixed label, so a ledger built today and the keys that a
benchmark holds tomorrow belong together (a cached database stays usable). The layout
of a benchmark ledger is `script()`: `ledger.created`, one `key.enrolled` per official,
then commitments, each `commitment.published` followed by the signatures of every
official on it; after the first commitment one key is revoked and enrolled anew, so
every entry kind and a key change are on the audited path.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.note import NoteSigner, VerifierKey
from ledger.rules import official_key_name
from signing.statement import Statement

ORIGIN = "bench.kedirikota.go.id/ikrar"
ORG = "Pemerintah Kota Kediri (benchmark)"
T0 = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
OFFICIALS = 100


@functools.cache
def private_key(label: str) -> Ed25519PrivateKey:
    """A fixed Ed25519 key for `label` (benchmarks only: never a real key)."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"ikrar-bench/" + label.encode()).digest())


def ledger_signer() -> NoteSigner:
    return NoteSigner(ORIGIN, private_key("ledger"))


def time_of(index: int) -> datetime:
    """Entry `index` is written one second after the one before."""
    return T0 + timedelta(seconds=index)


def nip(n: int) -> str:
    """NIP of official n (1..999): born 1975-03-14, appointed 2001-04, male, sequence n."""
    return f"197503142001041{n:03d}"


@dataclass(frozen=True)
class Official:
    n: int
    generation: int = 0  # bumped when the key is revoked and a new one enrolled

    @property
    def nip(self) -> str:
        return nip(self.n)

    @property
    def key(self) -> Ed25519PrivateKey:
        return private_key(f"official/{self.n}/{self.generation}")

    @property
    def vkey(self) -> VerifierKey:
        return VerifierKey(official_key_name(ORIGIN, self.nip), self.key.public_key().public_bytes_raw())

    def register(self) -> dict[str, str]:
        return {
            "nip": self.nip,
            "name": f"Pejabat {self.n}",
            "title": f"Kepala Dinas {self.n}",
            "unit": f"Dinas {self.n}",
        }

    def enrolled(self) -> dict[str, str]:
        return {**self.register(), "key": str(self.vkey)}


@dataclass(frozen=True)
class Published:
    slug: str
    index: int
    text_sha256: str


def created() -> dict[str, str]:
    return {"org": ORG, "origin": ORIGIN, "ledger_key": str(ledger_signer().verifier)}


def published(c: int, signers: list[Official]) -> dict[str, Any]:
    text = f"Komitmen bersama nomor {c}: setiap OPD menyiapkan program kota cerdas dengan cermat.\n"
    return {
        "slug": f"komitmen-{c:05d}",
        "title": f"Komitmen Bersama {c}",
        "text": text,
        "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "signers": [o.nip for o in signers],
        "by": "benchmark",
    }


def signed(official: Official, commitment: Published, time: datetime) -> dict[str, Any]:
    """The fields of `commitment.signed`, with the statement signed now (pre-signed for later)."""
    vkey = official.vkey
    statement = Statement(ORIGIN, commitment.slug, commitment.text_sha256, official.nip, vkey, time)
    signature = official.key.sign(statement.message())
    return {
        "slug": commitment.slug,
        "commitment_sha256": commitment.text_sha256,
        "commitment_index": commitment.index,
        "nip": official.nip,
        "key": str(vkey),
        "signature": base64.b64encode(signature).decode(),
    }


def script(officials: int = OFFICIALS) -> Iterator[tuple[int, datetime, str, dict[str, Any]]]:
    """The entries of a benchmark ledger, in order, without end: (index, time, kind, fields)."""
    people = [Official(n) for n in range(1, officials + 1)]
    index = 0

    def entry(kind: str, fields: dict[str, Any]) -> tuple[int, datetime, str, dict[str, Any]]:
        nonlocal index
        index += 1
        return index - 1, time_of(index - 1), kind, fields

    yield entry("ledger.created", created())
    for o in people:
        yield entry("key.enrolled", o.enrolled())
    c = 0
    while True:
        fields = published(c, people)
        commitment = Published(fields["slug"], index, fields["text_sha256"])
        yield entry("commitment.published", fields)
        for i, o in enumerate(people):
            yield entry("commitment.signed", signed(o, commitment, time_of(index)))
            if c == 0 and i == 0:  # one key change early on: revoked, then enrolled anew
                yield entry(
                    "key.revoked", {"nip": o.nip, "key": str(o.vkey), "reason": "kunci diganti", "by": "benchmark"}
                )
                people[0] = o = Official(o.n, o.generation + 1)
                yield entry("key.enrolled", o.enrolled())
        c += 1
