"""An official without a NIP is never named as a NIP in an error message (rules version 4)."""

from __future__ import annotations

import pytest

from ledger.errors import Conflict
from tests.factories import nip
from web.errors import detail_of, message_of
from web.i18n import Translator


@pytest.mark.parametrize(
    ("lang", "identified", "numbered"),
    [
        ("id", "pengenal pn-7kq3xa sudah menandatangani", f"NIP {nip(1)} sudah menandatangani"),
        ("en", "identifier pn-7kq3xa has already signed", f"NIP {nip(1)} has already signed"),
    ],
)
def test_an_identifier_is_said_as_one_and_a_nip_as_a_nip(lang: str, identified: str, numbered: str) -> None:
    t = Translator(lang)
    without = Conflict("x", code="sign.already", nip="pn-7kq3xa", slug="s")
    with_nip = Conflict("x", code="sign.already", nip=nip(1), slug="s")
    assert identified in message_of(without, t) and "NIP" not in message_of(without, t)
    assert identified in detail_of(without, t)
    assert numbered in message_of(with_nip, t)
