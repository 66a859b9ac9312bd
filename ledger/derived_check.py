"""The audit of what is derived from the entries: every derived table, re-derived and compared.

As the audit replays the entries it asks a `State` to record what each entry changes;
`DerivedCheck` is a state that, besides holding the rules' state in memory, compares each
change with the stored derived rows of the same snapshot: the signatures and the Merkle
node cache stream beside the entries (their rows come in the order the entries make them,
so memory stays small at a million entries), and the keys, commitments, signatories and
the ledger's own facts (`ledger_meta`) are compared when the replay ends. The first
difference raises `DerivedMismatch`, naming the table, the row's key and what differs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from .errors import DerivedMismatch
from .identity import Identity
from .merkle import Hash, Node
from .reader import DeclineRecord, IdentityEvent, KeyRecord, Reader
from .state import FIRST_RULES, Declined, MemoryState, Published, SignedAs, Updated

_Expected = dict[str, Any]


class DerivedCheck(MemoryState):
    """The audit's state, comparing each change with the derived tables of `reader`."""

    def __init__(self, origin: str, reader: Reader, genesis: dict[str, Any]) -> None:
        super().__init__(origin)
        self._reader = reader
        self._genesis = genesis
        self._signatures: Iterator[tuple[Any, ...]] = reader.stored_signature_rows()
        self._levels: dict[int, Iterator[tuple[int, bytes]]] = {}
        self._key_rows: dict[str, KeyRecord] = {}
        self._published: dict[str, Published] = {}
        self._updates: list[tuple[str, IdentityEvent]] = []
        self._declines: list[DeclineRecord] = []

    # -- what streams beside the entries ------------------------------------------------

    def add_signature(
        self, slug: str, nip: str, key: str, index: int, time: datetime, signed_as: SignedAs | None = None
    ) -> None:
        super().add_signature(slug, nip, key, index, time, signed_as)
        expected = (index, slug, nip, key, time, *(signed_as or (None, None, None)))
        stored = next(self._signatures, None)
        if stored is None:
            raise DerivedMismatch("signature", f"idx={index}", "the row is missing")
        if stored[0] != index:
            extra = stored[0] < index
            raise DerivedMismatch(
                "signature",
                f"idx={min(stored[0], index)}",
                "a row no signature entry makes is stored" if extra else "the row is missing",
            )
        columns = ("idx", "slug", "nip", "key", "signed_at", "name", "capacity", "unit")
        _compare("signature", f"idx={index}", columns, stored, expected)

    def tree_nodes(self, completed: Sequence[tuple[Node, Hash]]) -> None:
        """Compare the perfect subtrees an entry completed with the stored node cache."""
        for (level, index), digest in completed:
            if level == 0:
                continue  # leaves are the entries' own hashes, checked with the entries
            rows = self._levels.get(level)
            if rows is None:
                rows = self._levels[level] = self._reader.stored_node_rows(level)
            stored = next(rows, None)
            where = f"level={level}, idx={index}"
            if stored is None or stored[0] > index:
                raise DerivedMismatch("merkle_node", where, "the row is missing")
            if stored[0] < index:
                raise DerivedMismatch(
                    "merkle_node", f"level={level}, idx={stored[0]}", "a row no subtree makes is stored"
                )
            if stored[1] != digest:
                raise DerivedMismatch("merkle_node", where, "the stored hash is not the subtree's hash")

    # -- what is compared at the end ------------------------------------------------------

    def add_key(self, nip: str, key: str, index: int, time: datetime) -> None:
        super().add_key(nip, key, index, time)
        self._key_rows[key] = KeyRecord(key, nip, index, time)

    def revoke_key(self, nip: str, key: str, index: int, time: datetime, reason: str) -> None:
        super().revoke_key(nip, key, index, time, reason)
        enrolled = self._key_rows[key]
        self._key_rows[key] = KeyRecord(key, nip, enrolled.enrolled_index, enrolled.enrolled_at, index, time, reason)

    def add_commitment(self, published: Published) -> None:
        super().add_commitment(published)
        self._published[published.slug] = published

    def update_identity(self, updated: Updated) -> None:
        super().update_identity(updated)
        u = updated
        self._updates.append(
            (u.nip, IdentityEvent(u.index, u.time, "official.updated", u.identity, u.reason, u.attested_by))
        )

    def add_decline(self, declined: Declined) -> None:
        super().add_decline(declined)
        d = declined
        self._declines.append(DeclineRecord(d.index, d.slug, d.nip, d.key, d.reason, d.time))

    def finish(self) -> None:
        """Compare what is left: rows beyond the last entry, keys, commitments, the meta facts."""
        extra = next(self._signatures, None)
        if extra is not None:
            raise DerivedMismatch("signature", f"idx={extra[0]}", "a row no signature entry makes is stored")
        for level in sorted(self._reader.node_levels() | set(self._levels)):
            rows = self._levels.get(level) or self._reader.stored_node_rows(level)
            row = next(rows, None)
            if row is not None:
                raise DerivedMismatch("merkle_node", f"level={level}, idx={row[0]}", "a row no subtree makes is stored")
        self._finish_keys()
        self._finish_commitments()
        self._finish_updates()
        self._finish_declines()
        self._finish_meta()

    def _finish_keys(self) -> None:
        stored = {k.key: k for k in self._reader.enrolled_keys()}
        for key, want in self._key_rows.items():
            got = stored.pop(key, None)
            if got is None:
                raise DerivedMismatch("official_key", f"key={key}", "the row is missing")
            if got != want:
                differs = [f for f in want.__dataclass_fields__ if getattr(got, f) != getattr(want, f)]
                raise DerivedMismatch("official_key", f"key={key}", f"{', '.join(differs)} differ from the entries")
        if stored:
            raise DerivedMismatch("official_key", f"key={next(iter(stored))}", "a row no entry enrolls is stored")

    def _finish_commitments(self) -> None:
        stored = {c.slug: c for c in self._reader.commitments()}
        for slug, want in self._published.items():
            got = stored.pop(slug, None)
            if got is None:
                raise DerivedMismatch("commitment", f"slug={slug}", "the row is missing")
            columns = ("title", "text", "text_sha256", "published_index", "published_at", "deadline")
            expected = (want.title, want.text, want.text_sha256, want.index, want.time, self.deadline(slug))
            _compare("commitment", f"slug={slug}", columns, tuple(getattr(got, c) for c in columns), expected)
            if got.signers != want.signers:
                raise DerivedMismatch("commitment_signer", f"slug={slug}", "the signatories or their order differ")
        if stored:
            raise DerivedMismatch("commitment", f"slug={next(iter(stored))}", "a row no entry publishes is stored")
        orphans = self._reader.signer_slugs() - set(self._published)
        if orphans:
            raise DerivedMismatch("commitment_signer", f"slug={min(orphans)}", "rows of no published commitment")

    def _finish_updates(self) -> None:
        stored = {event.index: event for event in self._reader.stored_update_rows()}
        nips = self._reader.updated_nips()
        for nip, want in self._updates:
            got = stored.pop(want.index, None)
            if got is None:
                raise DerivedMismatch("official_update", f"idx={want.index}", "the row is missing")
            if got != want or nips.get(want.index) != nip:
                raise DerivedMismatch("official_update", f"idx={want.index}", "the row differs from the entry")
        if stored:
            raise DerivedMismatch("official_update", f"idx={min(stored)}", "a row no entry makes is stored")

    def _finish_declines(self) -> None:
        stored = {d.index: d for d in self._reader.declines()}
        for want in self._declines:
            got = stored.pop(want.index, None)
            if got is None:
                raise DerivedMismatch("decline", f"idx={want.index}", "the row is missing")
            if got != want:
                raise DerivedMismatch("decline", f"idx={want.index}", "the row differs from the entry")
        if stored:
            raise DerivedMismatch("decline", f"idx={min(stored)}", "a row no entry makes is stored")

    def _finish_meta(self) -> None:
        want = {k: str(v) for k, v in self._genesis.items() if k != "rules"}
        if self.rules != FIRST_RULES:
            want["rules"] = str(self.rules)
        got = self._reader.meta()
        for name in sorted(set(want) | set(got)):
            if got.get(name) != want.get(name):
                what = "is missing" if name not in got else "is not what the entries say"
                raise DerivedMismatch("ledger_meta", f"name={name}", f"the value {what}")


