"""A progress bar on stderr for long runs; silent when stderr is not a terminal or with ``--quiet``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tqdm import tqdm

if TYPE_CHECKING:
    from types import TracebackType


class Progress:
    def __init__(self, label: str, *, quiet: bool = False):
        self._label = label
        self._enabled = not quiet and sys.stderr.isatty()
        self._bar: tqdm | None = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.close()

    def set_total(self, total: int) -> None:
        if self._enabled:
            self._bar = tqdm(total=total, desc=self._label, unit="mol", file=sys.stderr, dynamic_ncols=True)

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)
