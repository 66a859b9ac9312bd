"""Bahasa Indonesia first, English second: the message catalogues and times in WIB.

The catalogues are `web/locales/id/` and `web/locales/en/`: in each, one file per area
(`common.json`, ...), flat maps from a key to a text with `{name}` fields, read as one map
(a key in two files of a language is refused). Both languages hold the same keys, in files
of the same names (a test checks). A datetime given
as a field is written in WIB (Asia/Jakarta) in the catalogue's language, worded as the
certificates word it (`signing.wording`); a timedelta as a wait in words ("10 detik"),
with the catalogue's `wait.*` texts.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request

from ledger.times import as_utc
from signing.wording import LANGS, format_short_wib, format_wib

__all__ = ["DEFAULT_LANG", "LANG_COOKIE", "LANGS", "LOCALES", "Translator", "catalogue", "language_of"]

logger = logging.getLogger(__name__)

DEFAULT_LANG = "id"
LANG_COOKIE = "ikrar_lang"
LOCALES = Path(__file__).parent / "locales"


@cache
def catalogue(lang: str) -> Mapping[str, str]:
    texts: dict[str, str] = {}
    for path in sorted((LOCALES / lang).glob("*.json")):
        part: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        twice = texts.keys() & part.keys()
        if twice:
            raise ValueError(f"{path} repeats keys of another file of its language: {sorted(twice)}")
        texts.update(part)
    return texts


class Translator:
    """`t(key, **fields)` in one language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else DEFAULT_LANG
        self._texts = catalogue(self.lang)

    def __call__(self, key: str, **fields: Any) -> str:
        text = self._texts.get(key)
        if text is None:
            logger.error("missing catalogue key %s (%s)", key, self.lang)
            return key
        if not fields:
            return text
        shown = {k: self._shown(v) for k, v in fields.items()}
        try:
            return text.format_map(shown)
        except (KeyError, IndexError, ValueError):
            logger.error("catalogue key %s (%s) does not fit its fields", key, self.lang)
            return text

    def _shown(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return self.when(value)
        return self.wait(value) if isinstance(value, timedelta) else value

    def wait(self, span: timedelta) -> str:
        """``10 detik``, ``2 menit``, ``1 jam``: how long, in the largest unit under 60 of it, rounded up."""
        seconds = max(1, math.ceil(span.total_seconds()))
        minutes, hours = -(-seconds // 60), -(-seconds // 3600)
        unit, n = ("second", seconds) if seconds < 60 else ("minute", minutes) if minutes < 60 else ("hour", hours)
        return self(f"wait.{unit}" if n == 1 else f"wait.{unit}s", n=n)

    def when(self, moment: datetime | None) -> str:
        """``Senin, 23 September 2019 pukul 09.33.00 WIB``: the certificate's wording."""
        return "—" if moment is None else format_wib(as_utc(moment), self.lang)

    def short(self, moment: datetime | None) -> str:
        """``23-09-2019 09.33 WIB``: for tables and lists."""
        return "—" if moment is None else format_short_wib(as_utc(moment), self.lang)


def language_of(request: Request) -> str:
    """The language chosen with the switch (remembered in a cookie); Indonesian until one is chosen."""
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LANGS else DEFAULT_LANG
