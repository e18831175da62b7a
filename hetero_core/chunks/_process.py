"""The unit of work: rows in, one result per row out (the CLI, the worker Lambda and Fargate all call this).

A row goes prepare → decoys → scores → audit → descriptors. Whatever happens, it comes back as exactly one
``RowResult``: OK, SKIP with a stable reason, or ERROR (our fault or the environment's, e.g. ``timeout``).
"""

from __future__ import annotations

import functools
import time
import traceback
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from rdkit import Chem

from hetero_core.audit import AuditResult, audit_molecule
from hetero_core.cache import AsWritten, CachedDecoy, CachedDecoys, CacheEvent, decoy_cache_key, read_ahead
from hetero_core.decoys import DecoySet, format_rejections, generate_decoys, molecule_seed
from hetero_core.hashing import smiles_hash
from hetero_core.layout import EXTRA_COLUMN_PREFIX
from hetero_core.molecules import (
    CanonicalMolecule,
    DecoyDescriptors,
    PreparedMolecule,
    Rejection,
    canonical_molecule,
    mean_abs_deltas,
    similarity_summary,
    spectral_features,
)
from hetero_core.reasons import ErrorReason, SkipReason, Status, Verdict, Warning_
from hetero_core.records import InputRow, ScoredItem
from hetero_core.scores import BatchScorer, Candidate, Scorer, ScoreRequest, ScorerFault
from hetero_core.timeouts import time_limit

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from hetero_core.cache import DecoyCache, PendingRead
    from hetero_core.config import RunConfig
    from hetero_core.scores import ScoreResult


_T = TypeVar("_T")


class MoleculeTimeout(Exception):
    """Raised inside a molecule's processing when its time budget is spent."""


class _Unprepared(Exception):
    """The canonical SMILES did not parse back (found only when decoys must be built): the row is a SKIP."""

    def __init__(self, rejection: Rejection) -> None:
        super().__init__(rejection.detail)
        self.rejection = rejection


@dataclass(slots=True)
class RowResult:
    """Everything the pack and the dataset metrics need about one input row; JSON-serialisable."""

    index: int
    id: str
    status: str
    reason: str
    verdict: str
    summary: dict[str, Any]
    decoys: list[dict[str, Any]] = field(default_factory=list)
    slack: float | None = None
    chance_pass: float | None = None
    n_decoys: int | None = None
    n_decoys_scored: int = 0
    score_original: float | None = None
    pairs: list[tuple[float, float, float]] = field(default_factory=list)
    rejections: dict[str, int] = field(default_factory=dict)
    # what the decoy cache did for this row (hetero_core.cache.CacheEvent, "" without a cache); never in the pack
    decoy_cache: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RowResult:
        values = dict(data)
        values["pairs"] = [tuple(p) for p in values.get("pairs", [])]
        return cls(**values)


def base_summary(row: InputRow) -> dict[str, Any]:
    summary: dict[str, Any] = {"id": row.id, "smiles": row.smiles}
    for name, value in row.extra.items():
        summary[EXTRA_COLUMN_PREFIX + name] = value
    return summary


def skipped_row(row: InputRow, reason: SkipReason, detail: str = "", warnings: Sequence[str] = ()) -> RowResult:
    """A SKIP row decided before any chemistry ran (duplicate id, reader-level faults)."""
    summary = base_summary(row)
    summary.update(status=Status.SKIP, reason=reason, verdict=Verdict.SKIP, warnings=_join(warnings, detail))
    return RowResult(row.index, row.id, Status.SKIP, reason, Verdict.SKIP, summary)


def errored_row(row: InputRow, reason: ErrorReason, detail: str = "") -> RowResult:
    """An ERROR row: our fault or the environment's. The row is kept, never dropped."""
    summary = base_summary(row)
    summary.update(status=Status.ERROR, reason=reason, verdict="", warnings=detail[:500])
    return RowResult(row.index, row.id, Status.ERROR, reason, "", summary)


