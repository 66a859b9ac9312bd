"""The `ikrar` command: a thin shell over `ledger` and `signing`.

Errors of the ledger and signing families become one line on stderr and exit code 1
(see `_Group.invoke`); `audit` and the `verify-*` commands exit 1 when anything is
broken, naming the first broken entry.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import logging
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ledger.application import (
    CHECKLIST,
    DECISIONS,
    FINDINGS,
    MAX_ATTACHMENT,
    PD_HEAD,
    PD_OPERATOR,
    REQUEST,
    ROLES,
    STATUSES,
    check_notes,
    check_request,
)
from ledger.audit import AuditReport, audit
from ledger.backup import BackupError, audit_file, backup_sqlite, check_pg_dump, pg_backup_command, restore_sqlite
from ledger.db import DriverError, database_error
from ledger.errors import ChainBroken, DerivedMismatch, InvalidInput, LedgerError, NotInitialized
from ledger.export import export_verifier, verify_export, write_export
from ledger.identity import Identity, capacity_of
from ledger.nip import clean_identifier
from ledger.note import VerifierKey
from ledger.store import Ledger
from ledger.times import format_time, parse_time
from signing import actions, apps, vouching
from signing.agencies import check_unit, load_agencies
from signing.app_letter import render_letter
from signing.certificate import certificate_pdf, write_certificates
from signing.checks import TITLES, Outcome
from signing.errors import CertificateInvalid, NotAllowed, SigningError
from signing.naskah import naskah_pdf
from signing.summary import render_summary
from signing.verify_cert import MAX_PDF_BYTES, CertificateReport, KeyTrust, examine_certificate
from signing.wording import format_short_wib, format_wib

from . import accounts
from .demo import DEMO_ORG, DEMO_ROLES, PEOPLE, build_demo, is_empty
from .doctor import examine as doctor_examine
from .errors import WebError, message_of
from .i18n import Translator
from .routes_apps import app_json, detail_json
from .runtime import Runtime, configure_logging
from .settings import Settings
from .views import commitment_summaries, ledger_org, official_statuses

if TYPE_CHECKING:
    # Typer vendors Click: its groups are invoked with this Context (not click's), which it does not re-export.
    from typer._click import Context

logger = logging.getLogger(__name__)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class _Group(typer.core.TyperGroup):
    """Turns the ledger's and signing's errors into a message and exit code 1, in one place."""

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except ChainBroken as e:
            err.print(f"[bold red]BROKEN[/] at entry {e.index}: {e.reason}", highlight=False)
            raise typer.Exit(1) from e
        except DerivedMismatch as e:
            err.print(
                f"[bold red]BROKEN[/] derived table {e.table}, row {e.key}: {e.what} "
                "(the entries hold; `ikrar rebuild` recomputes the table from them)",
                highlight=False,
            )
            raise typer.Exit(1) from e
        except CertificateInvalid as e:
            err.print(f"[bold red]INVALID[/] ({e.reason.value.replace('_', ' ')}): {e.detail}", highlight=False)
            raise typer.Exit(1) from e
        except DriverError as e:  # the database down, full or failing, wherever it was met
            error = database_error(e, _database_url())
            err.print(f"[red]error:[/] {escape(str(error))}", highlight=False, markup=True)
            raise typer.Exit(1) from e
        except OSError as e:
            full = " — the disk is full: free some space, then try again" if e.errno == errno.ENOSPC else ""
            err.print(f"[red]error:[/] {escape(str(e))}{full}", highlight=False, markup=True)
            raise typer.Exit(1) from e
        except (LedgerError, SigningError, ValueError) as e:
            err.print(f"[red]error:[/] {escape(str(e))}", highlight=False, markup=True)
            raise typer.Exit(1) from e
        except WebError as e:
            err.print(f"[red]error:[/] {escape(message_of(e, Translator('en')))}", highlight=False, markup=True)
            raise typer.Exit(1) from e


def _database_url() -> str | None:
    try:
        return Settings.from_env().database_url
    except Exception:  # a malformed setting: the message names no place then
        return None


app = typer.Typer(
    cls=_Group,
    help="Ikrar: officials sign commitments into a tamper-evident, Merkle-tree ledger.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
official_app = typer.Typer(cls=_Group, help="Register, enrol and list officials.", no_args_is_help=True)
commitment_app = typer.Typer(cls=_Group, help="Publish and list commitments.", no_args_is_help=True)
app.add_typer(official_app, name="official")
app.add_typer(commitment_app, name="commitment")


def _runtime() -> Runtime:
    runtime = Runtime.from_env()
    level = runtime.settings.log_level if runtime.settings.log_level != "INFO" else "WARNING"
    configure_logging(level, runtime.settings.log_format)  # `ikrar serve` logs JSON from its first line too
    return runtime


def _ready() -> Runtime:
    """The runtime of a command that reads an initialised ledger (raises NotInitialized).

    Reading needs no ledger key: an auditor runs these on a copy without the passphrase.
    """
    runtime = _runtime()
    if not runtime.ledger.is_initialized():
        raise NotInitialized("no ledger here yet: run `ikrar init` first", code="ledger.not_initialized")
    return runtime


def _reading() -> Runtime:
    """The runtime of a command that only reads: the database is opened read-only and never
    migrated, so an auditor's copy (even on a read-only disk) is read, not written; no ledger
    key is needed. Raises NotInitialized, or LedgerError when the schema is older or newer
    than this program's."""
    runtime = _runtime()
    if not runtime.open_read_only().is_initialized():
        raise NotInitialized("no ledger here yet: run `ikrar init` first", code="ledger.not_initialized")
    return runtime


def _now() -> datetime:
    return datetime.now(UTC)


def _read_secret(prompt: str, file: Path | None, confirm: bool) -> str:
    if file is not None:
        return file.read_text().rstrip("\r\n")
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise typer.BadParameter("no passphrase given on standard input; use --passphrase-file")
        return line
    secret: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return secret


PassphraseFile = Annotated[
    Path | None,
    typer.Option("--passphrase-file", help="Read the passphrase from this file (for scripts) instead of asking."),
]
ByOption = Annotated[
    str,
    typer.Option(help="The acting admin's NIP (they sign with their own key); `ledger`: the ledger's own key."),
]


def _admin_passphrase(by: str, file: Path | None) -> str | None:
    """The acting admin's own signing passphrase; none for the ledger's key (already unlocked)."""
    if by == vouching.LEDGER:
        return None
    return _read_secret(f"Signing passphrase of admin {by}", file, confirm=False)


@app.command()
def init(
    org: Annotated[str, typer.Option(help="The organisation that keeps the ledger.")],
    origin: Annotated[str | None, typer.Option(help="The ledger's name (default: IKRAR_ORIGIN).")] = None,
) -> None:
    """Create the database, the ledger's own key and the first entry (once)."""
    runtime = _runtime()
    origin = origin or runtime.settings.origin
    ledger = runtime.ledger
    if ledger.is_initialized():
        raise LedgerError(f"a ledger already exists in {runtime.settings.database_url}; nothing was changed")
    appended = runtime.create_ledger(org, origin, _now())
    out.print(f"Ledger {origin} created for {org}.")
    typer.echo(f"Verifier key (publish it where auditors can find it):\n{ledger.verifier}")
    typer.echo(appended.checkpoint.note, nl=False)


def _agencies(runtime: Runtime, unit: str | None) -> None:
    """Warn when `unit` is not one of the city's Perangkat Daerah (`signing.agencies`)."""
    if unit is None:
        return
    known = load_agencies(runtime.settings.agencies_file)
    if " ".join(unit.split()) not in known:
        err.print(
            f"warning: {unit!r} is not one of the city's Perangkat Daerah "
            f"({runtime.settings.agencies_file or 'the list of Kota Kediri'}); recorded as given.",
            highlight=False,
        )


IdOption = Annotated[
    str,
    typer.Option(
        "--nip",
        "--id",
        help="The official's 18-digit NIP, or the identifier Ikrar gave an official without one (pn-…).",
    ),
]
RankOption = Annotated[str | None, typer.Option(help="Pangkat/golongan, e.g. 'Pembina Utama Muda (IV/c)'.")]
ActingOption = Annotated[
    str | None, typer.Option(help="Plt. or Plh. when acting in the position (with --appointment).")
]
AppointmentOption = Annotated[str | None, typer.Option(help="The number of the letter appointing the Plt./Plh.")]


