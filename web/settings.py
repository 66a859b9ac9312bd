"""One settings object, read from ``IKRAR_*`` environment variables (each one in the README)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from ledger.errors import InvalidInput
from signing._pkcs8 import DEFAULT_ITERATIONS
from signing.doc_kop import Letterhead, check_pattern

DEFAULT_ORIGIN = "kedirikota.go.id/ikrar"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _int_env(name: str, default: int, least: int) -> int:
    value = _env(name, str(default))
    if not value.isdigit() or int(value) < least:
        raise ValueError(f"{name} must be a whole number of at least {least}")
    return int(value)


def _choice_env(name: str, choices: tuple[str, ...]) -> str:
    value = _env(name, choices[0]).lower()
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}")
    return value


def _path_env(name: str) -> Path | None:
    value = _env(name, "")
    return Path(value) if value else None


def _number_pattern(pattern: str) -> str:
    """A document-number pattern (`signing.doc_kop.check_pattern`): it names `{index}` and may name `{year}`."""
    try:
        return check_pattern(pattern)
    except InvalidInput as e:
        raise ValueError(f"IKRAR_NUMBER_PATTERN: {e}") from e


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    keys_dir: Path
    origin: str
    base_url: str
    ledger_passphrase: str | None = field(repr=False)
    ledger_passphrase_file: Path
    kdf_iterations: int
    log_level: str
    session_hours: int = 8
    enrol_hours: int = 72
    self_audit_minutes: int = 60  # 0: no background self-audit
    trusted_proxies: str = "127.0.0.1"  # addresses whose X-Forwarded-* headers are believed
    metrics_token: str | None = field(default=None, repr=False)  # None: no /metrics
    log_format: str = "text"  # or "json": one JSON object a line
    smtp_url: str | None = field(default=None, repr=False)  # None: no mail is sent
    mail_from: str = "Ikrar <ikrar@localhost>"
    reauth_minutes: int = 5  # sensitive admin actions ask the password again after this
    # The city's documents (certificates, the naskah, letters): the kop naskah dinas and numbers.
    agencies_file: Path | None = None  # the Perangkat Daerah a position may name; None: Kota Kediri's
    emblem_file: Path | None = None  # the government's emblem (PNG or JPEG); None: a placeholder that says so
    office: str = "Dinas Komunikasi dan Informatika"  # the unit responsible for the ledger, under the government
    office_address: str = ""  # its address as printed under the letterhead; empty: none printed
    number_pattern: str = "{index}/IKRAR/{year}"  # a document's number: {index} its ledger index, {year} in WIB

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(_env("IKRAR_DATA_DIR", "data"))
        iterations = _int_env("IKRAR_KDF_ITERATIONS", DEFAULT_ITERATIONS, 1000)
        return cls(
            data_dir=data_dir,
            database_url=_env("IKRAR_DATABASE_URL", f"sqlite:///{data_dir / 'ikrar.db'}"),
            keys_dir=Path(_env("IKRAR_KEYS_DIR", "keys")),
            origin=_env("IKRAR_ORIGIN", DEFAULT_ORIGIN),
            base_url=_env("IKRAR_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            ledger_passphrase=os.environ.get("IKRAR_LEDGER_PASSPHRASE") or None,
            ledger_passphrase_file=Path(_env("IKRAR_LEDGER_PASSPHRASE_FILE", str(data_dir / "ledger-passphrase"))),
            kdf_iterations=iterations,
            log_level=_env("IKRAR_LOG_LEVEL", "INFO").upper(),
            session_hours=_int_env("IKRAR_SESSION_HOURS", 8, 1),
            enrol_hours=_int_env("IKRAR_ENROL_HOURS", 72, 1),
            self_audit_minutes=_int_env("IKRAR_SELF_AUDIT_MINUTES", 60, 0),
            trusted_proxies=_env("IKRAR_TRUSTED_PROXIES", "127.0.0.1"),
            metrics_token=os.environ.get("IKRAR_METRICS_TOKEN", "").strip() or None,
            log_format=_choice_env("IKRAR_LOG_FORMAT", ("text", "json")),
            smtp_url=os.environ.get("IKRAR_SMTP_URL", "").strip() or None,
            mail_from=_env("IKRAR_MAIL_FROM", "Ikrar <ikrar@localhost>"),
            reauth_minutes=_int_env("IKRAR_REAUTH_MINUTES", 5, 1),
            agencies_file=_path_env("IKRAR_AGENCIES_FILE"),
            emblem_file=_path_env("IKRAR_EMBLEM_FILE"),
            office=_env("IKRAR_OFFICE", "Dinas Komunikasi dan Informatika"),
            office_address=_env("IKRAR_OFFICE_ADDRESS", ""),
            number_pattern=_number_pattern(_env("IKRAR_NUMBER_PATTERN", "{index}/IKRAR/{year}")),
        )

    def letterhead(self) -> Letterhead:
        """The kop naskah dinas and numbering of the city's documents (certificates, the naskah).
        Raises InvalidInput when the emblem file cannot be read or is not a PNG or JPEG."""
        return Letterhead.from_files(self.office, self.office_address, self.number_pattern, self.emblem_file)

    def sqlite_path(self) -> Path | None:
        """The SQLite database file of `database_url`, or None for another database."""
        if self.database_url.startswith("sqlite:///"):
            return Path(self.database_url[len("sqlite:///") :].partition("?")[0])
        return None

    def prepare_data_dir(self) -> None:
        """Make the data folder (0700) and, for SQLite, the database's folder (0700) and an
        empty database file (0600) before SQLite opens it: SQLite gives its `-wal` and
        `-shm` files the mode of the database file, so none is readable by others (the
        database holds the password hashes). An existing database readable by others is
        made private (0600) too."""
        _private_dir(self.data_dir)
        database = self.sqlite_path()
        if database is None or str(database) in ("", ":memory:"):
            return
        _private_dir(database.parent)
        try:
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        for path in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
            try:
                if path.stat().st_mode & 0o077:
                    path.chmod(0o600)
            except FileNotFoundError:
                continue


def _private_dir(path: Path) -> None:
    """Create `path` (and missing parents) with mode 0700; an existing folder is left as it is."""
    if not path.exists():
        path.mkdir(parents=True, mode=0o700, exist_ok=True)
        path.chmod(0o700)  # mkdir's mode is cut by the umask; this one is exact


def read_secret_file(path: Path) -> str:
    """Read a one-line secret from a file that only its owner may read."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise PermissionError(f"{path} is readable by others (mode {mode:o}); run chmod 600 on it")
    return path.read_text().strip()


def write_secret_file(path: Path, value: str) -> None:
    """Create a 0600 file holding `value`, whole or not at all: it is written under another
    name and linked into place, so no process ever reads it half written (and a crash
    leaves no empty file). Raises FileExistsError rather than overwrite one."""
    _private_dir(path.parent)
    spare = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(value + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.link(spare, path)
    finally:
        spare.unlink(missing_ok=True)


def new_secret() -> str:
    return secrets.token_urlsafe(32)
