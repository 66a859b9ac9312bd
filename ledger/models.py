"""Database tables: the storage edge of the ledger, not its domain.

`entry`, `checkpoint` and `merkle_node` are the ledger itself (append-only).
`official_key`, `commitment`, `commitment_signer` and `signature` are projections of the
entries, written in the same transaction as the entry they follow from, so that rules
can be checked under the append lock. `official` is the register of people.
`ledger_meta` holds the origin and the ledger's verifier key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _utc_column(nullable: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable)


class EntryRow(SQLModel, table=True):
    __tablename__ = "entry"
    idx: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    kind: str = Field(max_length=64, index=True)
    time: datetime = Field(sa_column=_utc_column())
    prev: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    leaf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CheckpointRow(SQLModel, table=True):
    __tablename__ = "checkpoint"
    size: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    note: str = Field(sa_column=Column(Text, nullable=False))


class MerkleNodeRow(SQLModel, table=True):
    """Hash of the perfect subtree of 2**level leaves starting at leaf idx << level (level >= 1)."""

    __tablename__ = "merkle_node"
    level: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    idx: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class LedgerMeta(SQLModel, table=True):
    __tablename__ = "ledger_meta"
    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))


class Official(SQLModel, table=True):
    """A person who may be asked to sign; `role` is `official` or `admin`."""

    __tablename__ = "official"
    nip: str = Field(primary_key=True, max_length=18)
    name: str = Field(max_length=200)
    title: str = Field(max_length=200)
    unit: str = Field(max_length=200)
    role: str = Field(default="official", max_length=16)
    created_at: datetime = Field(sa_column=_utc_column())


class OfficialKey(SQLModel, table=True):
    __tablename__ = "official_key"
    key: str = Field(primary_key=True, max_length=200)
    nip: str = Field(index=True, max_length=18)
    enrolled_index: int
    enrolled_at: datetime = Field(sa_column=_utc_column())
    revoked_index: int | None = None
    revoked_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    revoked_reason: str | None = None


class Commitment(SQLModel, table=True):
    __tablename__ = "commitment"
    slug: str = Field(primary_key=True, max_length=80)
    title: str = Field(max_length=300)
    text: str = Field(sa_column=Column(Text, nullable=False))
    text_sha256: str = Field(max_length=64)
    published_index: int
    published_at: datetime = Field(sa_column=_utc_column())


class CommitmentSigner(SQLModel, table=True):
    __tablename__ = "commitment_signer"
    slug: str = Field(primary_key=True, max_length=80)
    nip: str = Field(primary_key=True, max_length=18)
    position: int


class Signature(SQLModel, table=True):
    __tablename__ = "signature"
    __table_args__ = (UniqueConstraint("slug", "nip", name="uq_signature_slug_nip"),)
    idx: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    slug: str = Field(index=True, max_length=80)
    nip: str = Field(index=True, max_length=18)
    key: str = Field(max_length=200)
    signed_at: datetime = Field(sa_column=_utc_column())