@official_app.command("add")
def official_add(
    name: Annotated[str, typer.Option(help="Full name with titles, as written under a signature.")],
    position: Annotated[
        str,
        typer.Option(
            "--position",
            "--title",
            help="The full position as written under a signature, e.g. 'Kepala Dinas Perhubungan Kota Kediri'.",
        ),
    ],
    unit: Annotated[str, typer.Option(help="The agency (Perangkat Daerah), from the city's list.")],
    nip: Annotated[
        str | None,
        typer.Option(help="18-digit NIP; leave out for an official without one (Ikrar gives an identifier)."),
    ] = None,
    role: Annotated[str, typer.Option(help="official or admin.")] = "official",
    email: Annotated[
        str | None, typer.Option(help="The official surel dinas: key events and signatures are mailed there.")
    ] = None,
    rank: RankOption = None,
    acting: ActingOption = None,
    appointment: AppointmentOption = None,
) -> None:
    """Register an official (no key yet: see `official invite` and `official enrol`).

    Without --nip (the Wali Kota and the Wakil Wali Kota are not civil servants and have no
    NIP) Ikrar gives the person an identifier, printed here: they log in with it, and every
    command that takes --nip takes it as --id."""
    runtime = _ready()
    _agencies(runtime, unit)
    official = actions.register_official(
        runtime.ledger,
        nip,
        name,
        position,
        unit,
        role,
        _now(),
        email,
        rank=rank,
        acting=acting,
        appointment=appointment,
    )
    out.print(f"Registered {official.name} ({official.nip}) as {official.role}.", highlight=False)
    if nip is None:
        typer.echo(f"No NIP: the identifier of {official.name} is {official.nip} (log in and use --id with it).")


@official_app.command("update")
def official_update(
    nip: IdOption,
    reason: Annotated[str, typer.Option(help="Why: the mutasi, promotion or correction (recorded in the ledger).")],
    by: Annotated[
        str, typer.Option(help="The attesting admin's NIP: they sign with their own key (not the official).")
    ],
    name: Annotated[str | None, typer.Option(help="The corrected or new name.")] = None,
    position: Annotated[str | None, typer.Option("--position", "--title", help="The new full position.")] = None,
    unit: Annotated[str | None, typer.Option(help="The new agency (Perangkat Daerah), from the city's list.")] = None,
    rank: Annotated[str | None, typer.Option(help="The new pangkat/golongan; empty: none.")] = None,
    acting: Annotated[
        str | None, typer.Option(help="Plt. or Plh. (with --appointment); empty: no longer acting.")
    ] = None,
    appointment: AppointmentOption = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Record an official's new name, position or unit (mutasi, promotion, a corrected name):
    appends official.updated, attested by the acting admin's own key (asked: their signing
    passphrase). The official's key stays; their earlier signatures keep the capacity they
    were made in, and their next ones name the new one."""
    runtime = _runtime()
    ctx = runtime.context()
    official = actions.get_official(ctx.ledger, nip)
    by = actions.get_official(ctx.ledger, by).nip
    _agencies(runtime, unit)
    passphrase = _admin_passphrase(by, passphrase_file)
    appended = actions.update_official(
        ctx,
        official.nip,
        by,
        passphrase,
        reason,
        _now,
        name=name,
        title=position,
        unit=unit,
        rank=rank,
        acting=acting,
        appointment=appointment,
    )
    f = appended.entry.fields
    out.print(
        f"Updated {official.nip}: {f['name']}, {capacity_of(f['title'], f.get('acting'), f.get('appointment'))}, "
        f"{f['unit']}: entry {appended.entry.index}, attested by {by}.",
        highlight=False,
    )


@official_app.command("set-email")
def official_set_email(
    nip: IdOption,
    email: Annotated[str, typer.Option(help="The new address (the official surel dinas); empty: none.")],
) -> None:
    """Set or clear the address a person's notices are mailed to (the register, not the ledger)."""
    runtime = _ready()
    official = actions.get_official(runtime.ledger, nip)
    runtime.ledger.register.set_email(official.nip, email.strip() or None)
    out.print(f"Notices for {official.name} ({official.nip}) go to {email.strip() or 'no address'}.", highlight=False)


@official_app.command("enrol")
def official_enrol(nip: IdOption, passphrase_file: PassphraseFile = None) -> None:
    """Make the official's signing key under a new passphrase and append key.enrolled.

    The key is vouched for by the official's pending invitation (`official invite`) and,
    for a replacement or an admin's key, its approval (`official approve`); without them
    nothing is written. The first admin of a new ledger needs no invitation: the ledger's
    own key attests them."""
    runtime = _runtime()
    ctx = runtime.context()
    official = actions.get_official(ctx.ledger, nip)
    passphrase = _read_secret("New signing passphrase", passphrase_file, confirm=True)
    appended = actions.enrol(ctx, official.nip, passphrase, _now())
    f = appended.entry.fields
    vouched = ""
    if "attested_by" in f:
        vouched = f", attested by {f['attested_by']}" + (
            f", approved by {f['approved_by']}" if "approved_by" in f else ""
        )
    typer.echo(f"Enrolled {official.name}: entry {appended.entry.index}{vouched}, key {f['key']}")


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    """A table at a terminal; tab-separated lines, header first, for scripts and pipes."""
    if out.is_terminal:
        table = Table(*header)
        for row in rows:
            table.add_row(*row)
        out.print(table)
    else:
        for row in (header, *rows):
            typer.echo("\t".join(row))


@official_app.command("list")
def official_list() -> None:
    """Everyone registered, with their key status."""
    runtime = _reading()
    rows = []
    for o in official_statuses(runtime.ledger, _now()):
        k, state = o.key, o.key_state
        status = state if k is None else f"{state} (entry {k.enrolled_index if state == 'active' else k.revoked_index})"
        rows.append((o.person.nip, o.person.name, o.person.title, o.person.unit, o.person.role, status))
    _table(("NIP / ID", "Name", "Position", "Unit", "Role", "Key"), rows)


@commitment_app.command("publish")
def commitment_publish(
    file: Annotated[Path, typer.Argument(help="The commitment's text (UTF-8).", exists=True, dir_okay=False)],
    slug: Annotated[str, typer.Option(help="Short name in URLs: lowercase letters, digits, hyphens.")],
    title: Annotated[str, typer.Option(help="The commitment's title.")],
    signer: Annotated[
        list[str],
        typer.Option(
            "--signer", help="NIP or identifier of a required signatory (repeat, in protocol order: kept and shown)."
        ),
    ],
    by: Annotated[str, typer.Option(help="Who publishes it (recorded in the entry).")] = "cli",
    deadline: Annotated[
        str | None,
        typer.Option(help="No signing or declining after this time (UTC, YYYY-MM-DDTHH:MM:SSZ; WIB is UTC+7)."),
    ] = None,
) -> None:
    """Append commitment.published with the text's SHA-256 and the required signatories."""
    ctx = _runtime().context()
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise typer.BadParameter(f"{file} is not UTF-8 text") from e
    appended = actions.publish(ctx, slug, title, text, signer, by, _now(), _deadline(deadline))
    f = appended.entry.fields
    out.print(
        f"Published {f['slug']} at entry {appended.entry.index}: "
        f"sha256 {f['text_sha256']}, {len(f['signers'])} signatories"
        + (f", deadline {f['deadline']}." if "deadline" in f else "."),
        highlight=False,
    )


