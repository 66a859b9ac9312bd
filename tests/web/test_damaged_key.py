"""A damaged key file is not a wrong passphrase: signing says the key file is damaged and
the attempts never count towards the signing lockout."""

from __future__ import annotations

from signing.actions import VerifierKey
from tests.factories import nip, passphrase
from web import accounts

from .conftest import Site, post


def test_a_damaged_key_file_never_locks_signing(site: Site) -> None:
    c = site.login(1, lang="en")
    with site.ledger.read() as r:
        key = r.active_key(nip(1))
    assert key is not None
    path = site.world.keys.path_for(VerifierKey.parse(key.key))
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    for _ in range(accounts.FREE_FAILURES + 3):
        r = post(c, "/sign/smart-city", {"read": "yes", "passphrase": passphrase(1)})
        assert "damaged" in r.text and "Too many" not in r.text, r.text[-2000:]
    assert (
        site.ledger.register.throttle("sign", nip(1)) is None
        or not site.ledger.register.throttle("sign", nip(1)).failures
    )
    path.write_bytes(whole)  # restored from a backup: signing works at once
    r = post(c, "/sign/smart-city", {"read": "yes", "passphrase": passphrase(1)})
    assert r.status_code == 303, r.text[-2000:]
