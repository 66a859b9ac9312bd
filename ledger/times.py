"""Times as entries write them: UTC, ``YYYY-MM-DDTHH:MM:SSZ``, one spelling per moment."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from .errors import InvalidInput

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", re.ASCII)  # ASCII digits only: one spelling per time


def format_time(moment: datetime) -> str:
    """UTC time as written in entries; refuses naive datetimes."""
    if moment.tzinfo is None:
        raise InvalidInput("time must carry a time zone")
    t = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    if t.year < 1000:  # strftime writes such years without padding (which parse_time then refuses)
        return t.strftime(TIME_FORMAT)
    return f"{t.year}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z"  # TIME_FORMAT, faster


def parse_time(text: str) -> datetime:
    if not isinstance(text, str) or not _TIME.fullmatch(text):
        raise InvalidInput(f"time {text!r} is not YYYY-MM-DDTHH:MM:SSZ")
    try:  # the pattern fixed every field's place: what strptime would do, without its cost
        return datetime(
            int(text[0:4]),
            int(text[5:7]),
            int(text[8:10]),
            int(text[11:13]),
            int(text[14:16]),
            int(text[17:19]),
            tzinfo=UTC,
        )
    except ValueError as e:
        raise InvalidInput(f"time {text!r} is not a real time") from e


def as_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC datetime: SQLite hands them back naive, and naive means UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