def _deadline(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_time(text.strip())
    except LedgerError as e:
        raise typer.BadParameter(f"{text!r} is not a time YYYY-MM-DDTHH:MM:SSZ (UTC)", param_hint="--deadline") from e


@commitment_app.command("extend")
def commitment_extend(
    commitment: Annotated[str, typer.Option(help="The commitment's slug.")],
    deadline: Annotated[str, typer.Option(help="The new, later deadline (UTC, YYYY-MM-DDTHH:MM:SSZ).")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the ledger).")],
    by: Annotated[str, typer.Option(help="Who extends it (recorded in the entry).")] = "cli",
) -> None:
    """Append commitment.extended: the commitment's deadline moves later."""
    ctx = _runtime().context()
    moment = _deadline(deadline)
    assert moment is not None
    appended = actions.extend(ctx, commitment, moment, by, reason, _now())
    out.print(f"Extended {commitment} to {appended.entry.fields['deadline']}: entry {appended.entry.index}.")


@commitment_app.command("list")
def commitment_list() -> None:
    """Every commitment with how many have signed."""
    runtime = _reading()
    rows = [
        (c.slug, c.title, str(c.published_index), f"{c.signed}/{c.required}", c.text_sha256)
        for c in reversed(commitment_summaries(runtime.ledger))
    ]
    _table(("Slug", "Title", "Entry", "Signed", "SHA-256"), rows)


@app.command()
def sign(
    commitment: Annotated[str, typer.Option(help="The commitment's slug.")],
    nip: IdOption,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Sign a commitment as an official: unlock the key, sign, verify, append."""
    ctx = _runtime().context()
    official = actions.get_official(ctx.ledger, nip)
    passphrase = _read_secret("Signing passphrase", passphrase_file, confirm=False)
    appended = actions.sign(ctx, commitment, official.nip, passphrase, _now)  # the time is read in ledger order
    f = appended.entry.fields
    capacity = f", as {f['capacity']}" if "capacity" in f else ""
    out.print(
        f"Signed by {official.name}{capacity}: entry {appended.entry.index}, "
        f"checkpoint size {appended.checkpoint.size}.",
        highlight=False,
    )


@app.command()
def decline(
    commitment: Annotated[str, typer.Option(help="The commitment's slug.")],
    nip: IdOption,
    reason: Annotated[str, typer.Option(help="Why the official declines (recorded in the ledger).")],
    passphrase_file: PassphraseFile = None,
) -> None:
    """Decline a commitment as an official, for a reason, signed with the official's key:
    appends commitment.declined. Final: the official cannot sign it afterwards."""
    ctx = _runtime().context()
    official = actions.get_official(ctx.ledger, nip)
    passphrase = _read_secret("Signing passphrase", passphrase_file, confirm=False)
    appended = actions.decline(ctx, commitment, official.nip, passphrase, reason, _now)
    out.print(f"Declined by {official.name}: entry {appended.entry.index}.", highlight=False)


@app.command()
def revoke(
    nip: Annotated[str, typer.Option("--nip", "--id", help="The official whose key is withdrawn (NIP or identifier).")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the ledger).")],
    by: ByOption,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Append key.revoked for the official's active key, signed by the acting admin's own key
    (asked: their signing passphrase, or --passphrase-file), or with `--by ledger` by the
    ledger's key."""
    ctx = _runtime().context()
    nip = clean_identifier(nip)
    passphrase = _admin_passphrase(by, passphrase_file)
    appended = actions.revoke(ctx, nip, reason, by, _now, passphrase)
    out.print(f"Revoked the key of {nip}: entry {appended.entry.index}.")


@app.command()
def checkpoint() -> None:
    """Print the latest signed checkpoint (C2SP signed note)."""
    runtime = _reading()
    sys.stdout.write(runtime.ledger.checkpoint().note)


@app.command()
def vkey() -> None:
    """Print the ledger's verifier key (C2SP)."""
    runtime = _reading()
    sys.stdout.write(f"{runtime.ledger.verifier}\n")


@app.command()
def proof(
    index: Annotated[int, typer.Argument(help="The entry's index.")],
    size: Annotated[
        int | None, typer.Option(help="Tree size of the checkpoint to prove against (default: latest).")
    ] = None,
) -> None:
    """Print a C2SP tlog-proof for entry INDEX."""
    runtime = _reading()
    sys.stdout.write(runtime.ledger.tlog_proof(index, size).text())


@app.command()
def consistency(old: Annotated[int, typer.Argument()], new: Annotated[int, typer.Argument()]) -> None:
    """Print the consistency proof from tree size OLD to NEW, one base64 hash a line."""
    runtime = _reading()
    for h in runtime.ledger.consistency_proof(old, new):
        sys.stdout.write(base64.b64encode(h).decode() + "\n")


def _progress(total: int, label: str) -> tuple[Progress, Any]:
    progress = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=total < 2000,
    )
    task = progress.add_task(label, total=total)
    return progress, lambda done: progress.update(task, completed=done) if done % 500 == 0 or done == total else None


def _trusted_key(vkey: str | None, fallback: VerifierKey, where: str) -> VerifierKey:
    if vkey is None:
        err.print(
            f"[yellow]note:[/] trusting the verifier key stored {where}; pass --vkey with the key "
            "published elsewhere to rule out a replaced key.",
            highlight=False,
        )
        return fallback
    return _parse_vkey(vkey)


def _parse_vkey(vkey: str) -> VerifierKey:
    """A verifier key given on the command line, or the file holding it."""
    path = Path(vkey)
    return VerifierKey.parse(path.read_text() if path.is_file() else vkey)


def _known(files: list[Path] | None) -> tuple[str, ...]:
    return tuple(f.read_text() for f in files or [])


VkeyOption = Annotated[str | None, typer.Option("--vkey", help="The trusted verifier key, or a file holding it.")]
KnownOption = Annotated[
    list[Path] | None,
    typer.Option("--known-checkpoint", help="A checkpoint seen earlier; the ledger must still contain it (repeat)."),
]


def _report(report: AuditReport) -> None:
    out.print(
        f"OK: {report.size} entries, {report.signatures} signatures, {report.checkpoints} checkpoints verified "
        f"({report.origin}).",
        highlight=False,
    )
    typer.echo(report.latest_checkpoint, nl=False)


@app.command("audit")
def audit_cmd(
    vkey: VkeyOption = None,
    known_checkpoint: KnownOption = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Processes that verify signatures side by side "
            "(use the number of cores); the first broken entry is named all the same.",
        ),
    ] = 1,
) -> None:
    """Re-verify the whole ledger: chain, Merkle roots, checkpoints, every signature, and every
    table derived from the entries. Exit 1 if broken."""
    runtime = _reading()
    ledger = runtime.ledger
    trusted = _trusted_key(vkey, ledger.verifier, "in the database")
    with ledger.read() as snapshot:  # one consistent state, however fast officials sign meanwhile
        progress, tick = _progress(snapshot.size(), "audit")
        with progress:
            report = audit(
                snapshot.stored_entries(),
                snapshot.stored_checkpoints(),
                trusted,
                tick,
                _known(known_checkpoint),
                workers=workers,
                derived=snapshot,
            )
    _report(report)


@app.command("rebuild")
def rebuild_cmd() -> None:
    """Recompute the tables derived from the entries (keys, commitments, signatures, the Merkle
    node cache), after checking that the entries and their checkpoints hold. Exit 1, with
    nothing changed, if they do not."""
    ledger = _ready().ledger
    progress, tick = _progress(ledger.size(), "check")
    with progress:
        report = ledger.rebuild(tick)
    out.print(f"Rebuilt the derived tables from {report.size} entries; `ikrar audit` checks them.")


@app.command("backup")
def backup_cmd(file: Annotated[Path, typer.Argument(help="A new file to write the backup to.")]) -> None:
    """Make a consistent copy of the ledger while the server runs, and audit the copy.

    Copying the database file of a running server is not a backup. Keep the key directory and
    the ledger passphrase too, each apart from the other."""
    runtime = _ready()
    settings, engine = runtime.settings, runtime.ledger.engine
    if engine.dialect.name == "sqlite":
        made = backup_sqlite(engine, file)
        out.print(f"Backed up {made.report.size} entries into {file}; the copy audits OK.", highlight=False)
    else:
        command = pg_backup_command(settings.database_url, file)
        shown = " ".join(command[:-1] + ["DATABASE_URL"])
        out.print(f"PostgreSQL is backed up with pg_dump: {shown}", highlight=False)
        try:
            subprocess.run(command, check=True)
        except (OSError, subprocess.CalledProcessError) as e:
            raise BackupError(f"pg_dump failed ({e}); run it by hand as shown", code="backup.failed") from e
        check_pg_dump(file)
        out.print(f"Wrote {file}; it holds the ledger's tables (pg_restore --list).", highlight=False)
    out.print(
        f"Keep also, each apart from the others: the key directory ({settings.keys_dir}) and the ledger "
        "passphrase (IKRAR_LEDGER_PASSPHRASE or its file). The ledger's latest checkpoint now (keep it: "
        "`ikrar audit --known-checkpoint FILE` detects a later rollback):",
        highlight=False,
    )
    typer.echo(runtime.ledger.checkpoint().note, nl=False)


