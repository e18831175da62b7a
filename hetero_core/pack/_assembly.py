"""Row results → evidence pack: the one place where results become summary, metrics, manifest and index.

The CLI feeds it from its own process pool, the service's finalize step from chunk-result objects in S3;
both get the same bytes for the same rows. Nothing here needs the scorer object itself: what the pack
records about the scorer travels as :class:`ScorerFacts`, so a finalizer that never loaded a 1 GB scores
file can still describe it.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from hetero_core.audit import Acceptance, DatasetAccumulator, RealismAccumulator, decide
from hetero_core.errors import ScoreCoverageError
from hetero_core.io import DEFAULT_COLUMNS, InputColumns, InputScan
from hetero_core.layout import AUDIT_SCHEMA, DECOYS_SCHEMA, MANIFEST_SCHEMA, SUMMARY_SCHEMA
from hetero_core.pack._provenance import engine_info, iso, runtime_versions
from hetero_core.pack._shares import ChunkShare, encode_share
from hetero_core.pack._slices import MemberTables
from hetero_core.pack._writer import PackBuilder, PackInfo, pack_zip_entries, seal_members, zip_date_time
from hetero_core.pack._zipstream import zip_pieces
from hetero_core.reasons import SkipReason, Status, Verdict
from hetero_core.scores import ExternalScores, ModelInfo, Scorer, format_scored_rows

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from datetime import datetime

    from hetero_core.chunks import RowResult
    from hetero_core.config import RunConfig
    from hetero_core.pack._shares import StitchedMember
    from hetero_core.pack._signing import Signer
    from hetero_core.pack._zipstream import Piece

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
    model: ModelInfo = field(default_factory=ModelInfo)

    @property
    def external(self) -> bool:
        return self.schema_version is not None

    def model_block(self) -> dict[str, Any]:
        """The manifest's ``model`` block: who made the scores; a built-in scorer names itself."""
        name = self.model.name
        if name is None and not self.external:
            name = f"built-in scorer {self.label}"
        return {"name": name, "version": self.model.version, "sha256": self.model.sha256, "scores": self.label}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScorerFacts:
        values = dict(data)
        values["model"] = ModelInfo.from_dict(values.get("model"))
        return cls(**values)


def scorer_facts(scorer: Scorer, model: ModelInfo | None = None) -> ScorerFacts:
    """What the pack records about ``scorer``, with the model's identity as its owner gave it."""
    model = model or ModelInfo()
    if isinstance(scorer, ExternalScores):
        return ScorerFacts(
            label="external",
            schema_version=scorer.schema_version,
            file_name=Path(scorer.source_path).name,
            sha256=scorer.sha256,
            file_rows=scorer.n_rows,
            original_entries=scorer.n_original_entries,
            decoy_entries=scorer.n_decoy_entries,
            model=model,
        )
    return ScorerFacts(label=scorer.name, model=model)


