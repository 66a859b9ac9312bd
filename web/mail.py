"""Ikrar's mail: notices of ledger events to the officials they concern, reminders to sign,
and enrolment links.

Notices wait in the outbox (`ledger.outbox`), written in the transaction of their entry.
`MailSender`, a thread the app starts, claims the due ones every few seconds, writes each
from the ledger entry it names (what it states comes from the entries; only the address
comes from the register), sends it through the SMTP server of ``IKRAR_SMTP_URL`` and
records the outcome: a failed notice is tried again later, a minute after the first failure
and at most an hour apart, until it is sent. A mail server that is down delays notices; it
never blocks or loses a signature. An official with no address gets none (the notice is
settled, "no address"). A reminder to sign (an admin's round, `ledger.outbox.Outbox.remind`)
waits in the same outbox and is sent and retried the same way, written at sending from the
commitment as it then stands (`compose_reminder`). Mail is written in Bahasa Indonesia first, then English, with times
in WIB. Without ``IKRAR_SMTP_URL`` nothing is sent.

``smtp://user:password@host:587`` talks plain SMTP and upgrades with STARTTLS whenever the
server offers it; given a user and password it refuses to go on without STARTTLS, so they
are never sent in the clear. ``smtps://host:465`` speaks TLS from the start. Server
certificates are verified.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any
from urllib.parse import unquote, urlsplit

from ledger import outbox
from ledger.errors import LedgerError
from ledger.outbox import Notice, Outbox
from ledger.reader import OfficialRecord, Reader
from ledger.store import Ledger

from .errors import WebError
from .i18n import LANGS, Translator
from .settings import Settings

__all__ = [
    "MailFailed",
    "MailSender",
    "Mailer",
    "SmtpServer",
    "Unsendable",
    "compose_notice",
    "compose_reminder",
    "deliver_due",
    "mail_status",
    "send_enrolment_link",
]

logger = logging.getLogger(__name__)

TIMEOUT = 20.0  # seconds an SMTP server may keep a step waiting
INTERVAL = 5.0  # seconds between two looks at the outbox
BATCH = 20  # notices claimed at a time
_DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
_CONNECTION_LOST = (OSError, smtplib.SMTPServerDisconnected)  # OSError covers refused, reset and timed out


class MailFailed(WebError):
    """Mail could not be sent. `key` says why in the page's language; `str()` says it in
    English, for the log and the outbox's `last_error` (never with a password or a link)."""

    status = 502

    def __init__(self, key: str, reason: str, **params: Any) -> None:
        super().__init__(key, **params)
        self.args = (reason,)


class MailRefused(MailFailed):
    """The server refused one message (its sender, a recipient or its content); the
    connection still serves the others."""


class Unsendable(Exception):
    """A notice that no attempt will send: its official has no address, or its entry is
    not what it says (never written so by `Ledger.append`)."""


def mail_status(settings: Settings) -> str:
    """The catalogue key of what the admin pages say about mail: sent, or not configured."""
    return "mail.status.on" if settings.smtp_url else "mail.status.off"


