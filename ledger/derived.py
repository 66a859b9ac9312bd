"""The derived tables: what the entries imply, kept beside them so that rules and pages
can ask without replaying the log.

`official_key`, `commitment`, `commitment_signer`, `signature`, from rules version 4
`official_update` and `decline`, and from rules version 5 `role_grant`, `application` and
`app_event`, follow from the entries alone. `DbState` reads them for
the rules under the append lock and writes them through the `State` verbs in the same
transaction as the entry they follow from, so they never disagree with a committed entry. Only `ledger/` writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Executable, Insert, bindparam, delete, select, update

from .db import APP, COMMITMENT, DECLINE, ENTRY, INSERT, KEY, META, ROLE, SIGNATURE, SIGNER, TABLES, UPDATE
from .entries import Entry, entry_from_leaf
from .identity import Identity
from .merkle import CompactRange
from .models import (
    AppEventRow,
    Application,
    Commitment,
    CommitmentSigner,
    Decline,
    LedgerMeta,
    MerkleNodeRow,
    OfficialKey,
    OfficialUpdate,
    RoleGrant,
    Signature,
)
from .rules import apply
from .state import (
    FIRST_RULES,
    AppEvent,
    AppInfo,
    Assigned,
    CommitmentInfo,
    Declined,
    MemoryState,
    Published,
    SignedAs,
    Submitted,
    Updated,
)
from .times import as_utc

_COMMITMENT_CACHE = 4096

# The append path's statements, built once: each append runs a handful of them, and
# building and keying a statement costs more than SQLite takes to run it.
_ACTIVE_KEY = select(KEY.key).where(KEY.nip == bindparam("nip"), KEY.revoked_index.is_(None)).limit(1)
_KEY_KNOWN = select(KEY.key).where(KEY.key == bindparam("key"))
_HAD_KEY = select(KEY.key).where(KEY.nip == bindparam("nip")).limit(1)
_ENROLMENTS_OF = select(KEY.enrolled_index).where(KEY.nip == bindparam("nip"))
_ACTIVE_KEY_ENTRY = select(KEY.enrolled_index).where(KEY.key == bindparam("key"), KEY.revoked_index.is_(None))
_ENROLMENTS = select(KEY.enrolled_index).order_by(KEY.enrolled_index)
_LAST_REVOCATION = (
    select(KEY.revoked_index)
    .where(KEY.nip == bindparam("nip"), KEY.revoked_index.is_not(None))
    .order_by(KEY.revoked_index.desc())
    .limit(1)
)
_LEAF = select(ENTRY.leaf).where(ENTRY.idx == bindparam("idx"))
_COMMITMENT_ROW = select(COMMITMENT.published_index, COMMITMENT.text_sha256).where(COMMITMENT.slug == bindparam("slug"))
_SIGNERS = select(SIGNER.nip).where(SIGNER.slug == bindparam("slug")).order_by(SIGNER.position)
_HAS_SIGNED = (
    select(SIGNATURE.idx).where(SIGNATURE.slug == bindparam("slug"), SIGNATURE.nip == bindparam("nip")).limit(1)
)
_LAST_ENROLMENT = (
    select(KEY.enrolled_index).where(KEY.nip == bindparam("nip")).order_by(KEY.enrolled_index.desc()).limit(1)
)
_IDENTITY_COLUMNS = (UPDATE.name, UPDATE.title, UPDATE.unit, UPDATE.rank, UPDATE.acting, UPDATE.appointment)
_LAST_UPDATE = (
    select(UPDATE.idx, *_IDENTITY_COLUMNS).where(UPDATE.nip == bindparam("nip")).order_by(UPDATE.idx.desc()).limit(1)
)
_DEADLINE = select(COMMITMENT.deadline).where(COMMITMENT.slug == bindparam("slug"))
_HAS_DECLINED = select(DECLINE.idx).where(DECLINE.slug == bindparam("slug"), DECLINE.nip == bindparam("nip")).limit(1)
_SET_DEADLINE = (
    update(TABLES[Commitment]).where(COMMITMENT.slug == bindparam("b_slug")).values(deadline=bindparam("b_deadline"))
)
_HOLDS_ROLE = select(ROLE.idx).where(
    ROLE.nip == bindparam("nip"), ROLE.role == bindparam("role"), ROLE.grant.is_(True), ROLE.ended_index.is_(None)
)
_APPLICATION = select(APP.revision, APP.status, APP.request_sha256, APP.agency, APP.reviewed_index).where(
    APP.app == bindparam("app")
)
_RULES = select(META.value).where(META.name == "rules")
_DROP_RULES = delete(TABLES[LedgerMeta]).where(META.name == "rules")
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

    def set_rules(self, version: int) -> None:
        """The ledger's rules version is kept beside its origin (`ledger_meta.rules`; none: 1)."""
        self._execute(_DROP_RULES, {})
        if version != FIRST_RULES:
            self._execute(INSERT[LedgerMeta], {"name": "rules", "value": str(version)})

    def add_key(self, nip: str, key: str, index: int, time: datetime) -> None:
        self._execute(INSERT[OfficialKey], {"key": key, "nip": nip, "enrolled_index": index, "enrolled_at": time})

    def add_admin(self, nip: str, key: str) -> None:
        """Nothing to write: whose key is an admin's is read from its `key.enrolled` entry."""

    def add_invitation(self, nip: str, invitation: str) -> None:
        """Nothing to write: a used invitation is read from its `key.enrolled` entry."""

    def revoke_key(self, nip: str, key: str, index: int, time: datetime, reason: str) -> None:
        self._execute(_REVOKE, {"b_key": key, "b_index": index, "b_at": time, "b_reason": reason})

    def note_revoker(self, nip: str, by: str) -> None:
        """Nothing to write: who revoked a key is read from its `key.revoked` entry."""

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
                "deadline": p.deadline,
            },
        )
        self._execute(
            INSERT[CommitmentSigner], [{"slug": p.slug, "nip": nip, "position": i} for i, nip in enumerate(p.signers)]
        )

    def add_signature(
        self, slug: str, nip: str, key: str, index: int, time: datetime, signed_as: SignedAs | None = None
    ) -> None:
        name, capacity, unit = signed_as or (None, None, None)
        self._execute(
            INSERT[Signature],
            {
                "idx": index,
                "slug": slug,
                "nip": nip,
                "key": key,
                "signed_at": time,
                "name": name,
                "capacity": capacity,
                "unit": unit,
            },
        )

    def note_identity(self, nip: str, identity: Identity) -> None:
        """Nothing to write: an enrolment's identity is read from its `key.enrolled` entry."""

    def update_identity(self, updated: Updated) -> None:
        u = updated
        self._execute(
            INSERT[OfficialUpdate],
            {
                "idx": u.index,
                "nip": u.nip,
                **vars(u.identity),
                "reason": u.reason,
                "attested_by": u.attested_by,
                "updated_at": u.time,
            },
        )

    def set_deadline(self, slug: str, deadline: datetime) -> None:
        self._execute(_SET_DEADLINE, {"b_slug": slug, "b_deadline": deadline})

    def add_decline(self, declined: Declined) -> None:
        d = declined
        self._execute(
            INSERT[Decline],
            {"idx": d.index, "slug": d.slug, "nip": d.nip, "key": d.key, "reason": d.reason, "declined_at": d.time},
        )

    def assign_role(self, assigned: Assigned) -> None:
        """End the grants in force that the entry ends (`Assigned.ends`), then record it."""
        a, ends = assigned, assigned.ends()
        if ends is not None:
            nip, unit = ends
            where = [ROLE.role == a.role, ROLE.grant.is_(True), ROLE.ended_index.is_(None)]
            where += [] if nip is None else [ROLE.nip == nip]
            where += [] if unit is None else [ROLE.unit == unit]
            self._execute(update(TABLES[RoleGrant]).where(*where).values(ended_index=a.index, ended_at=a.time), {})
        self._execute(
            INSERT[RoleGrant],
            {
                "idx": a.index,
                "nip": a.nip,
                "role": a.role,
                "unit": a.unit,
                "grant": a.grant,
                "reason": a.reason,
                "attested_by": a.attested_by,
                "assigned_at": a.time,
                "ended_index": None,
                "ended_at": None,
            },
        )

    def submit_app(self, submitted: Submitted) -> None:
        """A first revision makes the application's row; a later one sets its request again."""
        s = submitted
        latest = {
            "revision": s.revision,
            "status": "submitted",
            "name": s.name,
            "kind": s.kind,
            "fiscal_year": s.fiscal_year,
            "request_sha256": s.request_sha256,
            "submitted_index": s.index,
            "submitted_time": s.time,
            "reviewed_index": None,
            "updated_time": s.time,
        }
        if s.revision == 1:
            first = {"app": s.app, "agency": s.agency, "first_index": s.index, "first_time": s.time}
            self._execute(INSERT[Application], {**first, **latest, "decided_index": None, "decided_time": None})
        else:
            self._execute(update(TABLES[Application]).where(APP.app == s.app).values(**latest), {})
        self._execute(
            INSERT[AppEventRow],
            {
                "idx": s.index,
                "app": s.app,
                "revision": s.revision,
                "kind": "app.submitted",
                "by": s.nip,
                "time": s.time,
                "decision": None,
            },
        )

    def add_app_event(self, event: AppEvent) -> None:
        """Every entry of an application sets its time; a review its latest review, a return
        its status, a decision its status and decision (`AppEvent`)."""
        e = event
        values: dict[str, Any] = {"updated_time": e.time}
        if e.review:
            values["reviewed_index"] = e.index
        if e.status is not None:
            values["status"] = e.status
        if e.decision is not None:
            values |= {"decision": e.decision, "decided_index": e.index, "decided_time": e.time}
        self._execute(update(TABLES[Application]).where(APP.app == e.app).values(**values), {})
        row = {"idx": e.index, "app": e.app, "revision": e.revision, "kind": e.kind, "by": e.by, "time": e.time}
        self._execute(INSERT[AppEventRow], {**row, "decision": e.decision})


