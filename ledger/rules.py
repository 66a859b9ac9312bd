"""What may be appended, given what came before: one set of rules for append and audit.

`check` reads the state through the `State` protocol: the append path answers it from the
projection tables under the append lock (`store.DbState`), the audit from memory
(`MemoryState`) while it streams. A rule broken raises `Conflict`.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .entries import Entry
from .errors import Conflict, InvalidInput, NoteInvalid
from .nip import validate_nip
from .note import VerifierKey

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?")

StatementCheck = Callable[[Entry, str], None]
"""Checks a commitment.signed entry's signature under the ledger origin; raises on failure."""


@dataclass(frozen=True)
class CommitmentInfo:
    index: int
    text_sha256: str
    signers: tuple[str, ...]


class State(Protocol):
    origin: str

    def active_key(self, nip: str) -> str | None: ...
    def key_known(self, key: str) -> bool: ...
    def commitment(self, slug: str) -> CommitmentInfo | None: ...
    def has_signed(self, slug: str, nip: str) -> bool: ...


def official_key_name(origin: str, nip: str) -> str:
    """The signed-note name of an official's key: ``<origin>/official/<nip>``."""
    return f"{origin}/official/{nip}"


def check(entry: Entry, state: State, statement_check: StatementCheck | None) -> None:
    """Raise Conflict when `entry` may not follow `state`."""
    f = entry.fields
    try:
        if entry.kind == "ledger.created":
            raise Conflict("a ledger is created once, by its first entry")
        if entry.kind == "key.enrolled":
            nip = validate_nip(f["nip"], entry.time.date())
            vkey = VerifierKey.parse(f["key"])
            if vkey.name != official_key_name(state.origin, nip):
                raise Conflict(f"key name {vkey.name!r} is not {official_key_name(state.origin, nip)!r}")
            if state.active_key(nip) is not None:
                raise Conflict(f"official {nip} already has an active key; revoke it first")
            if state.key_known(f["key"]):
                raise Conflict("this key was enrolled before; a key is enrolled once")
        elif entry.kind == "key.revoked":
            if state.active_key(f["nip"]) != f["key"]:
                raise Conflict(f"official {f['nip']} has no active key {f['key']!r} to revoke")
            if not f["reason"].strip():
                raise Conflict("a revocation needs a reason")
        elif entry.kind == "commitment.published":
            if not SLUG.fullmatch(f["slug"]):
                raise Conflict("slug must be 1-80 lowercase letters, digits and inner hyphens")
            if state.commitment(f["slug"]) is not None:
                raise Conflict(f"commitment {f['slug']!r} is already published")
            if not f["title"].strip() or not f["text"].strip():
                raise Conflict("a commitment needs a title and a text")
            if hashlib.sha256(f["text"].encode()).hexdigest() != f["text_sha256"]:
                raise Conflict("text_sha256 is not the SHA-256 of the text")
            signers = f["signers"]
            if not signers:
                raise Conflict("a commitment needs at least one required signatory")
            if len(set(signers)) != len(signers):
                raise Conflict("a signatory is listed twice")
            for nip in signers:
                validate_nip(nip, entry.time.date())
        elif entry.kind == "commitment.signed":
            c = state.commitment(f["slug"])
            if c is None:
                raise Conflict(f"commitment {f['slug']!r} is not published")
            if (c.index, c.text_sha256) != (f["commitment_index"], f["commitment_sha256"]):
                raise Conflict(f"signature names another text of commitment {f['slug']!r}")
            if f["nip"] not in c.signers:
                raise Conflict(f"official {f['nip']} is not a required signatory of {f['slug']!r}")
            if state.has_signed(f["slug"], f["nip"]):
                raise Conflict(f"official {f['nip']} has already signed {f['slug']!r}")
            active = state.active_key(f["nip"])
            if active is None or active != f["key"]:
                raise Conflict(f"the key is not the active key of official {f['nip']} (revoked or never enrolled)")
            if statement_check is not None:
                statement_check(entry, state.origin)
    except (InvalidInput, NoteInvalid) as e:
        raise Conflict(str(e)) from e


class MemoryState:
    """The rules' state held in memory: what an audit builds while it streams.

    It grows with the signatures (a million in a large ledger), so it holds each one as a
    NIP in its commitment's set, with every NIP and slug interned: one shared string per
    official instead of a fresh pair of strings per entry.
    """

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self._active: dict[str, str] = {}
        self._keys: set[str] = set()
        self._commitments: dict[str, CommitmentInfo] = {}
        self._signed: dict[str, set[str]] = {}

    def active_key(self, nip: str) -> str | None:
        return self._active.get(nip)

    def key_known(self, key: str) -> bool:
        return key in self._keys

    def commitment(self, slug: str) -> CommitmentInfo | None:
        return self._commitments.get(slug)

    def has_signed(self, slug: str, nip: str) -> bool:
        signed = self._signed.get(slug)
        return signed is not None and nip in signed

    def apply(self, entry: Entry) -> None:
        f = entry.fields
        if entry.kind == "key.enrolled":
            self._active[f["nip"]] = f["key"]
            self._keys.add(f["key"])
        elif entry.kind == "key.revoked":
            del self._active[f["nip"]]
        elif entry.kind == "commitment.published":
            slug = sys.intern(f["slug"])
            signers = tuple(sys.intern(nip) for nip in f["signers"])
            self._commitments[slug] = CommitmentInfo(entry.index, f["text_sha256"], signers)
            self._signed[slug] = set()
        elif entry.kind == "commitment.signed":
            self._signed.setdefault(sys.intern(f["slug"]), set()).add(sys.intern(f["nip"]))
