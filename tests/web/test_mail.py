"""Mail, through a real SMTP server on this machine (aiosmtpd): each ledger event reaches
its official once, written from its entry; a mail server that is down delays notices and
never a signature; two senders never send one notice twice; a login goes only over TLS;
without IKRAR_SMTP_URL nothing is sent and the admin pages can say so. Reminders to sign go
through the same outbox, one round at a time, each round mailed again."""

from __future__ import annotations

import email
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from alembic import command
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from ledger import outbox
from ledger.audit import audit
from ledger.db import make_engine
from ledger.errors import InvalidInput, NotFound
from ledger.models import MailOutbox
from ledger.outbox import Notice, Outbox, retry_delay
from ledger.reader import OfficialRecord
from ledger.register import check_email
from ledger.schema import alembic_config, migrate
from signing import actions
from signing.actions import Context
from tests.factories import ADMIN, LedgerFactory, nip, passphrase, tables
from web import errors as we
from web.app import create_app
from web.i18n import Translator
from web.mail import (
    MailFailed,
    MailSender,
    SmtpServer,
    deliver_due,
    mail_status,
    send_enrolment_link,
)
from web.runtime import Runtime
from web.settings import Settings

from .conftest import web_settings

TITLE = "Komitmen Bersama Gerakan Smart City Kota Kediri"
USER, SECRET = "ikrar", "s@ndi rahasia:1"  # a password that must be percent-encoded in the URL


def address(n: int) -> str:
    return f"pejabat{n}@kedirikota.go.id"


# -- a local SMTP server ------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        # Python folds a subject that fits on a line of its own onto the next line, and its
        # parser then keeps the space that began that line (mail programs do not).
        return str(self.message["Subject"]).strip()

    @property
    def body(self) -> str:
        return str(self.message.get_content()).replace("\r\n", "\n")  # as sent, without the wire's CRLF