def _compare(table: str, key: str, columns: Sequence[str], stored: Sequence[Any], expected: Sequence[Any]) -> None:
    for column, got, want in zip(columns, stored, expected, strict=True):
        if got != want:
            raise DerivedMismatch(table, key, f"{column} differs from the entries")


class EchoCheck:
    """The `State` verbs as comparisons with the derived rows of one connection: applied
    after an append has written an entry's rows (in the same transaction), it reads them
    back and raises DerivedMismatch when they do not say what the entry says."""

    def __init__(self, reader: Reader) -> None:
        self._r = reader

    def set_rules(self, version: int) -> None:
        stored = self._r.meta().get("rules", str(FIRST_RULES))
        if stored != str(version):
            raise DerivedMismatch("ledger_meta", "name=rules", "the value is not what the entries say")

    def add_key(self, nip: str, key: str, index: int, time: datetime) -> None:
        if self._r.key(key) != KeyRecord(key, nip, index, time):
            raise DerivedMismatch("official_key", f"key={key}", "the row just written differs from its entry")

    def revoke_key(self, nip: str, key: str, index: int, time: datetime, reason: str) -> None:
        got = self._r.key(key)
        if got is None or (got.revoked_index, got.revoked_at, got.revoked_reason) != (index, time, reason):
            raise DerivedMismatch("official_key", f"key={key}", "the row just written differs from its entry")

    def add_admin(self, nip: str, key: str) -> None:
        """Stored nowhere but in the entry itself: nothing to compare."""

    def note_revoker(self, nip: str, by: str) -> None:
        """Stored nowhere but in the entry itself: nothing to compare."""

    def add_invitation(self, nip: str, invitation: str) -> None:
        """Stored nowhere but in the entry itself: nothing to compare."""

    def add_commitment(self, published: Published) -> None:
        p, got = published, self._r.commitment(published.slug)
        want = (p.title, p.text, p.text_sha256, p.index, p.time, p.signers, p.deadline)
        if (
            got is None
            or (
                got.title,
                got.text,
                got.text_sha256,
                got.published_index,
                got.published_at,
                got.signers,
                got.deadline,
            )
            != want
        ):
            raise DerivedMismatch("commitment", f"slug={p.slug}", "the row just written differs from its entry")

    def add_signature(
        self, slug: str, nip: str, key: str, index: int, time: datetime, signed_as: SignedAs | None = None
    ) -> None:
        got = self._r.signature(slug, nip)
        want = (index, key, time, *(signed_as or (None, None, None)))
        if got is None or (got.index, got.key, got.signed_at, got.name, got.capacity, got.unit) != want:
            raise DerivedMismatch("signature", f"idx={index}", "the row just written differs from its entry")

    def note_identity(self, nip: str, identity: Identity) -> None:
        """Stored nowhere but in the entry itself: nothing to compare."""

    def update_identity(self, updated: Updated) -> None:
        u = updated
        want = IdentityEvent(u.index, u.time, "official.updated", u.identity, u.reason, u.attested_by)
        got = [e for e in self._r.identity_events(u.nip) if e.index == u.index]
        if got != [want]:
            raise DerivedMismatch("official_update", f"idx={u.index}", "the row just written differs from its entry")

    def set_deadline(self, slug: str, deadline: datetime) -> None:
        got = self._r.commitment(slug)
        if got is None or got.deadline != deadline:
            raise DerivedMismatch("commitment", f"slug={slug}", "the row just written differs from its entry")

    def add_decline(self, declined: Declined) -> None:
        d = declined
        if self._r.decline(d.slug, d.nip) != DeclineRecord(d.index, d.slug, d.nip, d.key, d.reason, d.time):
            raise DerivedMismatch("decline", f"idx={d.index}", "the row just written differs from its entry")
