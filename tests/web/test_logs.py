"""Log lines for operators: one line per request (by route template) and per append, in
text or JSON (IKRAR_LOG_FORMAT=json: one object a line, UTC times, the request's fields),
and no secret in either after an enrolment, a login and a signature."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from tests.factories import passphrase
from tests.web.conftest import Site, password, post
from web import metrics
from web.logs import JsonFormatter, TextFormatter
from web.runtime import RedactEnrolmentLinks, configure_logging
from web.settings import Settings

SIGNED = {"kind": "commitment.signed"}
ENROL = {"password": "sandi masuk lima & <x> 50%", "passphrase": 'frasa "tanda tangan" lima 5%'}


@contextmanager
def log_to(formatter: logging.Formatter, caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """What the root logger writes at INFO, through `formatter`, while the block runs."""
    caplog.set_level(logging.INFO)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logging.getLogger().addHandler(handler)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)


def enrol_log_in_and_sign(site: Site) -> tuple[list[str], list[TestClient]]:
    """An official enrols through a one-time link; another logs in and signs. Returns the
    secrets of the flow (passwords, passphrases, the link's token, session cookies)."""
    site.world.official(5, enrol=False)
    link = site.invite(5)
    newcomer = site.client()
    form = {**ENROL, "password2": ENROL["password"], "passphrase2": ENROL["passphrase"]}
    assert post(newcomer, link, form).status_code == 200
    official = site.login(3)
    r = post(official, "/sign/smart-city", {"read": "yes", "passphrase": passphrase(3)})
    assert r.status_code == 303, r.text[:300]
    sessions = [c.cookies.get("ikrar_session") for c in (newcomer, official)]
    secrets = [*ENROL.values(), password(3), passphrase(3), link.rsplit("/", 1)[1]]
    secrets += [s for s in sessions if s]
    assert len(secrets) >= 6, "the official's session cookie is among them"
    return secrets, [newcomer, official]


def test_json_mode_writes_one_object_a_line_with_the_request_and_ledger_fields(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    with log_to(JsonFormatter(RedactEnrolmentLinks.scrub), caplog) as stream:
        secrets, _ = enrol_log_in_and_sign(site)
    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) >= 10 and all(isinstance(line, dict) for line in lines)
    for line in lines:
        assert {"time", "level", "logger", "message", "pid"} <= line.keys(), line
        assert line["time"].endswith("Z") and len(line["time"]) == len("2019-09-23T02:00:00.000Z")
        assert datetime.fromisoformat(line["time"]).utcoffset() == timedelta(0)

    access = [line for line in lines if line["logger"] == "web.access"]
    assert {line["event"] for line in access} == {"http.request"}
    for line in access:
        assert {"method", "route", "status", "duration_ms", "client"} <= line.keys()
        assert isinstance(line["status"], int) and isinstance(line["duration_ms"], float)
        assert line["client"] == "testclient"
    seen = {(line["method"], line["route"], line["status"]) for line in access}
    assert {("POST", "/enrol/{token}", 200), ("POST", "/login", 303), ("POST", "/sign/{slug}", 303)} <= seen

    appended = [line for line in lines if line.get("event") == "ledger.appended"]
    assert [line["kind"] for line in appended] == ["key.enrolled", "commitment.signed"]
    assert appended[1]["index"] == appended[0]["index"] + 1 == site.ledger.size() - 1
    assert appended[1]["leaf"] == site.ledger.entry(appended[1]["index"]).leaf_hash.hex()

    leaks = [s for s in secrets if s in text or json.dumps(s)[1:-1] in text]
    assert not leaks


def test_text_mode_writes_one_line_a_record_and_no_secret(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    with log_to(TextFormatter(), caplog) as stream:
        secrets, _ = enrol_log_in_and_sign(site)
        assert site.client().get("/ledger?start=0&kunci=rahasia-di-query").status_code == 200
        logging.getLogger("web.test").warning("a path with a line break: %s", "/x\n2019-09-23 INFO forged: line")
    text = stream.getvalue()
    lines = text.splitlines()
    records = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert len(lines) == len(records), "one line a record, even for a message with a line break"
    assert any(" INFO web.access: POST /sign/{slug} 303 " in line for line in lines)
    assert any(" INFO web.access: POST /enrol/{token} 200 " in line for line in lines)
    assert any(" INFO ledger.store: appended index=" in line and "kind=commitment.signed" in line for line in lines)
    assert "\\n2019-09-23 INFO forged" in text
    server = [line for line in lines if " httpx: " not in line]  # not the test client's own request lines
    assert any(" INFO web.access: GET /ledger 200 " in line for line in server)
    assert not [line for line in server if "rahasia-di-query" in line], "no query string in the server's lines"
    assert not [s for s in secrets if s in text]


def test_structured_fields_are_redacted_too(caplog: pytest.LogCaptureFixture) -> None:
    token = "Zq3xT0k3n-Rahasia_0123456789abcdefghijklmnopq"
    with log_to(JsonFormatter(RedactEnrolmentLinks.scrub), caplog) as stream:
        logging.getLogger("web.test").info("opened %s", f"/enrol/{token}", extra={"path": f"/enrol/{token}?x=1"})
    line = json.loads(stream.getvalue())
    assert line["message"] == "opened /enrol/***" and line["path"] == "/enrol/***?x=1"
    assert token not in stream.getvalue()


def test_at_warning_the_server_log_has_no_append_lines_but_appends_are_still_counted(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    """`configure_logging` as `ikrar serve` runs it (the root logger its own): the ledger's
    logger announces at INFO for the counter, the log keeps to IKRAR_LOG_LEVEL."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    root.handlers = []
    try:
        configure_logging("WARNING", "json")
        metrics.install()
        before = REGISTRY.get_sample_value("ikrar_appends_total", SIGNED) or 0.0
        c = site.login(3)
        assert post(c, "/sign/smart-city", {"read": "yes", "passphrase": passphrase(3)}).status_code == 303
        logging.getLogger("web.test").warning("a warning gets through")
        after = REGISTRY.get_sample_value("ikrar_appends_total", SIGNED)
    finally:
        for handler in root.handlers:
            if handler not in saved_handlers:
                root.removeHandler(handler)
        root.handlers, root.level = saved_handlers, saved_level
    err = capsys.readouterr().err
    assert after - before == 1
    assert [json.loads(line)["message"] for line in err.splitlines()] == ["a warning gets through"]


def test_the_log_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IKRAR_LOG_FORMAT", "json")
    assert Settings.from_env().log_format == "json"
    monkeypatch.setenv("IKRAR_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="IKRAR_LOG_FORMAT"):
        Settings.from_env()
