"""The `ikrar` command: a thin shell over `ledger` and `signing`.

Errors of the ledger and signing families become one line on stderr and exit code 1
(see `_Group.invoke`); `audit` and the `verify-*` commands exit 1 when anything is
broken, naming the first broken entry.
"""

from __future__ import annotations

import base64
import errno
import logging
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ledger.audit import AuditReport, audit
from ledger.backup import BackupError, audit_file, backup_sqlite, check_pg_dump, pg_backup_command, restore_sqlite
from ledger.db import DriverError, database_error
from ledger.errors import ChainBroken, DerivedMismatch, LedgerError, NotInitialized
from ledger.export import export_verifier, verify_export, write_export
from ledger.identity import capacity_of
from ledger.nip import clean_identifier
from ledger.note import VerifierKey
from ledger.times import parse_time
from signing import actions, vouching
from signing.agencies import load_agencies
from signing.certificate import certificate_pdf, write_certificates
from signing.checks import TITLES, Outcome
from signing.errors import CertificateInvalid, SigningError
from signing.naskah import naskah_pdf
from signing.summary import render_summary
from signing.verify_cert import MAX_PDF_BYTES, CertificateReport, KeyTrust, examine_certificate
from signing.wording import format_wib

from . import accounts
from .demo import DEMO_ORG, PEOPLE, build_demo, is_empty
from .doctor import examine as doctor_examine
from .errors import WebError, message_of
from .i18n import Translator
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
            err.print(f"[red]error:[/] {e}", highlight=False, markup=True)
            raise typer.Exit(1) from e
        except WebError as e:
            err.print(f"[red]error:[/] {message_of(e, Translator('en'))}", highlight=False, markup=True)
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
    _serve(runtime, host, port, 1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
