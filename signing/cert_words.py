"""What a certificate and a commitment's summary say, in Bahasa Indonesia (first) and English.

The texts per language (`words`), the way a NIP and the verify link are printed, and the
`Presentation` of one printing: its language, the site's address and when it was printed.
These are not ledger facts, but they are printed on the page too, so a certificate keeps
them (in its `certificate.json`) and a verifier rebuilds the page's text from them.
Dates and times in WIB are `signing.wording`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.entries import format_time, parse_time
from ledger.errors import InvalidInput
from ledger.state import LEDGER

from .doc_fonts import DEJAVU, STANDARD
from .doc_kop import Letterhead
from .facts import SignatureFacts
from .wording import check_lang, format_short_wib

_WORDS: dict[str, dict[str, Any]] = {
    "id": {
        "ledger": "Buku Besar Komitmen Ikrar",
        "title": "SERTIFIKAT",
        "subtitle": "Tanda Tangan Elektronik atas Komitmen",
        "certify": "Dengan ini menerangkan bahwa",
        "signed": "telah menandatangani secara elektronik komitmen",
        "on": "pada {when}",
        "index": "NOMOR ENTRI BUKU BESAR",
        "leaf": "HASH ENTRI (SHA-256 DAUN, RFC 6962)",
        "text_sha": "SHA-256 NASKAH KOMITMEN",
        "fingerprint": "SIDIK JARI KUNCI PENANDA TANGAN (SHA-256)",
        "checkpoint": "DIBUKTIKAN TERHADAP CHECKPOINT",
        "checkpoint_value": "ukuran {size} · akar {root}",
        "utc": "WAKTU (UTC) · ASAL BUKU BESAR",
        "scan": "Pindai untuk memverifikasi",
        "online": "Verifikasi daring: {url}",
        "label": "Tanda tangan elektronik tidak tersertifikasi",
        "explain": (
            "Sertifikat ini mencatat tanda tangan elektronik internal {org}: dibuat dengan kunci Ed25519 "
            "pejabat yang tercatat di buku besar Ikrar, bukan dengan sertifikat elektronik dari Penyelenggara "
            "Sertifikasi Elektronik (PSrE). Keasliannya dapat diperiksa siapa saja: pindai kode QR, unggah "
            "berkas PDF ini di {base}/verify/upload, atau periksa secara luring dengan ikrar_verify.py dan "
            "kunci publik buku besar yang diumumkan oleh {org}. Bukti lengkapnya terlampir di dalam berkas ini."
        ),
        "ledger_key": "Sidik jari kunci buku besar: {fp}",
        "printed": "Dicetak {when} · Sertifikat {index}-{short}",
        "summary_title": "REKAPITULASI PENANDATANGANAN",
        "summary_sub": "Komitmen yang ditandatangani secara elektronik di buku besar Ikrar",
        "summary_status": "{signed} dari {required} penanda tangan telah menandatangani",
        "summary_cols": ("No.", "Penanda tangan", "Waktu (WIB)", "Entri", "Verifikasi"),
        "summary_pending": "Belum menandatangani",
        "summary_checkpoint": "Checkpoint: ukuran {size} · akar {root}",
        "summary_foot": "Pindai kode QR atau buka tautan di setiap baris untuk memeriksa tanda tangan itu. "
        "Tanda tangan elektronik tidak tersertifikasi (bukan dari PSrE).",
        "page": "Halaman {n}",
        "enrolled": "Kunci penanda tangan didaftarkan di entri #{index}, {when}, atas pernyataan {by}.",
        "approved_official": "Sebagai kunci pengganti, kunci ini disetujui oleh {by}.",
        "approved_admin": "Sebagai kunci admin, kunci ini disetujui oleh {by}.",
        "by_admin": "admin NIP {nip}",
        "by_ledger": "kunci buku besar (operator server)",
    },
    "en": {
        "ledger": "Ikrar Commitment Ledger",
        "title": "CERTIFICATE",
        "subtitle": "of an Electronic Signature of a Commitment",
        "certify": "This is to certify that",
        "signed": "has electronically signed the commitment",
        "on": "on {when}",
        "index": "LEDGER ENTRY NUMBER",
        "leaf": "ENTRY HASH (SHA-256 LEAF, RFC 6962)",
        "text_sha": "SHA-256 OF THE COMMITMENT TEXT",
        "fingerprint": "SIGNER KEY FINGERPRINT (SHA-256)",
        "checkpoint": "PROVEN AGAINST CHECKPOINT",
        "checkpoint_value": "size {size} · root {root}",
        "utc": "TIME (UTC) · LEDGER ORIGIN",
        "scan": "Scan to verify",
        "online": "Verify online: {url}",
        "label": "Tanda tangan elektronik tidak tersertifikasi — uncertified electronic signature",
        "explain": (
            "This certificate records an internal electronic signature of {org}: made with the official's "
            "Ed25519 key registered in the Ikrar ledger, not with an electronic certificate from a certified "
            "provider (PSrE). Anyone can check it: scan the QR code, upload this PDF at {base}/verify/upload, "
            "or check it offline with ikrar_verify.py and the ledger's public key as published by {org}. "
            "The full evidence is attached inside this file."
        ),
        "ledger_key": "Ledger key fingerprint: {fp}",
        "printed": "Printed {when} · Certificate {index}-{short}",
        "summary_title": "SIGNATURE SUMMARY",
        "summary_sub": "A commitment signed electronically in the Ikrar ledger",
        "summary_status": "{signed} of {required} signatories have signed",
        "summary_cols": ("No.", "Signatory", "Time (WIB)", "Entry", "Verify"),
        "summary_pending": "Not signed yet",
        "summary_checkpoint": "Checkpoint: size {size} · root {root}",
        "summary_foot": "Scan the QR code or open the link on each row to check that signature. "
        "Uncertified electronic signatures (not from a PSrE).",
        "page": "Page {n}",
        "enrolled": "The signer's key was enrolled at entry #{index}, {when}, on the attestation of {by}.",
        "approved_official": "As a replacement key, it was approved by {by}.",
        "approved_admin": "As an admin's key, it was approved by {by}.",
        "by_admin": "admin NIP {nip}",
        "by_ledger": "the ledger's own key (the server's operator)",
    },
}


def words(lang: str) -> dict[str, Any]:
    """The page's texts in `lang`; raises InvalidInput for a language Ikrar does not print."""
    return _WORDS[check_lang(lang)]