class DbState(DerivedWriter):
    """`state.State` answered from, and recorded into, the derived tables of one connection.

    `commitments` is the ledger's cache of published commitments: a commitment's index,
    text hash and signatories are written once, with its entry, and never change, so
    what was read once (committed) holds for every later append.
    """

    def __init__(
        self,
        conn: Connection,
        origin: str,
        ledger_key: str,
        last_time: datetime | None,
        commitments: dict[str, CommitmentInfo] | None = None,
    ) -> None:
        super().__init__(conn.execute)
        self._c = conn
        self.origin = origin
        self.ledger_key = ledger_key
        self.last_time = last_time
        self.rules = int(conn.execute(_RULES).scalar() or FIRST_RULES)
        self._commitments = {} if commitments is None else commitments

    def set_rules(self, version: int) -> None:
        super().set_rules(version)
        self.rules = version

    def active_key(self, nip: str) -> str | None:
        return self._c.execute(_ACTIVE_KEY, {"nip": nip}).scalar()

    def key_known(self, key: str) -> bool:
        return self._c.execute(_KEY_KNOWN, {"key": key}).first() is not None

    def had_key(self, nip: str) -> bool:
        return self._c.execute(_HAD_KEY, {"nip": nip}).first() is not None

    def invitation_used(self, nip: str, invitation: str) -> bool:
        """Read from the official's own `key.enrolled` entries (a few)."""
        indexes = self._c.execute(_ENROLMENTS_OF, {"nip": nip}).scalars()
        return any(self._fields(i).get("invitation") == invitation for i in indexes)

    def _fields(self, index: int) -> Mapping[str, Any]:
        return entry_from_leaf(self._c.execute(_LEAF, {"idx": index}).scalar_one()).fields

    def admin_of(self, key: str) -> str | None:
        index = self._c.execute(_ACTIVE_KEY_ENTRY, {"key": key}).scalar()
        if index is None:
            return None
        fields = self._fields(index)
        return str(fields["nip"]) if fields.get("role") == "admin" else None

    def had_admin(self) -> bool:
        """Asked only when the ledger's own key attests (rare): reads each key's entry."""
        return any(self._fields(i).get("role") == "admin" for i in self._c.execute(_ENROLMENTS).scalars())

    def revoked_by(self, nip: str) -> str | None:
        index = self._c.execute(_LAST_REVOCATION, {"nip": nip}).scalar()
        return None if index is None else str(self._fields(index)["by"])

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

    def identity(self, nip: str) -> Identity | None:
        """The latest of the official's enrolment (read from its entry) and update (its row)."""
        enrolled = self._c.execute(_LAST_ENROLMENT, {"nip": nip}).scalar()
        updated = self._c.execute(_LAST_UPDATE, {"nip": nip}).first()
        if updated is not None and (enrolled is None or updated[0] > enrolled):
            return Identity(*updated[1:])
        return None if enrolled is None else Identity.of_fields(self._fields(enrolled))

    def deadline(self, slug: str) -> datetime | None:
        moment = self._c.execute(_DEADLINE, {"slug": slug}).scalar()
        return None if moment is None else as_utc(moment)

    def has_declined(self, slug: str, nip: str) -> bool:
        return self._c.execute(_HAS_DECLINED, {"slug": slug, "nip": nip}).first() is not None

    def holds_role(self, nip: str, role: str, unit: str | None = None) -> bool:
        q = _HOLDS_ROLE if unit is None else _HOLDS_ROLE.where(ROLE.unit == unit)
        return self._c.execute(q.limit(1), {"nip": nip, "role": role}).first() is not None

    def application(self, app: str) -> AppInfo | None:
        row = self._c.execute(_APPLICATION, {"app": app}).first()
        return None if row is None else AppInfo(row[0], row[1], row[2], row[3], row[4] is not None)