def process_rows(
    rows: Iterable[InputRow], config: RunConfig, scorer: Scorer | None, cache: DecoyCache | None = None
) -> Iterator[RowResult]:
    """Process rows in order. ``scorer`` None means decoys only (the ``hetero2 decoys`` table); ``cache`` serves
    and keeps decoys by content address (the pack's bytes are the same with or without it).

    A scorer with ``score_many`` (a customer's model) is called once for several rows' originals and decoys
    together: rows are staged (decoys made) until their molecules fill a batch, then scored and audited.

    A cache whose store reads over a network (``read_ahead`` > 0: an org's S3 prefix) has the entries of the next
    rows read while earlier rows are staged (:func:`_known_ahead`); each row still reads its entry once.
    """
    steps = _known_ahead(rows, config, cache) if cache is not None and cache.store.read_ahead > 0 else _unknown(rows)
    if isinstance(scorer, BatchScorer):
        yield from _process_batched(steps, config, scorer, cache)
        return
    for row, known in steps:
        if isinstance(known, RowResult):
            yield known
        else:
            process = functools.partial(_process, row, config, scorer, cache, known)
            yield _guarded(row, config, process, _spent(known))


def process_row(row: InputRow, config: RunConfig, scorer: Scorer | None, cache: DecoyCache | None = None) -> RowResult:
    return _guarded(row, config, lambda: _process(row, config, scorer, cache))


def _process(
    row: InputRow, config: RunConfig, scorer: Scorer | None, cache: DecoyCache | None, known: _Known | None = None
) -> RowResult:
    staged = _stage(row, config, cache, known)
    if isinstance(staged, RowResult):
        return staged
    if scorer is None:
        return _finish(staged.result, Status.OK, "", "", staged.warnings)
    return _complete(staged, scorer.score(staged.request), config)


def _process_batched(
    steps: Iterable[tuple[InputRow, RowResult | _Known | None]],
    config: RunConfig,
    scorer: BatchScorer,
    cache: DecoyCache | None,
) -> Iterator[RowResult]:
    pending: list[RowResult | _Staged] = []
    molecules = 0
    for row, known in steps:
        staged = (
            known
            if isinstance(known, RowResult)
            else _guarded(row, config, functools.partial(_stage, row, config, cache, known), _spent(known))
        )
        pending.append(staged)
        if isinstance(staged, _Staged):
            molecules += 1 + len(staged.request.decoys)
        if molecules >= scorer.batch_size:
            yield from _score_staged(pending, config, scorer)
            pending, molecules = [], 0
    yield from _score_staged(pending, config, scorer)


def _unknown(rows: Iterable[InputRow]) -> Iterator[tuple[InputRow, None]]:
    """Rows as they come: each is canonicalised and looked up when it is staged."""
    for row in rows:
        yield row, None


def _known_ahead(
    rows: Iterable[InputRow], config: RunConfig, cache: DecoyCache
) -> Iterator[tuple[InputRow, RowResult | _Known]]:
    """Rows canonicalised a window ahead of staging, each under its time limit, with their entries being read.

    The cache key needs the canonical SMILES and the molecule's seed, so a row's first half (:func:`_known`, what
    staging does first anyway) runs when the row enters the window; the time it took is taken off the row's limit
    for the second half (:func:`_guarded`), so a row has the same budget as when staged in one step.
    """

    def keyed() -> Iterator[tuple[tuple[InputRow, RowResult | _Known], str | None]]:
        for row in rows:
            started = time.monotonic()
            known = _guarded(row, config, functools.partial(_known, row, config, cache))
            if isinstance(known, RowResult):
                yield (row, known), None
                continue
            known.spent = time.monotonic() - started
            key = (
                None
                if known.entry is not None
                else decoy_cache_key(known.canonical.canonical_smiles, known.seed, config)
            )
            yield (row, known), key

    for (row, known), pending in read_ahead(cache.store, keyed()):
        if isinstance(known, _Known):
            known.pending = pending
        yield row, known


def _spent(known: _Known | None) -> float:
    """Seconds of a row's time limit its first half took when it ran ahead (:func:`_known_ahead`)."""
    return known.spent if known is not None else 0.0


# The alarm's smallest setting: zero would switch it off, and a row whose first half spent its budget must time out.
_LEAST_LIMIT_S = 1e-3


