"""The standalone verifier keeps a ledger's rules by version: version 1 unless `ledger.created`
names another (`rules`) or a `ledger.rules` entry raises it; version 2 adds that an entry's
time is never before the time of the entry before it, from the point where it took effect
on and never before it. Version 3 (vouching for keys) is tested in test_vouching.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .handmade import VKEY, T, build, created, published, rules
from .test_ikrar_verify import broken_at, iv, standalone

KEY = iv.VKey.parse(VKEY)


def verdict(folder: Path) -> Any:
    """The report, or the Broken naming the first broken entry."""
    try:
        return iv.verify_export(folder, KEY)[0]
    except iv.Broken as e:
        return e


def backwards(at: int) -> str:
    return f"its time {T.format(at)} is before the time of entry"


# -- version 1: nothing about time order, as every ledger made before ------------------------


def test_a_version_1_ledger_with_times_going_backwards_still_verifies(tmp_path: Path) -> None:
    folder = tmp_path / "v1"
    build(folder, [created(T.format(5)), published(T.format(3), "a"), published(T.format(1), "b")])
    report = verdict(folder)
    assert isinstance(report, iv.Report), report
    assert (report.size, report.rules) == (3, 1)
    result = standalone("export", folder, "--vkey", VKEY)
    assert result.returncode == 0 and result.stdout.startswith("OK: 3 entries"), result.stderr


# -- version 2 from the start ---------------------------------------------------------------------


def test_a_ledger_created_with_rules_2_refuses_a_time_going_backwards(tmp_path: Path) -> None:
    folder = tmp_path / "v2"
    build(
        folder,
        [
            created(T.format(1), rules=2),
            published(T.format(2), "a"),
            published(T.format(3), "b"),
            published(T.format(2), "c"),
        ],
    )
    broken = verdict(folder)
    assert isinstance(broken, iv.Broken) and broken.index == 3
    assert broken.reason == (
        "commitment.published breaks a rule: its time 2026-01-02T00:00:00Z is before the time of entry 2, "
        "2026-01-03T00:00:00Z"
    )
    result = standalone("export", folder, "--vkey", VKEY)
    assert result.returncode == 1 and broken_at(result.stderr) == 3
    assert "BROKEN at entry 3: commitment.published breaks a rule: its time" in result.stderr


def test_under_rules_2_entry_1_is_not_before_entry_0(tmp_path: Path) -> None:
    build(tmp_path / "x", [created(T.format(2), rules=2), published(T.format(1), "a")])
    broken = verdict(tmp_path / "x")
    assert isinstance(broken, iv.Broken) and broken.index == 1 and backwards(1) in broken.reason


def test_under_rules_2_equal_times_are_in_order(tmp_path: Path) -> None:
    build(tmp_path / "x", [created(T.format(2), rules=2), published(T.format(2), "a"), published(T.format(2), "b")])
    report = verdict(tmp_path / "x")
    assert isinstance(report, iv.Report) and report.rules == 2


# -- version 2 from a ledger.rules entry on ---------------------------------------------------


def _raised(tmp_path: Path, times: list[int]) -> Path:
    """Entry 0, a commitment, the rules raised to 2 at entry 2, then commitments: at the given days."""
    folder = tmp_path / "raised"
    entries = [created(T.format(times[0])), published(T.format(times[1]), "a"), rules(T.format(times[2]), 2)]
    entries += [published(T.format(day), f"c{i}") for i, day in enumerate(times[3:])]
    build(folder, entries)
    return folder


def test_rules_raised_to_2_hold_from_that_entry_on_not_before(tmp_path: Path) -> None:
    report = verdict(_raised(tmp_path, [5, 3, 4, 4, 6]))  # entry 1 went backwards under version 1: no matter
    assert isinstance(report, iv.Report) and (report.size, report.rules) == (5, 2)


def test_rules_raised_to_2_refuse_a_later_time_going_backwards(tmp_path: Path) -> None:
    broken = verdict(_raised(tmp_path, [1, 2, 3, 4, 3]))
    assert isinstance(broken, iv.Broken) and broken.index == 4, broken
    assert broken.reason == (
        "commitment.published breaks a rule: its time 2026-01-03T00:00:00Z is before the time of entry 3, "
        "2026-01-04T00:00:00Z"
    )


def test_the_ledger_rules_entry_itself_keeps_the_new_rule(tmp_path: Path) -> None:
    broken = verdict(_raised(tmp_path, [1, 3, 2, 4]))
    assert isinstance(broken, iv.Broken) and broken.index == 2, broken
    assert broken.reason.startswith("ledger.rules breaks a rule: " + backwards(2) + " 1, 2026-01-03T00:00:00Z")


# -- versions this verifier does not know, or that go nowhere -----------------------------------


@pytest.mark.parametrize(
    ("version", "reason"),
    [
        (6, "the ledger uses rules version 6, which this verifier does not know (it knows up to 5)"),
        (10**15, f"the ledger uses rules version {10**15}, which this verifier does not know"),
        (1, "the ledger names rules version 1: a ledger names version 2 or later, or none"),
        (0, "the ledger names rules version 0"),
        (-2, "the ledger names rules version -2"),
        ("2", "the leaf is not a valid entry: ledger.created field 'rules' must be int"),
        (True, "the leaf is not a valid entry: ledger.created field 'rules' must be int"),
        (None, "the leaf is not a valid entry: ledger.created field 'rules' must be int"),
        (2.5, "the leaf is not a valid entry: ledger.created field 'rules' must be int"),
    ],
)
def test_a_ledger_created_with_rules_not_known_breaks_entry_0(tmp_path: Path, version: Any, reason: str) -> None:
    build(tmp_path / "x", [created(T.format(1), rules=version), published(T.format(2), "a")])
    broken = verdict(tmp_path / "x")
    assert isinstance(broken, iv.Broken) and broken.index == 0, broken
    assert broken.reason.startswith(reason), broken.reason


@pytest.mark.parametrize(
    ("created_with", "version", "reason"),
    [
        ({}, 6, "it raises the ledger's rules to version 6, which this verifier does not know (it knows up to 5)"),
        (
            {"rules": 5},
            6,
            "it raises the ledger's rules to version 6, which this verifier does not know (it knows up to 5)",
        ),
        ({"rules": 5}, 5, "rules version 5 is not above the version in force, 5"),
        ({"rules": 4}, 4, "rules version 4 is not above the version in force, 4"),
        ({"rules": 3}, 3, "rules version 3 is not above the version in force, 3"),
        ({}, 1, "rules version 1 is not above the version in force, 1"),
        ({}, 0, "rules version 0 is not above the version in force, 1"),
        ({"rules": 2}, 2, "rules version 2 is not above the version in force, 2"),
    ],
)
def test_a_ledger_rules_entry_must_raise_to_a_known_version(
    tmp_path: Path, created_with: dict[str, Any], version: int, reason: str
) -> None:
    build(
        tmp_path / "x", [created(T.format(1), **created_with), published(T.format(2), "a"), rules(T.format(3), version)]
    )
    broken = verdict(tmp_path / "x")
    assert isinstance(broken, iv.Broken) and broken.index == 2, broken
    assert broken.reason == f"ledger.rules breaks a rule: {reason}"


def test_rules_cannot_be_raised_twice_to_the_same_version(tmp_path: Path) -> None:
    build(tmp_path / "x", [created(T.format(1)), rules(T.format(2), 2), rules(T.format(3), 2)])
    broken = verdict(tmp_path / "x")
    assert isinstance(broken, iv.Broken) and broken.index == 2
    assert broken.reason == "ledger.rules breaks a rule: rules version 2 is not above the version in force, 2"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"version": "2"}, "ledger.rules field 'version' must be int"),
        ({"version": True}, "ledger.rules field 'version' must be int"),
        ({"version": 2, "why": "x"}, "ledger.rules fields differ: missing [], unexpected ['why']"),
        ({}, "ledger.rules fields differ: missing ['version'], unexpected []"),
    ],
)
def test_a_malformed_ledger_rules_entry_is_not_an_entry(tmp_path: Path, fields: dict[str, Any], reason: str) -> None:
    build(tmp_path / "x", [created(T.format(1)), ("ledger.rules", T.format(2), fields)])
    broken = verdict(tmp_path / "x")
    assert isinstance(broken, iv.Broken) and broken.index == 1
    assert broken.reason == f"the leaf is not a valid entry: {reason}"


def test_a_ledger_cannot_start_with_ledger_rules(tmp_path: Path) -> None:
    build(tmp_path / "x", [rules(T.format(1), 2)])
    broken = verdict(tmp_path / "x")
    assert isinstance(broken, iv.Broken) and broken.index == 0
    assert broken.reason == "the first entry is ledger.rules, not ledger.created"


def test_an_unknown_version_is_said_on_the_command_line(tmp_path: Path) -> None:
    build(tmp_path / "x", [created(T.format(1), rules=6)])
    result = standalone("export", tmp_path / "x", "--vkey", VKEY)
    assert result.returncode == 1
    assert "BROKEN at entry 0: the ledger uses rules version 6, which this verifier does not know" in result.stderr
    version = standalone("--version")
    assert version.stdout.strip() == "ikrar_verify 5.2 (ledger rules up to version 5)"


def test_an_entry_0_with_rules_reads_as_an_entry(tmp_path: Path) -> None:
    """A certificate carries entry 0: its `rules` is a field like any other there."""
    out = build(tmp_path / "x", [created(T.format(1), rules=2)])
    entry = iv.parse_entry(out.leaves[0])
    assert entry.kind == "ledger.created" and entry.fields["rules"] == 2