@app.command("restore")
def restore_cmd(
    file: Annotated[Path, typer.Argument(help="A backup made by `ikrar backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Restore although the backup is older than the ledger.")] = False,
) -> None:
    """Put a backup back (stop the server first): it is audited before anything is replaced,
    and the ledger is audited again after. A backup older than the current ledger loses the
    entries after it: that needs --yes, and whoever kept a later checkpoint will see it."""
    runtime = _runtime()
    engine = runtime.ledger.engine
    if engine.dialect.name != "sqlite":
        raise BackupError(
            "restore a PostgreSQL dump with pg_restore --clean --no-owner -d DATABASE_URL FILE, then run `ikrar audit`",
            code="backup.pg_restore",
        )
    incoming = audit_file(file)
    current = runtime.ledger.size() if runtime.ledger.is_initialized() else 0
    if current > incoming.size and not yes:
        raise BackupError(
            f"the backup holds {incoming.size} entries, the ledger {current}: restoring it loses the entries "
            "after it (and anyone holding a later checkpoint will see the rollback); add --yes to restore anyway",
            code="backup.older",
        )
    restore_sqlite(file, engine)
    restored = Runtime(runtime.settings).ledger
    with restored.read() as r:
        report = audit(r.stored_entries(), r.stored_checkpoints(), restored.verifier, derived=r)
    out.print(f"Restored {report.size} entries from {file}; the ledger audits OK.", highlight=False)


@app.command("export")
def export_cmd(directory: Annotated[Path, typer.Argument(help="A new or empty folder.")]) -> None:
    """Write the whole ledger to DIR for offline verification."""
    runtime = _reading()
    progress, tick = _progress(runtime.ledger.size(), "export")
    with progress:
        size = write_export(runtime.ledger, directory, tick)
    out.print(f"Exported {size} entries to {directory}.")


@app.command("verify-export")
def verify_export_cmd(
    directory: Annotated[Path, typer.Argument(help="A folder written by `ikrar export`.")],
    vkey: VkeyOption = None,
    known_checkpoint: KnownOption = None,
) -> None:
    """Verify an export folder with no database and no server. Exit 1 if anything is broken."""
    trusted = _trusted_key(vkey, export_verifier(directory), "in the folder itself")
    report = verify_export(directory, trusted, None, _known(known_checkpoint))
    _report(report)


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)


