"""Audit a Python model in process (issue 16): molecules and a callable in, a decision and a pack out.

The pack must be the one the CLI writes for the same scores, so a notebook audit can be handed to anyone with
``hetero2 verify`` and re-run with ``hetero2 run --scores``. The way to guarantee that is to take the CLI's
own road: the model's numbers are written, as they are made, into a ``hetero_scores.v2`` table (the decoys
table with a score column) beside the pack, and the manifest describes that file exactly as ``--scores``
would. Decoys are made once; scoring is batched across rows, in worker processes when the model pickles.

Rows whose model call failed (``ERROR scorer_error``) are the one difference: given the written table, the CLI
sees them as unscored molecules (``SKIP missing_scores``), since a scores file cannot say why a score is missing.
"""

from __future__ import annotations

import csv
import importlib
import math
import os
import pickle
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hetero_core.cache import CacheStats, DecoyCache, FolderStore, default_cache_dir
from hetero_core.chunks import default_workers
from hetero_core.config import RunConfig
from hetero_core.errors import ConfigError
from hetero_core.io import InputColumns, atomic_text_file
from hetero_core.layout import SUMMARY
from hetero_core.pack import resolve_created_at
from hetero_core.pipeline._run import RunOutcome, run_audit
from hetero_core.scores import CallableScorer, ModelInfo
from hetero_core.scores._callable import DEFAULT_BATCH_SIZE, DEFAULT_BATCH_TIMEOUT_S

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from datetime import datetime

    from hetero_core.audit import Acceptance
    from hetero_core.pack import Signer

ScoringPlace = Literal["workers", "main process"]
DataFrame = Any
"""A ``pandas.DataFrame``: pandas is an optional extra and ships no type information, so it is typed loosely."""
SCORES_SUFFIX = ".scores.csv"
MOLECULES_SUFFIX = ".molecules.csv"

__all__ = ["CallableRun", "ModelAudit", "audit_callable", "audit_model"]


@dataclass(frozen=True, slots=True)
class CallableRun:
    """A finished in-process audit: the run itself, where the model's numbers went and how the model was run."""

    outcome: RunOutcome
    input_path: Path
    scores_path: Path
    scoring: ScoringPlace
    workers: int
    scoring_note: str
    model: ModelInfo


@dataclass(frozen=True)
class ModelAudit:
    """What a notebook gets back: the decision first, then the table, the numbers and the pack's path."""

    decision: str
    reasons: list[dict[str, Any]]
    molecules: DataFrame = field(repr=False)
    metrics: dict[str, Any] = field(repr=False)
    pack_path: Path
    scores_path: Path
    input_path: Path
    scoring: ScoringPlace
    workers: int
    scoring_note: str
    model: ModelInfo
    seconds: float
    # what the decoy cache did (hits on a re-audit of the same molecules); counted beside the pack, never in it
    decoy_cache: CacheStats = field(default_factory=CacheStats, repr=False)

    @property
    def report_path(self) -> Path:
        return self.pack_path / "report.html"

    def _repr_html_(self) -> str:
        """Jupyter shows the decision and a link to the report rather than a wall of fields."""
        from html import escape  # noqa: PLC0415 - only notebooks call this

        counts = self.metrics["counts"]
        return (
            f"<p><b>{escape(self.decision)}</b> — {escape(self.metrics['decision'].get('sentence', ''))}</p>"
            f"<p>{counts['total']} rows (OK {counts['OK']}, SKIP {counts['SKIP']}, ERROR {counts['ERROR']}); "
            f"scored in the {escape(self.scoring)} ({self.workers}); "
            f"report: <code>{escape(str(self.report_path))}</code></p>"
        )


