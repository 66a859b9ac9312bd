"""Fixtures of the deployment tests: the throwaway TLS certificate nginx serves."""

from __future__ import annotations

import pytest

from .harness import Tls, require_nginx


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A throwaway CA and site certificate (nginx is required first: without it, nothing to serve)."""
    require_nginx()
    return Tls.make(tmp_path_factory.mktemp("tls"))