@app.command("certificate")
def certificate_cmd(
    output: Annotated[Path, typer.Option("-o", "--output", help="The PDF to write; with --all a folder or a .zip.")],
    index: Annotated[
        int | None, typer.Argument(help="The signature entry's index (see `ikrar commitment list`).")
    ] = None,
    lang: Annotated[str, typer.Option(help="Language of the certificate: id (Bahasa Indonesia) or en.")] = "id",
    commitment: Annotated[
        str | None,
        typer.Option(
            "--commitment", help="A commitment's slug: its summary certificate, or with --all every certificate of it."
        ),
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="With --commitment: every signature certificate and the summary.")
    ] = False,
    naskah: Annotated[
        bool,
        typer.Option("--naskah", help="With --commitment: the joint commitment document (naskah komitmen bersama)."),
    ] = False,
) -> None:
    """Write the PDF certificate of signature INDEX, or of a whole commitment (--commitment SLUG
    [--all | --naskah]): its summary, every certificate of it, or the naskah komitmen bersama."""
    if (index is None) == (commitment is None):
        raise typer.BadParameter("give either INDEX or --commitment SLUG")
    if all_ and commitment is None:
        raise typer.BadParameter("--all needs --commitment SLUG")
    if naskah and (commitment is None or all_):
        raise typer.BadParameter("--naskah needs --commitment SLUG, without --all")
    runtime = _reading()
    ledger = runtime.ledger
    base_url, now = runtime.settings.base_url, _now()
    letterhead = runtime.settings.letterhead()
    if index is not None:
        pdf = certificate_pdf(ledger, index, lang=lang, base_url=base_url, now=now, letterhead=letterhead)
        _write_atomically(output, pdf)
        out.print(f"Certificate of entry {index} written to {output}.", highlight=False)
        return
    assert commitment is not None
    if naskah:
        pdf = naskah_pdf(ledger, commitment, lang=lang, base_url=base_url, now=now, letterhead=letterhead)
        _write_atomically(output, pdf)
        out.print(f"Naskah komitmen bersama of {commitment} written to {output}.", highlight=False)
        return
    if not all_:
        pdf = render_summary(ledger, commitment, lang=lang, base_url=base_url, now=now, letterhead=letterhead)
        _write_atomically(output, pdf)
        out.print(f"Summary certificate of {commitment} written to {output}.", highlight=False)
        return
    progress = Progress(
        TextColumn("certificates"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    with progress:
        task = progress.add_task("certificates", total=None)
        count = write_certificates(
            ledger,
            commitment,
            output,
            lang=lang,
            base_url=base_url,
            now=now,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
            letterhead=letterhead,
        )
    out.print(f"{count} certificates of {commitment} and its summary written to {output}.", highlight=False)


def _print_certificate_report(report: CertificateReport, lang: str = "en") -> None:
    marks = {
        Outcome.PASSED: "[green]ok[/]  ",
        Outcome.FAILED: "[bold red]FAIL[/]",
        Outcome.NOT_CHECKED: "[yellow]--[/]  ",
    }
    f = report.facts
    if f is not None:
        out.print(f"Certificate of entry {f.index}: {f.name} ({f.position}, {f.agency}, NIP {f.nip})", highlight=False)
        out.print(f"signed {f.commitment_title!r} (sha256 {f.commitment_sha256})", highlight=False)
        out.print(
            f"on {format_wib(f.time, lang)} — ledger {f.origin}, checkpoint size {f.checkpoint_size}", highlight=False
        )
    for c in report.checks:
        out.print(f"  {marks[c.outcome]} {TITLES.get(c.name, c.name):<24} {c.detail}", highlight=False)
    if report.failures:
        first = report.failures[0]
        err.print(
            f"[bold red]INVALID[/] ({(report.reason or '').replace('_', ' ')}): "
            f"{TITLES.get(first.name, first.name)}: {first.detail}",
            highlight=False,
        )
    elif report.key_trust is KeyTrust.TRUSTED:
        out.print("[bold green]VALID[/]: every check passed, under the trusted ledger key.", highlight=False)
    else:
        out.print(
            "[bold green]INTACT[/]: every check passed under the ledger key embedded in the PDF.\n"
            f"[yellow]Trust must come from a key published elsewhere[/]: compare {report.vkey} with the key "
            "the city publishes, or run again with --vkey.",
            highlight=False,
        )


@app.command("verify-cert")
def verify_cert_cmd(
    file: Annotated[Path, typer.Argument(help="A certificate PDF.", exists=True, dir_okay=False)],
    vkey: VkeyOption = None,
) -> None:
    """Check a certificate PDF fully offline, from its attachments. Exit 0 when it holds, 1 otherwise."""
    if file.stat().st_size > MAX_PDF_BYTES:
        raise CertificateInvalid(f"{file} is larger than any certificate")
    trusted = None if vkey is None else _parse_vkey(vkey)
    report = examine_certificate(file.read_bytes(), trusted)
    _print_certificate_report(report)
    if report.failures:
        raise typer.Exit(1)


@official_app.command("invite")
def official_invite(
    nip: IdOption,
    by: Annotated[
        str | None,
        typer.Option(
            help="The inviting admin's NIP: they attest with their own signing key (`ledger`: the ledger's key, "
            "for the first admin only). Leave out for a password link to someone who has a key."
        ),
    ] = None,
    passphrase_file: PassphraseFile = None,
    hours: Annotated[
        int | None, typer.Option(min=1, help="How long the link works (default: IKRAR_ENROL_HOURS).")
    ] = None,
) -> None:
    """Print a one-time enrolment link (IKRAR_BASE_URL/enrol/...) for a registered person.

    With --by, the admin attests that they checked the person (signed with their own key) and
    the link makes the person's key; a replacement key or an admin's key then also needs a
    second admin's `official approve`. Without --by, the link only sets a login password
    (for someone who has a key). Earlier unused links for the person stop working.
    """
    runtime = _ready()
    official = actions.get_official(runtime.ledger, nip)
    hours = hours or runtime.settings.enrol_hours
    if by is None:
        if actions.active_key(runtime.ledger, official.nip) is None:
            raise typer.BadParameter(
                f"{official.nip} has no key: an admin must vouch for them, give --by ADMIN_NIP", param_hint="--by"
            )
        token, expires = accounts.issue_enrolment(runtime.ledger, official.nip, "cli", _now(), hours)
        what = "password link"
    else:
        ctx = runtime.context()
        by = by if by == vouching.LEDGER else actions.get_official(runtime.ledger, by).nip
        passphrase = _admin_passphrase(by, passphrase_file)
        invited = vouching.invite(ctx, official, by, passphrase, _now(), hours)
        token, expires = invited.token, invited.invitation.expires_at
        waits = (
            " It waits for a second admin's approval (`ikrar official approve`)."
            if invited.invitation.needs_approval
            else ""
        )
        what = f"invitation, attested by {by}.{waits}"
    err.print(
        f"One-time enrolment link for {official.name} ({official.nip}), "
        f"valid until {format_wib(expires, 'en')}: {what}",
        highlight=False,
    )
    typer.echo(f"{runtime.settings.base_url}/enrol/{token}")


@official_app.command("approve")
def official_approve(
    nip: IdOption,
    by: ByOption,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Approve, as a second admin, the pending invitation of a replacement key or an admin's key:
    signed with the approving admin's own key (not the inviting admin, not the one who revoked
    the previous key); `--by ledger` approves an admin's key with the ledger's key."""
    runtime = _ready()
    ctx = runtime.context()
    official = actions.get_official(runtime.ledger, nip)
    by = by if by == vouching.LEDGER else actions.get_official(runtime.ledger, by).nip
    passphrase = _admin_passphrase(by, passphrase_file)
    record = vouching.approve(ctx, official, by, passphrase, _now())
    out.print(
        f"Approved the invitation of {official.name} ({official.nip}), attested by {record.attested_by}: "
        "they can enrol now.",
        highlight=False,
    )


@official_app.command("set-password")
def official_set_password(
    nip: IdOption,
    password_file: Annotated[
        Path | None, typer.Option("--password-file", help="Read the password from this file.")
    ] = None,
) -> None:
    """Set or reset the login password of a registered person (their sessions end)."""
    runtime = _ready()
    official = actions.get_official(runtime.ledger, nip)
    password = _read_secret("New login password", password_file, confirm=True)
    accounts.check_new_password(password, password, official.nip)
    accounts.set_password(runtime.ledger, official.nip, password, _now())
    out.print(f"Login password set for {official.name} ({official.nip}).", highlight=False)


@app.command()
def doctor(
    fix: Annotated[bool, typer.Option("--fix", help="Mend what is safe to mend (never a key an entry names).")] = False,
) -> None:
    """Find what an interrupted process left behind: an empty ledger passphrase file, enrolment
    links used up by an enrolment that never finished, key files no entry records, an older
    schema. With --fix, mend what is safe (orphan key files are moved to keys/orphaned/, never
    deleted). Exit 0 when nothing is wrong (or all was mended), 1 otherwise."""
    runtime = _runtime()
    findings = doctor_examine(runtime, _now(), fix=fix)
    for finding in findings:
        mark = "[green]fixed[/]" if finding.fixed else "[yellow]found[/]"
        out.print(f"{mark} {escape(finding.what)}", highlight=False)
    left = [f for f in findings if not f.fixed]
    if not findings:
        out.print("Nothing to mend: no leftovers of an interrupted process.", highlight=False)
    elif left:
        raise typer.Exit(1)


HostOption = Annotated[str, typer.Option(help="The address to listen on (0.0.0.0 for every interface).")]
PortOption = Annotated[int, typer.Option(min=1, max=65535, help="The port to listen on.")]


def _prepare(runtime: Runtime) -> None:
    """Bring the schema up to date (once, before any worker starts) and unlock the ledger key."""
    if runtime.ledger.is_initialized():
        runtime.context()
    else:
        err.print("[yellow]note:[/] no ledger here yet; the pages say so until `ikrar init` runs.", highlight=False)


WORKER_START_SECONDS = 60  # how long a worker may take to answer uvicorn's health check (5 s by default)


def _serve(runtime: Runtime, host: str, port: int, workers: int) -> None:
    """uvicorn on host:port. The client's address and scheme come from `X-Forwarded-For`
    and `X-Forwarded-Proto` only on connections from IKRAR_TRUSTED_PROXIES (the reverse
    proxy, see docs/DEPLOY.md); anyone else's such headers are ignored."""
    import uvicorn

    from .metrics import shared_between

    level = runtime.settings.log_level.lower()
    # uvicorn's own lines go through our handler, in IKRAR_LOG_FORMAT (log_config=None); its
    # access log is off: `web.metrics.RequestMetrics` writes one line a request, by route.
    configure_logging(runtime.settings.log_level, runtime.settings.log_format)
    with shared_between(workers):  # one sum of the metrics over the worker processes
        uvicorn.run(
            "web.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            forwarded_allow_ips=runtime.settings.trusted_proxies,
            # A new worker imports the whole program (its `__main__` too) before it can answer the
            # health check: on a busy machine that takes over 5 s, and it was killed, again and again.
            timeout_worker_healthcheck=WORKER_START_SECONDS,
            log_level=level if level in ("critical", "error", "warning", "info", "debug") else "info",
            log_config=None,
            access_log=False,
        )


@app.command()
def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes; they share one ledger.")] = 1,
) -> None:
    """Run the web application (uvicorn). Migrations run once here, before the workers start."""
    runtime = _runtime()
    _prepare(runtime)
    _serve(runtime, host, port, workers)


@app.command()
def demo(host: HostOption = "127.0.0.1", port: PortOption = 8000) -> None:
    """Build the Kediri demo (only into an empty database) and serve it; prints the demo logins."""
    runtime = _runtime()
    if is_empty(runtime):
        with err.status("Building the Kediri demo ledger…") as status:
            build_demo(runtime, lambda step: status.update(f"Building the Kediri demo ledger… {step}"))
        err.print("Demo ledger built.")
    elif ledger_org(runtime.ledger) != DEMO_ORG:
        err.print("[yellow]note:[/] this database holds another ledger; serving it unchanged.", highlight=False)
    _prepare(runtime)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    out.print(f"\nIkrar demo: [bold]http://{shown}:{port}/[/]", highlight=False)
    if ledger_org(runtime.ledger) == DEMO_ORG:
        out.print(
            "Demo logins (data demo). Log in with the NIP (the Wali Kota and the Wakil Wali Kota, who have none: "
            "the identifier Ikrar gave them) and password; sign with the passphrase.",
            highlight=False,
        )
        rows = [("role", "NIP / ID", "password", "signing passphrase", "signed", "name")]
        for person in sorted(PEOPLE, key=lambda p: (p.role != "admin", p.signs)):
            signed = "yes" if person.signs else "not yet" if person.asked else "-"
            rows.append((person.role, person.nip, person.password, person.passphrase, signed, person.name))
        for row in rows:
            typer.echo(f"  {row[0]:<9} {row[1]:<19} {row[2]:<15} {row[3]:<19} {row[4]:<8} {row[5]}")
        out.print(
            "\nApplications (verifikasi aplikasi, docs/APPLICATIONS.md): an operator prepares a request, the "
            "Kepala PD signs it, a reviewer reviews or returns it, the Kepala Dinas Kominfo signs the decision.",
            highlight=False,
        )
        typer.echo(f"  {'role':<12} {'NIP / ID':<19} {'password':<15} {'signing passphrase':<19} unit, name")
        for given in DEMO_ROLES:
            p = given.person
            typer.echo(f"  {given.role:<12} {p.nip:<19} {p.password:<15} {p.passphrase:<19} {given.unit}, {p.name}")
    _serve(runtime, host, port, 1)


# -- applications and roles (rules version 5; docs/APPLICATIONS.md) ---------------------------

apps_app = typer.Typer(
    cls=_Group,
    help="Applications a Perangkat Daerah asks Diskominfo to verify: submit, review, return, decide, "
    "list, show, and the Surat Rekomendasi.",
    no_args_is_help=True,
)
role_app = typer.Typer(
    cls=_Group,
    help="Roles in the verification of applications (pd-head, pd-operator, reviewer, kominfo-head), "
    "given and withdrawn by an admin's signed entry.",
    no_args_is_help=True,
)
app.add_typer(apps_app, name="app")
app.add_typer(role_app, name="role")

MAX_JSON_BYTES = 1024 * 1024  # a request file; the longest request is some 60 kB
ATTACHMENT_KEYS = ("title", "path", "sha256", "file", "bytes", "internal")  # of an attachment in FILE.json

AppArgument = Annotated[str, typer.Argument(metavar="ID", help="The application's id, e.g. 2026-0001.")]
RevisionOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="The revision you read: refused if the PD has submitted a newer one meanwhile.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON on standard output, for scripts.")]


