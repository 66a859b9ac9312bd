"""What the Surat Rekomendasi (`signing.app_letter`) says, in Bahasa Indonesia (first) and English.

Formal Indonesian in the way of a naskah dinas: "Menindaklanjuti permohonan ...", "Demikian
disampaikan ...". The codes the ledger keeps (a request's kind, its hosting, a checklist
finding, the decision) are printed in words; the words of the documents it shares with the
naskah (the ledger line, "Ditandatangani secara elektronik") are `signing.doc_words`'.
"""

from __future__ import annotations

from typing import Any

from .wording import check_lang

_WORDS: dict[str, dict[str, Any]] = {
    "id": {
        "title": "Surat Rekomendasi Aplikasi",
        "number": "Nomor",
        "nature": "Sifat",
        "nature_value": "Biasa",
        "enclosure": "Lampiran",
        "enclosure_value": "1 (satu) berkas: riwayat permohonan dan bukti teknis",
        "subject": "Hal",
        "subject_value": "Rekomendasi Aplikasi {name}",
        "subject_named": "Rekomendasi {name}",  # a name that begins with "Aplikasi" says it already
        "to": "Yth. Kepala {agency}",
        "to_place": "di tempat",
        "opening": (
            "Menindaklanjuti permohonan verifikasi aplikasi yang ditandatangani secara elektronik oleh "
            "{capacity} pada {date} (nomor permohonan {app}, revisi {revision}, entri buku besar #{index}), "
            "dengan hormat kami sampaikan hasil verifikasi {office} sebagai berikut."
        ),
        "essentials": "Data pokok permohonan:",
        "rows": {
            "name": "Nama aplikasi",
            "app": "Nomor permohonan",
            "kind": "Jenis",
            "agency": "Perangkat Daerah",
            "budget": "Anggaran",
            "builder": "Pelaksana",
            "hosting": "Penempatan",
            "personal_data": "Data pribadi",
            "shared_app": "Aplikasi umum",
        },
        "app_value": "{app}, revisi {revision}",
        "kinds": {
            "new": "Pembangunan aplikasi baru",
            "development": "Pengembangan aplikasi yang sudah ada",
            "licence": "Pembelian lisensi",
            "subscription": "Langganan (SaaS)",
        },
        "budget_value": "{amount} ({source}), tahun anggaran {year}",
        "currency": "Rp{amount}",
        "thousands": ".",
        "builders": {"in_house": "Swakelola", "vendor": "Penyedia: {vendor}"},
        "hostings": {
            "pdn": "Pusat Data Nasional (PDN)",
            "city_dc": "Pusat data Pemerintah Daerah",
            "other": "Lainnya: {reason}",
        },
        "personal": {
            "none": "Tidak memproses data pribadi",
            "some": "Memproses data pribadi",
            "specific": "Memproses data pribadi, termasuk data pribadi spesifik (UU 27/2022 Pasal 4 ayat (2))",
        },
        "dpia": {
            True: "penilaian dampak pelindungan data pribadi sudah dilakukan",
            False: "penilaian dampak pelindungan data pribadi belum dilakukan",
        },
        "shared_value": "{app} dipertimbangkan; alasan tidak dipakai: {why}",
        "review": "Hasil penelaahan (entri #{index}, {date}):",
        "points": {
            "architecture": "Kesesuaian dengan arsitektur SPBE",
            "duplication": "Duplikasi dengan aplikasi yang ada atau aplikasi umum",
            "hosting": "Penempatan (hosting)",
            "integration": "Integrasi (SPLP, SSO)",
            "security": "Keamanan",
            "personal_data": "Pelindungan data pribadi",
        },
        "findings": {"fits": "Sesuai", "concern": "Perlu perhatian", "does_not_fit": "Tidak sesuai"},
        "decided": "Berdasarkan hasil penelaahan tersebut, aplikasi {name} dinyatakan:",
        "decided_named": "Berdasarkan hasil penelaahan tersebut, {name} dinyatakan:",
        "decisions": {
            "recommended": "DIREKOMENDASIKAN",
            "recommended_with_notes": "DIREKOMENDASIKAN DENGAN CATATAN",
            "not_recommended": "TIDAK DIREKOMENDASIKAN",
        },
        "notes_intro": {
            "recommended": "",
            "recommended_with_notes": "dengan catatan sebagai berikut:",
            "not_recommended": "dengan alasan sebagai berikut:",
        },
        "closing": "Demikian disampaikan untuk dipergunakan sebagaimana mestinya.",
        "signed": "Ditandatangani secara elektronik",
        "entry": "Entri buku besar #{index}",
        "scan": "Pindai kode QR untuk memeriksa keaslian surat ini.",
        "trust": "Pastikan alamat di peramban adalah {host}",
        "foot": (
            "Tanda tangan elektronik tidak tersertifikasi (bukan dari PSrE). Bukti lengkapnya terlampir di dalam "
            "berkas PDF ini; periksa dengan mengunggahnya di {base}/verify/upload atau secara luring."
        ),
        "printed": "Dicetak {when} · checkpoint ukuran {size} · aplikasi {app}",
        "appendix_title": "LAMPIRAN",
        "appendix_of": "Surat Rekomendasi Nomor {number}",
        "history": "Riwayat permohonan {app}",
        "steps": {
            "app.submitted": "Diajukan (revisi {revision}), ditandatangani {name}, {capacity}",
            "app.reviewed": "Ditelaah (revisi {revision}) oleh penelaah {by}",
            "app.returned": "Dikembalikan untuk diperbaiki (revisi {revision}) oleh {by}, dengan alasan:",
            "app.decided": "Diputuskan (revisi {revision}): {decision}, ditandatangani {name}, {capacity}",
        },
        "roles_title": "Kewenangan penanda tangan",
        "role_line": (
            "{name} menandatangani {index} sebagai {role} ({unit}): peran diberikan pada entri #{granted} "
            "atas pernyataan admin {by}; kuncinya didaftarkan pada entri #{enrolled}."
        ),
        "entry_one": "entri {index}",
        "entry_many": "entri {indexes} dan {last}",
        "roles": {"pd-head": "Kepala Perangkat Daerah", "kominfo-head": "Kepala Dinas Kominfo"},
        "evidence_title": "Bukti teknis",
        "evidence": {
            "request": "Hash permohonan (SHA-256)",
            "leaf": "Hash entri keputusan (SHA-256)",
            "key": "Sidik jari kunci penanda tangan keputusan",
            "checkpoint": "Checkpoint buku besar",
            "utc": "Waktu keputusan (UTC) dan asal buku besar",
            "ledger_key": "Sidik jari kunci buku besar",
        },
        "checkpoint_value": "ukuran {size} · akar {root}",
        "howto_title": "Cara memeriksa surat ini",
        "howto": (
            "Surat ini dibuat dari entri buku besar Ikrar {org}. Setiap entri yang dicetak, beserta bukti "
            "keanggotaannya dalam checkpoint yang ditandatangani buku besar, kunci buku besar, dan data yang "
            "dicetak (letter.json), terlampir di dalam berkas PDF ini. Pindai kode QR untuk membuka halaman "
            "verifikasi keputusan, unggah berkas ini di {base}/verify/upload, atau periksa secara luring dengan "
            "`ikrar verify-cert` dan kunci publik buku besar yang diumumkan oleh {org}."
        ),
    },
    "en": {
        "title": "Application Recommendation Letter",
        "number": "Number",
        "nature": "Nature",
        "nature_value": "Ordinary",
        "enclosure": "Enclosure",
        "enclosure_value": "1 (one) appendix: the request's history and the technical evidence",
        "subject": "Subject",
        "subject_value": "Recommendation on the application {name}",
        "subject_named": "Recommendation on {name}",
        "to": "To the Head of {agency}",
        "to_place": "",
        "opening": (
            "Following the request to verify an application signed electronically by {capacity} on {date} "
            "(request number {app}, revision {revision}, ledger entry #{index}), we hereby convey the result of "
            "the verification by {office}."
        ),
        "essentials": "The request's essentials:",
        "rows": {
            "name": "Application",
            "app": "Request number",
            "kind": "Kind",
            "agency": "Agency",
            "budget": "Budget",
            "builder": "Built by",
            "hosting": "Hosting",
            "personal_data": "Personal data",
            "shared_app": "Shared application",
        },
        "app_value": "{app}, revision {revision}",
        "kinds": {
            "new": "New build",
            "development": "Development of an existing application",
            "licence": "Purchase of a licence",
            "subscription": "Subscription (SaaS)",
        },
        "budget_value": "{amount} ({source}), fiscal year {year}",
        "currency": "IDR {amount}",
        "thousands": ",",
        "builders": {"in_house": "In-house", "vendor": "Vendor: {vendor}"},
        "hostings": {
            "pdn": "National Data Centre (PDN)",
            "city_dc": "The city's data centre",
            "other": "Other: {reason}",
        },
        "personal": {
            "none": "Processes no personal data",
            "some": "Processes personal data",
            "specific": "Processes personal data, including specific personal data (Law 27/2022, Article 4(2))",
        },
        "dpia": {
            True: "a data-protection impact assessment was done",
            False: "no data-protection impact assessment was done",
        },
        "shared_value": "{app} was considered; why it cannot serve: {why}",
        "review": "The review (entry #{index}, {date}):",
        "points": {
            "architecture": "Fit with the SPBE architecture",
            "duplication": "Duplication of existing or shared applications",
            "hosting": "Hosting",
            "integration": "Integration (SPLP, SSO)",
            "security": "Security",
            "personal_data": "Personal data protection",
        },
        "findings": {"fits": "Fits", "concern": "Concern", "does_not_fit": "Does not fit"},
        "decided": "On the strength of this review, the application {name} is:",
        "decided_named": "On the strength of this review, {name} is:",
        "decisions": {
            "recommended": "RECOMMENDED",
            "recommended_with_notes": "RECOMMENDED WITH NOTES",
            "not_recommended": "NOT RECOMMENDED",
        },
        "notes_intro": {
            "recommended": "",
            "recommended_with_notes": "with the following notes:",
            "not_recommended": "for the following reasons:",
        },
        "closing": "This letter is issued to be used as appropriate.",
        "signed": "Signed electronically",
        "entry": "Ledger entry #{index}",
        "scan": "Scan the QR code to check that this letter is genuine.",
        "trust": "Make sure the address in your browser is {host}",
        "foot": (
            "Uncertified electronic signature (not from a PSrE). The full evidence is attached inside this PDF "
            "file; check it by uploading it at {base}/verify/upload, or offline."
        ),
        "printed": "Printed {when} · checkpoint size {size} · application {app}",
        "appendix_title": "APPENDIX",
        "appendix_of": "Recommendation Letter Number {number}",
        "history": "History of request {app}",
        "steps": {
            "app.submitted": "Submitted (revision {revision}), signed by {name}, {capacity}",
            "app.reviewed": "Reviewed (revision {revision}) by reviewer {by}",
            "app.returned": "Returned for revision (revision {revision}) by {by}, for these reasons:",
            "app.decided": "Decided (revision {revision}): {decision}, signed by {name}, {capacity}",
        },
        "roles_title": "The signatories' authority",
        "role_line": (
            "{name} signed {index} as {role} ({unit}): the role was given at entry #{granted} on the "
            "attestation of admin {by}; the key was enrolled at entry #{enrolled}."
        ),
        "entry_one": "entry {index}",
        "entry_many": "entries {indexes} and {last}",
        "roles": {"pd-head": "Head of Agency", "kominfo-head": "Head of Dinas Kominfo"},
        "evidence_title": "Technical evidence",
        "evidence": {
            "request": "Request hash (SHA-256)",
            "leaf": "Decision entry hash (SHA-256)",
            "key": "Fingerprint of the decision signer's key",
            "checkpoint": "Ledger checkpoint",
            "utc": "Time of the decision (UTC) and ledger origin",
            "ledger_key": "Ledger key fingerprint",
        },
        "checkpoint_value": "size {size} · root {root}",
        "howto_title": "How to check this letter",
        "howto": (
            "This letter is made from entries of the Ikrar ledger of {org}. Every entry it prints, with its proof "
            "of inclusion in a checkpoint signed by the ledger, the ledger's key and the facts printed "
            "(letter.json), is attached inside this PDF file. Scan the QR code to open the decision's verify "
            "page, upload this file at {base}/verify/upload, or check it offline with `ikrar verify-cert` and "
            "the ledger's public key as published by {org}."
        ),
    },
}


def letter_words(lang: str) -> dict[str, Any]:
    """The letter's texts in `lang`; raises InvalidInput for a language Ikrar does not print."""
    return _WORDS[check_lang(lang)]


def named(text: str, name: str) -> str:
    """The key of a text that names the application: ``…_named`` when its name begins with the
    word "Aplikasi" or "Application" (so that the letter does not say "Aplikasi Aplikasi …")."""
    first = name.split(" ", 1)[0].casefold()
    return f"{text.removesuffix('_value')}_named" if first in ("aplikasi", "application") else text


def rupiah(amount: int, lang: str) -> str:
    """``Rp1.250.000.000`` / ``IDR 1,250,000,000``."""
    w = letter_words(lang)
    return str(w["currency"].format(amount=f"{amount:,}".replace(",", w["thousands"])))
