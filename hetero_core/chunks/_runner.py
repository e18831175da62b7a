"""Batch runner: stream an input file through the chunk function on a process pool, in input order.

Memory stays flat in input size: rows are read lazily, at most a few chunks per worker are in flight, and each
result goes straight to the pack on disk. When a worker dies the pool is rebuilt, the chunk is re-run row by row
in isolated workers, and only a row that kills its worker again becomes ERROR ``chunk_failed``; no row is lost.

The per-molecule timeout uses SIGALRM, which only the main thread of a process receives: pool workers and the
CLI have it; an embedding that runs rows in a non-main thread gets no timeout (see hetero_core.timeouts).
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import sys
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from hetero_core.chunks._process import RowResult, errored_row, process_rows
from hetero_core.reasons import ErrorReason, SkipReason

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from hetero_core.cache import DecoyCache
    from hetero_core.config import RunConfig
    from hetero_core.records import InputRow
    from hetero_core.scores import Scorer

DEFAULT_CHUNK_ROWS = 16
_IN_FLIGHT_PER_WORKER = 4

_T = TypeVar("_T")
# a chunk's results, folded where they were computed (e.g. formatted for the pack) before they travel back
Fold: TypeAlias = "Callable[[list[RowResult]], Any]"

_worker_state: tuple[RunConfig, Scorer | None, DecoyCache | None, Fold | None] | None = None


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def mark_duplicates(rows: Iterable[InputRow]) -> Iterator[InputRow]:
    """Second and later rows with an id already seen become ``duplicate_id`` SKIPs (ids are kept in memory)."""
    seen: set[str] = set()
    for row in rows:
        if row.id in seen and row.error is None:
            yield dataclasses.replace(row, error=SkipReason.DUPLICATE_ID.value)
        else:
            seen.add(row.id)
            yield row


def stream_results(
    rows: Iterable[InputRow],
    config: RunConfig,
    scorer: Scorer | None,
    *,
    workers: int = 1,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    on_result: Callable[[RowResult], None] | None = None,
    cache: DecoyCache | None = None,
) -> Iterator[RowResult]:
    """Every row's result, in input order. ``workers`` 1 runs in this process (no pool)."""
    marked = mark_duplicates(rows)
    if workers <= 1:
        for result in process_rows(marked, config, scorer, cache):
            if on_result:
                on_result(result)
            yield result
        return
    for results in _pooled(marked, config, scorer, workers, chunk_rows, cache, None):
        for result in results:
            if on_result:
                on_result(result)
            yield result


def stream_folded(
    rows: Iterable[InputRow],
    config: RunConfig,
    scorer: Scorer | None,
    fold: Callable[[list[RowResult]], _T],
    *,
    workers: int = 1,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    cache: DecoyCache | None = None,
) -> Iterator[_T]:
    """``fold`` of every chunk of consecutive rows' results, in input order; in a pool ``fold`` runs in the worker
    (it must be picklable), so what travels back is what the caller needs, not every result. A chunk re-run row by
    row after a worker died is folded here."""
    marked = mark_duplicates(rows)
    if workers <= 1:
        results = process_rows(marked, config, scorer, cache)
        while chunk := list(islice(results, chunk_rows)):
            yield fold(chunk)
        return
    yield from _pooled(marked, config, scorer, workers, chunk_rows, cache, fold)


def _chunks(rows: Iterator[InputRow], size: int) -> Iterator[list[InputRow]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _pooled(
    rows: Iterator[InputRow],
    config: RunConfig,
    scorer: Scorer | None,
    workers: int,
    chunk_rows: int,
    cache: DecoyCache | None,
    fold: Fold | None,
) -> Iterator[Any]:
    """Each chunk's results (a list, or what ``fold`` made of them in the worker), in input order."""
    chunks = _chunks(rows, chunk_rows)
    pending: deque[tuple[list[InputRow], Future[Any]]] = deque()
    pool = _new_pool(workers, config, scorer, cache, fold)
    try:
        while True:
            while len(pending) < workers * _IN_FLIGHT_PER_WORKER:
                chunk = next(chunks, None)
                if chunk is None:
                    break
                pending.append((chunk, _submit(pool, chunk)))
            if not pending:
                return
            chunk, future = pending.popleft()
            try:
                results = future.result()
            except BrokenProcessPool:
                # Any in-flight chunk may have killed the pool: rebuild it, resubmit the others, and re-run this
                # chunk row by row in isolation so that only a row that kills its worker again is lost to ERROR.
                pool.shutdown(wait=False, cancel_futures=True)
                pool = _new_pool(workers, config, scorer, cache, fold)
                pending = deque((c, _submit(pool, c)) for c, _ in pending)
                isolated = [_run_isolated(row, config, scorer, cache) for row in chunk]
                results = fold(isolated) if fold is not None else isolated
            yield results
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_isolated(row: InputRow, config: RunConfig, scorer: Scorer | None, cache: DecoyCache | None) -> RowResult:
    pool = _new_pool(1, config, scorer, cache)  # no fold: the caller folds the re-run chunk
    try:
        result: RowResult = pool.submit(_run_chunk, [row]).result()[0]
        return result
    except BrokenProcessPool:
        return errored_row(row, ErrorReason.CHUNK_FAILED, "the worker process died while processing this row")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _submit(pool: ProcessPoolExecutor, chunk: list[InputRow]) -> Future[Any]:
    return pool.submit(_run_chunk, chunk)


def _new_pool(
    workers: int, config: RunConfig, scorer: Scorer | None, cache: DecoyCache | None = None, fold: Fold | None = None
) -> ProcessPoolExecutor:
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    context = multiprocessing.get_context(method)
    initargs = (config, scorer, cache, fold)
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=initargs)


def _init_worker(
    config: RunConfig, scorer: Scorer | None, cache: DecoyCache | None = None, fold: Fold | None = None
) -> None:
    global _worker_state  # noqa: PLW0603 - per-process state of a pool worker, set once
    _worker_state = (config, scorer, cache, fold)


def _run_chunk(chunk: list[InputRow]) -> Any:
    """A chunk's results in a worker, folded when the pool was made with a fold."""
    assert _worker_state is not None, "worker not initialised"
    config, scorer, cache, fold = _worker_state
    results = list(process_rows(chunk, config, scorer, cache))
    return fold(results) if fold is not None else results
