"""The `ikrar` command: a thin shell over `ledger` and `signing`.

Errors of the ledger and signing families become one line on stderr and exit code 1
(see `_Group.invoke`); `audit` and the `verify-*` commands exit 1 when anything is
broken, naming the first broken entry.
"""

from __future__ import annotations

import base64
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlmodel import select

from ledger.audit import AuditReport, audit
from ledger.errors import ChainBroken, LedgerError
from ledger.export import export_verifier, verify_export, write_export
from ledger.models import Commitment, CommitmentSigner, Official, OfficialKey, Signature
from ledger.note import VerifierKey
from signing import actions
from signing.errors import SigningError
from signing.statement import check_signed_entry

from .runtime import Runtime, configure_logging

logger = logging.getLogger(__name__)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class _Group(typer.core.TyperGroup):
    """Turns the ledger's and signing's errors into a message and exit code 1, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ChainBroken as e:
            err.print(f"[bold red]BROKEN[/] at entry {e.index}: {e.reason}", highlight=False)
            raise typer.Exit(1) from e
        except (LedgerError, SigningError, OSError, ValueError) as e:
            err.print(f"[red]error:[/] {e}", highlight=False, markup=True)
            raise typer.Exit(1) from e


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
    configure_logging(runtime.settings.log_level if runtime.settings.log_level != "INFO" else "WARNING")
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
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)


PassphraseFile = Annotated[
    Path | None,
    typer.Option("--passphrase-file", help="Read the passphrase from this file (for scripts) instead of asking."),
]


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
    passphrase = runtime.ledger_passphrase(create=True)
    vkey = runtime.keys.create(origin, passphrase)
    signer = runtime.keys.note_signer(vkey, passphrase)
    try:
        appended = ledger.create(org, origin, signer, _now())
    except BaseException:
        runtime.keys.path_for(vkey).unlink(missing_ok=True)
        raise
    out.print(f"Ledger {origin} created for {org}.")
    typer.echo(f"Verifier key (publish it where auditors can find it):\n{vkey}")
    typer.echo(appended.checkpoint.note, nl=False)


@official_app.command("add")
def official_add(
    nip: Annotated[str, typer.Option(help="18-digit NIP.")],
    name: Annotated[str, typer.Option(help="Full name with titles.")],
    title: Annotated[str, typer.Option(help="Position (jabatan).")],
    unit: Annotated[str, typer.Option(help="Agency (OPD / unit kerja).")],
    role: Annotated[str, typer.Option(help="official or admin.")] = "official",
) -> None:
    """Register an official (no key yet: see `official enrol`)."""
    runtime = _runtime()
    runtime.context()
    official = actions.register_official(runtime.ledger, nip, name, title, unit, role, _now())
    out.print(f"Registered {official.name} ({official.nip}) as {official.role}.")


@official_app.command("enrol")
def official_enrol(nip: Annotated[str, typer.Option(help="The official's NIP.")], passphrase_file: PassphraseFile = None) -> None:
    """Make the official's signing key under a new passphrase and append key.enrolled."""
    runtime = _runtime()
    ctx = runtime.context()
    official = actions.get_official(ctx.ledger, nip)
    passphrase = _read_secret("New signing passphrase", passphrase_file, confirm=True)
    appended = actions.enrol(ctx, official.nip, passphrase, _now())
    typer.echo(f"Enrolled {official.name}: entry {appended.entry.index}, key {appended.entry.fields['key']}")


@official_app.command("list")
def official_list() -> None:
    """Everyone registered, with their key status."""
    runtime = _runtime()
    runtime.context()
    table = Table("NIP", "Name", "Title", "Unit", "Role", "Key")
    with runtime.ledger.session() as s:
        keys = {k.nip: k for k in s.exec(select(OfficialKey).order_by(OfficialKey.enrolled_index))}
        for o in s.exec(select(Official).order_by(Official.name)):
            k = keys.get(o.nip)
            status = "none" if k is None else f"active (entry {k.enrolled_index})" if k.revoked_index is None else f"revoked (entry {k.revoked_index})"
            table.add_row(o.nip, o.name, o.title, o.unit, o.role, status)
    out.print(table)


@commitment_app.command("publish")
def commitment_publish(
    file: Annotated[Path, typer.Argument(help="The commitment's text (UTF-8).", exists=True, dir_okay=False)],
    slug: Annotated[str, typer.Option(help="Short name in URLs: lowercase letters, digits, hyphens.")],
    title: Annotated[str, typer.Option(help="The commitment's title.")],
    signer: Annotated[list[str], typer.Option("--signer", help="NIP of a required signatory (repeat).")],
    by: Annotated[str, typer.Option(help="Who publishes it (recorded in the entry).")] = "cli",
) -> None:
    """Append commitment.published with the text's SHA-256 and the required signatories."""
    ctx = _runtime().context()
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise typer.BadParameter(f"{file} is not UTF-8 text") from e
    appended = actions.publish(ctx, slug, title, text, signer, by, _now())
    f = appended.entry.fields
    out.print(f"Published {f['slug']} at entry {appended.entry.index}: sha256 {f['text_sha256']}, {len(f['signers'])} signatories.")


