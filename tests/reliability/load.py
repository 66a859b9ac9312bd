"""A signing load on a real `ikrar serve`, and the checks that the ledger came through whole.

Each `Signer` is one official in a browser of their own (an httpx client with its cookie
jar): it logs in through the login form and signs its commitments through the signing
form, CSRF tokens and all, and it keeps its session across server restarts. The `Tally`
records what the server acknowledged — a 303 from the signing form, then the index the
page shows — and which requests were in flight when the server went away.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select

from ledger.entries import entry_from_leaf
from ledger.models import CheckpointRow, Commitment, CommitmentSigner, EntryRow, OfficialKey, Signature
from ledger.store import Ledger
from tests.factories import nip
from tests.web.live import ROOT, SIGNED_INDEX, csrf_token, ikrar, login_over_http, signed_index

TIMEOUT = 30  # seconds, for one HTTP request


def password(n: int) -> str:
    return f"kata-sandi-{n}-masuk"


def passphrase(n: int) -> str:
    return f"frasa tanda tangan {n} saya"


def people(count: int) -> dict[str, tuple[str, str, str, str]]:
    """`count` officials for `live.set_up`, each with a login and a signing key."""
    return {nip(n): (f"Pejabat {n}", "official", password(n), passphrase(n)) for n in range(1, count + 1)}


Pair = tuple[str, str]  # (commitment slug, NIP)


@dataclass
class Tally:
    """What the server acknowledged, and what was cut off, across all signers (thread-safe)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: dict[Pair, int | None] = field(default_factory=dict)  # 303 seen; the index once a page showed it
    cut_posts: int = 0  # signing POSTs in flight when the server went away
    in_flight: int = 0
    round_acks: int = 0
    failures: list[str] = field(default_factory=list)  # answers that are wrong even under faults

    def ack(self, pair: Pair, index: int | None) -> None:
        with self.lock:
            known = self.acked.get(pair)
            if known is not None and index is not None and known != index:
                self.failures.append(f"{pair} was acknowledged as entry {known}, later shown as {index}")
            if pair not in self.acked:
                self.round_acks += 1
            if index is not None or pair not in self.acked:
                self.acked[pair] = index if index is not None else known

    def fail(self, message: str) -> None:
        with self.lock:
            self.failures.append(message)

    @contextmanager
    def posting(self) -> Iterator[None]:
        with self.lock:
            self.in_flight += 1
        try:
            yield
        except httpx.TransportError:
            with self.lock:
                self.cut_posts += 1
            raise
        finally:
            with self.lock:
                self.in_flight -= 1

    def new_round(self) -> None:
        with self.lock:
            self.round_acks = 0


class Signer:
    """One official signing `slugs` through the web forms, again after every restart."""

    def __init__(self, n: int, slugs: list[str], tally: Tally) -> None:
        self.n, self.nip, self.tally = n, nip(n), tally
        self.todo = list(slugs)
        self.cookies = httpx.Cookies()

    def run(self, base: str, start: threading.Barrier | None = None) -> None:
        """Sign what is left; returns when all is signed or the server goes away."""
        with httpx.Client(base_url=base, timeout=TIMEOUT, cookies=self.cookies) as c:
            try:
                if c.get("/me").status_code != 200:
                    login_over_http(c, self.nip, password(self.n))
                if start is not None:
                    start.wait(TIMEOUT)
                while self.todo:
                    self._sign(c, self.todo[0])
                    self.todo.pop(0)
            except httpx.TransportError:
                pass  # the server is gone; the next round picks up from here
            except (AssertionError, threading.BrokenBarrierError) as e:
                self.tally.fail(f"official {self.n}: {e}")
            finally:
                self.cookies = httpx.Cookies(c.cookies)

    def _sign(self, c: httpx.Client, slug: str) -> None:
        pair = (slug, self.nip)
        page = c.get(f"/sign/{slug}")
        shown = SIGNED_INDEX.search(page.text) if page.status_code == 200 else None
        if shown:  # signed already: in an earlier round, by a request whose answer was cut off or not read
            self.tally.ack(pair, int(shown.group(1)))
            return
        token = csrf_token(page)
        with self.tally.posting():
            r = c.post(f"/sign/{slug}", data={"csrf_token": token, "read": "yes", "passphrase": passphrase(self.n)})
        if r.status_code != 303:
            raise AssertionError(f"signing {slug}: {r.status_code} {said(r)}")
        self.tally.ack(pair, None)  # the server said "signed"
        self.tally.ack(pair, signed_index(c.get(r.headers["location"])))


ERROR_BOX = re.compile(r'<div class="alert alert-error"[^>]*>(.*?)</div>', re.S)


def said(r: httpx.Response) -> str:
    """What a refused form's page says (its error box, tags dropped), or the start of the answer."""
    box = ERROR_BOX.search(r.text)
    return " ".join(re.sub(r"<[^>]+>", " ", box.group(1)).split()) if box else r.text[:300]