@dataclass(frozen=True)
class SmtpServer:
    """Where mail goes, as ``IKRAR_SMTP_URL`` names it."""

    host: str
    port: int
    implicit_tls: bool
    user: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> SmtpServer:
        """``smtp://[user:password@]host[:port]`` (port 587) or ``smtps://...`` (port 465);
        user and password percent-encoded. Raises MailFailed (``err.mail.url``)."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            parts, port = None, None
        if (
            parts is None
            or parts.scheme not in _DEFAULT_PORTS
            or not parts.hostname
            or parts.path not in ("", "/")
            or parts.query
            or (parts.username is None) != (parts.password is None)
        ):
            raise MailFailed(
                "err.mail.url", "IKRAR_SMTP_URL must be smtp://user:password@host:port or smtps://host:port"
            )
        user = unquote(parts.username) if parts.username is not None else None
        password = unquote(parts.password) if parts.password is not None else None
        return cls(parts.hostname, port or _DEFAULT_PORTS[parts.scheme], parts.scheme == "smtps", user, password)

    def __str__(self) -> str:
        return f"{'smtps' if self.implicit_tls else 'smtp'}://{self.host}:{self.port}"


class Mailer:
    """Sends mail through the server of ``IKRAR_SMTP_URL``, from ``IKRAR_MAIL_FROM``.

    `tls` is the context that verifies the server's certificate (default: the system's CAs).
    Raises MailFailed (``err.mail.off``) when no server is configured, or for a malformed URL.
    """

    def __init__(self, settings: Settings, tls: ssl.SSLContext | None = None) -> None:
        if not settings.smtp_url:
            raise MailFailed("err.mail.off", "no mail server is configured (IKRAR_SMTP_URL)")
        self.server = SmtpServer.parse(settings.smtp_url)
        self.sender = settings.mail_from
        self._tls = tls

    @contextmanager
    def connection(self) -> Iterator[Callable[[EmailMessage], None]]:
        """One SMTP session, logged in when a user is given; yields a function that sends one
        message. Raises MailFailed when the server cannot be reached, offers no STARTTLS for
        a login, or fails the session; the function raises MailRefused when the server
        refuses one message only."""
        server = self.server
        tls = self._tls or ssl.create_default_context()
        try:
            if server.implicit_tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT, context=tls)
            else:
                smtp = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT)
        except (*_CONNECTION_LOST, smtplib.SMTPException) as e:
            raise MailFailed("err.mail.failed", f"cannot reach the mail server {server}: {_said(e)}") from e
        try:
            self._open(smtp, tls)
            yield lambda message: self._send(smtp, message)
        except (*_CONNECTION_LOST, smtplib.SMTPException) as e:
            raise MailFailed("err.mail.failed", f"the mail server {server} failed: {_said(e)}") from e
        finally:
            try:
                smtp.quit()
            except (*_CONNECTION_LOST, smtplib.SMTPException):
                smtp.close()

    def _open(self, smtp: smtplib.SMTP, tls: ssl.SSLContext) -> None:
        smtp.ehlo()
        if not self.server.implicit_tls:
            if smtp.has_extn("starttls"):
                smtp.starttls(context=tls)
                smtp.ehlo()
            elif self.server.user is not None:
                raise MailFailed(
                    "err.mail.no_starttls",
                    f"the mail server {self.server} offers no STARTTLS: the login is not sent in the clear",
                )
        if self.server.user is not None:
            smtp.login(self.server.user, self.server.password or "")

    def _send(self, smtp: smtplib.SMTP, message: EmailMessage) -> None:
        try:
            smtp.send_message(message)
        except smtplib.SMTPServerDisconnected:
            raise
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
            raise MailRefused(
                "err.mail.failed", f"the mail server {self.server} refused the message: {_said(e)}"
            ) from e

    def message(self, to: str, name: str, subject: str, body: str, message_id: str | None = None) -> EmailMessage:
        """A plain-text message from Ikrar's sender to `name` <`to`>."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = formataddr((" ".join(name.split()), to))
        message["Subject"] = subject
        message["Auto-Submitted"] = "auto-generated"
        if message_id is not None:
            message["Message-ID"] = message_id
        message.set_content(body)
        return message

    def domain(self) -> str:
        """The domain of the sender's address (for message ids)."""
        return parseaddr(self.sender)[1].rpartition("@")[2] or "localhost"


def _said(e: BaseException) -> str:
    """What an SMTP or socket error says, on one line, without what was sent."""
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        said = "; ".join(f"{code} {text.decode(errors='replace')}" for code, text in e.recipients.values())
    elif isinstance(e, smtplib.SMTPResponseException):
        text = e.smtp_error
        said = f"{e.smtp_code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
    else:
        said = str(e) or type(e).__name__
    return " ".join(said.split())[:300]


# -- what a notice says, from the ledger --------------------------------------------------


def _both(key: str, **fields: Any) -> list[str]:
    """The text of `key` in each language, Indonesian first."""
    return [Translator(lang)(key, **fields) for lang in LANGS]