def format_nip(nip: str) -> str:
    """``19750314 200104 1 001``: the way a NIP is printed (birth, appointment, sex, number)."""
    if len(nip) != 18:
        return nip
    return f"{nip[:8]} {nip[8:14]} {nip[14]} {nip[15:]}"


def vouching_words(facts: SignatureFacts, lang: str) -> str | None:
    """When the signer's key was enrolled, on whose attestation and, for a replacement key or
    an admin's, with whose approval: what the key's `key.enrolled` entry records from rules
    version 3 on (admins by NIP, as the entry names them). None before rules version 3."""
    v = facts.vouching
    if v is None:
        return None
    w = words(lang)

    def by(nip: str) -> str:
        return str(w["by_ledger"] if nip == LEDGER else w["by_admin"].format(nip=format_nip(nip)))

    when = format_short_wib(v.enrolled_at, lang)
    text = str(w["enrolled"].format(index=facts.enrolled_index, when=when, by=by(v.attested_by)))
    if v.approved_by is not None:
        approved = w["approved_admin"] if v.role == "admin" else w["approved_official"]
        text += " " + approved.format(by=by(v.approved_by))
    return text


def verify_url(base_url: str, facts: SignatureFacts) -> str:
    """The link the QR code opens."""
    return f"{base_url.rstrip('/')}/v/{facts.index}?h={facts.short_hash}"


PRESENTATIONS = (1, 2)
"""The presentations a certificate is printed in: 1, the first page of Ikrar 0.1 ("SERTIFIKAT",
one page, the standard fonts), which old certificates keep and are drawn in byte for byte;
2, the government document ("BUKTI PENANDATANGANAN ELEKTRONIK", `signing.cert_formal`)."""
LATEST = PRESENTATIONS[-1]


@dataclass(frozen=True)
class Presentation:
    """How a certificate was printed: not ledger facts, but printed on the page too.

    `version` 1 carries the language, the site's address and the moment of printing; from
    version 2 also the letterhead (the settings of the city's documents) and the fonts.
    A certificate states its presentation in its `certificate.json` (``presentation``, absent
    for version 1, so that the first certificates keep their exact manifest)."""

    lang: str
    base_url: str
    printed_at: datetime
    version: int = 1
    letterhead: Letterhead | None = None  # from version 2
    fonts: str = ""  # from version 2: dejavu or standard (signing.doc_fonts)

    def to_json(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "lang": self.lang,
            "base_url": self.base_url,
            "printed_at": format_time(self.printed_at),
        }
        if self.version > 1:
            assert self.letterhead is not None
            value |= {"presentation": self.version, "letterhead": self.letterhead.to_json(), "fonts": self.fonts}
        return value

    def attachments(self) -> dict[str, bytes]:
        """What the presentation needs attached besides the evidence (the emblem image)."""
        return {} if self.letterhead is None else self.letterhead.attachments()

    @classmethod
    def from_json(cls, value: dict[str, Any], attachments: Mapping[str, bytes] | None = None) -> Presentation:
        """Raises InvalidInput when a field is missing or malformed, or the version is not one
        Ikrar prints."""
        lang, base_url = value.get("lang"), value.get("base_url")
        printed_at: Any = value.get("printed_at")  # parse_time refuses anything but its format
        if not isinstance(lang, str) or not isinstance(base_url, str):
            raise InvalidInput("the certificate's layout fields are missing")
        version = value.get("presentation", 1)
        if type(version) is not int or version not in PRESENTATIONS:
            raise InvalidInput(f"presentation {str(version)[:20]!r} is not one Ikrar prints")
        if version == 1:
            return cls(check_lang(lang), base_url, parse_time(printed_at))
        fonts = value.get("fonts")
        if fonts not in (DEJAVU, STANDARD):
            raise InvalidInput("the certificate's fonts are not ones Ikrar prints with")
        letterhead = Letterhead.from_json(value.get("letterhead"), dict(attachments or {}))
        return cls(check_lang(lang), base_url, parse_time(printed_at), version, letterhead, str(fonts))