@dataclass(slots=True)
class ResultCollector:
    """Folds row results into the dataset metrics; memory stays flat (a few floats per judged row)."""

    k: int
    score_direction: str = "higher"
    hard_min: float = 0.65
    hard_max: float = 0.95
    seed: int = 0
    dataset: DatasetAccumulator = field(init=False)
    realism: RealismAccumulator = field(init=False)
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
        self.realism = RealismAccumulator(self.hard_min, self.hard_max, seed=self.seed)

    @classmethod
    def for_config(cls, config: RunConfig) -> ResultCollector:
        """A collector whose realism bins use the run's hard-mode window and whose bootstrap uses its seed."""
        return cls(
            config.k_decoys, config.score_direction, config.hard_min_similarity, config.hard_max_similarity, config.seed
        )

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
        if result.pairs:
            self.realism.add_molecule(result.pairs)
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

    def state(self) -> dict[str, Any]:
        """This collector's totals as JSON: a chunk's partial metrics, merged exactly by :meth:`absorb`."""
        return {
            "dataset": self.dataset.state(),
            "realism": self.realism.state(),
            "worst": [list(entry) for entry in sorted(self.worst)],
            "problems": list(self.problems),
            "originals_scored": self.originals_scored,
            "originals_missing": self.originals_missing,
            "decoys_generated": self.decoys_generated,
            "decoys_scored": self.decoys_scored,
            "rejections": dict(self.rejections),
            "molecules_attempted": self.molecules_attempted,
            "molecules_with_decoys": self.molecules_with_decoys,
        }

    def absorb(self, state: Mapping[str, Any]) -> None:
        """Add the :meth:`state` of the rows that follow this collector's rows (states must come in row order)."""
        self.dataset.absorb(state["dataset"])
        self.realism.absorb(state["realism"])
        for neg_slack, neg_index, payload in state["worst"]:
            self._keep_worst((float(neg_slack), int(neg_index), payload))
        self.problems.extend(state["problems"][: max(0, PROBLEM_ROWS - len(self.problems))])
        self.originals_scored += int(state["originals_scored"])
        self.originals_missing += int(state["originals_missing"])
        self.decoys_generated += int(state["decoys_generated"])
        self.decoys_scored += int(state["decoys_scored"])
        self.rejections.update({str(k): int(v) for k, v in state["rejections"].items()})
        self.molecules_attempted += int(state["molecules_attempted"])
        self.molecules_with_decoys += int(state["molecules_with_decoys"])

    def _consider_worst(self, result: RowResult, slack: float) -> None:
        # heap of the lowest slacks; on equal slack the earlier row wins (-index), matching the listing order
        key = (-slack, -result.index)
        if len(self.worst) >= WORST_MOLECULES and key <= self.worst[0][:2]:
            return
        self._keep_worst((key[0], key[1], _worst_entry(result, slack, self.score_direction)))

    def _keep_worst(self, entry: tuple[float, int, dict[str, Any]]) -> None:
        if len(self.worst) < WORST_MOLECULES:
            heapq.heappush(self.worst, entry)
        elif entry[:2] > self.worst[0][:2]:
            heapq.heapreplace(self.worst, entry)

    def worst_molecules(self) -> list[dict[str, Any]]:
        return [payload for _, _, payload in sorted(self.worst, key=lambda e: (-e[0], -e[1]))]


def _worst_entry(result: RowResult, slack: float, direction: str) -> dict[str, Any]:
    """The molecule and the decoys the model liked best (highest score, or lowest when lower is better)."""
    scored = [d for d in result.decoys if d.get("role") == "decoy" and d.get("score") is not None]
    # result.pairs holds (original, decoy, similarity) for exactly these scored decoys, in the same order
    similarities = [pair[2] for pair in result.pairs] if len(result.pairs) == len(scored) else [None] * len(scored)
    sign = -1.0 if direction == "higher" else 1.0
    top = sorted(enumerate(scored), key=lambda item: (sign * float(item[1]["score"]), item[0]))[:TOP_DECOYS_PER_WORST]
    return {
        "id": result.id,
        "slack": slack,
        "canonical_smiles": str(result.summary.get("canonical_smiles", "")),
        "score_original": result.score_original,
        "auc": result.summary.get("auc"),
        "top_decoys": [{"smiles": d["smiles"], "score": d["score"], "similarity": similarities[i]} for i, d in top],
    }


