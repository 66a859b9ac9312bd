"""Run the PDF work of an untrusted file in a worker process with bounded CPU, memory and time.

A hostile PDF can cost far more to read than its size says (a form drawn thousands of
times, streams that inflate a thousandfold). `Sandbox.run` reads it in a fresh process,
forked from a `forkserver` that has the PDF libraries imported already, under
`RLIMIT_CPU` and `RLIMIT_AS` and a wall-clock timeout after which the process is killed.
At most `slots` files are read at once; one more is refused at once with `Busy` (a
server answers 503 with Retry-After), so hostile uploads never occupy the threads that
serve pages for longer than the timeout, nor more than `slots` of them.

    found = sandbox.run(examine_file, data, ledger.verifier)   # in a worker; raises like examine_file

No web imports: the web's upload routes and the CLI use it alike.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import signal
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, ParamSpec, TypeVar

from .errors import CertificateDamaged, CertificateInvalid, SigningError

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

CPU_SECONDS = 5  # a certificate takes some 0.1 s
WALL_SECONDS = 8.0
MEMORY_BYTES = 256 * 1024 * 1024  # address space a worker may add to what it starts with
SLOTS = 4
RETRY_AFTER = 5  # seconds a refused caller is asked to wait
PRELOAD = ["__main__", "signing.verify_cert"]  # imported once by the forkserver, not by every worker


def _preload() -> list[str]:
    """PRELOAD, and the main module when it was run by name (`python -m web.cli`): each
    worker runs the main module's body again, as multiprocessing prepares it, which is quick
    only when what that body imports is imported already."""
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    name = getattr(spec, "name", None)
    return [*PRELOAD, name] if isinstance(name, str) and not name.endswith("__main__") else PRELOAD


class Busy(SigningError):
    """Every worker is busy: try again in `retry_after` seconds."""

    code = "sandbox.busy"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"{SLOTS} files are being checked already; try again in {retry_after} s", seconds=retry_after)


def _too_slow(detail: str) -> CertificateDamaged:
    return CertificateDamaged(
        f"the file took too long to check ({detail}): not a certificate", code="cert.too_slow", s=int(WALL_SECONDS)
    )


def _too_costly(memory: int) -> CertificateDamaged:
    mb = memory // (1024 * 1024)
    return CertificateDamaged(
        f"the file needs more than {mb} MB to read: not a certificate", code="cert.too_costly", mb=mb
    )


def _vm_size() -> int:
    """This process's address space now, in bytes (0 when unknown)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _limit(cpu: int, memory: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    size = _vm_size()
    if size:
        resource.setrlimit(resource.RLIMIT_AS, (size + memory, size + memory))


def _child(conn: Connection, cpu: int, memory: int, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """The worker: limit itself, run `fn`, send back ("ok", result) or ("error", exception)."""
    try:
        _limit(cpu, memory)
        outcome: tuple[str, Any] = ("ok", fn(*args))
    except MemoryError:
        outcome = ("error", _too_costly(memory))
    except CertificateInvalid as e:
        outcome = ("error", e)
    except Exception as e:  # anything else the file provoked: it is not a certificate we can read
        logger.warning("reading an upload failed unexpectedly: %s", type(e).__name__)
        outcome = ("error", CertificateDamaged(f"the PDF is damaged and cannot be read ({type(e).__name__})"))
    try:
        conn.send(outcome)
    except Exception:  # the result or the error would not pickle
        conn.send(("error", CertificateDamaged("the PDF is damaged and cannot be read")))
    finally:
        conn.close()


class Sandbox:
    """At most `slots` worker processes at once, each under the given limits."""

    def __init__(
        self,
        *,
        slots: int = SLOTS,
        cpu_seconds: int = CPU_SECONDS,
        wall_seconds: float = WALL_SECONDS,
        memory_bytes: int = MEMORY_BYTES,
        retry_after: int = RETRY_AFTER,
    ) -> None:
        if slots < 1:
            raise ValueError("a sandbox needs at least one slot")
        self.slots = slots
        self.cpu_seconds, self.wall_seconds, self.memory_bytes = cpu_seconds, wall_seconds, memory_bytes
        self.retry_after = retry_after
        self._free = threading.BoundedSemaphore(slots)
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(_preload())

    def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args)` in a fresh worker process; its result, or the error it raised.

        `fn` must be importable by name, and its arguments and result picklable. Raises
        Busy (every slot taken), CertificateDamaged with code cert.too_slow (past the CPU
        or wall-clock limit) or cert.too_costly (past the memory limit), or the
        CertificateInvalid `fn` raised.
        """
        if kwargs:
            raise TypeError("Sandbox.run passes positional arguments only")
        if not self._free.acquire(blocking=False):
            raise Busy(self.retry_after)
        try:
            return self._run(fn, args)  # type: ignore[no-any-return]
        finally:
            self._free.release()

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        receive, send = self._ctx.Pipe(duplex=False)
        worker = self._ctx.Process(
            target=_child, args=(send, self.cpu_seconds, self.memory_bytes, fn, args), daemon=True
        )
        outcome: tuple[str, Any] | None = None
        in_time = False
        try:
            worker.start()
            send.close()
            in_time = receive.poll(self.wall_seconds)
            if in_time:
                try:
                    outcome = receive.recv()
                except (EOFError, OSError):  # the worker died without a word: a limit stopped it
                    outcome = None
            worker.join(1.0)
        finally:
            if worker.is_alive():
                worker.kill()
                worker.join()
            receive.close()
        exitcode = worker.exitcode
        worker.close()
        if outcome is None:
            if not in_time:
                logger.warning("an upload took more than %s s to read; its worker was killed", self.wall_seconds)
                raise _too_slow(f"more than {self.wall_seconds:g} s")
            logger.warning("the worker reading an upload stopped with exit code %s", exitcode)
            if exitcode in (-signal.SIGXCPU, -signal.SIGKILL):
                raise _too_slow(f"more than {self.cpu_seconds} s of CPU time")
            raise _too_costly(self.memory_bytes)
        kind, value = outcome
        if kind == "ok":
            return value
        raise value
