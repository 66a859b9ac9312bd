"""Fixtures of the reliability tests: the in-process site of tests/web (its fixtures are
imported here, not copied) and the command line and server helpers of tests/web/live.py."""

from __future__ import annotations

from tests.web.conftest import cheap_argon2, site  # noqa: F401 - fixtures shared with tests/web
