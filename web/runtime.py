"""Wiring shared by the command line and the app: settings → ledger, key store, ledger signer."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from ledger.db import make_engine, make_read_only_engine
from ledger.errors import LedgerError, NotInitialized
from ledger.note import NoteSigner, VerifierKey
from ledger.schema import check_schema, migrate
from ledger.store import Appended, Ledger
from signing import actions
from signing.actions import Context
from signing.errors import KeyNotFound, SigningError
from signing.keystore import KeyStore

from .logs import JsonFormatter, TextFormatter
from .settings import Settings, new_secret, read_secret_file, write_secret_file

logger = logging.getLogger(__name__)


FORM_SECRET_FILE = "form-secret"


class SetupError(LedgerError):
    """The installation is not set up to do what was asked (a missing secret, say)."""


class RedactEnrolmentLinks(logging.Filter):
    """An enrolment link is a credential until it is used (whoever holds it chooses the
    official's password and signing passphrase), so no log line shows one: `/enrol/***`.

    `configure_logging` makes every log record of the process pass through `redact` as it
    is made, whichever logger, level or handler (uvicorn's, SQLAlchemy's, a test's); the
    filter form is for handlers set up elsewhere."""

    # Not `***` (done) nor the route's own template `{token}` (the access lines name routes).
    TOKEN = re.compile(r"(/enrol/)(?!\*\*\*|\{token\}(?![^/?#\s\"'<>]))[^/?#\s\"'<>]+")

    def filter(self, record: logging.LogRecord) -> bool:
        self.redact(record)
        return True

    @classmethod
    def _sub(cls, value: object) -> object:
        return cls.TOKEN.sub(r"\1***", value) if isinstance(value, str) else value

    @classmethod
    def scrub(cls, text: str) -> str:
        """`text` with every enrolment token replaced by `***`."""
        return cls.TOKEN.sub(r"\1***", text)

    @classmethod
    def redact(cls, record: logging.LogRecord) -> None:
        """Replace every enrolment token in `record` by `***`: in its message, its string
        arguments (kept in place: uvicorn's access formatter unpacks them), and when an
        argument of another type still shows one, in the formatted message."""
        if isinstance(record.args, tuple):
            record.args = tuple(cls._sub(a) for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {k: cls._sub(v) for k, v in record.args.items()}
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logging reports it when it is formatted
            return
        if cls.TOKEN.search(message):
            record.msg, record.args = cls.TOKEN.sub(r"\1***", message), ()
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = cls.TOKEN.sub(r"\1***", text)
        if record.stack_info:
            record.stack_info = cls.TOKEN.sub(r"\1***", record.stack_info)


def _redacting_factory(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        RedactEnrolmentLinks.redact(record)
        return record

    factory.redacts_enrolment_links = True  # type: ignore[attr-defined]
    return factory


def configure_logging(level: str, fmt: str = "text") -> None:
    """Log to stderr at `level`, one line a record: text (`web.logs.TextFormatter`) or, with
    `fmt` "json", one JSON object (`web.logs.JsonFormatter`). Called again, it sets the
    level and format anew (the command line starts at WARNING; `ikrar serve` then logs at
    IKRAR_LOG_LEVEL). When something else set up the root logger first (a test runner, an
    embedding program), its handlers and level are left as they are. In every case no log
    record of this process, of any logger or level, holds the token of an enrolment link."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "ikrar_handler", False)]
    if ours or not root.handlers:
        handler = ours[0] if ours else logging.StreamHandler()
        handler.setFormatter(JsonFormatter(RedactEnrolmentLinks.scrub) if fmt == "json" else TextFormatter())
        if not ours:
            handler.ikrar_handler = True  # type: ignore[attr-defined]
            root.addHandler(handler)
        root.setLevel(level)
        handler.setLevel(level)  # a logger set lower to be listened to (`web.metrics.install`) stays quiet here
        logging.captureWarnings(True)  # Python's warnings too, as log lines in this format
    make = logging.getLogRecordFactory()
    if not getattr(make, "redacts_enrolment_links", False):
        logging.setLogRecordFactory(_redacting_factory(make))


@dataclass
class Runtime:
    settings: Settings

    @classmethod
    def from_env(cls) -> Runtime:
        return cls(Settings.from_env())

    @classmethod
    def with_context(cls, settings: Settings, ctx: Context) -> Runtime:
        """A runtime over a ledger, key store and signer that are already open (tests, embedding)."""
        runtime = cls(settings)
        runtime.__dict__.update(ledger=ctx.ledger, keys=ctx.keys, signer=ctx.signer)
        return runtime

    @cached_property
    def ledger(self) -> Ledger:
        """The ledger, its schema brought up to date first (one process at a time)."""
        self.settings.prepare_data_dir()
        engine = make_engine(self.settings.database_url)
        migrate(engine)
        return Ledger(engine)

    def open_read_only(self) -> Ledger:
        """The ledger opened only to read (the reading commands; an auditor's copy, perhaps
        on a read-only disk): nothing is migrated, written or created beside it.

        Raises NotInitialized (no schema or no ledger), LedgerError ``schema.older`` /
        ``schema.newer`` (another Ikrar version made it) or ``database.missing``.
        """
        if "ledger" not in self.__dict__:
            engine = make_read_only_engine(self.settings.database_url)
            try:
                check_schema(engine)
            except BaseException:
                engine.dispose()
                raise
            self.__dict__["ledger"] = Ledger(engine)
        return self.ledger

    @cached_property
    def keys(self) -> KeyStore:
        return KeyStore(self.settings.keys_dir, self.settings.kdf_iterations)

    @cached_property
    def form_secret(self) -> str:
        """The key that signs the CSRF tokens of anonymous forms: the 0600 file
        `IKRAR_DATA_DIR/form-secret`, made with a random value the first time (by whichever
        worker comes first). Every server process of one site must read the same file."""
        path = self.settings.data_dir / FORM_SECRET_FILE
        if not path.exists():
            try:
                write_secret_file(path, new_secret())
            except FileExistsError:  # another worker made it a moment ago
                pass
        try:
            secret = read_secret_file(path)
        except PermissionError as e:
            raise SetupError(str(e)) from e
        if len(secret) < 32:  # pragma: no cover - an empty file left by a crash, a hand edit
            raise SetupError(f"{path} holds no usable secret: delete it and restart the server")
        return secret

    def ledger_passphrase(self, create: bool = False) -> str:
        """The ledger key's passphrase: IKRAR_LEDGER_PASSPHRASE, else the 0600 passphrase file.

        With `create`, a missing file is made with a new random passphrase (at `init`).
        """
        if self.settings.ledger_passphrase:
            return self.settings.ledger_passphrase
        path = self.settings.ledger_passphrase_file
        if not path.exists():
            if not create:
                raise SetupError(f"the ledger key's passphrase is needed: set IKRAR_LEDGER_PASSPHRASE or create {path}")
            write_secret_file(path, new_secret())
        try:
            passphrase = read_secret_file(path)
        except PermissionError as e:
            raise SetupError(str(e)) from e
        if not passphrase:
            raise SetupError(
                f"{path} is empty (left by an interrupted `ikrar init`?): run `ikrar doctor`",
                code="setup.passphrase_empty",
                path=path,
            )
        return passphrase

    @cached_property
    def signer(self) -> NoteSigner:
        """The ledger's checkpoint signer, unlocked once per process."""
        try:
            return self.keys.note_signer(self.ledger.verifier, self.ledger_passphrase())
        except KeyNotFound as e:
            raise SetupError(f"{e}: is IKRAR_KEYS_DIR the key directory this ledger was made with?") from e
        except SigningError as e:
            raise SetupError(f"cannot unlock the ledger key: {e}") from e

    def create_ledger(self, org: str, origin: str, now: datetime) -> Appended:
        """Make the ledger's own key and write its first entry (`ikrar init`, `ikrar demo`).

        Raises AlreadyInitialized when the database holds a ledger; no key is left behind then.
        When the database does not confirm the write, the ledger is read again and the key
        is kept unless the ledger surely does not name it: raises LedgerError ``commit.*``.
        """
        passphrase = self.ledger_passphrase(create=True)
        vkey = self.keys.create(origin, passphrase)
        signer = self.keys.note_signer(vkey, passphrase)
        try:
            appended = self.ledger.create(org, origin, signer, now)
        except BaseException as e:
            self._after_failed_creation(vkey, e)
            raise
        self.__dict__["signer"] = signer
        return appended

    def _after_failed_creation(self, vkey: VerifierKey, error: BaseException) -> None:
        """After `Ledger.create` raised `error`: remove the new ledger key only when the
        database surely holds no ledger made with it; say what is known."""
        path = self.keys.path_for(vkey)
        doubt = actions.unconfirmed(error)
        try:
            recorded = self._ledger_key_is(vkey)
            if not recorded and doubt and self.ledger.engine.dialect.name == "postgresql":
                time.sleep(1.0)  # a COMMIT the server received may still be under way
                recorded = self._ledger_key_is(vkey)
        except Exception as e:
            logger.error("ledger creation unconfirmed and unreadable; ledger key kept at %s: %s", path, e)
            raise LedgerError(
                "the database did not confirm the new ledger, and could not tell whether it was created: "
                f"the ledger key is kept at {path}; run `ikrar doctor` once the database answers",
                code="commit.unknown",
                path=path,
            ) from error
        if recorded:
            logger.warning("ledger creation unconfirmed but recorded; ledger key kept at %s", path)
            raise LedgerError(
                f"the database did not confirm the new ledger, but the ledger IS created with the key {vkey}, "
                f"kept at {path}: run `ikrar checkpoint` to see it",
                code="commit.written",
                path=path,
            ) from error
        path.unlink(missing_ok=True)  # no ledger names this key
        if doubt:
            raise LedgerError(
                "the database did not confirm the new ledger, and no ledger was created (the new ledger key "
                "was removed): run `ikrar init` again",
                code="commit.not_written",
            ) from error

    def _ledger_key_is(self, vkey: VerifierKey) -> bool:
        """Whether the database holds a ledger whose key is `vkey` (read afresh)."""
        try:
            return Ledger(self.ledger.engine).verifier == vkey
        except NotInitialized:
            return False

    def context(self) -> Context:
        """What writing to the ledger needs. The first time in a process, a ledger made by an
        earlier version of Ikrar is raised to the newest rules (`Ledger.raise_rules`)."""
        if not self.ledger.is_initialized():
            raise NotInitialized("no ledger here yet: run `ikrar init` first", code="ledger.not_initialized")
        if not self.__dict__.get("rules_raised"):
            self.ledger.raise_rules(self.signer, lambda: datetime.now(UTC))
            self.__dict__["rules_raised"] = True
        return Context(self.ledger, self.keys, self.signer, mail=self.settings.smtp_url is not None)