def run_round(base: str, signers: list[Signer], tally: Tally, together: bool = False) -> list[threading.Thread]:
    """Start every signer on its own thread; with `together`, their first POSTs go at once."""
    tally.new_round()
    barrier = threading.Barrier(len(signers)) if together else None
    threads = [threading.Thread(target=s.run, args=(base, barrier), daemon=True) for s in signers]
    for t in threads:
        t.start()
    return threads


def join(threads: list[threading.Thread], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    alive = [t.name for t in threads if t.is_alive()]
    assert not alive, f"signers still running after {timeout} s: {alive}"


# -- the ledger came through whole --------------------------------------------------------


def audit_cli(env: dict[str, str], vkey: str) -> tuple[int, int, int]:
    """`ikrar audit` against the server's database and keys, under the key known at set-up;
    returns (entries, signatures, checkpoints) from its report."""
    out = ikrar(env, "audit", "--vkey", vkey)
    words = out.split()
    assert words[0] == "OK:", out
    return int(words[1]), int(words[3]), int(words[5])


def verify_export_standalone(env: dict[str, str], vkey: str, folder: Path) -> None:
    """`ikrar export`, then the standalone verifier (which shares no code with the server)."""
    ikrar(env, "export", str(folder))
    done = subprocess.run(
        [sys.executable, str(ROOT / "verifier" / "ikrar_verify.py"), "export", str(folder), "--vkey", vkey],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def assert_whole(ledger: Ledger, acked: dict[Pair, int | None]) -> dict[Pair, int]:
    """No half-written entry and nothing acknowledged lost. Returns every signature (slug, nip) → index.

    Every acknowledged signature is in the ledger exactly once, at the index the page
    showed; there is one checkpoint per entry and the Merkle node store gives each one's
    root; the projection tables say exactly what the entries say.
    """
    entries = [entry_from_leaf(leaf) for leaf in _column(ledger, EntryRow, "leaf", "idx")]
    assert [e.index for e in entries] == list(range(len(entries))), "entry indexes are not 0..n-1"
    sizes = _column(ledger, CheckpointRow, "size", "size")
    assert sizes == list(range(1, len(entries) + 1)), f"{len(entries)} entries but checkpoints of sizes {sizes[-5:]}…"
    for size in sizes:
        assert ledger.root(size) == ledger.checkpoint(size).root, f"the tree store disagrees with checkpoint {size}"

    signed: dict[Pair, list[int]] = {}
    for e in entries:
        if e.kind == "commitment.signed":
            signed.setdefault((e.fields["slug"], e.fields["nip"]), []).append(e.index)
    twice = {pair: where for pair, where in signed.items() if len(where) > 1}
    assert not twice, f"signed more than once: {twice}"
    lost = {pair: index for pair, index in acked.items() if pair not in signed}
    assert not lost, f"acknowledged but not in the ledger: {lost}"
    moved = {
        pair: (index, signed[pair][0])
        for pair, index in acked.items()
        if index is not None and signed[pair][0] != index
    }
    assert not moved, f"acknowledged at one index, in the ledger at another: {moved}"

    _assert_projections(ledger, entries)
    return {pair: where[0] for pair, where in signed.items()}


def _column(ledger: Ledger, model: type, name: str, order: str) -> list:
    table = model.__table__  # type: ignore[attr-defined]
    with ledger.engine.connect() as c:
        return list(c.execute(select(table.c[name]).order_by(table.c[order])).scalars())


def _rows(ledger: Ledger, model: type, *names: str) -> set[tuple]:
    table = model.__table__  # type: ignore[attr-defined]
    with ledger.engine.connect() as c:
        return {tuple(row) for row in c.execute(select(*(table.c[n] for n in names)))}


def _assert_projections(ledger: Ledger, entries: list) -> None:
    keys: dict[str, list] = {}
    commitments, signers, signatures = set(), set(), set()
    for e in entries:
        f = e.fields
        if e.kind == "key.enrolled":
            keys[f["key"]] = [f["key"], f["nip"], e.index, None]
        elif e.kind == "key.revoked":
            keys[f["key"]][3] = e.index
        elif e.kind == "commitment.published":
            commitments.add((f["slug"], f["text_sha256"], e.index))
            signers |= {(f["slug"], n, i) for i, n in enumerate(f["signers"])}
        elif e.kind == "commitment.signed":
            signatures.add((e.index, f["slug"], f["nip"], f["key"]))
    assert _rows(ledger, OfficialKey, "key", "nip", "enrolled_index", "revoked_index") == {
        tuple(k) for k in keys.values()
    }
    assert _rows(ledger, Commitment, "slug", "text_sha256", "published_index") == commitments
    assert _rows(ledger, CommitmentSigner, "slug", "nip", "position") == signers
    assert _rows(ledger, Signature, "idx", "slug", "nip", "key") == signatures, (
        "the signature table is not the entries'"
    )
    with ledger.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Signature.__table__)).scalar() == len(signatures)
