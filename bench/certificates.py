"""Certificates rendered per second: one by one (`certificate_pdf`) and a commitment's in bulk.

Each certificate gathers its evidence from the ledger (the entry, its inclusion proof
against the latest checkpoint, the official), draws the A4 page with its QR code and
embeds the offline proof. The bulk case reads the evidence of every signature of one
commitment once, from one snapshot, and writes their certificates and the commitment's
summary into a zip, as `ikrar certificate --commitment SLUG --all` does.

Runs once `signing.certificate` exists; says "not available yet" before.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from ledger.store import Ledger

from .build import cached_ledger
from .common import Config, Row, console, progress, rate, skipped

TARGET = 30  # certificates per second
BASE_URL = "http://127.0.0.1:8000"


def run(cfg: Config) -> list[Row]:
    try:
        from signing.certificate import certificate_pdf, signature_indexes, write_certificates
    except ImportError as e:
        return [skipped("certificates", f"not available yet ({e.name} is missing)")]
    size = cfg.size(100_000, 3_000)
    count = cfg.size(100, 20)
    ledger = Ledger(f"sqlite:///{cached_ledger(size, progress(f'building {size:,}-entry ledger', size))}")
    now = datetime.now(UTC)
    with ledger.read() as r:
        indexes = [s.index for s in r.latest_signatures(count)]
        checkpoint = r.checkpoint()
    certificate_pdf(ledger, indexes[0], base_url=BASE_URL, now=now, checkpoint=checkpoint)  # warm up fonts and caches
    console.print(f"certificates: {count} one by one ...")
    start = time.perf_counter()
    for index in indexes:
        pdf = certificate_pdf(ledger, index, base_url=BASE_URL, now=now, checkpoint=checkpoint)
        assert pdf.startswith(b"%PDF")
    single = time.perf_counter() - start
    slug = "komitmen-00001"
    bulk_count = len(signature_indexes(ledger, slug))
    console.print(f"certificates: every one of {slug} ({bulk_count}) into a zip ...")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        written = write_certificates(ledger, slug, Path(tmp) / "all.zip", base_url=BASE_URL, now=now)
        bulk = time.perf_counter() - start
        zipped = (Path(tmp) / "all.zip").stat().st_size
    ledger.engine.dispose()
    return [
        Row(
            "certificates",
            f"certificate_pdf one by one, {count} of a {size:,}-entry ledger",
            rate(count, single),
            f"{single / count * 1e3:.0f} ms each",
            "",
            f">= {TARGET}/s",
            count / single >= TARGET,
        ),
        Row(
            "certificates",
            f"bulk: {written} certificates + summary into a zip",
            rate(written, bulk),
            f"{bulk:.1f} s, {zipped / 1e6:.1f} MB",
            "",
        ),
    ]
