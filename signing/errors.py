"""The signing package's error family. Every error it raises on purpose is a `SigningError`."""

from __future__ import annotations


class SigningError(Exception):
    """Base of every signing error; the message is meant for a person."""


class WrongPassphrase(SigningError):
    """The passphrase does not open the key."""


class WeakPassphrase(SigningError):
    """A new passphrase breaks the rules (too short, same as the password, ...)."""


class KeyNotFound(SigningError):
    """No key file where one is expected."""


class KeyFileInvalid(SigningError):
    """A key file exists but is not a key we can use (damaged, wrong type, wrong mode)."""


class SignatureInvalid(SigningError):
    """A signed statement does not verify."""


class NotAllowed(SigningError):
    """The action is not allowed for this official (unknown, no key, revoked, ...)."""
