"""The signing package's error family. Every error it raises on purpose is a `SigningError`."""

from __future__ import annotations

from enum import StrEnum


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


class NoCertificate(SigningError):
    """The entry asked for is not an official's signature, so it has no certificate."""


class EvidenceMismatch(SigningError):
    """The entries behind a certificate do not belong together (another key, text or ledger)."""


class Reason(StrEnum):
    """Why a certificate is refused, in words a person uses (and a stable code for the API)."""

    NOT_PDF = "not_pdf"  # the bytes are not a PDF at all
    DAMAGED = "damaged"  # a PDF that cannot be read
    NOT_CERTIFICATE = "not_certificate"  # a PDF, but without Ikrar's evidence
    EDITED = "edited"  # the page, the attachments or the proof do not hold together
    FOREIGN = "foreign"  # made by another ledger (another key or origin), or not in this one


class CertificateInvalid(SigningError):
    """A certificate PDF is refused; `reason` says in which way."""

    reason: Reason = Reason.EDITED

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class NotAPdf(CertificateInvalid):
    """The file is not a PDF."""

    reason = Reason.NOT_PDF


class CertificateDamaged(CertificateInvalid):
    """The file starts like a PDF but cannot be read."""

    reason = Reason.DAMAGED


class NotACertificate(CertificateInvalid):
    """A readable PDF that carries no Ikrar certificate evidence."""

    reason = Reason.NOT_CERTIFICATE


class AttachmentMissing(CertificateInvalid):
    """A certificate lacks one of its attachments (stripped or edited)."""

    reason = Reason.EDITED


class CertificateEdited(CertificateInvalid):
    """The page, the attachments or the proofs do not agree."""

    reason = Reason.EDITED


class ForeignCertificate(CertificateInvalid):
    """The certificate belongs to another ledger, or is not in this one."""

    reason = Reason.FOREIGN
