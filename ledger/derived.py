"""The derived tables: what the entries imply, kept beside them so that rules and pages
can ask without replaying the log.

`official_key`, `commitment`, `commitment_signer` and `signature` follow from the entries
alone. `DbState` reads them for the rules under the append lock and writes them through
the `State` verbs in the same transaction as the entry they follow from, so they never
disagree with a committed entry. Only `ledger/` writes them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Executable, bindparam, select, update

from .db import COMMITMENT, INSERT, KEY, SIGNATURE, SIGNER, TABLES
from .models import Commitment, CommitmentSigner, OfficialKey, Signature
from .state import CommitmentInfo, Published

_COMMITMENT_CACHE = 4096

# The append path's statements, built once: each append runs a handful of them, and
# building and keying a statement costs more than SQLite takes to run it.
_ACTIVE_KEY = select(KEY.key).where(KEY.nip == bindparam("nip"), KEY.revoked_index.is_(None)).limit(1)
_KEY_KNOWN = select(KEY.key).where(KEY.key == bindparam("key"))
_COMMITMENT_ROW = select(COMMITMENT.published_index, COMMITMENT.text_sha256).where(COMMITMENT.slug == bindparam("slug"))
_SIGNERS = select(SIGNER.nip).where(SIGNER.slug == bindparam("slug")).order_by(SIGNER.position)
_HAS_SIGNED = (
    select(SIGNATURE.idx).where(SIGNATURE.slug == bindparam("slug"), SIGNATURE.nip == bindparam("nip")).limit(1)
)
_REVOKE = (
    update(TABLES[OfficialKey])
    .where(KEY.key == bindparam("b_key"))
    .values(revoked_index=bindparam("b_index"), revoked_at=bindparam("b_at"), revoked_reason=bindparam("b_reason"))
)


class DerivedWriter:
    """The `State` verbs as writes to the derived tables, through `execute(statement, params)`
    (a connection's, or a bulk loader's that gathers the rows of many entries)."""

    def __init__(self, execute: Callable[[Executable, Any], object]) -> None:
        self._execute = execute

    def add_key(self, nip: str, key: str, index: int, time: datetime) -> None:
        self._execute(INSERT[OfficialKey], {"key": key, "nip": nip, "enrolled_index": index, "enrolled_at": time})

    def revoke_key(self, nip: str, key: str, index: int, time: datetime, reason: str) -> None:
        self._execute(_REVOKE, {"b_key": key, "b_index": index, "b_at": time, "b_reason": reason})

    def add_commitment(self, published: Published) -> None:
        p = published
        self._execute(
            INSERT[Commitment],
            {
                "slug": p.slug,
                "title": p.title,
                "text": p.text,
                "text_sha256": p.text_sha256,
                "published_index": p.index,
                "published_at": p.time,
            },
        )
        self._execute(
            INSERT[CommitmentSigner], [{"slug": p.slug, "nip": nip, "position": i} for i, nip in enumerate(p.signers)]
        )

    def add_signature(self, slug: str, nip: str, key: str, index: int, time: datetime) -> None:
        self._execute(INSERT[Signature], {"idx": index, "slug": slug, "nip": nip, "key": key, "signed_at": time})


class DbState(DerivedWriter):
    """`state.State` answered from, and recorded into, the derived tables of one connection.

    `commitments` is the ledger's cache of published commitments: a commitment's index,
    text hash and signatories are written once, with its entry, and never change, so
    what was read once (committed) holds for every later append.
    """

    def __init__(self, conn: Connection, origin: str, commitments: dict[str, CommitmentInfo] | None = None) -> None:
        super().__init__(conn.execute)
        self._c = conn
        self.origin = origin
        self._commitments = {} if commitments is None else commitments

    def active_key(self, nip: str) -> str | None:
        return self._c.execute(_ACTIVE_KEY, {"nip": nip}).scalar()

    def key_known(self, key: str) -> bool:
        return self._c.execute(_KEY_KNOWN, {"key": key}).first() is not None

    def commitment(self, slug: str) -> CommitmentInfo | None:
        info = self._commitments.get(slug)
        if info is not None:
            return info
        row = self._c.execute(_COMMITMENT_ROW, {"slug": slug}).first()
        if row is None:
            return None
        info = CommitmentInfo(row[0], row[1], tuple(self._c.execute(_SIGNERS, {"slug": slug}).scalars()))
        if len(self._commitments) >= _COMMITMENT_CACHE:
            self._commitments.clear()
        self._commitments[slug] = info
        return info

    def has_signed(self, slug: str, nip: str) -> bool:
        return self._c.execute(_HAS_SIGNED, {"slug": slug, "nip": nip}).first() is not None
