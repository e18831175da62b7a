"""Row results → evidence pack: the one place where results become summary, metrics, manifest and index.

The CLI feeds it from its own process pool, the service's finalize step from chunk-result objects in S3;
both get the same bytes for the same rows. Nothing here needs the scorer object itself: what the pack
records about the scorer travels as :class:`ScorerFacts`, so a finalizer that never loaded a 1 GB scores
file can still describe it.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from hetero_core.audit import DatasetAccumulator, RealismAccumulator
from hetero_core.chunks import RowResult
from hetero_core.config import RunConfig
from hetero_core.io import DEFAULT_COLUMNS, InputColumns, InputScan
from hetero_core.layout import AUDIT_SCHEMA, DECOYS_SCHEMA, MANIFEST_SCHEMA, SUMMARY_SCHEMA
from hetero_core.pack._provenance import engine_info, iso, runtime_versions
from hetero_core.pack._signing import Signer
from hetero_core.pack._writer import PackBuilder, PackInfo
from hetero_core.reasons import SkipReason, Status, Verdict
from hetero_core.report import render_index, render_report
from hetero_core.scores import ExternalScores, Scorer

METRICS_SCHEMA = "hetero_metrics.v1"
WORST_MOLECULES = 10
TOP_DECOYS_PER_WORST = 3
PROBLEM_ROWS = 25


@dataclass(frozen=True, slots=True)
class ScorerFacts:
    """What the pack says about the scorer: its label and, for a customer scores file, the file's facts."""

    label: str
    schema_version: str | None = None
    file_name: str | None = None
    sha256: str | None = None
    file_rows: int | None = None
    original_entries: int | None = None
    decoy_entries: int | None = None

    @property
    def external(self) -> bool:
        return self.schema_version is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScorerFacts:
        return cls(**dict(data))


def scorer_facts(scorer: Scorer) -> ScorerFacts:
    if isinstance(scorer, ExternalScores):
        return ScorerFacts(
            label="external",
            schema_version=scorer.schema_version,
            file_name=Path(scorer.source_path).name,
            sha256=scorer.sha256,
            file_rows=scorer.n_rows,
            original_entries=scorer.n_original_entries,
            decoy_entries=scorer.n_decoy_entries,
        )
    return ScorerFacts(label=scorer.name)


