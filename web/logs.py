"""Log lines for operators: the two formats of the server's log, and the access line.

`configure_logging` (web/runtime.py) picks the format: `TextFormatter` (the default, one
line a record) or, with IKRAR_LOG_FORMAT=json, `JsonFormatter` (one JSON object a line,
for log shippers). `log_request` writes the one line of each HTTP request, under the
logger ``web.access``; it names the route template (``/enrol/{token}``), never the path
or its query, so no credential a URL carries reaches the log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

ACCESS = logging.getLogger("web.access")  # one name for the access lines, to keep or silence them apart

# What every LogRecord has; anything else on a record came in `extra=` (a structured field).
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


def log_request(method: str, route: str, status: int, seconds: float, client: str | None) -> None:
    """The access line of one answered request (`route` is the route's template)."""
    duration_ms = round(seconds * 1000, 1)
    ACCESS.info(
        "%s %s %d %.1fms client=%s",
        method,
        route,
        status,
        duration_ms,
        client or "-",
        extra={
            "event": "http.request",
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": duration_ms,
            "client": client,
        },
    )


class TextFormatter(logging.Formatter):
    """``time level logger: message``, the message on one line: a line break in it (a path
    or a name someone typed) is written as ``\\n``, so that no one can forge a log line."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        return super().formatMessage(record).replace("\r", "\\r").replace("\n", "\\n")


class JsonFormatter(logging.Formatter):
    """One JSON object a record, on one line: ``time`` (UTC, ISO 8601), ``level``,
    ``logger``, ``message``, ``pid``, each structured field the record carries (`extra=`:
    strings, numbers, booleans and null only), and ``exc`` / ``stack`` when it has them.

    `redact` is applied to every string of the object: the record factory of
    `configure_logging` cleans a record's message and arguments as it is made, but the
    structured fields are added to the record only after that."""

    def __init__(self, redact: Callable[[str], str]) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line: dict[str, Any] = {
            "time": when.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
            "pid": record.process,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in line and (value is None or isinstance(value, str | int | float)):
                line[key] = self.redact(value) if isinstance(value, str) else value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = self.redact(record.exc_text)
        if record.stack_info:
            line["stack"] = self.redact(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=False, default=str)
