"""What the city's documents say: the certificate as a government document (presentation 2)
and the naskah komitmen bersama, in Bahasa Indonesia (first) and English.

Formal Indonesian in the way of a naskah dinas ("Dengan ini diterangkan bahwa ..."). The
first certificate's words (presentation 1) stay in `signing.cert_words`, unchanged.
"""

from __future__ import annotations

from typing import Any

from .facts import Revocation
from .wording import check_lang, format_wib

_WORDS: dict[str, dict[str, Any]] = {
    "id": {
        "ledger_line": "Buku Besar Komitmen Ikrar · {origin}",
        "title": "BUKTI PENANDATANGANAN ELEKTRONIK",
        "number": "Nomor: {number}",
        "uncertified": "TANDA TANGAN ELEKTRONIK TIDAK TERSERTIFIKASI",
        "uncertified_sub": (
            "Bukan tanda tangan elektronik tersertifikasi dari Penyelenggara Sertifikasi Elektronik (PSrE)."
        ),
        "certify": "Dengan ini diterangkan bahwa:",
        "name": "Nama",
        "capacity": "Jabatan",
        "unit": "Perangkat Daerah",
        "nip": "NIP",
        "signed": "telah menandatangani secara elektronik naskah komitmen:",
        "when": (
            "pada hari {date}, pukul {clock}, dan tanda tangan tersebut tercatat sebagai entri nomor {index} "
            "pada Buku Besar Komitmen Ikrar {org}."
        ),
        "closing": "Demikian bukti ini dibuat dengan sebenarnya untuk dipergunakan sebagaimana mestinya.",
        "scan": "Pindai untuk memverifikasi",
        "online": "Verifikasi daring: {url}",
        "see_appendix": "Bukti teknis dan cara memeriksanya terdapat pada Lampiran (halaman 2).",
        "printed": "Dicetak {when} · Bukti {number}",
        "trust": "Pastikan alamat di peramban adalah {host}",
        "valid": "SAH",
        "revoked_later": (
            "Kunci penanda tangan dicabut kemudian, pada {when} (entri #{index}). Alasan: {reason}. "
            "Tanda tangan ini dibuat sebelum pencabutan dan tetap sah."
        ),
        "appendix_title": "LAMPIRAN: BUKTI TEKNIS",
        "appendix_of": "Lampiran Bukti Penandatanganan Elektronik Nomor {number}",
        "appendix_intro": (
            "Angka-angka di bawah ini memungkinkan siapa saja memeriksa bukti ini tanpa harus mempercayai "
            "server. Setiap angka dijelaskan dengan kata-kata."
        ),
        "rows": {
            "index": (
                "Nomor entri buku besar",
                "Urutan catatan tanda tangan ini di buku besar, yang hanya dapat ditambah.",
            ),
            "leaf": (
                "Hash entri (SHA-256)",
                "Sidik digital catatan tanda tangan ini: berubah sama sekali bila satu huruf pun diubah.",
            ),
            "text_sha": (
                "Hash naskah komitmen (SHA-256)",
                "Sidik digital teks komitmen yang ditandatangani, kata demi kata.",
            ),
            "fingerprint": (
                "Sidik jari kunci penanda tangan",
                "Menunjukkan kunci Ed25519 milik pejabat yang membuat tanda tangan ini.",
            ),
            "checkpoint": (
                "Checkpoint buku besar",
                "Ringkasan seluruh buku besar ({size} entri) yang ditandatangani server; catatan ini terbukti "
                "termasuk di dalamnya, sehingga tidak dapat dihapus atau diubah diam-diam.",
            ),
            "utc": ("Waktu (UTC) dan asal buku besar", "Waktu yang tercatat di buku besar, dan nama buku besar itu."),
            "ledger_key": (
                "Sidik jari kunci buku besar",
                "Bandingkan dengan kunci publik yang diumumkan {org}: bila sama, bukti ini berasal dari buku besarnya.",
            ),
        },
        "checkpoint_value": "ukuran {size} · akar {root}",
        "vouching_title": "Pendaftaran kunci",
        "explain_title": "Tentang tanda tangan ini",
        "explain": (
            "Tanda tangan ini adalah tanda tangan elektronik internal {org}: dibuat dengan kunci Ed25519 "
            "pejabat yang tercatat di buku besar Ikrar, bukan dengan sertifikat elektronik dari Penyelenggara "
            "Sertifikasi Elektronik (PSrE). Keasliannya dapat diperiksa siapa saja: pindai kode QR, unggah berkas "
            "PDF ini di {base}/verify/upload, atau periksa secara luring dengan ikrar_verify.py dan kunci publik "
            "buku besar yang diumumkan oleh {org}. Bukti lengkapnya terlampir di dalam berkas PDF ini."
        ),
        # the naskah
        "naskah_title": "NASKAH KOMITMEN BERSAMA",
        "naskah_closing": "Demikian komitmen bersama ini kami tandatangani secara elektronik.",
        "naskah_all": "Naskah ini telah ditandatangani oleh seluruh penanda tangan ({signed} dari {required}).",
        "naskah_some": "{signed} dari {required} penanda tangan telah menandatangani naskah ini.",
        "naskah_declined": "{declined} penanda tangan menolak menandatangani.",
        "block_signed": "Ditandatangani secara elektronik",
        "block_when": "{when}",
        "block_entry": "Entri buku besar #{index}",
        "block_pending": "Belum menandatangani",
        "block_declined": "Menolak menandatangani",
        "block_reason": "Alasan: {reason}",
        "naskah_foot": (
            "Pindai kode QR pada setiap tanda tangan untuk memeriksanya. Tanda tangan elektronik tidak "
            "tersertifikasi (bukan dari PSrE); buktinya terlampir di dalam berkas PDF ini."
        ),
        "naskah_printed": "Dicetak {when} · checkpoint ukuran {size} · {slug}",
    },
    "en": {
        "ledger_line": "Ikrar Commitment Ledger · {origin}",
        "title": "PROOF OF ELECTRONIC SIGNATURE",
        "number": "Number: {number}",
        "uncertified": "TANDA TANGAN ELEKTRONIK TIDAK TERSERTIFIKASI — UNCERTIFIED ELECTRONIC SIGNATURE",
        "uncertified_sub": "Not a certified electronic signature from an electronic certification provider (PSrE).",
        "certify": "This is to state that:",
        "name": "Name",
        "capacity": "Position",
        "unit": "Agency",
        "nip": "NIP",
        "signed": "has electronically signed the commitment:",
        "when": (
            "on {date}, at {clock}, and that this signature is recorded as entry number {index} "
            "in the Ikrar Commitment Ledger of {org}."
        ),
        "closing": "This proof is issued truthfully, to be used as appropriate.",
        "scan": "Scan to verify",
        "online": "Verify online: {url}",
        "see_appendix": "The technical evidence, and how to check it, is in the Appendix (page 2).",
        "printed": "Printed {when} · Proof {number}",
        "trust": "Make sure the address in your browser is {host}",
        "valid": "VALID",
        "revoked_later": (
            "The signer's key was revoked later, on {when} (entry #{index}). Reason: {reason}. "
            "This signature was made before the revocation and remains valid."
        ),
        "appendix_title": "APPENDIX: TECHNICAL EVIDENCE",
        "appendix_of": "Appendix to the Proof of Electronic Signature Number {number}",
        "appendix_intro": (
            "The figures below let anyone check this proof without trusting the server. Each is explained in words."
        ),
        "rows": {
            "index": ("Ledger entry number", "This signature's place in the ledger, which can only be added to."),
            "leaf": (
                "Entry hash (SHA-256)",
                "The digital fingerprint of this signature's record: it changes entirely if one letter changes.",
            ),
            "text_sha": (
                "Commitment text hash (SHA-256)",
                "The digital fingerprint of the text signed, word for word.",
            ),
            "fingerprint": ("Signer's key fingerprint", "Names the official's Ed25519 key that made this signature."),
            "checkpoint": (
                "Ledger checkpoint",
                "A summary of the whole ledger ({size} entries) signed by the server; this record is proven to be in "
                "it, so it cannot be removed or changed unnoticed.",
            ),
            "utc": ("Time (UTC) and ledger origin", "The time the ledger records, and the ledger's name."),
            "ledger_key": (
                "Ledger key fingerprint",
                "Compare it with the public key {org} publishes: if they match, this proof comes from its ledger.",
            ),
        },
        "checkpoint_value": "size {size} · root {root}",
        "vouching_title": "Key enrolment",
        "explain_title": "About this signature",
        "explain": (
            "This is an internal electronic signature of {org}: made with the official's Ed25519 key registered in "
            "the Ikrar ledger, not with an electronic certificate from a certified provider (PSrE). Anyone can check "
            "it: scan the QR code, upload this PDF at {base}/verify/upload, or check it offline with ikrar_verify.py "
            "and the ledger's public key as published by {org}. The full evidence is attached inside this PDF file."
        ),
        "naskah_title": "JOINT COMMITMENT",
        "naskah_closing": "We have signed this joint commitment electronically.",
        "naskah_all": "Every signatory has signed this document ({signed} of {required}).",
        "naskah_some": "{signed} of {required} signatories have signed this document.",
        "naskah_declined": "{declined} signatories declined to sign.",
        "block_signed": "Signed electronically",
        "block_when": "{when}",
        "block_entry": "Ledger entry #{index}",
        "block_pending": "Not signed yet",
        "block_declined": "Declined to sign",
        "block_reason": "Reason: {reason}",
        "naskah_foot": (
            "Scan the QR code of each signature to check it. Uncertified electronic signatures (not from a PSrE); "
            "their evidence is attached inside this PDF file."
        ),
        "naskah_printed": "Printed {when} · checkpoint size {size} · {slug}",
    },
}


def revoked_later_words(revoked: Revocation, lang: str) -> str:
    """That the signer's key was revoked after the signature, which stays valid: the words of
    the verify page (`verdict.revoked_later`), for a document printed after the revocation."""
    when = format_wib(revoked.time, lang)
    return str(doc_words(lang)["revoked_later"].format(when=when, index=revoked.index, reason=revoked.reason))


def doc_words(lang: str) -> dict[str, Any]:
    """The documents' texts in `lang`; raises InvalidInput for a language Ikrar does not print."""
    return _WORDS[check_lang(lang)]
