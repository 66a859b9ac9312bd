"""The signing package's error family. Every error it raises on purpose is a `SigningError`.

Like the ledger's errors, each carries an English message (its `str()`), a stable `code`
and the `params` of its message (`ledger.errors.CodedError`)::

    raise NotAllowed(f"official {nip} has already signed {slug!r}", code="sign.already", nip=nip, slug=slug)
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from ledger.errors import CodedError


class SigningError(CodedError):
    """Base of every signing error; the message is meant for a person."""

    code = "signing"


class WrongPassphrase(SigningError):
    """The passphrase does not open the key."""

    code = "wrong_passphrase"


class WeakPassphrase(SigningError):
    """A new passphrase breaks the rules (too short, same as the password, ...)."""

    code = "weak_passphrase"


class KeyNotFound(SigningError):
    """No key file where one is expected."""

    code = "key_not_found"


class KeyFileInvalid(SigningError):
    """A key file exists but is not a key we can use (damaged, wrong type, wrong mode)."""

    code = "key_file_invalid"


class SignatureInvalid(SigningError):
    """A signed statement does not verify."""

    code = "signature_invalid"


class NotAllowed(SigningError):
    """The action is not allowed for this official (unknown, no key, revoked, ...)."""

    code = "not_allowed"


class NoCertificate(SigningError):
    """The entry asked for is not an official's signature, so it has no certificate."""

    code = "no_certificate"


class EvidenceMismatch(SigningError):
    """The entries behind a certificate do not belong together (another key, text or ledger)."""

    code = "evidence_mismatch"


class Reason(StrEnum):
    """Why a certificate is refused, in words a person uses (and a stable code for the API)."""

    NOT_PDF = "not_pdf"  # the bytes are not a PDF at all
    DAMAGED = "damaged"  # a PDF that cannot be read
    NOT_CERTIFICATE = "not_certificate"  # a PDF, but without Ikrar's evidence
    EDITED = "edited"  # the page, the attachments or the proof do not hold together
    FOREIGN = "foreign"  # made by another ledger (another key or origin), or not in this one


class CertificateInvalid(SigningError):
    """A certificate PDF is refused; `reason` says in which way (and `code`, more precisely)."""

    code = "cert.invalid"
    reason: Reason = Reason.EDITED

    def __init__(self, detail: str, *, code: str | None = None, **params: Any) -> None:
        self.detail = detail
        super().__init__(detail, code=code, **params)


class NotAPdf(CertificateInvalid):
    """The file is not a PDF."""

    code = "cert.not_pdf"
    reason = Reason.NOT_PDF


class CertificateDamaged(CertificateInvalid):
    """The file starts like a PDF but cannot be read."""

    code = "cert.damaged"
    reason = Reason.DAMAGED


class NotACertificate(CertificateInvalid):
    """A readable PDF that carries no Ikrar certificate evidence."""

    code = "cert.not_certificate"
    reason = Reason.NOT_CERTIFICATE


class AttachmentMissing(CertificateInvalid):
    """A certificate lacks one of its attachments (stripped or edited)."""

    code = "cert.attachment_missing"
    reason = Reason.EDITED


class CertificateEdited(CertificateInvalid):
    """The page, the attachments or the proofs do not agree."""

    code = "cert.edited"
    reason = Reason.EDITED


class ForeignCertificate(CertificateInvalid):
    """The certificate belongs to another ledger, or is not in this one."""

    code = "cert.foreign"
    reason = Reason.FOREIGN
