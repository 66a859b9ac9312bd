"""One handler maps every error to a status and a message in the page's language. The
core's own messages that a user meets are translated: each error the core really raises
carries a code the web knows (so an error raised without one fails this test instead of
silently falling back to its class's generic text)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger import errors as le
from ledger.db import make_engine
from ledger.nip import validate_nip
from ledger.schema import migrate
from ledger.store import Ledger
from signing import actions
from signing import errors as se
from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE, LedgerFactory, nip, passphrase
from web import errors as we
from web.i18n import Translator


def _real_errors(world: LedgerFactory, empty: Ledger) -> list[Exception]:
    ctx, ledger, now = world.ctx, world.ledger, world.now
    attempts: list[Callable[[], object]] = [
        lambda: validate_nip("123"),
        lambda: validate_nip("197513402001041001"),
        lambda: validate_nip("183001012001041001"),
        lambda: validate_nip("197501012001131001"),
        lambda: validate_nip("197501011980041001"),
        lambda: validate_nip("197501012001043001"),
        lambda: validate_nip("197501012001041000"),
        lambda: actions.check_new_passphrase("pendek"),
        lambda: actions.check_new_passphrase("aaaaaaaaaaaaaa"),
        lambda: actions.check_new_passphrase("sama-sama-saja", "sama-sama-saja"),
        lambda: actions.register_official(ledger, nip(1), "A", "B", "C", "official", now()),
        lambda: actions.register_official(ledger, nip(7), " ", "B", "C", "official", now()),
        lambda: actions.register_official(ledger, nip(7), "A", "B" * 300, "C", "official", now()),
        lambda: actions.register_official(ledger, nip(7), "A", "B", "C", "raja", now()),
        lambda: actions.register_official(ledger, nip(7), "A\x00", "B", "C", "official", now()),
        lambda: actions.publish(ctx, "baru", "Judul", "Teks\x00", [nip(1)], "uji", now()),
        lambda: actions.get_official(ledger, nip(8)),
        lambda: actions.enrol(ctx, nip(1), "frasa-sandi-baru", now()),
        lambda: actions.publish(ctx, "baru", "Judul", "Teks", [nip(8)], "uji", now()),
        lambda: actions.publish(ctx, "baru", "Judul", "Teks", [], "uji", now()),
        lambda: actions.publish(ctx, "baru", "Judul", "Teks", [nip(1), nip(1)], "uji", now()),
        lambda: actions.publish(ctx, "Bad Slug", "Judul", "Teks", [nip(1)], "uji", now()),
        lambda: actions.publish(ctx, "smart-city", "Judul", "Teks", [nip(1)], "uji", now()),
        lambda: actions.publish(ctx, "baru", "Judul", "   ", [nip(1)], "uji", now()),
        lambda: actions.sign(ctx, "tidak-ada", nip(1), passphrase(1), now()),
        lambda: actions.sign(ctx, "smart-city", nip(4), passphrase(4), now()),
        lambda: actions.sign(ctx, "smart-city", nip(1), "bukan-frasanya", now()),
        lambda: actions.sign(ctx, "smart-city", nip(2), passphrase(2), now()),  # already signed (below)
        lambda: actions.sign(ctx, "smart-city", nip(3), passphrase(3), now()),  # revoked (below)
        lambda: actions.revoke(ctx, nip(5), "alasan", ADMIN_NIP, now(), ADMIN_PASSPHRASE),
        lambda: actions.revoke(ctx, nip(1), " ", ADMIN_NIP, now(), ADMIN_PASSPHRASE),
        lambda: ledger.entry(999),
        lambda: ledger.checkpoint(999),
        lambda: ledger.entries(-1, 10),
        lambda: ledger.tlog_proof(0, 999),
        lambda: ledger.tlog_proof(50),
        lambda: ledger.consistency_proof(3, 2),
        lambda: empty.verifier,
    ]
    world.official(4)
    world.official(5, enrol=False)
    world.sign(2)
    actions.revoke(ctx, nip(3), "uji", ADMIN_NIP, now(), ADMIN_PASSPHRASE)
    found = []
    for attempt in attempts:
        try:
            attempt()
        except (le.LedgerError, se.SigningError) as e:
            found.append(e)
        else:  # pragma: no cover - the list above is meant to fail every time
            raise AssertionError("expected an error")
    return found


def test_the_core_messages_users_meet_are_translated(world: LedgerFactory, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    migrate(engine)
    errors = _real_errors(world, Ledger(engine))
    for e in errors:
        known = we.message_key(e)
        assert known is not None, f"no message of its own for {type(e).__name__} {e.code!r}: {e}"
        assert not known[0].startswith("err.class."), (known[0], str(e))
        for lang in ("id", "en"):
            text = Translator(lang)(known[0], **known[1])
            assert text != known[0] and "{" not in text, (lang, known[0], text)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (le.NotFound("x"), 404),
        (le.InvalidInput("x"), 400),
        (le.Conflict("x"), 409),
        (le.NotInitialized("x"), 503),
        (le.AlreadyInitialized("x"), 409),
        (le.ChainBroken(3, "x"), 500),
        (le.ProofInvalid("x"), 400),
        (le.LedgerError("x"), 503),
        (se.WrongPassphrase("x"), 403),
        (se.WeakPassphrase("x"), 422),
        (se.NotAllowed("x"), 403),
        (se.KeyNotFound("x"), 503),
        (se.SigningError("x"), 400),
        (se.NoCertificate("x"), 404),
        (se.NotAPdf("x"), 415),
        (se.CertificateDamaged("x"), 422),
        (se.ForeignCertificate("x"), 422),
        (le.Conflict("x", code="nip.digits"), 409),  # a message's code keeps its class's status
        (le.Conflict("x", code="invalid"), 409),  # another class's code, passed on, names no message
        (le.NotFound("x", code="no.such.code"), 404),
        (we.FormInvalid("err.mode"), 422),
        (we.LoginRequired(), 401),
        (we.CsrfRejected(), 403),
        (we.LinkInvalid(), 410),
        (ValueError("x"), 500),
    ],
)
def test_each_error_class_has_its_status(error: Exception, status: int) -> None:
    assert we.status_of(error) == status


def test_an_untranslated_message_says_only_safe_things() -> None:
    leaky = le.LedgerError("the database refused the append (psycopg.OperationalError: secret details)")
    for lang in ("id", "en"):
        assert "psycopg" not in we.message_of(leaky, Translator(lang))
    assert we.message_of(le.InvalidInput("a new core message"), Translator("en")) == "a new core message"
    assert we.message_of(le.InvalidInput("a new core message"), Translator("id")) == "Data yang dikirim tidak sah."
    unknown = le.InvalidInput("a new core message", code="brand.new")
    assert we.message_of(unknown, Translator("en")) == "a new core message"
    assert we.message_of(unknown, Translator("id")) == "Data yang dikirim tidak sah."
    assert we.message_of(le.LedgerError("x", code="append.refused"), Translator("id")).startswith("Basis data menolak")


def test_the_lock_message_names_the_time_in_wib_or_the_wait_in_words() -> None:
    from datetime import UTC, datetime, timedelta

    e = we.Throttled("err.sign_locked", datetime(2026, 1, 5, 3, 15, tzinfo=UTC))
    assert re.search(r"dikunci sampai Senin, 5 Januari 2026 pukul 10\.15\.00 WIB", we.message_of(e, Translator("id")))
    assert "until Monday, 5 January 2026 at 10:15:00 WIB" in we.message_of(e, Translator("en"))
    e = we.Throttled(
        "err.login_locked", datetime(2026, 1, 5, 3, 15, tzinfo=UTC), wait=timedelta(minutes=15), address="::1"
    )
    assert "Terkunci; coba lagi dalam 15 menit" in we.message_of(e, Translator("id"))
    assert "Locked; try again in 15 minutes" in we.message_of(e, Translator("en"))
