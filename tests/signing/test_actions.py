"""Enrol, publish, sign, revoke: each refusal is clear and writes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger.errors import Conflict, InvalidInput, NotFound
from signing import actions
from signing.errors import NotAllowed, WeakPassphrase, WrongPassphrase
from tests.factories import ADMIN_NIP, ADMIN_PASSPHRASE, LedgerFactory, nip, passphrase


def _unchanged(world: LedgerFactory, attempt: Callable[[], object], error: type[Exception], match: str) -> None:
    size, note = world.ledger.size(), world.ledger.checkpoint().note
    files = sorted(world.keys.directory.iterdir())
    with pytest.raises(error, match=match):
        attempt()
    assert (world.ledger.size(), world.ledger.checkpoint().note) == (size, note)
    assert sorted(world.keys.directory.iterdir()) == files


def test_sign_refusals_write_nothing(world: LedgerFactory) -> None:
    ctx, now = world.ctx, world.now()
    _unchanged(
        world, lambda: actions.sign(ctx, "smart-city", nip(1), "salah-sandi-x", now), WrongPassphrase, "does not open"
    )
    world.official(4)  # registered and enrolled, but not on the commitment's list
    _unchanged(
        world,
        lambda: actions.sign(ctx, "smart-city", nip(4), passphrase(4), now),
        NotAllowed,
        "not a required signatory",
    )
    _unchanged(
        world, lambda: actions.sign(ctx, "tidak-ada", nip(1), passphrase(1), now), NotFound, "no commitment 'tidak-ada'"
    )
    world.sign(1)
    _unchanged(world, lambda: actions.sign(ctx, "smart-city", nip(1), passphrase(1), now), NotAllowed, "already signed")
    actions.revoke(ctx, nip(2), "kunci hilang", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    _unchanged(world, lambda: actions.sign(ctx, "smart-city", nip(2), passphrase(2), now), NotAllowed, "no active key")


def test_the_ledger_rechecks_under_its_lock(world: LedgerFactory) -> None:
    """Even past the early checks, a second signature is refused by the ledger's own rules."""
    first = world.sign(1).entry
    fields = dict(first.fields)
    _unchanged(
        world,
        lambda: world.ledger.append("commitment.signed", fields, world.signer, world.now()),
        Conflict,
        "already signed",
    )


def test_revoke_then_enrol_again_then_sign(world: LedgerFactory) -> None:
    ctx = world.ctx
    old = actions.active_key(world.ledger, nip(2))
    actions.revoke(ctx, nip(2), "ganti perangkat", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE)
    assert actions.active_key(world.ledger, nip(2)) is None
    _unchanged(
        world,
        lambda: actions.revoke(ctx, nip(2), "lagi", ADMIN_NIP, world.now(), ADMIN_PASSPHRASE),
        NotAllowed,
        "no active key to revoke",
    )
    world.invite(2)
    _unchanged(
        world,
        lambda: actions.enrol(ctx, nip(2), "sandi-baru-yang-panjang", world.now()),
        NotAllowed,
        "needs a second admin's approval first",
    )
    world.approve(2)
    actions.enrol(ctx, nip(2), "sandi-baru-yang-panjang", world.now())
    new = actions.active_key(world.ledger, nip(2))
    assert new is not None and new != old
    signed = actions.sign(ctx, "smart-city", nip(2), "sandi-baru-yang-panjang", world.now())
    assert signed.entry.fields["key"] == str(new)


def test_enrol_and_register_refusals(world: LedgerFactory) -> None:
    ctx = world.ctx
    _unchanged(
        world, lambda: actions.enrol(ctx, nip(1), passphrase(1), world.now()), NotAllowed, "already has an active key"
    )
    _unchanged(world, lambda: actions.enrol(ctx, nip(9), passphrase(9), world.now()), NotFound, "no official with NIP")
    actions.register_official(world.ledger, nip(5), "Lima", "Kepala", "Dinas", "official", world.now())
    _unchanged(
        world, lambda: actions.enrol(ctx, nip(5), "pendek", world.now()), WeakPassphrase, "at least 10 characters"
    )
    _unchanged(
        world, lambda: actions.enrol(ctx, nip(5), "aaaaaaaaaaaa", world.now()), WeakPassphrase, "4 different characters"
    )
    _unchanged(
        world,
        lambda: actions.enrol(ctx, nip(5), "sama-dengan-sandi", world.now(), password="sama-dengan-sandi"),
        WeakPassphrase,
        "differ from the login password",
    )
    with pytest.raises(Conflict, match="already registered"):
        actions.register_official(world.ledger, nip(5), "Lima", "Kepala", "Dinas", "official", world.now())
    with pytest.raises(InvalidInput, match="role must be one of"):
        actions.register_official(world.ledger, nip(6), "Enam", "Kepala", "Dinas", "boss", world.now())


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12345", "exactly 18 digits"),
        ("19751314200104100A", "exactly 18 digits"),
        ("197513142001041001", "not a date of birth"),
        ("193003142001041001", "not plausible"),
        ("197503142001131001", "not a month of appointment"),
        ("197503141980041001", "not plausible for that date of birth"),
        ("197503142001043001", "digit 15 must be 1 or 2"),
        ("197503142001041000", "cannot be 000"),
    ],
)
def test_nip_rules(world: LedgerFactory, value: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        actions.register_official(world.ledger, value, "X", "Y", "Z", "official", world.now())


def test_publish_refusals(world: LedgerFactory) -> None:
    ctx = world.ctx
    _unchanged(
        world,
        lambda: actions.publish(ctx, "smart-city", "T", "x", world.officials, "a", world.now()),
        Conflict,
        "already published",
    )
    _unchanged(
        world, lambda: actions.publish(ctx, "baru", "T", "x", [], "a", world.now()), InvalidInput, "at least one"
    )
    _unchanged(
        world,
        lambda: actions.publish(ctx, "baru", "T", "x", [nip(9)], "a", world.now()),
        InvalidInput,
        "not registered",
    )
    _unchanged(
        world,
        lambda: actions.publish(ctx, "Baru Sekali", "T", "x", world.officials, "a", world.now()),
        Conflict,
        "slug must be",
    )
    _unchanged(
        world,
        lambda: actions.publish(ctx, "baru", "T", "x", [nip(1), nip(1)], "a", world.now()),
        Conflict,
        "listed twice",
    )
