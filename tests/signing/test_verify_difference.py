"""How an edited certificate differs from the ledger, said for a reader (`signing.facts`)."""

from __future__ import annotations

import pytest

from signing.cert_formal import certificate_document
from signing.certificate import certificate_pdf
from signing.doc_draw import page_texts
from signing.doc_kop import DEFAULT_OFFICE, Letterhead
from signing.facts import Difference, SignatureFacts, fact_shown, gather_facts, line_difference, narrowed
from signing.verify_cert import drawn_difference, examine_certificate, page_drawings
from signing.wording import format_clock_wib, format_wib

from ..certs import BASE_URL, PRINTED
from ..factories import LedgerFactory


@pytest.fixture()
def facts(world: LedgerFactory) -> SignatureFacts:
    index = world.sign(1).entry.index
    with world.ledger.read() as r:
        return gather_facts(r, index)


def test_each_line_that_shows_a_fact_is_named(facts: SignatureFacts) -> None:
    assert fact_shown(facts, "Pejabat 1") == "name"
    assert fact_shown(facts, "  Kepala  Dinas 1 ") == "position"
    assert fact_shown(facts, "Dinas 1") == "agency"
    assert fact_shown(facts, "Komitmen Bersama") == "commitment_title"
    assert fact_shown(facts, "PEMERINTAH KOTA KEDIRI (UJI)") == "org"
    assert fact_shown(facts, str(facts.index)) == "index"
    assert fact_shown(facts, f"pada {format_wib(facts.time, 'id')}") == "time"
    assert fact_shown(facts, f"on {format_wib(facts.time, 'en')}") == "time"
    assert fact_shown(facts, "NIP 19750314 200104 1 001") == "nip"
    assert fact_shown(facts, facts.leaf_hash) == "leaf_hash"
    assert fact_shown(facts, f"ukuran {facts.checkpoint_size} · akar {facts.checkpoint_root}") == "checkpoint_root"


@pytest.mark.parametrize(
    "line", ["", "SERTIFIKAT", "Pejabat 2", "telah menandatangani secara elektronik komitmen", "7x"]
)
def test_a_line_of_no_fact_is_not_named(facts: SignatureFacts, line: str) -> None:
    assert fact_shown(facts, line) is None


def test_narrowed_keeps_only_the_words_that_differ() -> None:
    assert narrowed("pukul 09.00.00 WIB", "pukul 07.58.13 WIB") == ("09.00.00", "07.58.13")
    assert narrowed("Senin, 5 Januari", "Selasa, 6 Januari") == ("Senin, 5", "Selasa, 6")
    assert narrowed("Pejabat 1 dan 2", "Pejabat 1") == ("Pejabat 1 dan 2", "Pejabat 1")  # nothing replaced: whole
    assert narrowed("a b", "a b") == ("a b", "a b")


def test_an_edited_time_is_narrowed_to_the_clock(facts: SignatureFacts) -> None:
    ledger = f"pada {format_wib(facts.time, 'id')}"
    clock = format_clock_wib(facts.time, "id").removesuffix(" WIB")
    printed = ledger.replace(clock, "09.00.00")
    assert printed != ledger
    assert line_difference(facts, printed, ledger) == Difference("time", "09.00.00", clock)


def test_an_edited_name_is_given_whole(facts: SignatureFacts) -> None:
    assert line_difference(facts, "Pejabat 7", "Pejabat 1") == Difference("name", "Pejabat 7", "Pejabat 1")


def test_added_and_missing_lines(facts: SignatureFacts) -> None:
    assert line_difference(facts, "Dicabut", None) == Difference(None, "Dicabut", None)
    assert line_difference(facts, None, "Dinas 1") == Difference("agency", None, "Dinas 1")
    assert line_difference(facts, "lain", "SERTIFIKAT") == Difference(None, "lain", "SERTIFIKAT")


def test_a_drawing_edited_says_what_it_draws_otherwise(world: LedgerFactory) -> None:
    """Read from the drawings alone (for a page whose text is not extracted as drawn): the
    first string drawn otherwise, read with the codes of Ikrar's own drawing."""
    index = world.sign(1).entry.index
    pdf = certificate_pdf(world.ledger, index, base_url=BASE_URL, now=PRINTED, letterhead=Letterhead(DEFAULT_OFFICE))
    report = examine_certificate(pdf)
    assert report.facts is not None
    ours = page_drawings(pdf)[0].content
    lines = page_texts(certificate_document(report.facts, report.vkey.fingerprint, report.presentation))[0]
    edited = ours.replace(b"(Pejabat 1)", b"(Pejabat 11)")
    assert drawn_difference(edited, ours, lines) == Difference(None, "Pejabat 11", "Pejabat 1")
    assert drawn_difference(ours.replace(b"(Pejabat 1) Tj", b""), ours, lines) == Difference(None, None, "Pejabat 1")
    assert drawn_difference(ours, ours, lines) is None
    assert drawn_difference(ours, ours, lines[1:]) is None  # not Ikrar's lines: the drawings do not tell
