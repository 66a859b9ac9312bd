"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme): the exact bytes of a leaf.

`rfc8785.dumps` is the reference. For the values entries are made of — str, int in the
IEEE 754 safe range, bool, None, lists, and dicts whose keys are ASCII strings — the C
JSON encoder of the standard library writes the very same bytes: RFC 8785 sorts keys by
their UTF-16 code units, which for ASCII is Python's order; it escapes exactly `"`,
`\\` and the control characters below U+0020 (``\\b \\t \\n \\f \\r`` short, the others
``\\u00xx`` lowercase) and writes every other character as UTF-8, as ``json.dumps(...,
ensure_ascii=False)`` does. Anything else (floats, big integers, non-ASCII keys, lone
surrogates, other types) goes to the reference. tests/ledger/test_canonical.py checks
the two against each other with Hypothesis.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import rfc8785

from .errors import InvalidInput

_SAFE_INT = 2**53 - 1


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


def _make_encoder() -> Any:
    """The C encoder, made once (json.dumps makes one a call): compact, sorted, UTF-8 text."""
    c_make = getattr(json.encoder, "c_make_encoder", None)
    if c_make is None:  # an interpreter without the C accelerator
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False).encode
    chunks = c_make(None, _refuse, json.encoder.encode_basestring, None, ":", ",", True, False, False)
    return lambda value: "".join(chunks(value, 0))


_encode: Callable[[Any], str] = _make_encoder()


def _plain(value: Any) -> bool:
    """Whether the standard library's encoder writes `value` exactly as RFC 8785 does."""
    t = type(value)
    if t is str or t is bool or value is None:
        return True
    if t is int:
        return bool(-_SAFE_INT <= value <= _SAFE_INT)
    if t is dict:
        for k, v in value.items():
            if type(k) is not str or not k.isascii():
                return False
            tv = type(v)  # the scalars inline: entries are flat objects, checked once per read
            if tv is str or tv is bool or v is None:
                continue
            if tv is int and -_SAFE_INT <= v <= _SAFE_INT:
                continue
            if not _plain(v):
                return False
        return True
    if t is list:
        return all(type(v) is str or _plain(v) for v in value)
    return False


def canonical_json(value: Any) -> bytes:
    """Return the RFC 8785 encoding of `value` (UTF-8 bytes).

    Raises InvalidInput for values JSON cannot hold exactly (floats out of range, non-string keys).
    """
    if _plain(value):
        try:
            return _encode(value).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: the reference refuses it, with its own message
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as e:
        raise InvalidInput(f"value cannot be canonicalized: {e}", code="json.not_canonicalizable", error=str(e)) from e


MAX_INT_DIGITS = 20  # every integer an entry holds fits; a longer one is refused unread


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise json.JSONDecodeError(f"a number of {len(text)} digits", text[:40], 0)
    return int(text)


def parse_canonical(data: bytes) -> dict[str, Any]:
    """Parse leaf bytes that must be a canonical JSON object; refuse anything else.

    Raises InvalidInput when the bytes are not UTF-8 JSON, not an object, or not canonical.
    """
    try:
        value = json.loads(data.decode("utf-8"), parse_int=_bounded_int)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise InvalidInput(f"not UTF-8 JSON: {e}", code="json.malformed", error=str(e)) from e
    if not isinstance(value, dict):
        raise InvalidInput("not a JSON object", code="json.not_object")
    if canonical_json(value) != data:
        raise InvalidInput("not in canonical form (RFC 8785)", code="json.not_canonical")
    return value
