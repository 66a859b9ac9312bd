"""The ledger fixtures of tests/conftest.py, for the tests that run the verifier against real ledgers.

These tests import the server freely (they compare its verdict with the verifier's); only
verifier/ikrar_verify.py itself must not.
"""

from __future__ import annotations

from tests.conftest import db_url, ledger_factory, pg_url, sqlite_url, world  # noqa: F401 - fixtures shared with tests/
