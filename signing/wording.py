"""Words and times as a certificate prints them, in Bahasa Indonesia (first) and English.

Times are stored in UTC and shown in WIB (Asia/Jakarta, UTC+7, no daylight saving).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ledger.errors import InvalidInput

WIB = ZoneInfo("Asia/Jakarta")
LANGS = ("id", "en")

_MONTHS = {
    "id": (
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}
_DAYS = {
    "id": ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}


def check_lang(lang: str) -> str:
    """Raise InvalidInput unless `lang` is a language certificates are printed in."""
    if lang not in LANGS:
        raise InvalidInput(f"language must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang


def wib(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise InvalidInput("time must carry a time zone")
    return moment.astimezone(WIB)


def format_date_wib(moment: datetime, lang: str) -> str:
    """``Senin, 5 Januari 2026`` / ``Monday, 5 January 2026`` (the date in WIB)."""
    local = wib(moment)
    return f"{_DAYS[lang][local.weekday()]}, {local.day} {_MONTHS[lang][local.month - 1]} {local.year}"


def format_clock_wib(moment: datetime, lang: str) -> str:
    """``09.01 WIB`` (Indonesian writes a period between hours and minutes) / ``09:01 WIB``."""
    local = wib(moment)
    sep = "." if lang == "id" else ":"
    return f"{local.hour:02d}{sep}{local.minute:02d}{sep}{local.second:02d} WIB"


def format_wib(moment: datetime, lang: str) -> str:
    """``Senin, 5 Januari 2026 pukul 09.01.00 WIB`` / ``Monday, 5 January 2026 at 09:01:00 WIB``."""
    word = "pukul" if lang == "id" else "at"
    return f"{format_date_wib(moment, lang)} {word} {format_clock_wib(moment, lang)}"


def format_short_wib(moment: datetime, lang: str) -> str:
    """``05-01-2026 09.01 WIB`` (Indonesian, day first) / ``2026-01-05 09:01 WIB``: for tables."""
    local = wib(moment)
    if lang == "id":
        return f"{local.day:02d}-{local.month:02d}-{local.year} {local.hour:02d}.{local.minute:02d} WIB"
    return f"{local.year}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d} WIB"