@dataclass(slots=True)
class ResultCollector:
    """Folds row results into the dataset metrics; memory stays flat (a few floats per judged row)."""

    k: int
    dataset: DatasetAccumulator = field(init=False)
    realism: RealismAccumulator = field(default_factory=RealismAccumulator)
    worst: list[tuple[float, int, dict[str, Any]]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    originals_scored: int = 0
    originals_missing: int = 0
    decoys_generated: int = 0
    decoys_scored: int = 0
    rejections: Counter[str] = field(default_factory=Counter)
    molecules_attempted: int = 0
    molecules_with_decoys: int = 0

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
        self.rejections.update(result.rejections)
        if result.n_decoys is not None:
            self.molecules_attempted += 1
            self.molecules_with_decoys += result.n_decoys > 0
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
            self._consider_worst(result, result.slack)
        if result.status != Status.OK and len(self.problems) < PROBLEM_ROWS:
            self.problems.append(
                {
                    "row": result.index,
                    "id": result.id,
                    "status": result.status,
                    "reason": result.reason,
                    "detail": str(result.summary.get("warnings", ""))[:200],
                }
            )

    def _consider_worst(self, result: RowResult, slack: float) -> None:
        # heap of the lowest slacks; on equal slack the earlier row wins (-index), matching the listing order
        key = (-slack, -result.index)
        if len(self.worst) >= WORST_MOLECULES and key <= self.worst[0][:2]:
            return
        entry = (key[0], key[1], _worst_entry(result, slack))
        if len(self.worst) < WORST_MOLECULES:
            heapq.heappush(self.worst, entry)
        else:
            heapq.heapreplace(self.worst, entry)

    def worst_molecules(self) -> list[dict[str, Any]]:
        return [payload for _, _, payload in sorted(self.worst, key=lambda e: (-e[0], -e[1]))]


def _worst_entry(result: RowResult, slack: float) -> dict[str, Any]:
    scored = [d for d in result.decoys if d.get("role") == "decoy" and d.get("score") is not None]
    top = sorted(enumerate(scored), key=lambda item: (-float(item[1]["score"]), item[0]))[:TOP_DECOYS_PER_WORST]
    return {
        "id": result.id,
        "slack": slack,
        "canonical_smiles": str(result.summary.get("canonical_smiles", "")),
        "score_original": result.score_original,
        "auc": result.summary.get("auc"),
        "top_decoys": [{"smiles": d["smiles"], "score": d["score"]} for _, d in top],
    }


def build_metrics(collector: ResultCollector, config: RunConfig, scorer: ScorerFacts) -> dict[str, Any]:
    dataset = collector.dataset.result()
    coverage: dict[str, Any] = {
        "mode": scorer.label,
        "molecules_with_original_score": collector.originals_scored,
        "molecules_missing_original_score": collector.originals_missing,
        "decoys_generated": collector.decoys_generated,
        "decoys_scored": collector.decoys_scored,
        "decoys_missing_scores": collector.decoys_generated - collector.decoys_scored,
        "decoy_coverage": collector.decoys_scored / collector.decoys_generated if collector.decoys_generated else None,
    }
    if scorer.external:
        coverage.update(
            schema_version=scorer.schema_version,
            file_rows=scorer.file_rows,
            file_original_entries=scorer.original_entries,
            file_decoy_entries=scorer.decoy_entries,
        )
    return {
        "schema_version": METRICS_SCHEMA,
        "audit_schema": AUDIT_SCHEMA,
        **dataset,
        "realism": collector.realism.result(),
        "scores_coverage": coverage,
        "decoy_rejections": {
            "filter": config.decoy_filter,
            "max_rung": config.max_rung,
            # molecules that reached decoy generation and got at least one decoy (the ring suite's yield figure)
            "share_with_decoys": (
                collector.molecules_with_decoys / collector.molecules_attempted
                if collector.molecules_attempted
                else None
            ),
            "total": sum(collector.rejections.values()),
            "by_reason": dict(sorted(collector.rejections.items())),
        },
        "worst_molecules": collector.worst_molecules(),
        "problem_rows": list(collector.problems),
        "config": {**config.to_manifest(), "scorer": scorer.label},
        "runtime": {"engine": engine_info(), "versions": runtime_versions()},
    }


def build_manifest(
    input_name: str,
    scan: InputScan,
    config: RunConfig,
    scorer: ScorerFacts,
    created_at: datetime,
    service: Mapping[str, str] | None,
    columns: InputColumns = DEFAULT_COLUMNS,
) -> dict[str, Any]:
    inputs: list[dict[str, Any]] = [
        {
            "role": "molecules",
            "name": input_name,
            "format": scan.format,
            "rows": scan.rows,
            "sha256": scan.sha256,
            "columns": columns.to_manifest(),
        }
    ]
    if scorer.external:
        inputs.append(
            {
                "role": "scores",
                "name": scorer.file_name,
                "format": scorer.schema_version,
                "rows": scorer.file_rows,
                "sha256": scorer.sha256,
            }
        )
    manifest: dict[str, Any] = {
        "schema_version": MANIFEST_SCHEMA,
        "created_at": iso(created_at),
        "engine": engine_info(),
        "runtime": runtime_versions(),
        "contracts": {"audit": AUDIT_SCHEMA, "decoys": DECOYS_SCHEMA, "summary": SUMMARY_SCHEMA},
        "parameters": {**config.to_manifest(), "scorer": scorer.label},
        "seeds": {"run_seed": config.seed, "seed_by": config.seed_by},
        "inputs": inputs,
    }
    if service:
        manifest["service"] = dict(sorted(service.items()))
    return manifest


@dataclass(frozen=True, slots=True)
class AssembledPack:
    pack: PackInfo
    metrics: dict[str, Any]
    rows: int


def assemble_pack(
    results: Iterable[RowResult],
    out_dir: Path,
    *,
    input_name: str,
    scan: InputScan,
    config: RunConfig,
    scorer: ScorerFacts,
    created_at: datetime,
    signer: Signer | None = None,
    service: Mapping[str, str] | None = None,
    columns: InputColumns = DEFAULT_COLUMNS,
    on_result: Callable[[RowResult], None] | None = None,
) -> AssembledPack:
    """Write the pack from results given in input order (the caller guarantees order and completeness)."""
    collector = ResultCollector(config.k_decoys)
    count = 0
    with PackBuilder(out_dir, extra_columns=scan.extra_columns, scored=True) as builder:
        for result in results:
            builder.add_summary_row(result.summary)
            builder.add_decoy_rows(result.decoys)
            collector.add(result)
            count += 1
            if on_result:
                on_result(result)
        metrics = build_metrics(collector, config, scorer)
        manifest = build_manifest(input_name, scan, config, scorer, created_at, service, columns)
        index_md = render_index(manifest, metrics)
        report_html = render_report(manifest, metrics)
        info = builder.finish(
            metrics=metrics,
            manifest=manifest,
            index_md=index_md,
            report_html=report_html,
            created_at=created_at,
            signer=signer,
        )
    return AssembledPack(info, metrics, count)