def audit_model(
    molecules: DataFrame | Sequence[str] | str | os.PathLike[str],
    scorer: Callable[[list[Any]], Sequence[Any]],
    *,
    out: str | os.PathLike[str] | None = None,
    k_decoys: int | None = None,
    seed: int | None = None,
    score_direction: Literal["higher", "lower"] | None = None,
    config: RunConfig | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    batch_timeout_s: float | None = DEFAULT_BATCH_TIMEOUT_S,
    workers: int | None = None,
    model_name: str | None = None,
    model_version: str | None = None,
    created_at: str | None = None,
    id_column: str = "id",
    smiles_column: str = "smiles",
    acceptance: Acceptance | None = None,
    signer: Signer | None = None,
    progress: bool = True,
    decoy_cache: bool | str | os.PathLike[str] = True,
) -> ModelAudit:
    """Audit ``scorer`` against matched decoys of ``molecules`` and write the evidence pack.

    Named ``audit_model``, not ``audit``: ``hetero_core.audit`` is the subpackage of per-molecule statistics, and
    importing it rebinds that attribute on the package, so a function of the same name would vanish.

    Args:
        molecules: a DataFrame with ``id_column`` and ``smiles_column``, a list of SMILES (ids ``mol1``...), or a
            path the CLI reads (.csv/.tsv/.smi/.sdf).
        scorer: ``scorer(list_of_smiles) -> one number per molecule`` (RDKit molecules if it declares
            ``input_type = "mol"``); its ``model_name``/``model_version`` attributes name it unless given here.
        out: the pack folder (default: a new temporary folder); the scores table and, for in-memory molecules,
            the molecules file are written beside it as ``<out>.scores.csv`` and ``<out>.molecules.csv``.
        config: every engine parameter at once; ``k_decoys``, ``seed``, ``score_direction`` override it.
        workers: worker processes for decoys and scoring (default: all cores when the scorer pickles, else 1).
        created_at: ISO 8601 time for a byte-reproducible pack (else ``SOURCE_DATE_EPOCH``, else now).
        decoy_cache: reuse decoys across audits, as ``hetero2 run`` does: True (the CLI's default folder,
            ``$HETERO2_CACHE_DIR`` or the user cache), a folder, or False. The pack is the same either way.

    Raises:
        ConfigError: bad parameters, or pandas missing (``pip install 'hetero2[notebook]'``).
        HeteroError: an unusable input, as the CLI would say it.
    """
    pack_dir = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="hetero2-")) / "pack"
    pack_dir.parent.mkdir(parents=True, exist_ok=True)
    columns = InputColumns(id_column, smiles_column)
    input_path = _molecules_file(molecules, pack_dir.with_name(pack_dir.name + MOLECULES_SUFFIX), columns)
    run_config = _config(config, k_decoys=k_decoys, seed=seed, score_direction=score_direction)
    bar = _progress_bar(progress)
    try:
        run = audit_callable(
            input_path,
            pack_dir,
            scorer,
            config=run_config,
            created_at=resolve_created_at(created_at),
            model=ModelInfo(model_name, model_version),
            workers=workers,
            batch_size=batch_size,
            batch_timeout_s=batch_timeout_s,
            columns=columns,
            acceptance=acceptance,
            signer=signer,
            on_total=bar.set_total,
            on_progress=bar.advance,
            cache=_decoy_cache(decoy_cache),
        )
    finally:
        bar.close()
    outcome = run.outcome
    decision = outcome.metrics["decision"]
    return ModelAudit(
        decision=decision["outcome"],
        reasons=list(decision.get("reasons", [])),
        molecules=_summary_frame(outcome.pack.path / SUMMARY),
        metrics=outcome.metrics,
        pack_path=outcome.pack.path,
        scores_path=run.scores_path,
        input_path=run.input_path,
        scoring=run.scoring,
        workers=run.workers,
        scoring_note=run.scoring_note,
        model=run.model,
        seconds=outcome.seconds,
        decoy_cache=outcome.cache,
    )


def audit_callable(
    input_path: Path,
    out_dir: Path,
    fn: Callable[[list[Any]], Sequence[Any]],
    *,
    config: RunConfig,
    created_at: datetime,
    model: ModelInfo | None = None,
    model_fallback: ModelInfo | None = None,
    workers: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    batch_timeout_s: float | None = DEFAULT_BATCH_TIMEOUT_S,
    columns: InputColumns | None = None,
    acceptance: Acceptance | None = None,
    signer: Signer | None = None,
    scores_path: Path | None = None,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    cache: DecoyCache | None = None,
) -> CallableRun:
    """One run with a model in this process (the notebook API and ``hetero2 run --scorer MODULE:FUNCTION``): the
    CLI's own run, which keeps the model's numbers as a scores table beside the pack."""
    scorer = CallableScorer(fn, batch_size=batch_size, batch_timeout_s=batch_timeout_s)
    identity = model_identity(fn, model, model_fallback)
    place, count, note = _where_to_score(fn, workers)
    scores_path = scores_path or out_dir.with_name(out_dir.name + SCORES_SUFFIX)
    outcome = run_audit(
        input_path,
        out_dir,
        config=config,
        scorer=scorer,
        created_at=created_at,
        model=identity,
        acceptance=acceptance,
        workers=count,
        signer=signer,
        columns=columns or InputColumns(),
        on_progress=on_progress,
        on_total=on_total,
        cache=cache,
        scores_out=scores_path,
    )
    return CallableRun(outcome, input_path, scores_path, place, count, note, identity)


def _decoy_cache(choice: bool | str | os.PathLike[str]) -> DecoyCache | None:
    if choice is False:
        return None
    return DecoyCache(FolderStore(default_cache_dir() if choice is True else Path(choice)))


