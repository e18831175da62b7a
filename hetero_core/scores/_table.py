"""The ``hetero_scores.v2`` table of a model scored in process: written beside its pack as the scores arrive.

A pack from an in-process model must be the one ``hetero2 run --scores`` writes for the same numbers, so the
numbers are kept in the very format that option reads (:func:`load_external_scores`), every float written
exactly. Rows are formatted where they were scored (a pool worker folds its chunk); the process that writes the
pack only appends text.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from hetero_core.io import atomic_text_file, format_cell, format_exact
from hetero_core.layout import DECOY_COLUMNS
from hetero_core.scores._external import REQUIRED_V2_COLUMNS, SCORE_COLUMN

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

__all__ = ["ScoresTableFile", "format_scored_rows"]


def format_scored_rows(rows: Iterable[Mapping[str, Any]]) -> str:
    """Decoy-table rows with their ``score`` as ``hetero_scores.v2`` lines (an unscored decoy: an empty cell)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([*(format_cell(row[c]) for c in DECOY_COLUMNS), format_exact(row.get(SCORE_COLUMN))])
    return buffer.getvalue()


class ScoresTableFile:
    """The table file: it appears whole when closed after the last row, and not at all when the run fails."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = atomic_text_file(path)
        self._handle = self._file.__enter__()
        csv.writer(self._handle, lineterminator="\n").writerow(REQUIRED_V2_COLUMNS)
        self._closed = False

    def __enter__(self) -> ScoresTableFile:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if not self._closed:
            self._closed = True
            self._file.__exit__(exc_type, exc, tb)

    def write(self, lines: str) -> None:
        self._handle.write(lines)

    def close(self) -> None:
        """Complete the file now: its sha256 goes into the manifest before the pack is sealed."""
        self.__exit__(None, None, None)
