"""The audit's per-entry work, done ahead of its sequential pass: here, or in worker processes.

`Judges` turns the stored entries and checkpoints into streams of (item, verdict), in
order. With one worker the verdicts are computed here, one item at a time, as the
sequential pass asks. With more, batches go to a process pool a few batches ahead of
the pass, so reading, parsing and the signature checks of several entries run at once
on several cores while the pass still meets every verdict in ledger order. An error
raised by the source itself (a malformed export line, say) is raised at its own place
in the stream, not earlier, so read-ahead changes no outcome.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType
from typing import Any

BATCH = 256
AHEAD = 2  # batches in flight per worker and stream: enough to keep the workers busy

_worker: tuple[Any, ...] = ()


def _start_worker(*judging: Any) -> None:
    global _worker
    _worker = judging


def _verdicts(judging: tuple[Any, ...], what: str, items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
    """(item, verdict) for each item, lazily, in order: here, or in a worker over its batch."""
    judge_entry, judge_checkpoint, verifier = judging
    if what == "entry":
        return ((item, judge_entry(item, verifier)) for item in items)
    return ((item, judge_checkpoint(item, verifier)) for item in items)


def _judge_batch(what: str, items: list[Any]) -> list[Any]:
    return [verdict for _item, verdict in _verdicts(_worker, what, items)]


def _context() -> Any:
    # forkserver: workers start from a clean process, never a fork of one with threads
    # (a progress bar's, a database driver's) that may hold a lock.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


class Judges:
    """Streams of (item, verdict) for the audit; a context manager that owns the worker pool."""

    def __init__(
        self,
        judge_entry: Callable[..., Any],
        judge_checkpoint: Callable[..., Any],
        verifier: Any,
        workers: int,
    ) -> None:
        self._judging = (judge_entry, judge_checkpoint, verifier)
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Judges:
        if self._workers > 1:
            self._pool = ProcessPoolExecutor(
                self._workers, mp_context=_context(), initializer=_start_worker, initargs=self._judging
            )
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def entries(self, items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        return self._stream("entry", items)

    def checkpoints(self, items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        return self._stream("checkpoint", items)

    def _stream(self, what: str, items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        if self._pool is None:
            return _verdicts(self._judging, what, items)
        return self._ahead(self._pool, what, iter(items))

    def _ahead(self, pool: ProcessPoolExecutor, what: str, source: Iterator[Any]) -> Iterator[tuple[Any, Any]]:
        flight: deque[tuple[list[Any], Future[list[Any]] | None, Exception | None]] = deque()

        def submit() -> bool:
            batch: list[Any] = []
            error = None
            try:
                for item in source:
                    batch.append(item)
                    if len(batch) == BATCH:
                        break
            except Exception as e:  # the source's own error: raised when the pass gets there
                error = e
            if batch or error:
                flight.append((batch, pool.submit(_judge_batch, what, batch) if batch else None, error))
            return len(batch) == BATCH and error is None

        more = True
        for _ in range(AHEAD * self._workers):
            more = more and submit()
        while flight:
            batch, future, error = flight.popleft()
            if more:
                more = submit()
            if future is not None:
                yield from zip(batch, future.result(), strict=True)
            if error is not None:
                raise error