def _score_staged(pending: list[RowResult | _Staged], config: RunConfig, scorer: BatchScorer) -> Iterator[RowResult]:
    """Score every staged row in one ``score_many`` call; a row whose molecule failed becomes scorer_error."""
    staged = [item for item in pending if isinstance(item, _Staged)]
    try:
        outcomes = scorer.score_many([item.request for item in staged]) if staged else []
    except Exception as exc:  # a bug of ours in the batching must cost these rows, never the job
        detail = f"{type(exc).__name__}: {exc} | {traceback.format_exc(limit=3)!r}"
        for item in pending:
            yield item if isinstance(item, RowResult) else errored_row(item.row, ErrorReason.INTERNAL_ERROR, detail)
        return
    by_row = {id(item): outcome for item, outcome in zip(staged, outcomes, strict=True)}
    for item in pending:
        if isinstance(item, RowResult):
            yield item
            continue
        outcome = by_row[id(item)]
        if isinstance(outcome, Exception):
            reason = ErrorReason.SCORER_ERROR if isinstance(outcome, ScorerFault) else ErrorReason.INTERNAL_ERROR
            yield errored_row(item.row, reason, str(outcome))
        else:
            yield _guarded(item.row, config, functools.partial(_complete, item, outcome, config))


def _guarded(row: InputRow, config: RunConfig, step: Callable[[], _T], spent: float = 0.0) -> _T | RowResult:
    """Run one step of a row under its time limit (less ``spent``, the seconds an earlier step of the row took);
    a timeout or a bug of ours costs the row, never the job."""
    limit = config.timeout_s if config.timeout_s is None else max(config.timeout_s - spent, _LEAST_LIMIT_S)
    try:
        with time_limit(limit, MoleculeTimeout):
            return step()
    except ScorerFault as fault:  # the customer's model failed on this row: its words, no traceback
        return errored_row(row, ErrorReason.SCORER_ERROR, str(fault))
    except MoleculeTimeout:
        return errored_row(row, ErrorReason.TIMEOUT, f"molecule took longer than {config.timeout_s:g} s")
    except Exception as exc:  # a bug of ours must cost one row, never the job
        detail = f"{type(exc).__name__}: {exc} | {traceback.format_exc(limit=3)!r}"
        return errored_row(row, ErrorReason.INTERNAL_ERROR, detail)


@dataclass(slots=True)
class _Staged:
    """A row with its decoys made, waiting for scores."""

    row: InputRow
    result: RowResult
    request: ScoreRequest
    similarities: list[float]
    warnings: list[str]


@dataclass(slots=True)
class _Known:
    """A row's first half: its canonical molecule and seed (all its cache key needs), its entry when already in
    hand (peeked), the read of its entry when started ahead, and the seconds the first half took then."""

    canonical: CanonicalMolecule
    seed: int
    entry: CachedDecoys | None = None
    pending: PendingRead | None = None
    spent: float = 0.0


def _known(row: InputRow, config: RunConfig, cache: DecoyCache | None) -> RowResult | _Known:
    if row.error:
        reason = SkipReason(row.error)
        detail = _READER_DETAILS.get(reason, "")
        return skipped_row(row, reason, detail)
    peeked = _peeked(row, config, cache) if cache is not None else None
    if peeked is not None and _servable(peeked.entry, config):
        return _Known(CanonicalMolecule(peeked.text, standardized=False), peeked.seed, peeked.entry)
    canonical = canonical_molecule(row.smiles, config.guardrails)
    if isinstance(canonical, Rejection):
        return skipped_row(row, canonical.reason, canonical.detail)
    seed = _seed(row, config, canonical.canonical_smiles)
    # the entry read above under the input's own text is this one's when the text is the canonical SMILES
    entry = peeked.entry if peeked is not None and peeked.text == canonical.canonical_smiles else None
    return _Known(canonical, seed, entry)


