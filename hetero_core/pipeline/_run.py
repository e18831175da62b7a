"""One audit run end to end: validate the input, stream it through the engine, seal the evidence pack.

The input is scanned in full before any chemistry, so a file-level fault stops the run before anything is
written; the pack is assembled in a staging folder and only moved into place when it is complete.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hetero_core.cache import CacheStats
from hetero_core.chunks import stream_folded
from hetero_core.io import DEFAULT_COLUMNS, InputColumns
from hetero_core.pack import PackInfo, ShareFolder, Signer, assemble_pack, scorer_facts
from hetero_core.scores import ScoresTableFile, load_external_scores

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime
    from pathlib import Path

    from hetero_core.audit import Acceptance
    from hetero_core.cache import DecoyCache
    from hetero_core.config import RunConfig
    from hetero_core.pack import FoldedChunk, ScorerFacts
    from hetero_core.scores import ModelInfo, Scorer


@dataclass(slots=True)
class RunOutcome:
    pack: PackInfo
    metrics: dict[str, Any]
    rows: int
    seconds: float
    molecules_per_second: float
    # what the decoy cache did (all zero without one): counted beside the pack, never inside it
    cache: CacheStats = field(default_factory=CacheStats)


def run_audit(
    input_path: Path,
    out_dir: Path,
    *,
    config: RunConfig,
    scorer: Scorer,
    created_at: datetime,
    model: ModelInfo | None = None,
    acceptance: Acceptance | None = None,
    calibration: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    workers: int = 1,
    signer: Signer | None = None,
    service: Mapping[str, str] | None = None,
    columns: InputColumns = DEFAULT_COLUMNS,
    on_progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    cache: DecoyCache | None = None,
    scores_out: Path | None = None,
) -> RunOutcome:
    """``scores_out``: also keep every score ``scorer`` gives as a ``hetero_scores.v2`` table there, and describe
    the scores in the manifest as that file, as ``--scores`` would (a model scored in this process)."""
    started = time.perf_counter()
    stats = CacheStats()
    scan = columns.scan(input_path)
    if on_total:
        on_total(scan.rows)
    with ScoresTableFile(scores_out) if scores_out else nullcontext() as table:

        def counted(chunk: FoldedChunk) -> None:
            for event in chunk.cache_events:
                stats.add(event)
            if table:
                table.write(chunk.scored_rows)
            if on_progress:
                on_progress(chunk.share.rows)

        def facts() -> ScorerFacts:
            if table is None:
                return scorer_facts(scorer, model)
            table.close()  # the file is complete only now, and its sha256 goes into the manifest
            return scorer_facts(load_external_scores(table.path), model)

        # rows are formatted and their metrics folded in the workers: this process only appends and adds up
        folder = ShareFolder.for_input(scan, config, scores_table=table is not None)
        assembled = assemble_pack(
            stream_folded(columns.read(input_path), config, scorer, folder, workers=workers, cache=cache),
            out_dir,
            input_name=input_path.name,
            scan=scan,
            config=config,
            scorer=facts,
            created_at=created_at,
            signer=signer,
            service=service,
            columns=columns,
            on_result=counted,
            acceptance=acceptance,
            calibration=calibration,
        )
    seconds = time.perf_counter() - started
    count = assembled.rows
    per_second = count / seconds if seconds > 0 else 0.0
    return RunOutcome(assembled.pack, assembled.metrics, count, seconds, per_second, stats)