@dataclass
class Inbox:
    """The aiosmtpd handler: keeps every message that arrived, and every login."""

    received: list[Received] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword):
            self.logins.append((data.login, data.password))
            return AuthResult(success=(data.login, data.password) == (USER.encode(), SECRET.encode()))
        return AuthResult(success=False)

    def about(self, event: str, index: int) -> list[Received]:
        return [
            r for r in self.received if (r.message["X-Ikrar-Event"], r.message["X-Ikrar-Entry"]) == (event, str(index))
        ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalSmtp:
    """An SMTP server on 127.0.0.1 that can be stopped and started again on the same port."""

    inbox: Inbox = field(default_factory=Inbox)
    port: int = field(default_factory=free_port)
    options: dict[str, Any] = field(default_factory=dict)
    controller: Controller | None = None

    def start(self) -> LocalSmtp:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def url(self, scheme: str = "smtp", login: str = "") -> str:
        return f"{scheme}://{login}127.0.0.1:{self.port}"


@pytest.fixture()
def smtp() -> Iterator[LocalSmtp]:
    server = LocalSmtp().start()
    yield server
    server.stop()


@dataclass(frozen=True)
class Tls:
    """A throwaway certificate for 127.0.0.1: the server's context, and a client's that trusts it."""

    server: ssl.SSLContext
    client: ssl.SSLContext


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ikrar test mail server")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return Tls(server, ssl.create_default_context(cafile=str(cert_file)))


# -- a ledger whose officials have addresses ------------------------------------------------


@dataclass
class MailWorld:
    """Officials 1 and 2 have an address, 3 has none; all three enrolled with mail on and
    asked to sign `smart-city`. `ctx` appends with notices, as a server with mail does."""

    world: LedgerFactory
    ctx: Context
    settings: Settings

    @property
    def ledger(self):
        return self.world.ledger

    def sign(self, n: int) -> int:
        return actions.sign(self.ctx, "smart-city", nip(n), passphrase(n), self.world.now()).entry.index

    def deliver(self, now: datetime | None = None, tls: ssl.SSLContext | None = None) -> int:
        """Run the sender at `now` (default: after every entry) until nothing is due; how many it sent."""
        moment = now or self.world.now()
        sent = 0
        while (done := deliver_due(self.ledger, self.settings, moment, tls)).claimed:
            sent += done.sent
        return sent

    def notices(self) -> list[MailOutbox]:
        with tables(self.ledger) as s:
            return list(s.exec(select(MailOutbox).order_by(MailOutbox.id)))


def make_mail_world(ledger_factory: LedgerFactory, db_url: str, tmp_path: Path, smtp_url: str | None) -> MailWorld:
    world = ledger_factory.created()
    ctx = replace(world.ctx, mail=True)
    for n in (1, 2, 3):
        world.official(n, enrol=False)
    for n in (1, 2):
        world.ledger.register.set_email(nip(n), address(n))
    for n in (1, 2, 3):
        world.invite(n)
        actions.enrol(ctx, nip(n), passphrase(n), world.now())
    actions.publish(world.ctx, "smart-city", TITLE, "Kami berkomitmen.\n", world.officials, world.admin(), world.now())
    settings = replace(web_settings(db_url, tmp_path), smtp_url=smtp_url)
    return MailWorld(world, ctx, settings)


@pytest.fixture()
def mw(ledger_factory: LedgerFactory, db_url: str, tmp_path: Path, smtp: LocalSmtp) -> MailWorld:
    return make_mail_world(ledger_factory, db_url, tmp_path, smtp.url())


# -- each event, once ------------------------------------------------------------------------


def test_each_event_reaches_its_official_once_written_from_its_entry(mw: MailWorld, smtp: LocalSmtp) -> None:
    signed = mw.sign(1)
    revoked = actions.revoke(mw.ctx, nip(2), "ponsel dinas hilang", mw.world.admin(), mw.world.now(), passphrase(ADMIN))
    with mw.ledger.read() as r:
        enrolled = {n: r.enrolled_keys(nip(n))[0].enrolled_index for n in (1, 2, 3)}
        times = {i: r.entry(i).time for i in (*enrolled.values(), signed, revoked.entry.index)}

    assert mw.deliver() == 4  # enrolled 1 and 2, signed 1, revoked 2; official 3 has no address
    assert mw.deliver(mw.world.now() + timedelta(days=1)) == 0  # nothing is sent twice
    inbox = smtp.inbox
    assert len(inbox.received) == 4
    expected = [
        (outbox.KEY_ENROLLED, enrolled[1], 1),
        (outbox.KEY_ENROLLED, enrolled[2], 2),
        (outbox.SIGNED, signed, 1),
        (outbox.KEY_REVOKED, revoked.entry.index, 2),
    ]
    for event, index, n in expected:
        [got] = inbox.about(event, index)
        assert got.rcpt_tos == (address(n),)
        assert got.message["To"] == f"Pejabat {n} <{address(n)}>"
        assert got.message["From"] == mw.settings.mail_from
        body = got.body
        ours = [Translator(lang) for lang in ("id", "en")]
        id_when, en_when = (t.when(times[index]) for t in ours)
        assert f"NIP {nip(n)}" in body and f"entri {index}" in body and f"entry {index}" in body
        assert body.index(id_when) < body.index(en_when)  # Indonesian first, then English, both in WIB
        assert "WIB" in id_when and f"http://testserver/ledger/{index}\n" in body
        assert "Pemerintah Kota Kediri (uji)" in body  # the organisation as entry 0 names it
        assert body.startswith(f"Yth. Pejabat {n},")
        if event == outbox.SIGNED:
            assert got.subject == f"Ikrar: Tanda tangan atas nama Anda: {TITLE} / A signature in your name: {TITLE}"
            assert f"«{TITLE}»" in body and f"http://testserver/v/{index}\n" in body
            assert "Jika Anda tidak menandatangani ini, segera hubungi Diskominfo" in body
        else:
            assert "Jika ini bukan Anda, segera hubungi Diskominfo." in body
            assert "If this was not you, call Diskominfo at once." in body
    assert inbox.about(outbox.KEY_ENROLLED, enrolled[1])[0].subject == (
        "Ikrar: Kunci tanda tangan Anda didaftarkan / Your signing key was enrolled"
    )
    assert "ponsel dinas hilang" in inbox.about(outbox.KEY_REVOKED, revoked.entry.index)[0].body

    rows = mw.notices()
    assert all(row.sent_at is not None for row in rows)
    [unsent] = [row for row in rows if row.nip == nip(3)]
    assert (unsent.event, unsent.last_error, unsent.entry_index) == (outbox.KEY_ENROLLED, "no address", enrolled[3])
    assert Outbox(mw.ledger.engine).pending().count == 0


def test_a_replaced_key_is_told_as_replaced(mw: MailWorld, smtp: LocalSmtp) -> None:
    """The enrolment action chooses key.replaced for an official who had a key; its mail
    says so (the notice is queued here for official 1's enrolment entry)."""
    mw.deliver()
    with mw.ledger.read() as r:
        index = r.enrolled_keys(nip(1))[0].enrolled_index
    with mw.ledger.engine.begin() as c:
        outbox.enqueue(c, outbox.KEY_REPLACED, nip(1), index, mw.world.now())
    assert mw.deliver() == 1
    [got] = smtp.inbox.about(outbox.KEY_REPLACED, index)
    assert got.subject == "Ikrar: Kunci tanda tangan Anda diganti / Your signing key was replaced"
    assert "menggantikan kunci Anda sebelumnya" in got.body and "replacing your earlier key" in got.body


def test_a_notice_that_does_not_match_its_entry_is_settled_unsent(mw: MailWorld, smtp: LocalSmtp) -> None:
    mw.deliver()
    before = len(smtp.inbox.received)
    with mw.ledger.read() as r:
        index = r.enrolled_keys(nip(1))[0].enrolled_index
    with mw.ledger.engine.begin() as c:
        outbox.enqueue(c, outbox.SIGNED, nip(1), index, mw.world.now())  # an enrolment, not a signature
        outbox.enqueue(c, outbox.KEY_ENROLLED, nip(2), index, mw.world.now())  # official 1's, not 2's
    assert mw.deliver() == 0 and len(smtp.inbox.received) == before
    errors = sorted(row.last_error or "" for row in mw.notices()[-2:])
    assert errors == [
        f"entry {index} is not a commitment.signed of official {nip(1)}",
        f"entry {index} is not a key.enrolled of official {nip(2)}",
    ]
    assert Outbox(mw.ledger.engine).pending().count == 0


# -- a mail server that is down -------------------------------------------------------------


def test_a_stopped_mail_server_delays_the_notice_and_never_the_signature(mw: MailWorld, smtp: LocalSmtp) -> None:
    mw.deliver()
    smtp.inbox.received.clear()
    smtp.stop()

    index = mw.sign(1)  # the signature succeeds: its notice waits in the outbox
    with mw.ledger.read() as r:
        assert r.signature("smart-city", nip(1)) is not None
    t = mw.world.now()
    assert deliver_due(mw.ledger, mw.settings, t).failed == 1
    [waiting] = Outbox(mw.ledger.engine).pending().oldest
    assert (waiting.event, waiting.entry_index, waiting.attempts) == (outbox.SIGNED, index, 1)
    assert waiting.last_error is not None and waiting.last_error.startswith(
        f"cannot reach the mail server smtp://127.0.0.1:{smtp.port}"
    )
    assert waiting.next_attempt_at == t + timedelta(minutes=1)
    assert deliver_due(mw.ledger, mw.settings, t + timedelta(seconds=59)).claimed == 0  # not due yet
    assert deliver_due(mw.ledger, mw.settings, t + timedelta(minutes=1)).failed == 1
    [waiting] = Outbox(mw.ledger.engine).pending().oldest
    assert waiting.attempts == 2 and waiting.next_attempt_at == t + timedelta(minutes=3)  # 1 min, then 2

    smtp.start()  # back, on the same port
    assert mw.deliver(t + timedelta(minutes=3)) == 1
    assert [(r.rcpt_tos, r.message["X-Ikrar-Entry"]) for r in smtp.inbox.received] == [((address(1),), str(index))]
    assert Outbox(mw.ledger.engine).pending().count == 0
    assert mw.deliver(t + timedelta(days=1)) == 0 and len(smtp.inbox.received) == 1


def test_the_retry_delay_doubles_up_to_an_hour_and_never_gives_up() -> None:
    delays = [retry_delay(n) for n in range(1, 10)]
    assert [d // timedelta(minutes=1) for d in delays] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert retry_delay(10_000) == timedelta(hours=1)


def test_a_notice_is_kept_until_sent_however_long_the_server_is_down(mw: MailWorld, smtp: LocalSmtp) -> None:
    smtp.stop()
    t = mw.world.now()
    for _ in range(8):  # hours of failures, past the longest delay
        deliver_due(mw.ledger, mw.settings, t)
        t += timedelta(hours=1)
    pending = Outbox(mw.ledger.engine).pending()
    assert pending.count == 2 and {n.attempts for n in pending.oldest} == {8}
    smtp.start()
    assert mw.deliver(t) == 2


# -- senders at once ------------------------------------------------------------------------


def test_a_claimed_notice_is_no_other_senders_until_its_lease_ends(mw: MailWorld, db_url: str) -> None:
    """The claim of one sender (here: another process's engine) hides the notice from the
    others; a sender that never reports leaves it to be taken again after the lease."""
    first, second = Outbox(mw.ledger.engine), Outbox(make_engine(db_url))
    t = mw.world.now()
    taken = first.claim(t)
    assert len(taken) == 3 and second.claim(t) == [] and first.claim(t) == []
    assert second.claim(t + outbox.LEASE - timedelta(seconds=1)) == []
    again = second.claim(t + outbox.LEASE)
    assert [n.id for n in again] == [n.id for n in taken] and {n.attempts for n in again} == {2}
    assert not first.sent(taken[0], t)  # the first sender's lease had ended: its report is not taken
    assert second.sent(again[0], t + outbox.LEASE)


@pytest.mark.parametrize("claims", [1, 3])
def test_two_senders_claiming_at_once_never_share_a_notice(mw: MailWorld, db_url: str, claims: int) -> None:
    for n in (1, 2, 3):
        mw.sign(n)
    t = mw.world.now()
    boxes = [Outbox(mw.ledger.engine), Outbox(make_engine(db_url))]
    got: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def sender(i: int) -> None:
        start.wait()
        while taken := boxes[i].claim(t, limit=claims):
            got[i].extend(n.id for n in taken)

    threads = [threading.Thread(target=sender, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not set(got[0]) & set(got[1])
    assert sorted(got[0] + got[1]) == [row.id for row in mw.notices()]  # 3 enrolments and 3 signatures


def test_two_sender_threads_deliver_each_notice_once(mw: MailWorld, smtp: LocalSmtp) -> None:
    for n in (1, 2, 3):
        mw.sign(n)
    t = mw.world.now()
    senders = [MailSender(mw.ledger, mw.settings, lambda: t, interval=0.01) for _ in range(2)]
    for sender in senders:
        sender.start()
    deadline = time.monotonic() + 30
    while Outbox(mw.ledger.engine).pending().count and time.monotonic() < deadline:
        time.sleep(0.05)
    for sender in senders:
        sender.stop()
    assert Outbox(mw.ledger.engine).pending().count == 0
    arrived = sorted(
        (r.rcpt_tos[0], r.message["X-Ikrar-Event"], r.message["X-Ikrar-Entry"]) for r in smtp.inbox.received
    )
    assert len(arrived) == 4 == len(set(arrived))  # enrolled and signed, for 1 and 2; 3 has no address


def test_the_app_runs_the_sender_while_it_serves(mw: MailWorld, smtp: LocalSmtp) -> None:
    t = mw.world.now()
    app = create_app(Runtime.with_context(mw.settings, mw.ctx), clock=lambda: t)
    with TestClient(app):
        assert "ikrar-mail" in {thread.name for thread in threading.enumerate()}
        deadline = time.monotonic() + 30
        while len(smtp.inbox.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert "ikrar-mail" not in {thread.name for thread in threading.enumerate()}
    assert sorted(r.rcpt_tos for r in smtp.inbox.received) == [(address(1),), (address(2),)]


# -- reminders to sign, through the outbox ----------------------------------------------------


def reminded(inbox: Inbox) -> list[Received]:
    return [r for r in inbox.received if r.message["X-Ikrar-Event"] == outbox.REMINDER]


def test_each_round_of_reminders_is_queued_at_once_and_mailed_again(mw: MailWorld, smtp: LocalSmtp) -> None:
    mw.deliver()
    box, admin, t = Outbox(mw.ledger.engine), mw.world.admin(), mw.world.now()
    first = box.remind("smart-city", [nip(1), nip(2), nip(3)], admin, "a" * 32, t)
    assert (first.slug, first.sent_by, first.created_at) == ("smart-city", admin, t)
    assert [(n.event, n.nip, n.entry_index, n.reminder_id) for n in first.notices] == [
        (outbox.REMINDER, nip(n), None, first.id) for n in (1, 2, 3)
    ]
    assert box.remind("smart-city", [nip(1)], admin, "a" * 32, t) == first  # the same confirmation: nothing more
    assert mw.deliver(t) == 2  # official 3 has no address
    [settled] = [n for n in box.rounds("smart-city")[0].notices if n.nip == nip(3)]
    assert (settled.state, settled.last_error) == ("unsent", outbox.NO_ADDRESS)

    second = box.remind("smart-city", [nip(1), nip(2)], admin, "b" * 32, t + timedelta(hours=1))
    assert mw.deliver(t + timedelta(hours=1)) == 2 and mw.deliver(t + timedelta(days=1)) == 0
    assert [r.id for r in box.rounds("smart-city")] == [second.id, first.id]  # newest first
    mails = reminded(smtp.inbox)
    assert sorted(m.rcpt_tos[0] for m in mails) == [address(1), address(1), address(2), address(2)]
    assert {m.message["X-Ikrar-Reminder"] for m in mails} == {str(first.id), str(second.id)}
    assert all(m.subject.startswith(f"Ikrar: Pengingat: «{TITLE}»") for m in mails)
    assert all("Anda belum memiliki kunci" not in m.body for m in mails)  # both have a key
    assert box.rounds("no-such-commitment") == []
    with mw.ledger.read() as r:  # the outbox is no part of the ledger: `ikrar audit` sees the same
        report = audit(r.stored_entries(), r.stored_checkpoints(), mw.ledger.verifier, derived=r)
        assert report.size == r.size()


def test_a_round_names_each_official_once_and_notices_keep_their_uniqueness(mw: MailWorld) -> None:
    box, admin, t = Outbox(mw.ledger.engine), mw.world.admin(), mw.world.now()
    with pytest.raises(InvalidInput, match="names each official once, and at least one"):
        box.remind("smart-city", [], admin, "c" * 32, t)
    with pytest.raises(InvalidInput, match="names each official once"):
        box.remind("smart-city", [nip(1), nip(1)], admin, "c" * 32, t)
    assert box.rounds("smart-city") == [] and box.pending().count == 3  # the three enrolments' notices
    round_id = box.remind("smart-city", [nip(1)], admin, "c" * 32, t).id
    with mw.ledger.read() as r:
        enrolled = r.enrolled_keys(nip(1))[0].enrolled_index
    with pytest.raises(IntegrityError), mw.ledger.engine.begin() as c:
        outbox.enqueue(c, outbox.KEY_ENROLLED, nip(1), enrolled, t)  # one notice per (event, NIP, entry)
    row = {"event": outbox.REMINDER, "nip": nip(1), "reminder_id": round_id, "created_at": t, "next_attempt_at": t}
    with pytest.raises(IntegrityError), mw.ledger.engine.begin() as c:
        c.execute(MailOutbox.__table__.insert(), {**row, "attempts": 0})  # one reminder per official and round
    assert box.pending().count == 4


def test_the_mail_sender_thread_retries_a_reminder_until_the_server_is_back(mw: MailWorld, smtp: LocalSmtp) -> None:
    mw.deliver()
    smtp.stop()
    moment = [mw.world.now()]
    queued = Outbox(mw.ledger.engine).remind("smart-city", [nip(2)], mw.world.admin(), "d" * 32, moment[0])
    sender = MailSender(mw.ledger, mw.settings, lambda: moment[0], interval=0.01)
    sender.start()
    try:

        def notice() -> Notice:
            return Outbox(mw.ledger.engine).rounds("smart-city")[0].notices[0]

        deadline = time.monotonic() + 30
        while notice().last_error is None and time.monotonic() < deadline:
            time.sleep(0.02)
        failed = notice()  # the first attempt failed: due again in a minute
        assert failed.attempts == 1 and failed.next_attempt_at == moment[0] + timedelta(minutes=1)
        assert failed.last_error is not None and failed.last_error.startswith("cannot reach the mail server")
        smtp.start()
        time.sleep(0.2)
        assert notice().attempts == 1 and reminded(smtp.inbox) == []  # not before its minute
        moment[0] += timedelta(minutes=1)
        while not reminded(smtp.inbox) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        sender.stop()
    [mail] = reminded(smtp.inbox)
    assert mail.rcpt_tos == (address(2),) and mail.message["X-Ikrar-Reminder"] == str(queued.id)
    [done] = Outbox(mw.ledger.engine).rounds("smart-city")[0].notices
    assert (done.state, done.attempts) == ("sent", 2)


def test_migration_0005_keeps_the_notices_queued_before_it(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine, "0004")
    t = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO mail_outbox (event, nip, entry_index, created_at, attempts, next_attempt_at)"
                " VALUES (:event, :nip, 7, :t, 2, :t)"
            ),
            {"event": outbox.SIGNED, "nip": nip(1), "t": t},
        )
    migrate(engine)
    [kept] = Outbox(engine).pending().oldest
    assert (kept.event, kept.nip, kept.entry_index, kept.attempts, kept.reminder_id) == (
        outbox.SIGNED,
        nip(1),
        7,
        2,
        None,
    )
    with pytest.raises(IntegrityError), engine.begin() as c:
        outbox.enqueue(c, outbox.SIGNED, nip(1), 7, t)
    command.downgrade(alembic_config(engine), "0004")  # and back: the notices of entries stay
    assert "mail_reminder" not in inspect(engine).get_table_names()
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM mail_outbox")).scalar() == 1


# -- without a mail server ------------------------------------------------------------------


def test_without_a_mail_server_nothing_is_sent_and_the_admin_pages_can_say_so(
    ledger_factory: LedgerFactory, db_url: str, tmp_path: Path, smtp: LocalSmtp
) -> None:
    mw = make_mail_world(ledger_factory, db_url, tmp_path, None)
    assert mail_status(mw.settings) == "mail.status.off"
    assert "IKRAR_SMTP_URL" in Translator("id")("mail.status.off") and "IKRAR_SMTP_URL" in Translator("en")(
        "mail.status.off"
    )
    assert mail_status(replace(mw.settings, smtp_url=smtp.url())) == "mail.status.on"
    sender = MailSender(mw.ledger, mw.settings, mw.world.now, interval=0.01)
    sender.start()
    assert "ikrar-mail" not in {thread.name for thread in threading.enumerate()}
    sender.stop()
    official = OfficialRecord(nip(1), "Pejabat 1", "Kepala", "Dinas", "official", mw.world.now(), address(1))
    with pytest.raises(MailFailed, match="no mail server is configured") as caught:
        send_enrolment_link(mw.settings, official, "http://testserver/enrol/rahasia", mw.world.now())
    assert we.message_of(caught.value, Translator("en")).startswith("Mail cannot be sent: no mail server is set up")
    assert smtp.inbox.received == []


# -- enrolment links, logins and TLS ---------------------------------------------------------


def _official(email_address: str | None = address(1)) -> OfficialRecord:
    return OfficialRecord(
        nip(1), "Dr. Contoh Pejabat", "Kepala Dinas", "Diskominfo", "official", datetime.now(UTC), email_address
    )


def _settings(tmp_path: Path, url: str) -> Settings:
    return replace(web_settings(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path), smtp_url=url)


EXPIRES = datetime(2026, 1, 8, 2, 0, tzinfo=UTC)


def test_an_enrolment_link_goes_over_starttls_with_a_login(tmp_path: Path, tls: Tls) -> None:
    server = LocalSmtp(
        options={
            "tls_context": tls.server,
            "require_starttls": True,
            "auth_required": True,
            "authenticator": None,
        }
    )
    server.options["authenticator"] = server.inbox.authenticate
    server.start()
    try:
        link = "http://testserver/enrol/token-rahasia-sekali-pakai"
        url = server.url(login="ikrar:s%40ndi%20rahasia%3A1@")
        send_enrolment_link(_settings(tmp_path, url), _official(), link, EXPIRES, tls=tls.client)
    finally:
        server.stop()
    assert server.inbox.logins == [(USER.encode(), SECRET.encode())]
    [got] = server.inbox.received
    assert got.rcpt_tos == (address(1),)
    assert got.subject == (
        "Ikrar: Tautan pendaftaran kunci tanda tangan Anda / The enrolment link for your signing key"
    )
    body = got.body
    assert body.count(f"\n{link}\n") == 2  # once in each language
    assert "Kamis, 8 Januari 2026 pukul 09.00.00 WIB" in body and "Thursday, 8 January 2026 at 09:00:00 WIB" in body
    assert body.index("Jangan teruskan tautan ini") < body.index("Do not pass this link on")


def test_an_enrolment_link_goes_over_implicit_tls(tmp_path: Path, tls: Tls) -> None:
    server = LocalSmtp(options={"ssl_context": tls.server}).start()
    try:
        send_enrolment_link(
            _settings(tmp_path, server.url("smtps")), _official(), "http://t/enrol/x", EXPIRES, tls=tls.client
        )
    finally:
        server.stop()
    assert [r.rcpt_tos for r in server.inbox.received] == [(address(1),)]


def test_a_login_is_never_sent_without_starttls(tmp_path: Path, smtp: LocalSmtp) -> None:
    settings = _settings(tmp_path, smtp.url(login="ikrar:rahasia@"))
    with pytest.raises(MailFailed, match="offers no STARTTLS: the login is not sent in the clear") as caught:
        send_enrolment_link(settings, _official(), "http://t/enrol/x", EXPIRES)
    assert caught.value.key == "err.mail.no_starttls" and we.status_of(caught.value) == 502
    assert smtp.inbox.logins == [] and smtp.inbox.received == []


def test_a_server_whose_certificate_is_not_trusted_gets_nothing(tmp_path: Path, tls: Tls) -> None:
    server = LocalSmtp(options={"tls_context": tls.server}).start()
    try:
        with pytest.raises(MailFailed, match="CERTIFICATE_VERIFY_FAILED") as caught:
            send_enrolment_link(_settings(tmp_path, server.url()), _official(), "http://t/enrol/x", EXPIRES)
    finally:
        server.stop()
    assert caught.value.key == "err.mail.failed" and server.inbox.received == []


def test_an_enrolment_link_needs_an_address_and_a_reachable_server(tmp_path: Path) -> None:
    settings = _settings(tmp_path, f"smtp://127.0.0.1:{free_port()}")
    with pytest.raises(MailFailed, match=f"official {nip(1)} has no e-mail address") as caught:
        send_enrolment_link(settings, _official(None), "http://t/enrol/x", EXPIRES)
    assert we.message_of(caught.value, Translator("id")) == (
        f"Pejabat dengan NIP {nip(1)} tidak memiliki alamat surel di register."
    )
    with pytest.raises(MailFailed, match="cannot reach the mail server") as caught:
        send_enrolment_link(settings, _official(), "http://t/enrol/SECRET-TOKEN", EXPIRES)
    assert "SECRET-TOKEN" not in str(caught.value)
    assert we.message_of(caught.value, Translator("en")).startswith("The mail was not sent")


# -- the settings and the register ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("smtp://mail.kedirikota.go.id", SmtpServer("mail.kedirikota.go.id", 587, False)),
        ("smtp://relay:25", SmtpServer("relay", 25, False)),
        ("smtps://mail.example.id", SmtpServer("mail.example.id", 465, True)),
        ("smtp://u%40x:p%3Aw%2Fd@h:2525/", SmtpServer("h", 2525, False, "u@x", "p:w/d")),
    ],
)
def test_the_smtp_url_is_read(url: str, server: SmtpServer) -> None:
    assert SmtpServer.parse(url) == server
    assert "p:w/d" not in repr(SmtpServer.parse(url)) and "p:w/d" not in str(SmtpServer.parse(url))


@pytest.mark.parametrize(
    "url", ["http://h", "smtp://", "smtp://h:port", "smtp://h:99999", "smtp://user@h", "smtp://h/x", "smtp://h?tls=1"]
)
def test_a_malformed_smtp_url_is_refused(url: str) -> None:
    with pytest.raises(MailFailed, match="IKRAR_SMTP_URL must be") as caught:
        SmtpServer.parse(url)
    assert caught.value.key == "err.mail.url"


def test_the_register_keeps_an_address_only_when_it_is_one(ledger_factory: LedgerFactory) -> None:
    world = ledger_factory.created()
    number = world.official(1, enrol=False)
    assert (
        world.ledger.register.set_email(number, "  Pejabat.Satu@KediriKota.go.id ") == "Pejabat.Satu@kedirikota.go.id"
    )
    with world.ledger.read() as r:
        assert r.official(number).email == "Pejabat.Satu@kedirikota.go.id"  # type: ignore[union-attr]
    assert world.ledger.register.set_email(number, "") is None
    with pytest.raises(NotFound, match="no official with NIP"):
        world.ledger.register.set_email(nip(7), address(7))
    for bad in ("pejabat", "a@b", "a b@c.id", "x@y.id\r\nBcc: z@y.id", "A <a@b.id>", "a@b.id,c@d.id", "é@b.id"):
        with pytest.raises(InvalidInput, match="is not an e-mail address") as caught:
            check_email(bad)
        assert caught.value.code == "official.email"
    assert we.message_of(caught.value, Translator("id")) == "«é@b.id» bukan alamat surel."
    assert check_email("x" * 64 + "@" + "d" * 63 + ".id") is not None
    with pytest.raises(InvalidInput):
        check_email("x" * 64 + "@" + ("d" * 60 + ".") * 4 + "id")  # over 254 characters


def test_an_admin_registers_an_address_and_mails_an_invitation(
    world: LedgerFactory, db_url: str, tmp_path: Path, smtp: LocalSmtp
) -> None:
    """On the web: the official surel dinas is registered with the person, and the admin may
    have the one-time link mailed there as well as shown."""
    from tests.web.conftest import ADMIN as SITE_ADMIN
    from tests.web.conftest import Site, build_site, csrf_of, web_settings

    built = build_site(world, db_url, tmp_path)
    settings = replace(web_settings(db_url, tmp_path), smtp_url=smtp.url())
    site = Site(world, create_app(Runtime.with_context(settings, world.ctx), clock=built.clock), built.clock)
    admin = site.login(SITE_ADMIN)
    added = admin.post(
        "/admin/officials/new",
        data={
            "csrf_token": csrf_of(admin, "/admin/officials/new"),
            "nip": nip(7),
            "name": "Pejabat Tujuh",
            "title": "Kepala Dinas",
            "unit": "Dinas Komunikasi dan Informatika",
            "role": "official",
            "email": address(7),
        },
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text[:300]
    form = f"/admin/invite?nip={nip(7)}"
    assert 'name="mail"' in admin.get(form).text
    page = admin.post(
        "/admin/invite",
        data={"csrf_token": csrf_of(admin, form), "nip": nip(7), "passphrase": passphrase(SITE_ADMIN), "mail": "yes"},
    )
    assert page.status_code == 200 and address(7) in page.text, page.text[:500]
    link = page.text.split('id="link-1"', 1)[1].split(">", 1)[1].split("<", 1)[0].strip()
    (arrived,) = [r for r in smtp.inbox.received if address(7) in r.rcpt_tos]
    assert link in arrived.body and "/enrol/" in link