def _stage(
    row: InputRow, config: RunConfig, cache: DecoyCache | None = None, known: _Known | None = None
) -> RowResult | _Staged:
    """A row with its decoys, waiting for scores; ``known`` is its first half when that ran ahead."""
    if known is None:
        first = _known(row, config, cache)
        if isinstance(first, RowResult):
            return first
        known = first
    prepared, seed = known.canonical, known.seed
    cache_event: str = CacheEvent.HIT
    if known.entry is not None:
        decoy_set = known.entry
    else:
        make = functools.partial(_made_decoys, prepared, seed, config, for_cache=cache is not None)
        try:  # a cache hit never parses the canonical SMILES back (CanonicalMolecule.prepared)
            decoy_set, cache_event = (
                cache.decoys(prepared.canonical_smiles, seed, config, make, known.pending) if cache else (make(), "")
            )
        except _Unprepared as exc:
            return skipped_row(row, exc.rejection.reason, exc.rejection.detail)
    warnings: list[str] = []
    if prepared.standardized:
        warnings.append(Warning_.STANDARDIZED)
    if 0 < len(decoy_set.decoys) < config.k_decoys:
        warnings.append(Warning_.FEWER_DECOYS_THAN_REQUESTED)

    summary = base_summary(row)
    summary.update(decoy_set.columns)
    result = RowResult(row.index, row.id, Status.OK, "", "", summary, n_decoys=len(decoy_set.decoys))
    result.decoy_cache = cache_event
    result.rejections = dict(decoy_set.rejections)
    original_hash = smiles_hash(prepared.canonical_smiles)
    result.decoys = [_decoy_row(row.id, "original", original_hash, prepared.canonical_smiles)]
    result.decoys += [_decoy_row(row.id, "decoy", d.hash, d.smiles) for d in decoy_set.decoys]

    if not decoy_set.decoys:
        return _finish(result, Status.SKIP, SkipReason.NO_DECOYS_GENERATED, Verdict.SKIP, warnings)
    request = ScoreRequest(
        molecule_id=row.id,
        original=Candidate(original_hash, prepared.canonical_smiles),
        decoys=[Candidate(d.hash, d.smiles) for d in decoy_set.decoys],
        seed=seed,
    )
    similarities = [d.similarity for d in decoy_set.decoys]
    return _Staged(row, result, request, similarities, warnings)


def _seed(row: InputRow, config: RunConfig, canonical_smiles: str) -> int:
    return molecule_seed(config.seed, seed_by=config.seed_by, canonical_smiles=canonical_smiles, molecule_id=row.id)


class _Peeked(NamedTuple):
    text: str
    seed: int
    entry: CachedDecoys


def _peeked(row: InputRow, config: RunConfig, cache: DecoyCache) -> _Peeked | None:
    """The entry stored under the input's own text as if it were a canonical SMILES, if there is one (read once)."""
    text = row.smiles.strip()
    if not text or config.guardrails.standardize:  # standardisation can change a molecule: always the full road
        return None
    seed = _seed(row, config, text)
    entry = cache.peek(text, seed, config)
    return _Peeked(text, seed, entry) if entry is not None else None


def _servable(entry: CachedDecoys, config: RunConfig) -> bool:
    """A warm row whose input is written as its canonical SMILES can be served without RDKit.

    The entry under the key the input would have as a canonical SMILES exists only if some molecule's canonical
    SMILES is exactly this text, and ``as_written`` says RDKit parses that text and writes it back unchanged: so
    the full road would canonicalise the input to this very SMILES, find this very entry and pass the guardrails
    (one fragment: an entry is made only for a connected molecule; the heavy atoms: checked here).
    """
    return entry.as_written is not None and entry.as_written.heavy_atoms <= config.guardrails.max_heavy_atoms


def _complete(staged: _Staged, scores: ScoreResult, config: RunConfig) -> RowResult:
    result, warnings, summary = staged.result, staged.warnings, staged.result.summary
    n_decoys, seed = len(staged.request.decoys), staged.request.seed
    _attach_scores(result, scores.original, scores.decoys)
    result.n_decoys_scored = sum(item is not None for item in scores.decoys)
    result.score_original = scores.original.score if scores.original is not None else None
    summary["n_decoys_scored"] = result.n_decoys_scored
    summary["score_original"] = result.score_original
    if scores.original is None:
        return _finish(result, Status.SKIP, SkipReason.MISSING_SCORES, Verdict.SKIP, warnings)
    if result.n_decoys_scored == 0:
        return _finish(result, Status.SKIP, SkipReason.MISSING_SCORES_FOR_ALL_DECOYS, Verdict.SKIP, warnings)
    if result.n_decoys_scored < n_decoys:
        warnings.append(Warning_.PARTIAL_DECOY_SCORES)

    # decoys.csv keeps the model's own numbers; the audit reads them so that higher means "real"
    original = _oriented(scores.original, config.score_direction)
    oriented = [None if item is None else _oriented(item, config.score_direction) for item in scores.decoys]
    audit = audit_molecule(original, oriented, q=config.q, margin=config.margin, seed=seed)
    _attach_audit(result, audit)
    result.pairs = [
        (original.score, item.score, similarity)
        for similarity, item in zip(staged.similarities, oriented, strict=True)
        if item is not None
    ]
    warnings.extend(audit.warnings)
    return _finish(result, Status.OK, "", audit.verdict, warnings)


