"""The unit of work: a chunk of input rows in, one result per row out; the local pool that runs chunks."""

from __future__ import annotations

from hetero_core.chunks._process import (
    RowResult,
    errored_row,
    process_rows,
)
from hetero_core.chunks._runner import (
    default_workers,
    mark_duplicates,
    stream_folded,
    stream_results,
)

__all__ = [
    "RowResult",
    "default_workers",
    "errored_row",
    "mark_duplicates",
    "process_rows",
    "stream_folded",
    "stream_results",
]