def _json_file(path: Path, what: str) -> Any:
    """The JSON value of `path` (a request or a checklist). Raises InvalidInput, OSError."""
    if path.stat().st_size > MAX_JSON_BYTES:
        raise InvalidInput(f"{path} is larger than {MAX_JSON_BYTES // 1024} kB; no {what} is that long")
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as e:
        raise InvalidInput(f"{path} is not UTF-8 text") from e
    except json.JSONDecodeError as e:
        raise InvalidInput(f"{path} is not JSON: {e.msg} at line {e.lineno}, column {e.colno}") from e
    except RecursionError as e:
        raise InvalidInput(f"{path} is nested too deeply to be a {what}") from e


@dataclass(frozen=True)
class _NewFile:
    """A PDF the command line read, to be kept with the request it is attached to."""

    name: str
    data: bytes
    sha256: str


def _read_attachment(path: Path) -> _NewFile:
    """A PDF named by an attachment or `--attach`; at most one byte past the limit is read,
    so that `check_attachment` refuses a larger file by its size."""
    with path.open("rb") as f:
        data = f.read(MAX_ATTACHMENT + 1)
    return _NewFile(apps.clean_file_name(path.name), data, hashlib.sha256(data).hexdigest())


def _attachments(
    items: Any, folder: Path, attach: Sequence[Path], ledger: Ledger, source: Path
) -> tuple[list[dict[str, Any]], list[_NewFile]]:
    """The request's attachments as the request object lists them, from FILE.json's: each names
    its file by `path` (relative to FILE.json's folder) or by `sha256`, of a file given with
    `--attach` or of one Ikrar keeps already (an earlier revision's, or one uploaded on the
    web); `file` (default: the file's own name) and `bytes` are filled in, and `bytes` or a
    `sha256` given beside a `path` must agree with the file. Returns them and the files read,
    to be checked and kept. Raises InvalidInput, OSError."""
    if not isinstance(items, list):
        raise InvalidInput(f"attachments in {source} must be a list")
    given: dict[str, _NewFile] = {}
    for path in attach:
        attached = _read_attachment(path)
        given.setdefault(attached.sha256, attached)
    used: set[str] = set()
    listed: list[dict[str, Any]] = []
    new: list[_NewFile] = []
    for n, item in enumerate(items, 1):
        where = f"attachment {n} in {source}"
        if not isinstance(item, dict):
            raise InvalidInput(f"{where} is not an object")
        unknown = [k for k in item if k not in ATTACHMENT_KEYS]
        if unknown:
            raise InvalidInput(f"{where} has {unknown[0]!r}: an attachment has only {', '.join(ATTACHMENT_KEYS)}")
        digest = item.get("sha256")
        read: _NewFile | None
        if "path" in item:
            if not isinstance(item["path"], str) or not item["path"].strip():
                raise InvalidInput(f"{where}: path must name a file, relative to {source.name}'s folder")
            read = _read_attachment(folder / item["path"])
            if digest is not None and digest != read.sha256:
                raise InvalidInput(f"{where}: the file {item['path']} has sha256 {read.sha256}, not {digest}")
        elif isinstance(digest, str) and digest in given:
            read = given[digest]
        elif isinstance(digest, str):
            kept = ledger.register.attachment(digest)
            if kept is None:
                raise InvalidInput(
                    f"{where}: Ikrar keeps no file with sha256 {digest}; give it with --attach PATH, "
                    "or name it by its path"
                )
            read, name, size = None, kept.file_name, kept.bytes
        else:
            raise InvalidInput(f"{where} names no file: give its path, or the sha256 of a file given with --attach")
        if read is not None:
            digest, size = read.sha256, len(read.data)
            name = item["file"] if isinstance(item.get("file"), str) else read.name
            new.append(replace(read, name=name))  # kept under the name the request gives it
            used.add(digest)
        if "bytes" in item and item["bytes"] != size:
            raise InvalidInput(f"{where} says {item['bytes']} bytes; the file has {size}")
        listed.append(
            {
                "title": item.get("title", ""),
                "file": item.get("file", name),
                "sha256": digest,
                "bytes": size,
                "internal": item.get("internal", False),
            }
        )
    for digest, unused in given.items():
        if digest not in used:
            raise InvalidInput(f"--attach {unused.name}: no attachment in {source} names its sha256 {digest}")
    return listed, new


