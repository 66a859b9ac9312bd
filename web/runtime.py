"""Wiring shared by the command line and the app: settings → ledger, key store, ledger signer."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from ledger.db import make_engine
from ledger.errors import LedgerError, NotInitialized
from ledger.note import NoteSigner
from ledger.schema import migrate
from ledger.store import Appended, Ledger
from signing.actions import Context
from signing.errors import KeyNotFound, SigningError
from signing.keystore import KeyStore

from .settings import Settings, new_secret, read_secret_file, write_secret_file

logger = logging.getLogger(__name__)


class SetupError(LedgerError):
    """The installation is not set up to do what was asked (a missing secret, say)."""


class RedactEnrolmentLinks(logging.Filter):
    """An enrolment link is a credential until it is used (whoever holds it chooses the
    official's password and signing passphrase), so the access log shows `/enrol/***`."""

    TOKEN = re.compile(r"(/enrol/)[^/?#\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self.TOKEN.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args)
        return True


def configure_logging(level: str) -> None:
    """Log to stderr at `level`; uvicorn's access log, whoever configures it, never shows a
    token of an enrolment link."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactEnrolmentLinks) for f in access.filters):
        access.addFilter(RedactEnrolmentLinks())


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
        self.settings.prepare_data_dir()
        engine = make_engine(self.settings.database_url)
        migrate(engine)
        return Ledger(engine)

    @cached_property
    def keys(self) -> KeyStore:
        return KeyStore(self.settings.keys_dir, self.settings.kdf_iterations)

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
            return read_secret_file(path)
        except PermissionError as e:
            raise SetupError(str(e)) from e

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
        """
        passphrase = self.ledger_passphrase(create=True)
        vkey = self.keys.create(origin, passphrase)
        signer = self.keys.note_signer(vkey, passphrase)
        try:
            appended = self.ledger.create(org, origin, signer, now)
        except BaseException:
            self.keys.path_for(vkey).unlink(missing_ok=True)
            raise
        self.__dict__["signer"] = signer
        return appended

    def context(self) -> Context:
        if not self.ledger.is_initialized():
            raise NotInitialized("no ledger here yet: run `ikrar init` first", code="ledger.not_initialized")
        return Context(self.ledger, self.keys, self.signer)
