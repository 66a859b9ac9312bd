"""The audit of what is derived from the entries: every derived table, re-derived and compared.

As the audit replays the entries it asks a `State` to record what each entry changes;
`DerivedCheck` is a state that, besides holding the rules' state in memory, compares each
change with the stored derived rows of the same snapshot: the signatures and the Merkle
node cache stream beside the entries (their rows come in the order the entries make them,
so memory stays small at a million entries), and the keys, commitments, signatories and
the ledger's own facts (`ledger_meta`), and from rules version 5 the roles (`role_grant`) and
the applications (`application`, `app_event`), are compared when the replay ends. The first
difference raises `DerivedMismatch`, naming the table, the row's key and what differs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from .errors import DerivedMismatch
from .identity import Identity
from .merkle import Hash, Node
from .reader import AppEventRecord, ApplicationRecord, DeclineRecord, IdentityEvent, KeyRecord, Reader, RoleEvent
from .state import (
    FIRST_RULES,
    AppEvent,
    Assigned,
    Declined,
    MemoryState,
    Published,
    SignedAs,
    Submitted,
    Updated,
)

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
        self._role_rows: dict[int, RoleEvent] = {}
        self._app_rows: dict[str, ApplicationRecord] = {}
        self._app_events: list[AppEventRecord] = []

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

    def assign_role(self, assigned: Assigned) -> None:
        super().assign_role(assigned)
        a, ends = assigned, assigned.ends()
        if ends is not None:
            for index, row in self._role_rows.items():
                if _ended_by(row, a.role, *ends):
                    self._role_rows[index] = dataclasses.replace(row, ended_index=a.index, ended_time=a.time)
        self._role_rows[a.index] = RoleEvent(a.index, a.time, a.nip, a.role, a.unit, a.grant, a.reason, a.attested_by)

    def submit_app(self, submitted: Submitted) -> None:
        super().submit_app(submitted)
        s = submitted
        first = self._app_rows.get(s.app)
        self._app_rows[s.app] = ApplicationRecord(
            s.app,
            s.revision,
            "submitted",
            s.agency,
            s.name,
            s.kind,
            s.fiscal_year,
            s.request_sha256,
            s.index if first is None else first.first_index,
            s.time if first is None else first.first_time,
            s.index,
            s.time,
            None,
            None,
            None,
            s.time,
            None,
        )
        self._app_events.append(AppEventRecord(s.index, s.app, s.revision, "app.submitted", s.nip, s.time))

    def add_app_event(self, event: AppEvent) -> None:
        super().add_app_event(event)
        e, row = event, self._app_rows[event.app]
        row = dataclasses.replace(row, updated_time=e.time)
        if e.review:
            row = dataclasses.replace(row, reviewed_index=e.index)
        if e.status is not None:
            row = dataclasses.replace(row, status=e.status)
        if e.decision is not None:
            row = dataclasses.replace(row, decision=e.decision, decided_index=e.index, decided_time=e.time)
        self._app_rows[e.app] = row
        self._app_events.append(AppEventRecord(e.index, e.app, e.revision, e.kind, e.by, e.time, e.decision))

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
        _finish_rows("role_grant", "idx", self._role_rows, {r.index: r for r in self._reader.role_events()})
        _finish_rows("application", "app", self._app_rows, {a.app: a for a in self._reader.applications()})
        want_events = {e.index: e for e in self._app_events}
        _finish_rows("app_event", "idx", want_events, {e.index: e for e in self._reader.app_events()})
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


def _ended_by(row: RoleEvent, role: str, nip: str | None, unit: str | None) -> bool:
    """Whether `row` is a grant in force of `role` that an entry ending (`nip`, `unit`) ends."""
    in_force = row.grant and row.ended_index is None and row.role == role
    return in_force and nip in (None, row.nip) and unit in (None, row.unit)


def _finish_rows(table: str, name: str, want: Mapping[Any, Any], stored: dict[Any, Any]) -> None:
    """Compare the rows the entries make (`want`, records by key) with the rows stored (by key):
    each there and equal column by column, and none beside them."""
    for key, wanted in sorted(want.items()):
        got = stored.pop(key, None)
        where = f"{name}={key}"
        if got is None:
            raise DerivedMismatch(table, where, "the row is missing")
        if got != wanted:
            differs = [f.name for f in dataclasses.fields(wanted) if getattr(got, f.name) != getattr(wanted, f.name)]
            raise DerivedMismatch(table, where, f"{', '.join(differs)} differ from the entries")
    if stored:
        raise DerivedMismatch(table, f"{name}={min(stored)}", "a row no entry makes is stored")


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

    def assign_role(self, assigned: Assigned) -> None:
        a = assigned
        want = RoleEvent(a.index, a.time, a.nip, a.role, a.unit, a.grant, a.reason, a.attested_by)
        if [e for e in self._r.role_events(a.nip) if e.index == a.index] != [want]:
            raise DerivedMismatch("role_grant", f"idx={a.index}", "the row just written differs from its entry")
        ends = a.ends()
        if ends is None:
            return
        nip, unit = ends
        left = [r for r in self._r.roles(nip, a.role, unit) if r.index != a.index]
        if left:
            raise DerivedMismatch("role_grant", f"idx={left[0].index}", "a grant the entry ends is still in force")

    def submit_app(self, submitted: Submitted) -> None:
        s, got = submitted, self._r.application(submitted.app)
        want = (s.revision, "submitted", s.agency, s.name, s.kind, s.fiscal_year, s.request_sha256, s.index, s.time)
        if (
            got is None
            or got.reviewed_index is not None
            or (
                got.revision,
                got.status,
                got.agency,
                got.name,
                got.kind,
                got.fiscal_year,
                got.request_sha256,
                got.submitted_index,
                got.submitted_time,
            )
            != want
        ):
            raise DerivedMismatch("application", f"app={s.app}", "the row just written differs from its entry")
        self._event(AppEventRecord(s.index, s.app, s.revision, "app.submitted", s.nip, s.time))

    def add_app_event(self, event: AppEvent) -> None:
        e, got = event, self._r.application(event.app)
        decided = (e.decision, e.index, e.time)
        if (
            got is None
            or got.updated_time != e.time
            or (e.review and got.reviewed_index != e.index)
            or (e.status is not None and got.status != e.status)
            or (e.decision is not None and (got.decision, got.decided_index, got.decided_time) != decided)
        ):
            raise DerivedMismatch("application", f"app={e.app}", "the row just written differs from its entry")
        self._event(AppEventRecord(e.index, e.app, e.revision, e.kind, e.by, e.time, e.decision))

    def _event(self, want: AppEventRecord) -> None:
        if [e for e in self._r.app_events(want.app) if e.index == want.index] != [want]:
            raise DerivedMismatch("app_event", f"idx={want.index}", "the row just written differs from its entry")
