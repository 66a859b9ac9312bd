"""The standalone verifier reads hostile certificate PDFs at bounded cost: decompression bombs
are refused as soon as decoding passes a limit, and huge numbers are refused by name, each
with an error line and exit 1, never a traceback (issue 11, points 1 and 6)."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests import hostile_pdfs as bombs
from tests.certs import signed_certificate
from tests.factories import LedgerFactory

from .test_ikrar_verify import STANDALONE, iv

LIMIT_MB = 200  # the address space the verifier runs in: a naive reader needs GBs for these


def limited(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The verifier as an auditor runs it, in an address space of LIMIT_MB more than Python's own."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, ((LIMIT_MB + 400) * 1024 * 1024,) * 2)

    return subprocess.run(
        [sys.executable, "-I", str(STANDALONE), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=cap,
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: bombs.attachment_bomb(200), "more than 32 attachments"),
        (lambda: bombs.attachment_bomb(30), "packed with the filters FlateDecode FlateDecode"),
        (lambda: bombs.flate_bomb(), "larger than 1024 kB decoded"),
        (lambda: bombs.many_attachments(), "more than 32 attachments"),
    ],
    ids=["doubly-compressed-200", "doubly-compressed-30", "flate-64MB", "1000-attachments"],
)
def test_a_decompression_bomb_is_refused_unread(tmp_path: Path, make, message: str) -> None:
    path = tmp_path / "bomb.pdf"
    path.write_bytes(make())
    with pytest.raises(iv.Invalid, match=message):
        iv.read_attachments(path.read_bytes())
    result = limited("cert", path)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert message in result.stderr


def test_the_decoded_bytes_of_all_streams_together_are_capped() -> None:
    budget = iv._Budget()
    budget.take(iv.MAX_DECODED - 10)
    with pytest.raises(iv.Invalid, match="decodes to more than 4 MB"):
        budget.take(11)


def test_a_5000_digit_number_in_certificate_json_is_named(world: LedgerFactory, tmp_path: Path) -> None:
    _, pdf = signed_certificate(world)
    path = tmp_path / "c.pdf"
    path.write_bytes(bombs.long_number_manifest(pdf))
    result = limited("cert", path)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "error: certificate.json: a number has more than 20 digits" in result.stderr


def test_a_genuine_certificate_still_reads_under_the_limits(world: LedgerFactory, tmp_path: Path) -> None:
    _, pdf = signed_certificate(world)
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    result = limited("cert", path, "--vkey", str(world.ledger.verifier))
    assert result.returncode == 0 and result.stdout.rstrip().endswith("VALID"), result.stderr