class BulkRows:
    """An `execute` for `DerivedWriter` that gathers inserts and writes them in batches
    (a rebuild, the benchmark builder): `transaction()` gives the connection to write on."""

    def __init__(self, transaction: Callable[[], AbstractContextManager[Connection]], batch: int = 20_000) -> None:
        self._transaction = transaction
        self._batch = batch
        self.pending: dict[Any, list[dict[str, Any]]] = {}
        self.count = 0

    def add(self, model: Any, **row: Any) -> None:
        self.execute(INSERT[model], row)

    def execute(self, statement: Any, params: Any) -> None:
        if not isinstance(statement, Insert):  # an update or delete reads earlier rows: write them first
            self.flush()
            with self._transaction() as c:
                c.execute(statement, params)
            return
        rows = params if isinstance(params, list) else [params]
        self.pending.setdefault(statement, []).extend(rows)
        self.count += len(rows)
        if self.count >= self._batch:
            self.flush()

    def flush(self) -> None:
        with self._transaction() as c:
            for statement, rows in self.pending.items():
                if rows:
                    c.execute(statement, rows)
        self.pending.clear()
        self.count = 0


class WritingState(MemoryState):
    """The rules' state in memory, whose verbs also write the derived rows (through `execute`)."""

    def __init__(self, origin: str, execute: Callable[[Executable, Any], object]) -> None:
        super().__init__(origin)
        self._rows = DerivedWriter(execute)

    def set_rules(self, version: int) -> None:
        super().set_rules(version)
        self._rows.set_rules(version)

    def add_key(self, nip: str, key: str, index: int, time: datetime) -> None:
        super().add_key(nip, key, index, time)
        self._rows.add_key(nip, key, index, time)

    def add_admin(self, nip: str, key: str) -> None:
        super().add_admin(nip, key)
        self._rows.add_admin(nip, key)

    def add_invitation(self, nip: str, invitation: str) -> None:
        super().add_invitation(nip, invitation)
        self._rows.add_invitation(nip, invitation)

    def note_revoker(self, nip: str, by: str) -> None:
        super().note_revoker(nip, by)
        self._rows.note_revoker(nip, by)

    def revoke_key(self, nip: str, key: str, index: int, time: datetime, reason: str) -> None:
        super().revoke_key(nip, key, index, time, reason)
        self._rows.revoke_key(nip, key, index, time, reason)

    def add_commitment(self, published: Published) -> None:
        super().add_commitment(published)
        self._rows.add_commitment(published)

    def add_signature(
        self, slug: str, nip: str, key: str, index: int, time: datetime, signed_as: SignedAs | None = None
    ) -> None:
        super().add_signature(slug, nip, key, index, time, signed_as)
        self._rows.add_signature(slug, nip, key, index, time, signed_as)

    def update_identity(self, updated: Updated) -> None:
        super().update_identity(updated)
        self._rows.update_identity(updated)

    def set_deadline(self, slug: str, deadline: datetime) -> None:
        super().set_deadline(slug, deadline)
        self._rows.set_deadline(slug, deadline)

    def add_decline(self, declined: Declined) -> None:
        super().add_decline(declined)
        self._rows.add_decline(declined)

    def assign_role(self, assigned: Assigned) -> None:
        super().assign_role(assigned)
        self._rows.assign_role(assigned)

    def submit_app(self, submitted: Submitted) -> None:
        super().submit_app(submitted)
        self._rows.submit_app(submitted)

    def add_app_event(self, event: AppEvent) -> None:
        super().add_app_event(event)
        self._rows.add_app_event(event)


_DERIVED_TABLES = (
    OfficialKey,
    Commitment,
    CommitmentSigner,
    Signature,
    OfficialUpdate,
    Decline,
    RoleGrant,
    Application,
    AppEventRow,
    MerkleNodeRow,
)


def rebuild_derived(conn: Connection, genesis: Mapping[str, Any], entries: Iterator[Entry]) -> int:
    """Recompute every derived table (and the ledger's facts in `ledger_meta`) from `entries`,
    on `conn`, inside the caller's write transaction. Returns the number of entries."""
    for model in _DERIVED_TABLES:
        conn.execute(delete(TABLES[model]))
    conn.execute(delete(TABLES[LedgerMeta]))
    conn.execute(
        INSERT[LedgerMeta], [{"name": name, "value": str(value)} for name, value in genesis.items() if name != "rules"]
    )
    rows = BulkRows(lambda: nullcontext(conn))
    state = WritingState(str(genesis["origin"]), rows.execute)
    tree = CompactRange()
    for entry in entries:
        apply(entry, state)
        for (level, i), digest in tree.append(entry.leaf_hash):
            rows.add(MerkleNodeRow, level=level, idx=i, hash=digest)
    rows.flush()
    return tree.size