def compose_notice(reader: Reader, notice: Notice, mailer: Mailer, base_url: str, now: datetime) -> EmailMessage:
    """The mail of `notice`, written from the entry it names, read through `reader`: who
    (the name their `key.enrolled` entry recorded), what, when (in WIB), the entry's page.

    Raises `Unsendable` when the official has no address in the register or the entry is
    not the notice's event about its official; NotFound when there is no such entry.
    """
    index = notice.entry_index
    entry = reader.entry(index if index is not None else -1)
    f = entry.fields
    if entry.kind != outbox.KIND_OF[notice.event] or f.get("nip") != notice.nip:
        raise Unsendable(f"entry {entry.index} is not a {notice.event} of official {notice.nip}")
    official = reader.official(notice.nip)
    if official is None or not official.email:
        raise Unsendable(outbox.NO_ADDRESS)
    if "name" in f:
        name = f["name"]
    else:
        enrolment = reader.enrolments([f["key"]]).get(f["key"])
        name = enrolment.name if enrolment is not None else notice.nip
    url = f"{base_url}/ledger/{entry.index}"
    facts: dict[str, Any] = {
        "name": name,
        "nip": notice.nip,
        "time": entry.time,
        "index": entry.index,
        "org": reader.entry(0).fields["org"],
        "url": url,
    }
    if notice.event == outbox.SIGNED:
        facts["title"] = reader.entry(f["commitment_index"]).fields["title"]
        closing = ["mail.verify_link", "mail.not_you.signed"]
        facts["verify_url"] = f"{base_url}/v/{entry.index}"
    else:
        closing = ["mail.not_you.key"]
    if notice.event == outbox.KEY_REVOKED:
        facts["reason"] = " ".join(f["reason"].split())
    subject = " / ".join(_both(f"mail.subject.{notice.event}", **facts))
    paragraphs = [
        "\n\n".join(
            [
                t("mail.greeting", **facts),
                t(f"mail.event.{notice.event}", **facts),
                t("mail.entry_link", **facts),
                *(t(key, **facts) for key in closing),
                t("mail.footer", **facts),
            ]
        )
        for t in (Translator(lang) for lang in LANGS)
    ]
    message = mailer.message(
        official.email,
        name,
        f"Ikrar: {subject}",
        "\n\n— — —\n\n".join(paragraphs) + "\n",
        f"<ikrar.{notice.event}.{entry.index}.{notice.nip}@{mailer.domain()}>",
    )
    message["Date"] = format_datetime(now)
    message["X-Ikrar-Entry"] = str(entry.index)
    message["X-Ikrar-Event"] = notice.event
    return message


# -- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """What one round of the sender did with the notices it claimed."""

    sent: int = 0
    failed: int = 0
    unsendable: int = 0

    @property
    def claimed(self) -> int:
        return self.sent + self.failed + self.unsendable


def deliver_due(
    ledger: Ledger, settings: Settings, now: datetime, tls: ssl.SSLContext | None = None, limit: int = BATCH
) -> Delivery:
    """Claim up to `limit` notices due at `now`, write each from its entry (a reminder from
    its round's commitment, `compose_reminder`), send them over
    one SMTP connection, and record each outcome in the outbox. Raises only what the
    database raises; every failure of the mail itself is recorded on its notice."""
    box = Outbox(ledger.engine)
    notices = box.claim(now, limit)
    if not notices:
        return Delivery()
    failures: dict[int, str] = {}
    unsendable: dict[int, str] = {}
    ready: list[tuple[Notice, EmailMessage]] = []
    try:
        mailer = Mailer(settings, tls)
    except MailFailed as e:
        failures = {n.id: str(e) for n in notices}
    else:
        slugs = box.round_slugs({n.reminder_id for n in notices if n.reminder_id is not None})
        with ledger.read() as r:
            for notice in notices:
                try:
                    if notice.reminder_id is not None:
                        slug = slugs[notice.reminder_id]
                        message = compose_reminder(r, notice, slug, mailer, settings.base_url, now)
                    else:
                        message = compose_notice(r, notice, mailer, settings.base_url, now)
                    ready.append((notice, message))
                except Unsendable as e:
                    unsendable[notice.id] = str(e)
                except (LedgerError, ValueError) as e:  # no such entry; IKRAR_MAIL_FROM not an address header
                    failures[notice.id] = f"the notice could not be written: {e}"
    sent: set[int] = set()
    if ready:
        try:
            with mailer.connection() as send:
                for notice, message in ready:
                    try:
                        send(message)
                    except MailRefused as e:
                        failures[notice.id] = str(e)
                    else:
                        sent.add(notice.id)
        except MailFailed as e:  # the connection failed: so did every notice not yet sent
            failures.update({n.id: str(e) for n, _m in ready if n.id not in sent and n.id not in failures})
    for notice in notices:
        if notice.id in sent:
            box.sent(notice, now)
            about = f"round {notice.reminder_id}" if notice.reminder_id is not None else f"entry {notice.entry_index}"
            logger.info("mailed notice %d: %s of %s", notice.id, notice.event, about)
        elif notice.id in unsendable:
            box.unsendable(notice, unsendable[notice.id], now)
            logger.warning("notice %d settled unsent: %s", notice.id, unsendable[notice.id])
        else:
            again = box.failed(notice, failures[notice.id], now)
            logger.warning("notice %d not mailed (tried again at %s): %s", notice.id, again, failures[notice.id])
    return Delivery(len(sent), len(notices) - len(sent) - len(unsendable), len(unsendable))


