"""Protocol order from the position as written under a signature, and names sorted without titles."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from signing.protocol import (
    ASISTEN,
    HEAD,
    OTHER,
    SEKDA,
    STAF_AHLI,
    WAKIL_WALI_KOTA,
    WALI_KOTA,
    in_protocol_order,
    name_key,
    position_rank,
    protocol_key,
)

AGENCIES = (
    "Sekretariat Daerah",
    "Sekretariat DPRD",
    "Inspektorat",
    "Dinas Pendidikan",
    "Dinas Kesehatan",
    "Dinas Perhubungan",
    "Dinas Komunikasi dan Informatika",
    "Kecamatan Mojoroto",
)


@dataclass(frozen=True)
class Signatory:
    name: str
    position: str
    unit: str


# The order a Pemkot seats them in: what a shuffled selection must come back as.
SEATED = [
    Signatory("H. Abdullah Abu Bakar, S.E.", "Wali Kota Kediri", "Pemerintah Kota Kediri"),
    Signatory("Regina Nadya Suwono", "Wakil Wali Kota Kediri", "Pemerintah Kota Kediri"),
    Signatory("Drs. Bagus Alit, M.Si.", "Sekretaris Daerah Kota Kediri", "Sekretariat Daerah"),
    Signatory("Ir. Zainal Arifin", "Asisten Pemerintahan dan Kesejahteraan Rakyat", "Sekretariat Daerah"),
    Signatory("Apip Permana", "Asisten Perekonomian dan Pembangunan", "Sekretariat Daerah"),
    Signatory("Bambang Priyambodo", "Asisten Administrasi Umum", "Sekretariat Daerah"),
    Signatory("Yuni Astuti", "Staf Ahli Wali Kota Bidang Hukum dan Politik", "Sekretariat Daerah"),
    Signatory("Ahmad Fatoni", "Sekretaris DPRD Kota Kediri", "Sekretariat DPRD"),
    Signatory("Eko Lukmono", "Inspektur Kota Kediri", "Inspektorat"),
    Signatory("Anang Kurniawan", "Kepala Dinas Pendidikan Kota Kediri", "Dinas Pendidikan"),
    Signatory("dr. Fauzan Adima, M.Kes.", "Kepala Dinas Kesehatan Kota Kediri", "Dinas Kesehatan"),
    Signatory("Budi Santoso, S.Kom., M.T.", "Plt. Kepala Dinas Perhubungan Kota Kediri", "Dinas Perhubungan"),
    Signatory("Apip Sulaiman", "Kepala Dinas Komunikasi dan Informatika", "Dinas Komunikasi dan Informatika"),
    Signatory("Dr. Chairul Anam", "Kepala Dinas Komunikasi dan Informatika", "Dinas Komunikasi dan Informatika"),
    Signatory("Ferry Djatmiko", "Camat Mojoroto", "Kecamatan Mojoroto"),
    Signatory("Siti Aminah", "Kepala Badan Pendapatan Daerah", "Badan Pendapatan Daerah"),  # not on the list
    Signatory("Hj. Wiwik Sulastri", "Kepala Bagian Umum", "Sekretariat Daerah"),
    Signatory("Nur Hidayat", "Pranata Komputer Ahli Muda", "Dinas Komunikasi dan Informatika"),
]


@pytest.mark.parametrize(
    ("position", "rank"),
    [
        ("Wali Kota Kediri", WALI_KOTA),
        ("Walikota Kediri", WALI_KOTA),
        ("Pj. Wali Kota Kediri", WALI_KOTA),
        ("Wakil Wali Kota Kediri", WAKIL_WALI_KOTA),
        ("Sekretaris Daerah Kota Kediri", SEKDA),
        ("Plh. Sekretaris Daerah", SEKDA),
        ("Asisten Pemerintahan dan Kesejahteraan Rakyat", ASISTEN),
        ("Staf Ahli Wali Kota Bidang Ekonomi", STAF_AHLI),
        ("Plt. Kepala Dinas Perhubungan Kota Kediri", HEAD),
        ("Kepala Badan Perencanaan Pembangunan Daerah", HEAD),
        ("Kepala Satuan Polisi Pamong Praja", HEAD),
        ("Sekretaris DPRD Kota Kediri", HEAD),
        ("Inspektur Kota Kediri", HEAD),
        ("Camat Kota", HEAD),
        ("Direktur RSUD Gambiran", HEAD),
        ("Sekretaris Dinas Kesehatan", OTHER),
        ("Kepala Bidang Aplikasi Informatika", OTHER),
        ("Kepala Bagian Organisasi", OTHER),
        ("Inspektur Pembantu Wilayah I", OTHER),
        ("Pranata Komputer", OTHER),
        ("", OTHER),
    ],
)
def test_the_rank_is_read_from_the_position(position: str, rank: int) -> None:
    assert position_rank(position) == rank


def test_a_shuffled_selection_comes_back_in_protocol_order() -> None:
    for seed in range(20):
        shuffled = SEATED[:]
        random.Random(seed).shuffle(shuffled)
        ordered = in_protocol_order(shuffled, lambda s: s.position, lambda s: s.unit, lambda s: s.name, AGENCIES)
        assert [s.name for s in ordered] == [s.name for s in SEATED], f"seed {seed}"


def test_without_an_agency_list_heads_are_ordered_by_agency_name_then_name() -> None:
    heads = [s for s in SEATED if position_rank(s.position) == HEAD]
    ordered = in_protocol_order(reversed(heads), lambda s: s.position, lambda s: s.unit, lambda s: s.name)
    assert [s.unit for s in ordered] == sorted(s.unit for s in heads)
    kominfo = [s.name for s in ordered if s.unit == "Dinas Komunikasi dan Informatika"]
    assert kominfo == ["Apip Sulaiman", "Dr. Chairul Anam"]  # "Dr." is not sorted as a name


def test_the_key_names_rank_agency_and_name() -> None:
    key = protocol_key("Plt. Kepala Dinas Perhubungan Kota Kediri", "Dinas Perhubungan", "Budi, S.T.", AGENCIES)
    assert key == (HEAD, 0, AGENCIES.index("Dinas Perhubungan"), "dinas perhubungan", "budi")
    assert protocol_key("Kepala Dinas X", "Dinas X", "A", AGENCIES)[2] == len(AGENCIES)  # not listed: after


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Budi Santoso, S.Kom., M.T.", "budi santoso"),
        ("dr. Fauzan Adima, M.Kes.", "fauzan adima"),
        ("Drs. H. Abdullah Abu Bakar, M.M.", "abdullah abu bakar"),
        ("Prof. Dr. Ir. Hj. Siti Ümmü", "siti ummu"),
        ("Hendra", "hendra"),
        ("Hadi", "hadi"),  # a name beginning with H is not a title
        ("Ir.", "ir."),  # nothing but a title: kept as written
    ],
)
def test_names_sort_without_titles(name: str, key: str) -> None:
    assert name_key(name) == key


def test_officials_sort_under_their_names() -> None:
    names = ["Drs. Zainal", "Budi Santoso, S.Kom., M.T.", "dr. Ani", "Hj. Citra", "Prof. Dr. Bambang"]
    assert sorted(names, key=name_key) == [
        "dr. Ani",
        "Prof. Dr. Bambang",
        "Budi Santoso, S.Kom., M.T.",
        "Hj. Citra",
        "Drs. Zainal",
    ]
