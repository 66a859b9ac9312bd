"""The canonical-JSON fast path writes exactly what the reference `rfc8785.dumps` writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.canonical import canonical_json, parse_canonical
from ledger.entries import make_entry, parse_time
from ledger.errors import InvalidInput

# Every character, lone surrogates and astral planes included, and text made of the
# characters that need escaping or sort differently in UTF-16.
tricky = st.sampled_from(
    [
        '"',
        "\\",
        "\x00",
        "\x1f",
        "\x7f",
        "\b",
        "\f",
        "\n",
        "\r",
        "\t",
        "\u2028",
        "\ue000",
        "\U0001f600",
        "\ud800",
        "é",
        "/",
        "<",
    ]
)
text = st.text(st.one_of(st.characters(codec=None, categories=None), tricky), max_size=12)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(2**53), 2**53),
    text,
    st.floats(allow_nan=False, allow_infinity=False),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.one_of(text, st.text(max_size=4)), inner, max_size=5)
    ),
    max_leaves=25,
)


def _reference(value: object) -> bytes | type[Exception]:
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError):
        return InvalidInput


@settings(max_examples=600, deadline=None)
@given(values)
def test_fast_path_equals_rfc8785(value: object) -> None:
    expected = _reference(value)
    if expected is InvalidInput:
        with pytest.raises(InvalidInput, match="cannot be canonicalized"):
            canonical_json(value)
    else:
        assert canonical_json(value) == expected


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), st.one_of(text, st.integers(-(2**53) + 1, 2**53 - 1)), max_size=8))
def test_objects_round_trip_and_only_canonical_bytes_parse(value: dict) -> None:
    expected = _reference(value)
    if expected is InvalidInput:
        return
    assert parse_canonical(expected) == value
    with pytest.raises(InvalidInput, match="not in canonical form"):
        parse_canonical(b"{ " + expected[1:])


def test_known_answers() -> None:
    # RFC 8785 §3.2.3's sorting example: keys by UTF-16 code units, not by code points.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\x80": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    out = canonical_json(value)
    assert out == rfc8785.dumps(value)
    order = ["\r", "1", "\x80", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]  # as printed in the RFC
    assert list(json.loads(out)) == order
    assert (
        canonical_json({"b": [1, True, None, "é\n"], "a": -(2**53) + 1})
        == b'{"a":-9007199254740991,"b":[1,true,null,"\xc3\xa9\\n"]}'
    )
    for bad in ({"a": 2**53}, {"a": float("nan")}, {1: "a"}, {"a": "\ud800"}, {"a": object()}):
        with pytest.raises(InvalidInput):
            canonical_json(bad)


def test_entry_leaves_are_unchanged() -> None:
    """An entry's leaf bytes, byte for byte, as the reference writes them."""
    fields = {
        "slug": "smart-city",
        "title": "Komitmen \u201cBersama\u201d",
        "text": "Kami\tberkomitmen.\n",
        "text_sha256": "0" * 64,
        "signers": ["197503142001041001"],
        "by": "admin",
    }
    entry = make_entry(7, "commitment.published", datetime(2026, 1, 5, 2, 0, tzinfo=UTC), bytes(32), fields)
    body = {"index": 7, "kind": "commitment.published", "prev": "0" * 64, "time": "2026-01-05T02:00:00Z", **fields}
    assert entry.leaf == rfc8785.dumps(body)


@given(st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z"))
def test_time_parsing_agrees_with_strptime(stamp: str) -> None:
    try:
        expected: datetime | None = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(InvalidInput, match="not a real time"):
            parse_time(stamp)
    else:
        assert parse_time(stamp) == expected


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-02-29T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T00:60:00Z",
        "2026-01-01T00:00:60Z",
        "0000-01-01T00:00:00Z",
    ],
)
def test_impossible_times_are_refused(stamp: str) -> None:
    with pytest.raises(InvalidInput, match="not a real time"):
        parse_time(stamp)


def test_times_have_one_spelling() -> None:
    with pytest.raises(InvalidInput, match="is not YYYY-MM-DDTHH:MM:SSZ"):
        parse_time("\u0662\u0660\u0662\u0666-01-05T02:00:00Z")  # Arabic-Indic digits for 2026


@given(st.datetimes(timezones=st.timezones()))
def test_time_formatting_agrees_with_strftime(moment: datetime) -> None:
    from ledger.entries import TIME_FORMAT, format_time

    assert format_time(moment) == moment.astimezone(UTC).strftime(TIME_FORMAT)