@commitment_app.command("list")
def commitment_list() -> None:
    """Every commitment with how many have signed."""
    runtime = _runtime()
    runtime.context()
    table = Table("Slug", "Title", "Entry", "Signed", "SHA-256")
    with runtime.ledger.session() as s:
        for c in s.exec(select(Commitment).order_by(Commitment.published_index)):
            required = len(s.exec(select(CommitmentSigner.nip).where(CommitmentSigner.slug == c.slug)).all())
            signed = len(s.exec(select(Signature.idx).where(Signature.slug == c.slug)).all())
            table.add_row(c.slug, c.title, str(c.published_index), f"{signed}/{required}", c.text_sha256[:16] + "…")
    out.print(table)


@app.command()
def sign(
    commitment: Annotated[str, typer.Option(help="The commitment's slug.")],
    nip: Annotated[str, typer.Option(help="The signing official's NIP.")],
    passphrase_file: PassphraseFile = None,
) -> None:
    """Sign a commitment as an official: unlock the key, sign, verify, append."""
    ctx = _runtime().context()
    official = actions.get_official(ctx.ledger, nip)
    passphrase = _read_secret("Signing passphrase", passphrase_file, confirm=False)
    appended = actions.sign(ctx, commitment, official.nip, passphrase, _now())
    out.print(f"Signed by {official.name}: entry {appended.entry.index}, checkpoint size {appended.checkpoint.size}.")


@app.command()
def revoke(
    nip: Annotated[str, typer.Option(help="The official whose key is withdrawn.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the ledger).")],
    by: Annotated[str, typer.Option(help="Who revokes it.")] = "cli",
) -> None:
    """Append key.revoked for the official's active key."""
    ctx = _runtime().context()
    appended = actions.revoke(ctx, "".join(nip.split()), reason, by, _now())
    out.print(f"Revoked the key of {nip}: entry {appended.entry.index}.")


@app.command()
def checkpoint() -> None:
    """Print the latest signed checkpoint (C2SP signed note)."""
    runtime = _runtime()
    runtime.context()
    sys.stdout.write(runtime.ledger.checkpoint().note)


@app.command()
def vkey() -> None:
    """Print the ledger's verifier key (C2SP)."""
    runtime = _runtime()
    runtime.context()
    sys.stdout.write(f"{runtime.ledger.verifier}\n")


@app.command()
def proof(
    index: Annotated[int, typer.Argument(help="The entry's index.")],
    size: Annotated[int | None, typer.Option(help="Tree size of the checkpoint to prove against (default: latest).")] = None,
) -> None:
    """Print a C2SP tlog-proof for entry INDEX."""
    runtime = _runtime()
    runtime.context()
    sys.stdout.write(runtime.ledger.tlog_proof(index, size).text())


@app.command()
def consistency(old: Annotated[int, typer.Argument()], new: Annotated[int, typer.Argument()]) -> None:
    """Print the consistency proof from tree size OLD to NEW, one base64 hash a line."""
    runtime = _runtime()
    runtime.context()
    for h in runtime.ledger.consistency_proof(old, new):
        sys.stdout.write(base64.b64encode(h).decode() + "\n")


def _progress(total: int, label: str) -> tuple[Progress, Any]:
    progress = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=err, transient=True, disable=total < 2000)
    task = progress.add_task(label, total=total)
    return progress, lambda done: progress.update(task, completed=done) if done % 500 == 0 or done == total else None


def _trusted_key(vkey: str | None, fallback: VerifierKey, where: str) -> VerifierKey:
    if vkey is None:
        err.print(f"[yellow]note:[/] trusting the verifier key stored {where}; pass --vkey with the key "
                  "published elsewhere to rule out a replaced key.", highlight=False)
        return fallback
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
    out.print(f"OK: {report.size} entries, {report.signatures} signatures, {report.checkpoints} checkpoints verified "
              f"({report.origin}).", highlight=False)
    typer.echo(report.latest_checkpoint, nl=False)


@app.command("audit")
def audit_cmd(vkey: VkeyOption = None, known_checkpoint: KnownOption = None) -> None:
    """Re-verify the whole ledger: chain, Merkle roots, checkpoints, every signature. Exit 1 if broken."""
    runtime = _runtime()
    runtime.context()
    ledger = runtime.ledger
    trusted = _trusted_key(vkey, ledger.verifier, "in the database")
    progress, tick = _progress(ledger.size(), "audit")
    with progress:
        report = audit(ledger.stored_entries(), ledger.stored_checkpoints(), trusted, check_signed_entry, tick,
                       _known(known_checkpoint))
    _report(report)


@app.command("export")
def export_cmd(directory: Annotated[Path, typer.Argument(help="A new or empty folder.")]) -> None:
    """Write the whole ledger to DIR for offline verification."""
    runtime = _runtime()
    runtime.context()
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
    report = verify_export(directory, trusted, check_signed_entry, None, _known(known_checkpoint))
    _report(report)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
