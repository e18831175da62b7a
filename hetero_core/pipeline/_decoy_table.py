"""``hetero2 decoys``: the table a customer scores with their own model (``hetero_scores.v2`` starts here).

One rule for every CSV the engine writes: user text that a spreadsheet would run as a formula gets a leading
quote (``csv_safety.neutralize_cell``), and the scores reader undoes exactly that, so a scored copy of this
table (or of a pack's decoys.csv) maps back to the input row for row. Rows that got no decoys are listed in
a side report, so nothing disappears silently.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hetero_core.cache import CacheStats
from hetero_core.chunks import stream_results
from hetero_core.io import DEFAULT_COLUMNS, InputColumns, atomic_text_file, format_cell
from hetero_core.layout import DECOY_COLUMNS
from hetero_core.reasons import Status

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from hetero_core.cache import DecoyCache
    from hetero_core.config import RunConfig

REPORT_COLUMNS = ("id", "status", "reason", "n_decoys", "decoy_strategy")


@dataclass(frozen=True, slots=True)
class DecoyTableSummary:
    molecules: int
    decoys: int
    skipped: int
    errors: int
    report_path: Path
    cache: CacheStats = field(default_factory=CacheStats)


def write_decoy_table(
    input_path: Path,
    out_path: Path,
    *,
    config: RunConfig,
    workers: int = 1,
    columns: InputColumns = DEFAULT_COLUMNS,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    cache: DecoyCache | None = None,
) -> DecoyTableSummary:
    scan = columns.scan(input_path)
    if on_total:
        on_total(scan.rows)
    report_path = out_path.with_name(out_path.stem + ".rows.csv")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    molecules = decoys = skipped = errors = 0
    stats = CacheStats()
    with atomic_text_file(out_path) as table, atomic_text_file(report_path) as report:
        table_writer = csv.writer(table, lineterminator="\n")
        report_writer = csv.writer(report, lineterminator="\n")
        table_writer.writerow(DECOY_COLUMNS)
        report_writer.writerow(REPORT_COLUMNS)
        results = stream_results(columns.read(input_path), config, None, workers=workers, cache=cache)
        for result in stats.counting(results):
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
    return DecoyTableSummary(molecules, decoys, skipped, errors, report_path, stats)
