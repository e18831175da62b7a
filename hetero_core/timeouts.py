"""Wall-clock limits on engine work (a molecule, a batch of a customer's scorer), by SIGALRM.

RDKit calls are short and the engine returns to Python between them, so the alarm lands promptly. Signals reach
only the main thread: Lambda, the Fargate pool and the CLI's workers run work there; elsewhere (a thread of an
embedding application) no limit applies, and the caller's docs say so.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator


@contextmanager
def time_limit(seconds: float | None, error: type[BaseException]) -> Iterator[None]:
    """Raise ``error`` after ``seconds`` of wall time; no limit when ``seconds`` is None or off the main thread.

    Limits do not nest: the engine never runs one inside another (batches are scored outside molecule limits).
    """
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _expired(signum: int, frame: object) -> None:
        raise error

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