def _oriented(item: ScoredItem, direction: str) -> ScoredItem:
    """The score as the audit reads it: negated when lower means more likely real (IC50, docking energy)."""
    if direction == "higher":
        return item
    return ScoredItem(-item.score, item.weight)


_READER_DETAILS = {
    SkipReason.DUPLICATE_ID: "an earlier row has the same id",
    SkipReason.INVALID_SMILES: "the reader could not parse this record",
}


def _made_decoys(canonical: CanonicalMolecule, seed: int, config: RunConfig, *, for_cache: bool) -> CachedDecoys:
    """A molecule's decoys built now, in the form the decoy cache keeps (everything a row needs from them).

    ``for_cache``: the entry will be stored, so it records whether its SMILES is written as RDKit writes it
    (``as_written``, about 70 µs a molecule); without a cache nothing reads that, and it is not worked out."""
    prepared = canonical.prepared()
    if isinstance(prepared, Rejection):
        raise _Unprepared(prepared)
    # as parsed, before anything reads it: for the as-written check at the end
    parsed = Chem.Mol(prepared.mol) if for_cache else None
    made = generate_decoys(prepared.mol, prepared.canonical_smiles, seed, config.decoy_params)
    decoys = tuple(CachedDecoy(d.smiles, d.hash, d.similarity) for d in made.decoys)
    rejections = {str(reason): count for reason, count in made.rejections.items()}
    columns = _chemistry_columns(prepared, made, seed, config)
    return CachedDecoys(decoys, rejections, columns, _as_written(parsed, prepared.canonical_smiles))


def _as_written(parsed: Chem.Mol | None, canonical_smiles: str) -> AsWritten | None:
    """Whether RDKit writes the parsed molecule back as exactly its canonical SMILES (then a cache hit on that text
    needs no RDKit). ``parsed`` is a copy: writing a SMILES leaves properties that decoy generation must not see."""
    if parsed is None or Chem.MolToSmiles(parsed) != canonical_smiles:
        return None
    return AsWritten(parsed.GetNumHeavyAtoms())


def _chemistry_columns(prepared: PreparedMolecule, decoy_set: DecoySet, seed: int, config: RunConfig) -> dict[str, Any]:
    described = DecoyDescriptors(prepared.mol, full=config.decoy_descriptors == "full")
    original = described.original
    decoy_descriptors = [
        described.of(d.mol, d.removed, d.added, same_rings=d.keeps_ring_systems) for d in decoy_set.decoys
    ]
    columns: dict[str, Any] = {
        "canonical_smiles": prepared.canonical_smiles,
        "n_decoys": len(decoy_set.decoys),
        "n_decoys_scored": 0,
        "decoy_strategy": decoy_set.strategy,
        "seed_used": seed,
        **original,
        **mean_abs_deltas(original, decoy_descriptors),
        **similarity_summary([d.similarity for d in decoy_set.decoys]),
        **spectral_features(prepared.mol),
        "decoy_rejections": format_rejections(decoy_set.rejections),
    }
    return columns


def _decoy_row(molecule_id: str, role: str, hash_: str, smiles: str) -> dict[str, Any]:
    return {"molecule_id": molecule_id, "role": role, "hash": hash_, "smiles": smiles}


def _attach_scores(result: RowResult, original: ScoredItem | None, decoys: Sequence[ScoredItem | None]) -> None:
    for row, item in zip(result.decoys, (original, *decoys), strict=True):
        row["score"] = item.score if item is not None else None
        row["weight"] = item.weight if item is not None else None


def _attach_audit(result: RowResult, audit: AuditResult) -> None:
    result.slack = audit.slack
    result.chance_pass = audit.chance_pass
    result.summary.update(
        auc=audit.auc, gate=audit.gate, slack=audit.slack, margin=audit.margin, null_q=audit.null_q, perm_q=audit.perm_q
    )


def _finish(result: RowResult, status: str, reason: str, verdict: str, warnings: Sequence[str]) -> RowResult:
    result.status, result.reason, result.verdict = status, reason, verdict
    result.summary.update(status=status, reason=reason, verdict=verdict, warnings=_join(warnings))
    return result


def _join(warnings: Sequence[str], detail: str = "") -> str:
    parts = [str(w) for w in warnings]
    if detail:
        parts.append(detail)
    return ";".join(parts)