@apps_app.command(
    "submit",
    epilog="Examples:\n\n"
    "ikrar app submit permohonan.json --by 196906171994032906\n\n"
    "ikrar app submit permohonan.json --by 196906171994032906 --attach kak.pdf --passphrase-file sandi.txt\n\n"
    "ikrar app show 2026-0004 --json | jq .request > revisi.json  # a returned request, to revise\n\n"
    "ikrar app submit revisi.json --revise 2026-0004 --by 196607151990031911",
)
def app_submit(
    file: Annotated[
        Path,
        typer.Argument(help="The request: a JSON object (docs/APPLICATIONS.md).", exists=True, dir_okay=False),
    ],
    by: Annotated[
        str, typer.Option(metavar="NIP", help="The Kepala PD who signs it: they hold pd-head for its agency.")
    ],
    attach: Annotated[
        list[Path] | None,
        typer.Option(
            "--attach",
            metavar="PATH",
            help="A PDF that an attachment in FILE.json names by its sha256 (repeat).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    revise: Annotated[
        str | None,
        typer.Option(metavar="ID", help="Resubmit the returned application ID as its next revision."),
    ] = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Sign a request as the Kepala PD (ikrar/app-request/v1) and append app.submitted.

    FILE.json holds the request object, field by field as docs/APPLICATIONS.md lists them
    (`ikrar app show ID --json` prints one under "request"); `prepared_by` (the operator who
    prepared it, "" for none) and `attachments` may be left out. Each attachment is
    {"title", "internal"} with its PDF named by "path" (relative to FILE.json's folder) or by
    "sha256": of a file given with --attach, or of one Ikrar keeps already (an earlier
    revision's, or one uploaded on the web). The files are checked (PDF, at most 10 MB) and
    kept; the ledger holds their hashes. A new request gets the next id of the year; the id
    is printed on standard output."""
    ctx = _runtime().context()
    found = _json_file(file, "request")
    if not isinstance(found, dict):
        raise InvalidInput(f"{file} does not hold a JSON object (the request)")
    request: dict[str, Any] = {"prepared_by": "", **found}
    listed, new = _attachments(request.get("attachments", []), file.parent, attach or [], ctx.ledger, file)
    request["attachments"] = listed
    for read in new:  # a file's own problem first: empty, too large, no PDF
        apps.check_attachment(read.name, read.data)
    check_request(request)
    _check_preparer(ctx.ledger, request)
    signer = actions.get_official(ctx.ledger, by)
    passphrase = _read_secret("Signing passphrase", passphrase_file, confirm=False)
    now = _now()
    for read in new:
        ctx.ledger.register.put_attachment(read.sha256, read.name, read.data, now)
    appended = apps.submit_app(ctx, None, request, signer.nip, passphrase, _now, app=revise)
    f = appended.entry.fields
    err.print(
        f"Submitted {f['app']} revision {f['revision']} ({request['name']}) of {f['agency']}, signed by {f['name']} "
        f"as {f['capacity']}: entry {appended.entry.index}, request sha256 {f['request_sha256']}.",
        highlight=False,
    )
    typer.echo(f["app"])


def _check_preparer(ledger: Ledger, request: Mapping[str, Any]) -> None:
    """An operator named in `prepared_by` prepares requests of their own PD only (NotAllowed)."""
    preparer, agency = request["prepared_by"], request["agency"]
    if not preparer:
        return
    with ledger.read() as r:
        allowed = r.holds_role(preparer, PD_OPERATOR, agency) or r.holds_role(preparer, PD_HEAD, agency)
    if not allowed:
        raise NotAllowed(f"prepared_by {preparer} is neither an operator nor the Kepala of {agency}")


def _echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _one_of(value: str | None, choices: Sequence[str], option: str) -> None:
    if value is not None and value not in choices:
        raise InvalidInput(f"{option} {value!r} is not one of {', '.join(choices)}")


@apps_app.command(
    "list",
    epilog="Examples:\n\nikrar app list\n\nikrar app list --status submitted --year 2026\n\n"
    "ikrar app list --agency 'Dinas Kesehatan' --json",
)
def app_list(
    status: Annotated[
        str | None, typer.Option(help=f"Only applications in this status: {', '.join(STATUSES)}.")
    ] = None,
    agency: Annotated[str | None, typer.Option(help="Only the applications of this PD (its exact name).")] = None,
    year: Annotated[
        int | None, typer.Option(min=2000, max=9999, help="Only applications first submitted in this year (WIB).")
    ] = None,
    json_: JsonOption = False,
) -> None:
    """The register of applications, newest first: id, revision, status, PD, name, kind,
    fiscal year, when first submitted and when decided."""
    _one_of(status, STATUSES, "--status")
    runtime = _reading()
    with runtime.ledger.read() as r:
        found = r.applications(" ".join(agency.split()) if agency else None, status, year)
    if json_:
        _echo_json([app_json(a) for a in found])  # as /api/v1/apps lists them
        return
    rows = [
        (
            a.app,
            str(a.revision),
            a.status,
            a.agency,
            a.name,
            a.kind,
            str(a.fiscal_year),
            format_short_wib(a.first_time, "en"),
            "" if a.decided_time is None else format_short_wib(a.decided_time, "en"),
        )
        for a in found
    ]
    _table(("ID", "Rev", "Status", "Agency", "Name", "Kind", "Fiscal year", "Submitted", "Decided"), rows)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _print_view(view: apps.ApplicationView, number: str | None) -> None:
    request = view.request
    out.print(f"Application {view.app}: {request['name']}", highlight=False)
    out.print(
        f"status {view.status}, revision {view.revision}, request sha256 {view.latest.request_sha256}", highlight=False
    )
    for field in REQUEST:  # in the order of the request form
        value = request[field]
        if field == "attachments":
            continue
        text = f"Rp{value:,} ({value})".replace(",", ".") if field == "budget_amount" else _shown(value)
        lines = text.splitlines() or [""]
        out.print(f"  {field + ':':<24}{lines[0]}", highlight=False)
        for line in lines[1:]:
            out.print(f"  {'':<24}{line}", highlight=False)
    out.print("attachments:" if request["attachments"] else "attachments: none", highlight=False)
    for a in request["attachments"]:
        internal = ", internal (not public)" if a["internal"] else ""
        out.print(f"  {a['title']}: {a['file']}, {a['bytes']} bytes{internal}, sha256 {a['sha256']}", highlight=False)
    out.print("history:", highlight=False)
    for event in view.history:
        when = f"  entry {event.index}, {format_short_wib(event.time, 'en')}, revision {event.revision}:"
        if isinstance(event, apps.Submitted):
            out.print(f"{when} submitted, signed by {event.name} ({event.capacity})", highlight=False)
        elif isinstance(event, apps.Reviewed):
            out.print(f"{when} reviewed by {_person(event.by, event.identity)}", highlight=False)
            for point in CHECKLIST:
                found = event.checklist[point]
                note = f" — {found['note']}" if found["note"] else ""
                out.print(f"      {point}: {found['finding']}{note}", highlight=False)
        elif isinstance(event, apps.Returned):
            out.print(f"{when} returned by {_person(event.by, event.identity)}", highlight=False)
            for n, reason in enumerate(event.reasons, 1):
                out.print(f"      {n}. {reason}", highlight=False)
        else:
            out.print(f"{when} {event.decision}, signed by {event.name} ({event.capacity})", highlight=False)
            for n, note in enumerate(event.notes, 1):
                out.print(f"      {n}. {note}", highlight=False)
    if number is not None:
        out.print(f"letter: Surat Rekomendasi number {number} (`ikrar app letter {view.app} -o FILE`)", highlight=False)


def _person(nip: str, identity: Identity | None) -> str:
    return nip if identity is None else f"{identity.name} ({nip})"


@apps_app.command(
    "show", epilog="Examples:\n\nikrar app show 2026-0001\n\nikrar app show 2026-0001 --json | jq .status"
)
def app_show(app_id: AppArgument, json_: JsonOption = False) -> None:
    """One application as its entries record it: the latest request, field by field, its
    attachments, and its history (each revision, review, return and the decision)."""
    runtime = _reading()
    with runtime.ledger.read() as r:
        view = apps.application_view(r, app_id.strip())
        size = r.size()
    decided = view.decision
    number = None if decided is None else runtime.settings.letterhead().number(decided.index, decided.time)
    if json_:  # exactly what GET /api/v1/apps/{id} answers
        _echo_json(detail_json(view, size, runtime.settings))
    else:
        _print_view(view, number)


@apps_app.command(
    "review",
    epilog="Example:\n\nikrar app review 2026-0005 --by 198607142010012919 --checklist telaah.json\n\n"
    'telaah.json: {"architecture": {"finding": "fits", "note": ""}, "duplication": {"finding": "concern", '
    '"note": "..."}, ...} with every point of the checklist.',
)
def app_review(
    app_id: AppArgument,
    by: Annotated[str, typer.Option(metavar="NIP", help="The reviewer (or the Kepala Dinas Kominfo).")],
    checklist: Annotated[
        Path,
        typer.Option(
            metavar="FILE.json",
            help=f"The checklist: an object with each point ({', '.join(CHECKLIST)}) "
            f"as {{finding: {'|'.join(FINDINGS)}, note}}; a note unless the finding is fits.",
            exists=True,
            dir_okay=False,
        ),
    ],
    revision: RevisionOption = None,
) -> None:
    """Record a reviewer's checklist of the application's current revision: appends
    app.reviewed (signed by the ledger's checkpoint; a reviewer has no signature of their own)."""
    ctx = _runtime().context()
    found = _json_file(checklist, "checklist")
    appended = apps.review_app(ctx, app_id.strip(), by, found, _now, revision=revision)
    f = appended.entry.fields
    summary = ", ".join(f"{point} {found[point]['finding']}" for point in CHECKLIST)
    out.print(
        f"Reviewed {f['app']} revision {f['revision']} as {f['by']}: entry {appended.entry.index} ({summary}).",
        highlight=False,
    )


@apps_app.command(
    "return",
    epilog="Example:\n\nikrar app return 2026-0004 --by 199104032015031920 "
    "--reason 'Lengkapi penilaian dampak pelindungan data pribadi (DPIA).' --reason 'Jelaskan integrasi melalui SPLP.'",
)
def app_return(
    app_id: AppArgument,
    by: Annotated[str, typer.Option(metavar="NIP", help="The reviewer (or the Kepala Dinas Kominfo).")],
    reason: Annotated[
        list[str], typer.Option("--reason", help="Why it goes back to the PD (repeat: 1 to 20 reasons).")
    ],
    revision: RevisionOption = None,
) -> None:
    """Return the application's current revision to its PD for revision, with reasons:
    appends app.returned. The Kepala PD resubmits it (`ikrar app submit --revise ID`)."""
    ctx = _runtime().context()
    appended = apps.return_app(ctx, app_id.strip(), by, reason, _now, revision=revision)
    f = appended.entry.fields
    out.print(
        f"Returned {f['app']} revision {f['revision']} to its PD with {len(f['reasons'])} reason(s): "
        f"entry {appended.entry.index}.",
        highlight=False,
    )


@apps_app.command(
    "decide",
    epilog="Examples:\n\nikrar app decide 2026-0001 --decision recommended --by 197102051996031905\n\n"
    "ikrar app decide 2026-0002 --decision recommended_with_notes "
    "--note 'Integrasikan dengan SATUSEHAT melalui SPLP.' --by 197102051996031905 --passphrase-file sandi.txt",
)
def app_decide(
    app_id: AppArgument,
    decision: Annotated[str, typer.Option(help=f"{' | '.join(DECISIONS)}.")],
    by: Annotated[str, typer.Option(metavar="NIP", help="The Kepala Dinas Kominfo, who signs it.")],
    note: Annotated[
        list[str] | None,
        typer.Option(
            "--note",
            help="A note (with notes) or a reason (not recommended), one line each; repeat, 1 to 20. "
            "None for recommended.",
        ),
    ] = None,
    revision: RevisionOption = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Sign the decision on the application's current revision as the Kepala Dinas Kominfo
    (ikrar/app-decision/v1): appends app.decided. It needs a review of that revision first;
    nothing follows a decision."""
    notes = [n for n in note or [] if n.strip()]
    check_notes(decision, [" ".join(n.split()) for n in notes])  # before the passphrase is asked
    ctx = _runtime().context()
    decider = actions.get_official(ctx.ledger, by)
    passphrase = _read_secret("Signing passphrase", passphrase_file, confirm=False)
    appended = apps.decide_app(ctx, app_id.strip(), decision, notes, decider.nip, passphrase, _now, revision=revision)
    f = appended.entry.fields
    out.print(
        f"Decided {f['app']} revision {f['revision']}: {f['decision']}, signed by {f['name']} as {f['capacity']}: "
        f"entry {appended.entry.index}. The letter: `ikrar app letter {f['app']} -o FILE`.",
        highlight=False,
    )


@apps_app.command(
    "letter",
    epilog="Examples:\n\nikrar app letter 2026-0001 -o rekomendasi-2026-0001.pdf\n\n"
    "ikrar app letter 2026-0001 -o letter.pdf --lang en && ikrar verify-cert letter.pdf",
)
def app_letter(
    app_id: AppArgument,
    output: Annotated[Path, typer.Option("-o", "--output", help="The PDF to write.")],
    lang: Annotated[str, typer.Option(help="Language of the letter: id (Bahasa Indonesia) or en.")] = "id",
) -> None:
    """Write the Surat Rekomendasi of a decided application: a PDF carrying its own evidence,
    verified like a certificate (`ikrar verify-cert`, the QR code, an upload)."""
    runtime = _reading()
    pdf = render_letter(
        runtime.ledger,
        app_id.strip(),
        lang=lang,
        base_url=runtime.settings.base_url,
        now=_now(),
        letterhead=runtime.settings.letterhead(),
    )
    _write_atomically(output, pdf)
    out.print(f"Surat Rekomendasi of {app_id.strip()} written to {output}.", highlight=False)


NipArgument = Annotated[str, typer.Argument(metavar="NIP", help="The official's NIP (or identifier).")]
RoleArgument = Annotated[str, typer.Argument(metavar="ROLE", help=f"{', '.join(ROLES)}.")]
UnitOption = Annotated[
    str,
    typer.Option(
        help="For pd-head and pd-operator the PD's exact name (from the city's list); for reviewer and "
        "kominfo-head the office, e.g. 'Dinas Komunikasi dan Informatika'."
    ),
]
AdminOption = Annotated[
    str, typer.Option(metavar="ADMIN_NIP", help="The admin who attests it with their own signing key.")
]
ReasonOption = Annotated[str, typer.Option(help="Why: the decree or letter behind it (recorded in the ledger).")]


def _assign(nip: str, role: str, unit: str, by: str, reason: str, passphrase_file: Path | None, grant: bool) -> None:
    _one_of(role, ROLES, "role")
    runtime = _runtime()
    ctx = runtime.context()
    official = actions.get_official(ctx.ledger, nip)
    by = actions.get_official(ctx.ledger, by).nip
    agencies = load_agencies(runtime.settings.agencies_file) if grant and role in (PD_HEAD, PD_OPERATOR) else None
    if agencies is not None:
        check_unit(unit, agencies)  # before the passphrase is asked
    passphrase = _admin_passphrase(by, passphrase_file)
    appended = apps.assign_role(ctx, official.nip, role, unit, grant, reason, by, passphrase, _now, agencies=agencies)
    f, index = appended.entry.fields, appended.entry.index
    with ctx.ledger.read() as r:
        ended = [e for e in r.role_events() if e.ended_index == index and e.grant and e.nip != official.nip]
    verb = "Granted" if grant else "Withdrew"
    out.print(
        f"{verb} {f['role']} for {f['unit']} {'to' if grant else 'from'} {official.name} ({official.nip}): "
        f"entry {index}, attested by {by}."
        + "".join(f" It ends the grant of {e.nip} (entry {e.index})." for e in ended),
        highlight=False,
    )


@role_app.command(
    "grant",
    epilog="Examples:\n\n"
    "ikrar role grant 197102051996031905 kominfo-head --unit 'Dinas Komunikasi dan Informatika' "
    "--by 198802192011011917 --reason 'Kepala Dinas Kominfo'\n\n"
    "ikrar role grant 199308222018012921 pd-operator --unit 'Dinas Kesehatan' --by 198802192011011917 "
    "--reason 'Surat tugas Kepala Dinas Kesehatan' --passphrase-file sandi-admin.txt",
)
def role_grant(
    nip: NipArgument,
    role: RoleArgument,
    unit: UnitOption,
    by: AdminOption,
    reason: ReasonOption,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Give an enrolled official a role for a unit: appends role.assigned, attested by the
    admin's own key (ikrar/role/v1; asked: the admin's signing passphrase). A grant of
    pd-head (one a PD) or kominfo-head (one in all) ends the previous holder's."""
    _assign(nip, role, unit, by, reason, passphrase_file, grant=True)


@role_app.command(
    "withdraw",
    epilog="Example:\n\nikrar role withdraw 199502112019031922 pd-operator --unit 'Dinas Perhubungan' "
    "--by 198802192011011917 --reason 'Mutasi ke Dinas Sosial'",
)
def role_withdraw(
    nip: NipArgument,
    role: RoleArgument,
    unit: UnitOption,
    by: AdminOption,
    reason: ReasonOption,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Withdraw a role an official holds for a unit: appends role.assigned with grant false,
    attested by the admin's own key."""
    _assign(nip, role, unit, by, reason, passphrase_file, grant=False)


@role_app.command(
    "list",
    epilog="Examples:\n\nikrar role list\n\nikrar role list --role pd-head --json\n\n"
    "ikrar role list --history --nip 196906171994032906",
)
def role_list(
    nip: Annotated[str | None, typer.Option(help="Only this official's roles.")] = None,
    role: Annotated[str | None, typer.Option(help=f"Only this role: {', '.join(ROLES)}.")] = None,
    unit: Annotated[str | None, typer.Option(help="Only roles for this unit.")] = None,
    history: Annotated[
        bool, typer.Option("--history", help="Every grant and withdrawal, in ledger order, not only roles in force.")
    ] = False,
    json_: JsonOption = False,
) -> None:
    """The roles in force (who holds which role for which unit, since which entry), or with
    --history every grant and withdrawal with its reason and the attesting admin."""
    _one_of(role, ROLES, "--role")
    runtime = _reading()
    who = clean_identifier(nip) if nip else None
    unit = " ".join(unit.split()) if unit else None
    with runtime.ledger.read() as r:
        if history:
            events = [
                e for e in r.role_events(who) if (role is None or e.role == role) and (unit is None or e.unit == unit)
            ]
            names = r.identities({e.nip for e in events})
        else:
            held = r.roles(who, role, unit)
            names = r.identities({h.nip for h in held})

    def name(n: str) -> str:
        return names[n].name if n in names else ""

    if history:
        if json_:
            _echo_json(
                [
                    {
                        "index": e.index,
                        "time": format_time(e.time),
                        "grant": e.grant,
                        "nip": e.nip,
                        "name": name(e.nip),
                        "role": e.role,
                        "unit": e.unit,
                        "reason": e.reason,
                        "attested_by": e.attested_by,
                        "ended_index": e.ended_index,
                    }
                    for e in events
                ]
            )
            return
        rows = [
            (
                str(e.index),
                format_short_wib(e.time, "en"),
                "grant" if e.grant else "withdraw",
                e.nip,
                name(e.nip),
                e.role,
                e.unit,
                e.reason,
                e.attested_by,
                "" if e.ended_index is None else str(e.ended_index),
            )
            for e in events
        ]
        _table(("Entry", "Time", "What", "NIP / ID", "Name", "Role", "Unit", "Reason", "By", "Ended by"), rows)
        return
    if json_:
        _echo_json(
            [
                {
                    "nip": h.nip,
                    "name": name(h.nip),
                    "role": h.role,
                    "unit": h.unit,
                    "index": h.index,
                    "time": format_time(h.time),
                }
                for h in held
            ]
        )
        return
    _table(
        ("NIP / ID", "Name", "Role", "Unit", "Entry", "Since"),
        [(h.nip, name(h.nip), h.role, h.unit, str(h.index), format_short_wib(h.time, "en")) for h in held],
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