class MailSender:
    """The background thread that sends the outbox: `start()` at the app's start (it does
    nothing without ``IKRAR_SMTP_URL``), `stop()` at its end. Every `interval` seconds it
    sends what is due (`deliver_due`); it never raises into the app. Any number of server
    processes may each run one: a notice is claimed by one sender at a time."""

    def __init__(
        self,
        ledger: Ledger,
        settings: Settings,
        clock: Callable[[], datetime],
        interval: float = INTERVAL,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._ledger, self._settings, self._clock, self._tls = ledger, settings, clock, tls
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self._settings.smtp_url or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="ikrar-mail", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=TIMEOUT + 5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                while deliver_due(self._ledger, self._settings, self._clock(), self._tls).claimed == BATCH:
                    if self._stop.is_set():
                        break
            except Exception:  # the database down, say: the next round tries again
                logger.exception("the mail sender could not run")


# -- enrolment links -----------------------------------------------------------------------


def send_enrolment_link(
    settings: Settings, official: OfficialRecord, link: str, expires: datetime, tls: ssl.SSLContext | None = None
) -> None:
    """Mail `official` their one-time enrolment `link` (valid until `expires`), now and once.

    The link is a secret: it is sent at once and kept nowhere (not in the outbox, not in a
    log). Raises MailFailed: ``err.mail.off`` (no server configured), ``err.mail.no_address``
    (the official has none), ``err.mail.failed`` or ``err.mail.no_starttls``.
    """
    if not official.email:
        raise MailFailed("err.mail.no_address", f"official {official.nip} has no e-mail address", nip=official.nip)
    mailer = Mailer(settings, tls)
    facts = {"name": official.name, "url": link, "expires": expires}
    paragraphs = [
        "\n\n".join([t("mail.greeting", **facts), t("mail.enrol.body", **facts), link, t("mail.enrol.warning")])
        for t in (Translator(lang) for lang in LANGS)
    ]
    subject = " / ".join(_both("mail.enrol.subject"))
    message = mailer.message(
        official.email, official.name, f"Ikrar: {subject}", "\n\n— — —\n\n".join(paragraphs) + "\n"
    )
    with mailer.connection() as send:
        send(message)
    logger.info("mailed an enrolment link to official %s", official.nip)


# -- reminders to sign ---------------------------------------------------------------------

SIGNED_MEANWHILE = "signed meanwhile"  # last errors of a reminder settled unsent
DECLINED_MEANWHILE = "declined meanwhile"
DEADLINE_PASSED = "the deadline has passed"
NOT_A_SIGNATORY = "not a signatory of the commitment"


def compose_reminder(
    reader: Reader, notice: Notice, slug: str, mailer: Mailer, base_url: str, now: datetime
) -> EmailMessage:
    """The reminder of `notice` (event ``reminder``): that commitment `slug` (its round's) waits
    for the official's signature, written from the ledger as it stands at `now` (the title,
    the deadline in force in WIB, the sign page's address; for an official with no active
    key, that they must enrol first), Indonesian then English.

    Raises `Unsendable` when there is nothing to remind of any more (the official signed or
    declined meanwhile, the deadline passed, no such commitment or signatory) or the
    official has no address (`outbox.NO_ADDRESS`).
    """
    commitment = reader.commitment(slug)
    if commitment is None or notice.nip not in commitment.signers:
        raise Unsendable(NOT_A_SIGNATORY)
    if reader.signature(slug, notice.nip) is not None:
        raise Unsendable(SIGNED_MEANWHILE)
    if reader.decline(slug, notice.nip) is not None:
        raise Unsendable(DECLINED_MEANWHILE)
    deadline = commitment.deadline
    if deadline is not None and deadline <= now:
        raise Unsendable(DEADLINE_PASSED)
    official = reader.official(notice.nip)
    if official is None or not official.email:
        raise Unsendable(outbox.NO_ADDRESS)
    facts: dict[str, Any] = {
        "name": official.name,
        "title": commitment.title,
        "url": f"{base_url}/sign/{slug}",
        "deadline": deadline,
    }
    lines = [
        "ceremony.mail.body",
        "ceremony.mail.deadline" if deadline else None,
        "ceremony.mail.enrol_first" if reader.active_key(notice.nip) is None else None,
        "ceremony.mail.link",
    ]
    paragraphs = [
        "\n\n".join([t("mail.greeting", **facts), *(t(k, **facts) for k in lines if k), t("mail.footer")])
        for t in (Translator(lang) for lang in LANGS)
    ]
    subject = " / ".join(_both("ceremony.mail.subject", title=commitment.title))
    message = mailer.message(
        official.email,
        official.name,
        f"Ikrar: {subject}",
        "\n\n— — —\n\n".join(paragraphs) + "\n",
        f"<ikrar.reminder.{notice.reminder_id}.{notice.nip}@{mailer.domain()}>",
    )
    message["Date"] = format_datetime(now)
    message["X-Ikrar-Event"] = outbox.REMINDER
    message["X-Ikrar-Reminder"] = str(notice.reminder_id)
    return message
