"""Reading entries ahead of the rows that need them, for a store whose reads are network round trips.

On S3 a read is a GET of 10–50 ms: read one row at a time, a warm chunk of 12,000 rows would wait minutes on S3,
longer than building its decoys. Here the entries of the next rows are read on a small thread pool while the rows
before them are staged, so the waits overlap. Nothing else changes: every key is read exactly once (as the row's
own read would have), the outcome (bytes, None, or the exception the store raised) is handed to the row that
asked, and :meth:`DecoyCache.decoys` judges it as it judges a read of its own.

A key already waiting in the window (the same molecule twice a few rows apart) is not read ahead: its row reads
when it is staged, after the earlier row has stored its entry, so it hits as it would have without read-ahead.
"""

from __future__ import annotations

from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from concurrent.futures import Future

    from hetero_core.cache._cache import EntryStore

_T = TypeVar("_T")

# Rows read ahead per concurrent read: twice the pool, so a thread freed by one answer finds the next key waiting.
WINDOW_PER_THREAD = 2


class PendingRead:
    """One entry's read, started ahead of its row; :meth:`result` gives what ``store.read`` gave or raises what it
    raised, so the row's cache event is decided exactly as for a read of its own."""

    __slots__ = ("_future", "key")

    def __init__(self, key: str, future: Future[bytes | None]) -> None:
        self.key = key
        self._future = future

    def result(self) -> bytes | None:
        return self._future.result()


def read_ahead(store: EntryStore, keyed: Iterable[tuple[_T, str | None]]) -> Iterator[tuple[_T, PendingRead | None]]:
    """Pass ``(item, key)`` pairs through in order as ``(item, read)``, with the reads of up to
    ``WINDOW_PER_THREAD × store.read_ahead`` following items already running on ``store.read_ahead`` threads.

    ``key`` None (a row with nothing to look up) and a key still waiting in the window give ``read`` None: that row
    reads for itself, if at all. An item is taken from ``keyed`` (its key computed) only when the window has room,
    and the consumer has finished with every earlier item by then, so memory holds one window of entries.
    """
    threads = store.read_ahead
    window: deque[tuple[_T, PendingRead | None, str | None]] = deque()
    waiting: Counter[str] = Counter()
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="decoy-cache-read")
    try:
        for item, key in keyed:
            pending = None
            if key is not None:
                if not waiting[key]:
                    pending = PendingRead(key, pool.submit(store.read, key))
                waiting[key] += 1
            window.append((item, pending, key))
            if len(window) > WINDOW_PER_THREAD * threads:
                yield _released(window, waiting)
        while window:
            yield _released(window, waiting)
    finally:  # a chunk that stops early leaves no read running behind it
        pool.shutdown(wait=True, cancel_futures=True)


def _released(
    window: deque[tuple[_T, PendingRead | None, str | None]], waiting: Counter[str]
) -> tuple[_T, PendingRead | None]:
    item, pending, key = window.popleft()
    if key is not None:
        waiting[key] -= 1
    return item, pending
