"""``hetero2 decoys``: the table a customer scores with their own model (``hetero_scores.v2`` starts here).

One rule for every CSV the engine writes: user text that a spreadsheet would run as a formula gets a leading
quote (``csv_safety.neutralize_cell``), and the scores reader undoes exactly that, so a scored copy of this
table (or of a pack's decoys.csv) maps back to the input row for row. Rows that got no decoys are listed in
a side report, so nothing disappears silently.
"""

from __future__ import annotations

import csv
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from hetero_core.chunks import stream_results
from hetero_core.io import DEFAULT_COLUMNS, InputColumns, format_cell
from hetero_core.layout import DECOY_COLUMNS
from hetero_core.reasons import Status

if TYPE_CHECKING:
    from collections.abc import Callable

    from hetero_core.config import RunConfig

REPORT_COLUMNS = ("id", "status", "reason", "n_decoys", "decoy_strategy")


@dataclass(frozen=True, slots=True)
class DecoyTableSummary:
    molecules: int
    decoys: int
    skipped: int
    errors: int
    report_path: Path


def write_decoy_table(
    input_path: Path,
    out_path: Path,
    *,
    config: RunConfig,
    workers: int = 1,
    columns: InputColumns = DEFAULT_COLUMNS,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> DecoyTableSummary:
    scan = columns.scan(input_path)
    if on_total:
        on_total(scan.rows)
    report_path = out_path.with_name(out_path.stem + ".rows.csv")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    molecules = decoys = skipped = errors = 0
    with _atomic_csv(out_path) as table, _atomic_csv(report_path) as report:
        table_writer = csv.writer(table, lineterminator="\n")
        report_writer = csv.writer(report, lineterminator="\n")
        table_writer.writerow(DECOY_COLUMNS)
        report_writer.writerow(REPORT_COLUMNS)
        for result in stream_results(columns.read(input_path), config, None, workers=workers):
            for row in result.decoys:
                table_writer.writerow([format_cell(row[column]) for column in DECOY_COLUMNS])
            n = result.n_decoys or 0
            report_writer.writerow(
                [
                    format_cell(v)
                    for v in (result.id, result.status, result.reason, n, result.summary.get("decoy_strategy"))
                ]
            )
            molecules += result.status == Status.OK
            skipped += result.status == Status.SKIP
            errors += result.status == Status.ERROR
            decoys += n
            if on_progress:
                on_progress(1)
    return DecoyTableSummary(molecules, decoys, skipped, errors, report_path)


class _atomic_csv:
    """Write to a temporary file beside the target and rename on success; remove it on failure."""

    def __init__(self, path: Path):
        self._path = path
        descriptor, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        self._temp = Path(temp)
        self._handle = os.fdopen(descriptor, "w", encoding="utf-8", newline="")

    def __enter__(self) -> IO[str]:
        return self._handle

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._handle.close()
        if exc_type is None:
            os.replace(self._temp, self._path)
        else:
            self._temp.unlink(missing_ok=True)
