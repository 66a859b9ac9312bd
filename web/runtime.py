"""Wiring shared by the command line and the app: settings → ledger, key store, ledger signer."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

from ledger.errors import LedgerError, NotInitialized
from ledger.note import NoteSigner
from ledger.store import Ledger, make_engine
from signing.actions import Context
from signing.errors import KeyNotFound, SigningError
from signing.keystore import KeyStore

from .db import migrate
from .settings import Settings, new_secret, read_secret_file, write_secret_file

logger = logging.getLogger(__name__)


class SetupError(LedgerError):
    """The installation is not set up to do what was asked (a missing secret, say)."""


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@dataclass
class Runtime:
    settings: Settings

    @classmethod
    def from_env(cls) -> Runtime:
        return cls(Settings.from_env())

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
                raise SetupError(
                    f"the ledger key's passphrase is needed: set IKRAR_LEDGER_PASSPHRASE or create {path}"
                )
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

    def context(self) -> Context:
        if not self.ledger.is_initialized():
            raise NotInitialized("no ledger here yet: run `ikrar init` first")
        return Context(self.ledger, self.keys, self.signer)

    def secret_key(self) -> str:
        """The secret that signs session cookies: IKRAR_SECRET_KEY, else a 0600 file made once."""
        if self.settings.secret_key:
            return self.settings.secret_key
        path = self.settings.secret_key_file
        if not path.exists():
            try:
                write_secret_file(path, new_secret())
            except FileExistsError:
                pass  # another worker made it first
        return read_secret_file(path)
