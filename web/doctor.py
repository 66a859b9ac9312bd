"""`ikrar doctor`: what an interrupted process can leave behind, found, and mended where
that is safe.

A crash can leave an empty ledger passphrase file (it blocks `ikrar init`), enrolment
links marked used whose enrolment never finished, key files that no entry records, and a
schema older than the program. A request form sent back (a field to correct) keeps the PDFs
it received, and one never saved leaves them unused. `examine` lists them; with ``fix`` it
mends what is safe: a key file that any entry names is never touched, and one that none
names is moved aside into ``keys/orphaned/`` (never deleted); the passphrase file is removed
only while no ledger key exists; a link is released for use again; an older schema is
upgraded; an attachment that no request on the ledger and no draft names, kept more than
`ATTACHMENT_GRACE` ago, is deleted (it was never part of any request).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from ledger.application import parse_request
from ledger.db import make_engine, make_read_only_engine
from ledger.entries import entry_from_leaf
from ledger.errors import LedgerError
from ledger.note import VerifierKey
from ledger.schema import migrate, schema_version
from ledger.store import Ledger
from signing.keystore import KeyStore

from .runtime import Runtime

logger = logging.getLogger(__name__)

# A key file younger than this may belong to an enrolment or `init` still under way (its
# entry is appended after the file is written): it is never called an orphan.
GRACE = timedelta(minutes=10)
ORPHANED = "orphaned"
# A request form sent back keeps its files for the operator to save later: an attachment no
# request or draft names is unused only once it is older than this.
ATTACHMENT_GRACE = timedelta(days=2)
_KEY_KINDS = ("ledger.created", "key.enrolled")


@dataclass(frozen=True)
class Finding:
    """One thing found wrong: what it is (for a person), and whether `--fix` mended it."""

    what: str
    fixed: bool = False


def examine(runtime: Runtime, now: datetime, fix: bool = False) -> list[Finding]:
    """What is wrong in the installation of `runtime`; with `fix`, mended where safe.

    Raises sqlalchemy's DBAPIError when the database cannot be read (nothing is then
    judged an orphan)."""
    settings = runtime.settings
    findings: list[Finding] = []
    opened = _open(settings.database_url)
    ledger: Ledger | None = None
    if opened is not None:
        try:
            ledger, schema_findings = _schema(opened, settings.database_url, fix)
        finally:
            if ledger is not opened:
                opened.engine.dispose()
        findings += schema_findings
        if ledger is None and schema_findings:
            return findings  # a newer schema: nothing else can be judged
    try:
        recorded = _recorded_keys(ledger) if ledger is not None else None
        keys = KeyStore(settings.keys_dir, settings.kdf_iterations)
        findings += _orphans(keys, recorded, now, fix)
        findings += _passphrase_file(runtime, keys, recorded, fix)
        if ledger is not None:
            findings += _links(ledger, now, fix)
            findings += _unused_attachments(ledger, now, fix)
    finally:
        if ledger is not None:
            ledger.engine.dispose()
    return findings


def _open(url: str) -> Ledger | None:
    """The ledger opened read-only, or None when there is no database file yet."""
    try:
        return Ledger(make_read_only_engine(url))
    except LedgerError as e:
        if e.code == "database.missing":
            return None
        raise


def _schema(opened: Ledger, url: str, fix: bool) -> tuple[Ledger | None, list[Finding]]:
    """The ledger to examine (None: no schema, or one too new to read) and what the schema says."""
    version = schema_version(opened.engine)
    if version.current is None:
        return None, []
    if version.is_newer:
        return None, [
            Finding(
                f"the schema (revision {version.current}) is newer than this program's ({version.head}): "
                "run the newer Ikrar that wrote it; nothing else was examined"
            )
        ]
    what = f"the schema is older (revision {version.current}) than this program's ({version.head})"
    if not fix:
        return opened, [Finding(what + ": `ikrar doctor --fix` upgrades it")] if version.is_older else []
    writable = make_engine(url)  # mending writes
    if not version.is_older:
        return Ledger(writable), []
    migrate(writable)
    logger.warning("schema upgraded from %s to %s", version.current, version.head)
    return Ledger(writable), [Finding(what + "; upgraded", fixed=True)]


def _recorded_keys(ledger: Ledger) -> set[str] | None:
    """The file names of every key any entry names (the ledger's own and every official's);
    None when the database holds no ledger."""
    if not ledger.is_initialized():
        return None
    keys = KeyStore(".")
    names = {keys.path_for(ledger.verifier).name}
    with ledger.read() as r:
        names |= {keys.path_for(VerifierKey.parse(k.key)).name for k in r.enrolled_keys()}
        for row in r.stored_entries():
            if row.kind in _KEY_KINDS:
                fields = entry_from_leaf(row.leaf).fields
                names.add(keys.path_for(VerifierKey.parse(fields.get("key") or fields["ledger_key"])).name)
    return names


def _key_files(keys: KeyStore) -> Iterator[Path]:
    """Key files and the temporary files of interrupted key writes, directly in the folder."""
    if not keys.directory.is_dir():
        return
    for path in sorted(keys.directory.iterdir()):
        if path.is_file() and path.suffix in (".pem", ".tmp"):
            yield path


def _orphans(keys: KeyStore, recorded: set[str] | None, now: datetime, fix: bool) -> list[Finding]:
    findings = []
    for path in _key_files(keys):
        if path.suffix == ".pem" and recorded is not None and path.name in recorded:
            continue
        age = timedelta(seconds=now.timestamp() - path.stat().st_mtime)
        if age < GRACE:
            continue  # perhaps an enrolment under way
        if recorded is None and path.suffix == ".pem":
            findings.append(
                Finding(f"{path}: a key file, and no ledger in this database (is IKRAR_DATABASE_URL right?)")
            )
            continue
        what = f"{path}: no entry names this key ({'an interrupted write' if path.suffix == '.tmp' else 'orphan'})"
        if not fix:
            findings.append(Finding(what + "; `--fix` moves it aside"))
            continue
        target = _move_aside(path)
        findings.append(Finding(f"{what}; moved to {target}", fixed=True))
    return findings


def _move_aside(path: Path) -> Path:
    folder = path.parent / ORPHANED
    folder.mkdir(mode=0o700, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}.{int(time.time())}{path.suffix}"
    os.replace(path, target)
    logger.warning("orphan key file moved aside: %s -> %s", path, target)
    return target


def _passphrase_file(runtime: Runtime, keys: KeyStore, recorded: set[str] | None, fix: bool) -> list[Finding]:
    path = runtime.settings.ledger_passphrase_file
    if runtime.settings.ledger_passphrase or not path.is_file() or path.read_text().strip():
        return []
    origin = runtime.settings.origin
    prefix = keys.path_for(VerifierKey(origin, bytes(32))).name.rsplit("-", 1)[0] + "-"
    key_files = [p for p in _key_files(keys) if p.name.startswith(prefix) and p.suffix == ".pem"]
    if recorded is not None or key_files:
        where = "the database holds a ledger" if recorded is not None else f"{key_files[0]} exists"
        return [
            Finding(
                f"{path} is empty and a ledger key may need it ({where}): restore the file from a backup, "
                "or set IKRAR_LEDGER_PASSPHRASE"
            )
        ]
    what = f"{path} is empty (left by an interrupted `ikrar init`), and no ledger key exists"
    if not fix:
        return [Finding(what + "; `--fix` removes it")]
    path.unlink()
    return [Finding(what + "; removed: `ikrar init` makes a new one", fixed=True)]


def _links(ledger: Ledger, now: datetime, fix: bool) -> list[Finding]:
    findings = []
    for link in ledger.register.unfinished_enrolments(now):
        what = f"an enrolment link of {link.nip}, used at {link.used_at:%Y-%m-%d %H:%M} UTC, never finished"
        if not fix:
            findings.append(Finding(what + "; `--fix` makes it usable again"))
            continue
        ledger.register.release_enrolment(link.token_hash)
        findings.append(Finding(what + "; usable again until it expires", fixed=True))
    return findings


def _named_attachments(ledger: Ledger) -> set[str]:
    """The SHA-256 of every file a request names: on the ledger (every revision) or in a draft."""
    named = set()
    with ledger.read() as r:
        for record in r.applications():
            for entry in r.application_entries(record.app):
                if "request" in entry.fields:
                    named |= {a["sha256"] for a in parse_request(entry.fields["request"])["attachments"]}
    for draft in ledger.register.drafts():
        named |= {a["sha256"] for a in json.loads(draft.request_json).get("attachments", [])}
    return named


def _unused_attachments(ledger: Ledger, now: datetime, fix: bool) -> list[Finding]:
    findings: list[Finding] = []
    kept = ledger.register.attachments_kept_before(now - ATTACHMENT_GRACE)
    if not kept:
        return findings
    named = _named_attachments(ledger)
    for sha256, file_name, size, stored_at in kept:
        if sha256 in named:
            continue
        what = (
            f"attachment {file_name!r} ({size} bytes, sha256 {sha256}), kept {stored_at:%Y-%m-%d %H:%M} UTC, "
            "is named by no request and no draft"
        )
        if not fix:
            findings.append(Finding(what + "; `--fix` deletes it"))
            continue
        ledger.register.delete_attachment(sha256)
        logger.warning("unused attachment deleted: sha256=%s file=%r", sha256, file_name)
        findings.append(Finding(what + "; deleted", fixed=True))
    return findings
