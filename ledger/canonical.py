"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme): the exact bytes of a leaf."""

from __future__ import annotations

import json
from typing import Any

import rfc8785

from .errors import InvalidInput


def canonical_json(value: Any) -> bytes:
    """Return the RFC 8785 encoding of `value` (UTF-8 bytes).

    Raises InvalidInput for values JSON cannot hold exactly (floats out of range, non-string keys).
    """
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as e:
        raise InvalidInput(f"value cannot be canonicalized: {e}") from e


def parse_canonical(data: bytes) -> dict[str, Any]:
    """Parse leaf bytes that must be a canonical JSON object; refuse anything else.

    Raises InvalidInput when the bytes are not UTF-8 JSON, not an object, or not canonical.
    """
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise InvalidInput(f"not UTF-8 JSON: {e}") from e
    if not isinstance(value, dict):
        raise InvalidInput("not a JSON object")
    if canonical_json(value) != data:
        raise InvalidInput("not in canonical form (RFC 8785)")
    return value