def model_identity(fn: Callable[..., Any], given: ModelInfo | None, fallback: ModelInfo | None = None) -> ModelInfo:
    """The model's name and version: what the caller gave, else the scorer's ``model_name``/``model_version``
    attributes, else ``fallback`` (the plugin's name and its distribution's version)."""
    given, fallback = given or ModelInfo(), fallback or ModelInfo()
    name = _first(given.name, _text_attribute(fn, "model_name"), fallback.name)
    version = _first(given.version, _text_attribute(fn, "model_version"), fallback.version)
    return ModelInfo(name=name, version=version, sha256=given.sha256)


def _first(*values: str | None) -> str | None:
    return next((v for v in values if v is not None), None)


def _text_attribute(fn: Callable[..., Any], name: str) -> str | None:
    value = getattr(fn, name, None)
    return None if value is None else str(value)


def _where_to_score(fn: Callable[..., Any], workers: int | None) -> tuple[ScoringPlace, int, str]:
    """Workers when the model pickles (it is sent to them), else this process: a notebook closure often does not."""
    if workers is not None and workers < 1:
        raise ConfigError("workers must be at least 1")
    try:
        pickle.dumps(fn)
    except Exception as exc:  # any pickling failure means: keep the model in this process
        return "main process", 1, f"the scorer cannot be pickled ({type(exc).__name__}), so it runs here"
    count = workers if workers is not None else default_workers()
    if count == 1:
        return "main process", 1, "one worker asked for" if workers == 1 else "one core available"
    return "workers", count, f"the scorer pickles, so {count} worker processes score in parallel"


def _config(
    config: RunConfig | None, *, k_decoys: int | None, seed: int | None, score_direction: str | None
) -> RunConfig:
    base = config or RunConfig()
    changes: dict[str, Any] = {}
    if k_decoys is not None:
        changes["k_decoys"] = k_decoys
    if seed is not None:
        changes["seed"] = seed
    if score_direction is not None:
        changes["score_direction"] = score_direction
    return replace(base, **changes) if changes else base


def _molecules_file(molecules: object, path: Path, columns: InputColumns) -> Path:
    """A path as given; a DataFrame or a list of SMILES written as the ``id,smiles`` CSV the CLI would read."""
    if isinstance(molecules, str | os.PathLike):
        given = Path(molecules)
        if not given.is_file():
            raise ConfigError(f"{given}: no such molecules file")
        return given
    if hasattr(molecules, "columns") and hasattr(molecules, "itertuples"):
        frame: Any = molecules
        missing = [c for c in (columns.id_column, columns.smiles_column) if c not in frame.columns]
        if missing:
            raise ConfigError(
                f"DataFrame has no column {', '.join(map(repr, missing))}; it has {', '.join(map(str, frame.columns))}"
                " (id_column= and smiles_column= name others)"
            )
        pairs: Iterable[tuple[object, object]] = frame[[columns.id_column, columns.smiles_column]].itertuples(
            index=False, name=None
        )
    elif isinstance(molecules, list | tuple):
        if not all(isinstance(s, str) for s in molecules):
            raise ConfigError("a list of molecules must hold SMILES strings")
        pairs = ((f"mol{i + 1}", s) for i, s in enumerate(molecules))
    else:
        raise ConfigError(f"molecules must be a DataFrame, a list of SMILES or a path, got {type(molecules).__name__}")
    rows = [(_cell(i), _cell(s)) for i, s in pairs]
    if not rows:
        raise ConfigError("no molecules given")
    with atomic_text_file(path) as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow((columns.id_column, columns.smiles_column))
        writer.writerows(rows)
    return path


def _cell(value: object) -> str:
    """A DataFrame cell as the CSV reader will see it: missing values (None, NaN) become empty cells."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _summary_frame(path: Path) -> DataFrame:
    pandas = _pandas()
    return pandas.read_csv(path, dtype={"id": str}, keep_default_na=False, na_values=[""])


def _pandas() -> Any:
    try:
        return importlib.import_module("pandas")  # an optional extra: only the notebook API needs it
    except ImportError as exc:
        raise ConfigError("the notebook API needs pandas: pip install 'hetero2[notebook]'") from exc


class _Progress:
    """A progress bar that draws as a widget in Jupyter and as text in a terminal (``tqdm.auto``)."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._bar: Any = None

    def set_total(self, total: int) -> None:
        if self._enabled:
            from tqdm.auto import tqdm  # noqa: PLC0415 - picks the notebook widget when there is one

            self._bar = tqdm(total=total, desc="audit", unit="mol")

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _progress_bar(enabled: bool) -> _Progress:
    return _Progress(enabled)
