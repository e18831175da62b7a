"""One audit run end to end: validate the input, stream it through the engine, seal the evidence pack.

The input is scanned in full before any chemistry, so a file-level fault stops the run before anything is
written; the pack is assembled in a staging folder and only moved into place when it is complete.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from hetero_core.chunk import RowResult
from hetero_core.config import RunConfig
from hetero_core.dataset_metrics import DatasetAccumulator, RealismAccumulator
from hetero_core.index_md import render_index
from hetero_core.inputs import DEFAULT_COLUMNS, InputColumns, InputScan
from hetero_core.pack_layout import AUDIT_SCHEMA, DECOYS_SCHEMA, MANIFEST_SCHEMA, SUMMARY_SCHEMA
from hetero_core.pack_writer import PackBuilder, PackInfo
from hetero_core.provenance import engine_info, iso, runtime_versions
from hetero_core.reasons import SkipReason, Verdict
from hetero_core.runner import stream_results
from hetero_core.scores_external import ExternalScores
from hetero_core.scoring import Scorer
from hetero_core.signing import Signer

METRICS_SCHEMA = "hetero_metrics.v1"
WORST_MOLECULES = 10


@dataclass(slots=True)
class RunOutcome:
    pack: PackInfo
    metrics: dict[str, Any]
    rows: int
    seconds: float
    molecules_per_second: float


@dataclass(slots=True)
class _Collector:
    """Folds row results into the dataset metrics without keeping anything per decoy."""

    k: int
    dataset: DatasetAccumulator = field(init=False)
    realism: RealismAccumulator = field(default_factory=RealismAccumulator)
    worst: list[tuple[float, int, str, str]] = field(default_factory=list)
    originals_scored: int = 0
    originals_missing: int = 0
    decoys_generated: int = 0
    decoys_scored: int = 0

    def __post_init__(self) -> None:
        self.dataset = DatasetAccumulator(self.k)

    def add(self, result: RowResult) -> None:
        judged = result.verdict in (Verdict.PASS, Verdict.FAIL)
        self.dataset.add(
            result.status,
            result.reason or None,
            verdict=result.verdict or None,
            slack=result.slack if judged else None,
            chance_pass=result.chance_pass if judged else None,
            n_decoys=result.n_decoys,
            n_decoys_scored=result.n_decoys_scored if result.n_decoys is not None else None,
        )
        for original, decoy, similarity in result.pairs:
            self.realism.add(original, decoy, similarity)
        if result.n_decoys:
            self.decoys_generated += result.n_decoys
            self.decoys_scored += result.n_decoys_scored
            if result.score_original is not None:
                self.originals_scored += 1
            elif result.reason == SkipReason.MISSING_SCORES:
                self.originals_missing += 1
        if judged and result.slack is not None:
            # heap of the lowest slacks; on equal slack the earlier row wins (-index), matching the listing order
            entry = (-result.slack, -result.index, result.id, str(result.summary.get("canonical_smiles", "")))
            if len(self.worst) < WORST_MOLECULES:
                heapq.heappush(self.worst, entry)
            else:
                heapq.heappushpop(self.worst, entry)

    def worst_molecules(self) -> list[dict[str, Any]]:
        ordered = sorted(self.worst, key=lambda e: (-e[0], -e[1]))
        return [{"id": i, "slack": -s, "canonical_smiles": smi} for s, _, i, smi in ordered]


def run_audit(
    input_path: Path,
    out_dir: Path,
    *,
    config: RunConfig,
    scorer: Scorer,
    created_at: datetime,
    workers: int = 1,
    signer: Signer | None = None,
    service: Mapping[str, str] | None = None,
    columns: InputColumns = DEFAULT_COLUMNS,
    on_progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> RunOutcome:
    started = time.perf_counter()
    scan = columns.scan(input_path)
    if on_total:
        on_total(scan.rows)
    collector = _Collector(config.k_decoys)
    count = 0
    with PackBuilder(out_dir, extra_columns=scan.extra_columns, scored=True) as builder:
        rows = columns.read(input_path)
        for result in stream_results(rows, config, scorer, workers=workers):
            builder.add_summary_row(result.summary)
            builder.add_decoy_rows(result.decoys)
            collector.add(result)
            count += 1
            if on_progress:
                on_progress(1)
        metrics = build_metrics(collector, config, scorer)
        manifest = build_manifest(input_path, scan, config, scorer, created_at, service, columns)
        index_md = render_index(manifest, metrics)
        info = builder.finish(
            metrics=metrics, manifest=manifest, index_md=index_md, created_at=created_at, signer=signer
        )
    seconds = time.perf_counter() - started
    return RunOutcome(info, metrics, count, seconds, count / seconds if seconds > 0 else 0.0)


def scorer_label(scorer: Scorer) -> str:
    return "external" if isinstance(scorer, ExternalScores) else scorer.name


def build_metrics(collector: _Collector, config: RunConfig, scorer: Scorer) -> dict[str, Any]:
    dataset = collector.dataset.result()
    coverage: dict[str, Any] = {
        "mode": scorer_label(scorer),
        "molecules_with_original_score": collector.originals_scored,
        "molecules_missing_original_score": collector.originals_missing,
        "decoys_generated": collector.decoys_generated,
        "decoys_scored": collector.decoys_scored,
        "decoys_missing_scores": collector.decoys_generated - collector.decoys_scored,
        "decoy_coverage": collector.decoys_scored / collector.decoys_generated if collector.decoys_generated else None,
    }
    if isinstance(scorer, ExternalScores):
        coverage.update(
            schema_version=scorer.schema_version,
            file_rows=scorer.n_rows,
            file_original_entries=scorer.n_original_entries,
            file_decoy_entries=scorer.n_decoy_entries,
        )
    return {
        "schema_version": METRICS_SCHEMA,
        "audit_schema": AUDIT_SCHEMA,
        **dataset,
        "realism": collector.realism.result(),
        "scores_coverage": coverage,
        "worst_molecules": collector.worst_molecules(),
        "config": {**config.to_manifest(), "scorer": scorer_label(scorer)},
        "runtime": {"engine": engine_info(), "versions": runtime_versions()},
    }


def build_manifest(
    input_path: Path,
    scan: InputScan,
    config: RunConfig,
    scorer: Scorer,
    created_at: datetime,
    service: Mapping[str, str] | None,
    columns: InputColumns = DEFAULT_COLUMNS,
) -> dict[str, Any]:
    inputs: list[dict[str, Any]] = [
        {
            "role": "molecules",
            "name": input_path.name,
            "format": scan.format,
            "rows": scan.rows,
            "sha256": scan.sha256,
            "columns": columns.to_manifest(),
        }
    ]
    if isinstance(scorer, ExternalScores):
        inputs.append(
            {
                "role": "scores",
                "name": Path(scorer.source_path).name,
                "format": scorer.schema_version,
                "rows": scorer.n_rows,
                "sha256": scorer.sha256,
            }
        )
    manifest: dict[str, Any] = {
        "schema_version": MANIFEST_SCHEMA,
        "created_at": iso(created_at),
        "engine": engine_info(),
        "runtime": runtime_versions(),
        "contracts": {"audit": AUDIT_SCHEMA, "decoys": DECOYS_SCHEMA, "summary": SUMMARY_SCHEMA},
        "parameters": {**config.to_manifest(), "scorer": scorer_label(scorer)},
        "seeds": {"run_seed": config.seed, "seed_by": config.seed_by},
        "inputs": inputs,
    }
    if service:
        manifest["service"] = dict(sorted(service.items()))
    return manifest