def build_metrics(
    collector: ResultCollector, config: RunConfig, scorer: ScorerFacts, acceptance: Acceptance | None = None
) -> dict[str, Any]:
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
    metrics: dict[str, Any] = {
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
    metrics["decision"] = decide(metrics, acceptance)
    return metrics


def build_manifest(
    input_name: str,
    scan: InputScan,
    config: RunConfig,
    scorer: ScorerFacts,
    created_at: datetime,
    service: Mapping[str, str] | None,
    columns: InputColumns = DEFAULT_COLUMNS,
    acceptance: Acceptance | None = None,
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
        "model": scorer.model_block(),
        "acceptance": (acceptance or Acceptance()).to_manifest(),
        "seeds": {"run_seed": config.seed, "seed_by": config.seed_by},
        "inputs": inputs,
    }
    if service:
        manifest["service"] = dict(sorted(service.items()))
    return manifest


def check_score_coverage(collector: ResultCollector, config: RunConfig) -> None:
    """Refuse a run whose scores cover less than ``config.min_score_coverage`` of its molecules or decoys.

    Scores made for another input, another ``--k-decoys``/``--seed``/``--standardize`` or another decoy
    contract match few or no hashes; without this gate that run would end as a pack of SKIP rows whose
    headline blames the decoys. Molecules that never got decoys do not count: nothing could be scored.

    Raises:
        ScoreCoverageError: with the counts and the likely cause.
    """
    molecules = collector.originals_scored + collector.originals_missing
    checks = (
        ("molecules", collector.originals_scored, molecules),
        ("decoys", collector.decoys_scored, collector.decoys_generated),
    )
    for what, matched, total in checks:
        if total and matched / total < config.min_score_coverage:
            raise ScoreCoverageError(
                f"scores match {matched} of {total} {what} ({matched / total:.1%}; --min-score-coverage is "
                f"{config.min_score_coverage:g}): same input file, --k-decoys, --seed and --standardize as the "
                "decoys export?"
            )


@dataclass(frozen=True, slots=True)
class AssembledPack:
    pack: PackInfo
    metrics: dict[str, Any]
    rows: int


@dataclass(frozen=True, slots=True)
class FoldedChunk:
    """A chunk's rows as the pack needs them: its share (lines formatted, partial metrics) and cache events."""

    share: ChunkShare
    data: bytes
    cache_events: tuple[str, ...]
    # the chunk's decoys with their scores as hetero_scores.v2 lines, when the folder was asked for them
    scored_rows: str = ""


@dataclass(frozen=True, slots=True)
class ShareFolder:
    """Folds a chunk's results into a :class:`FoldedChunk` where they were computed (a pool worker), so the process
    that writes the pack only appends formatted lines and adds up partial metrics (:func:`assemble_pack`).

    With ``scores_table``, the chunk also brings its scores as table lines (a model scored in process, whose
    numbers are kept beside the pack: :class:`hetero_core.scores.ScoresTableFile`)."""

    tables: MemberTables
    total_rows: int
    config: RunConfig
    scores_table: bool = False

    @classmethod
    def for_input(cls, scan: InputScan, config: RunConfig, *, scores_table: bool = False) -> ShareFolder:
        return cls(MemberTables(scan.extra_columns, scored=True), scan.rows, config, scores_table)

    def __call__(self, results: list[RowResult]) -> FoldedChunk:
        first_row = results[0].index
        share, data, kept = chunk_share(
            results, first_row=first_row, total_rows=self.total_rows, tables=self.tables, config=self.config
        )
        scored = format_scored_rows(d for r in kept for d in r.decoys) if self.scores_table else ""
        return FoldedChunk(share, data, tuple(result.decoy_cache for result in kept), scored)


# what a pack is fed: row results one by one, or chunks folded by ShareFolder (one kind per pack)
_Fed = TypeVar("_Fed", "RowResult", FoldedChunk)


def assemble_pack(
    results: Iterable[_Fed],
    out_dir: Path,
    *,
    input_name: str,
    scan: InputScan,
    config: RunConfig,
    scorer: ScorerFacts | Callable[[], ScorerFacts],
    created_at: datetime,
    signer: Signer | None = None,
    service: Mapping[str, str] | None = None,
    columns: InputColumns = DEFAULT_COLUMNS,
    on_result: Callable[[_Fed], None] | None = None,
    acceptance: Acceptance | None = None,
    calibration: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> AssembledPack:
    """Write the pack from results given in input order (the caller guarantees order and completeness).

    ``results`` are row results, or chunks folded where they were computed (:class:`ShareFolder`: lines formatted,
    metrics partial), which give the same bytes: partial metrics merge exactly (integers and row-ordered lists,
    :meth:`ResultCollector.absorb`), as the service's finalize merges them.

    ``scorer`` may be a function giving the facts once every result is in: a model scored in process leaves its
    scores file complete (and its sha256 known) only then.

    ``calibration``, given this pack's metrics, returns a ``hetero_calibration.v1`` block: it is stored as
    ``metrics.json`` → ``calibration`` and drawn in the report, which makes this pack the calibration pack.
    """
    collector = ResultCollector.for_config(config)
    count = 0
    with PackBuilder(out_dir, extra_columns=scan.extra_columns, scored=True) as builder:
        for result in results:
            if isinstance(result, FoldedChunk):
                builder.add_share(result.share, result.data)
                collector.absorb(result.share.metrics)
                count += result.share.rows
            else:
                builder.add_summary_row(result.summary)
                builder.add_decoy_rows(result.decoys)
                collector.add(result)
                count += 1
            if on_result:
                on_result(result)
        documents = _documents(
            collector, input_name, scan, config, scorer, created_at, service, columns, acceptance, calibration
        )
        return _finished(builder, documents, count, created_at, signer)


def _finished(
    builder: PackBuilder,
    documents: tuple[dict[str, Any], dict[str, Any], str, str],
    count: int,
    created_at: datetime,
    signer: Signer | None,
) -> AssembledPack:
    metrics, manifest, index_md, report_html = documents
    info = builder.finish(
        metrics=metrics,
        manifest=manifest,
        index_md=index_md,
        report_html=report_html,
        created_at=created_at,
        signer=signer,
    )
    return AssembledPack(info, metrics, count)


def _documents(
    collector: ResultCollector,
    input_name: str,
    scan: InputScan,
    config: RunConfig,
    scorer: ScorerFacts | Callable[[], ScorerFacts],
    created_at: datetime,
    service: Mapping[str, str] | None,
    columns: InputColumns,
    acceptance: Acceptance | None,
    calibration: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], dict[str, Any], str, str]:
    """metrics, manifest (without its file list), index.md and report.html from the folded results."""
    # the report draws with matplotlib: loaded only when a pack is sealed, never by a chunk worker
    from hetero_core.report import render_index, render_report  # noqa: PLC0415

    check_score_coverage(collector, config)
    facts = scorer if isinstance(scorer, ScorerFacts) else scorer()
    metrics = build_metrics(collector, config, facts, acceptance)
    manifest = build_manifest(input_name, scan, config, facts, created_at, service, columns, acceptance)
    if calibration is not None:
        metrics["calibration"] = calibration(metrics)
    index_md = render_index(manifest, metrics)
    report_html = render_report(manifest, metrics, metrics.get("calibration"))
    return metrics, manifest, index_md, report_html


@dataclass(frozen=True, slots=True)
class SealedPack:
    """A pack whose sliced members live elsewhere (chunk data objects): small members and the zip as pieces."""

    metrics: dict[str, Any]
    members: dict[str, StitchedMember]
    small: dict[str, bytes]
    zip: list[Piece]


def seal_stitched(
    members: Mapping[str, StitchedMember],
    collector: ResultCollector,
    *,
    input_name: str,
    scan: InputScan,
    config: RunConfig,
    scorer: ScorerFacts,
    created_at: datetime,
    signer: Signer | None = None,
    service: Mapping[str, str] | None = None,
    columns: InputColumns = DEFAULT_COLUMNS,
    acceptance: Acceptance | None = None,
) -> SealedPack:
    """Seal a pack from stitched chunk shares and their merged metrics: the service's finalize.

    The same documents, manifest, checksums and zip layout as :func:`assemble_pack`; the caller writes the
    small members and joins the zip's pieces (``Span`` pieces point into the chunk data objects).
    """
    metrics, manifest, index_md, report_html = _documents(
        collector, input_name, scan, config, scorer, created_at, service, columns, acceptance
    )
    small = seal_members(
        members, metrics=metrics, manifest=manifest, index_md=index_md, report_html=report_html, signer=signer
    )
    pieces = zip_pieces(pack_zip_entries(members, small), zip_date_time(created_at))
    return SealedPack(metrics, dict(members), small, pieces)


def chunk_share(
    results: Iterable[RowResult], *, first_row: int, total_rows: int, tables: MemberTables, config: RunConfig
) -> tuple[ChunkShare, bytes, list[RowResult]]:
    """A chunk's share of the pack: its slices (``encode_share``) and its partial metrics, folded in row order."""
    share, data, kept = encode_share(results, first_row=first_row, total_rows=total_rows, tables=tables)
    collector = ResultCollector.for_config(config)
    for result in kept:
        collector.add(result)
    share.metrics = collector.state()
    return share, data, kept
