"""The customer's model as a Python callable (issue 16): many molecules in, one number per molecule out.

A notebook model is code we did not write, so everything it can do wrong is expected here: it raises, returns
the wrong number of values, NaN, infinity or a string, or never returns. None of that may lose a row or hang the
run. Candidates are scored in batches (a model's per-call overhead dwarfs its per-molecule cost); a batch that
fails is retried one molecule at a time, and a molecule that still fails turns its row into ``ERROR
scorer_error`` with the exception's type and a truncated message, never a traceback.

The contract a scorer meets (read from attributes, so a plain function qualifies):

- ``fn(molecules) -> Sequence[float]``: ``molecules`` is a list of canonical SMILES, or of RDKit molecules
  parsed from them when ``fn.input_type == "mol"``; one finite real number per molecule, in order.
- optional ``fn.model_name`` and ``fn.model_version``: the model's identity for the manifest.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from rdkit import Chem

from hetero_core.errors import ConfigError
from hetero_core.records import ScoredItem
from hetero_core.scores._scorers import Candidate, ScoreRequest, ScoreResult
from hetero_core.timeouts import time_limit

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

InputType = Literal["smiles", "mol"]
DEFAULT_BATCH_SIZE = 256
DEFAULT_BATCH_TIMEOUT_S = 300.0
MAX_FAULT_MESSAGE = 200

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_BATCH_TIMEOUT_S",
    "CallableScorer",
    "ScorerFault",
    "input_type_of",
]


class ScorerFault(Exception):
    """The customer's scorer failed on a molecule; ``str()`` names the molecule and the fault, one line."""


class _BatchTimeout(Exception):
    """The scorer did not return within the batch timeout."""


@dataclass(frozen=True, slots=True)
class _Item:
    """One candidate to score and where it came from, to name it in a message."""

    molecule_id: str
    role: str
    candidate: Candidate

    def describe(self) -> str:
        return f"molecule {self.molecule_id!r} {self.role} {self.candidate.smiles}"


def input_type_of(fn: Callable[..., Any]) -> InputType:
    """What ``fn`` wants: ``"smiles"`` (default) or ``"mol"``, from its ``input_type`` attribute."""
    declared = getattr(fn, "input_type", "smiles")
    if declared not in ("smiles", "mol"):
        raise ConfigError(f"scorer input_type must be 'smiles' or 'mol', got {declared!r}")
    return "mol" if declared == "mol" else "smiles"


class CallableScorer:
    """Adapts ``fn`` to the engine's ``Scorer`` protocol, plus ``score_many`` for batches across rows.

    Picklable when ``fn`` is (it is then sent to worker processes). ``score_many`` returns, per request, either
    its scores or the :class:`ScorerFault` of its first molecule that could not be scored.
    """

    name = "callable"

    def __init__(
        self,
        fn: Callable[[list[Any]], Sequence[Any]],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        batch_timeout_s: float | None = DEFAULT_BATCH_TIMEOUT_S,
    ) -> None:
        if not callable(fn):
            raise ConfigError(f"scorer must be callable, got {type(fn).__name__}")
        if batch_size < 1:
            raise ConfigError("batch_size must be at least 1")
        if batch_timeout_s is not None and batch_timeout_s <= 0:
            raise ConfigError("batch_timeout_s must be positive (or None for no timeout)")
        self.fn = fn
        self.batch_size = batch_size
        self.batch_timeout_s = batch_timeout_s
        self.input_type = input_type_of(fn)

    def score(self, request: ScoreRequest) -> ScoreResult:
        outcome = self.score_many([request])[0]
        if isinstance(outcome, ScorerFault):
            raise outcome
        return outcome

    def score_many(self, requests: Sequence[ScoreRequest]) -> list[ScoreResult | ScorerFault]:
        """Score the originals and decoys of several rows together, ``batch_size`` molecules per call."""
        items: list[_Item] = []
        owner: list[int] = []
        for position, request in enumerate(requests):
            items.append(_Item(request.molecule_id, "original", request.original))
            items.extend(_Item(request.molecule_id, f"decoy {d.hash[:12]}", d) for d in request.decoys)
            owner.extend([position] * (1 + len(request.decoys)))
        values: list[float | None] = [None] * len(items)
        faults: list[ScorerFault | None] = [None] * len(requests)
        for start in range(0, len(items), self.batch_size):
            batch = items[start : start + self.batch_size]
            try:
                values[start : start + len(batch)] = self._call(batch)
                continue
            except ScorerFault:
                pass
            for offset, item in enumerate(batch):  # the batch failed: find out which molecules did
                try:
                    values[start + offset] = self._call([item])[0]
                except ScorerFault as fault:
                    if faults[owner[start + offset]] is None:
                        faults[owner[start + offset]] = fault
        results: list[ScoreResult | ScorerFault] = []
        cursor = 0
        for position, request in enumerate(requests):
            size = 1 + len(request.decoys)
            problem = faults[position]
            if problem is not None:
                results.append(problem)
            else:  # no fault means every value of this request is set
                scored: list[ScoredItem | None] = [
                    None if v is None else ScoredItem(v) for v in values[cursor : cursor + size]
                ]
                results.append(ScoreResult(original=scored[0], decoys=scored[1:]))
            cursor += size
        return results

    def _call(self, batch: list[_Item]) -> list[float]:
        """One call of the model, checked; any fault is a ScorerFault naming the first offending molecule."""
        try:
            molecules = [self._as_input(item) for item in batch]
            with time_limit(self.batch_timeout_s, _BatchTimeout):
                raw = self.fn(molecules)
        except _BatchTimeout:
            raise ScorerFault(
                f"scorer timed out after {self.batch_timeout_s:g} s on {len(batch)} molecules "
                f"(first: {batch[0].describe()})"
            ) from None
        except Exception as exc:  # the model's own exception: its type and message, never a traceback
            raise ScorerFault(f"{_exception_text(exc)} ({batch[0].describe()})") from None
        return _checked(raw, batch)

    def _as_input(self, item: _Item) -> Any:
        if self.input_type == "smiles":
            return item.candidate.smiles
        mol = Chem.MolFromSmiles(item.candidate.smiles)
        if mol is None:
            raise ValueError("RDKit could not parse the exported SMILES")
        return mol


def _exception_text(exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    if len(message) > MAX_FAULT_MESSAGE:
        message = message[: MAX_FAULT_MESSAGE - 1] + "…"
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _checked(raw: Any, batch: list[_Item]) -> list[float]:
    """The model's output as floats, or a ScorerFault: wrong count, a non-number, NaN or infinity."""
    try:
        values = list(raw)
    except TypeError:
        raise ScorerFault(
            f"scorer returned {type(raw).__name__}, not a sequence of numbers ({batch[0].describe()})"
        ) from None
    if len(values) != len(batch):
        raise ScorerFault(
            f"scorer returned {len(values)} values for {len(batch)} molecules (first: {batch[0].describe()})"
        )
    checked: list[float] = []
    for value, item in zip(values, batch, strict=True):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ScorerFault(f"scorer returned a non-number {_short_repr(value)} for {item.describe()}")
        number = float(value)
        if not math.isfinite(number):
            raise ScorerFault(f"scorer returned {number} for {item.describe()}")
        checked.append(number)
    return checked


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"
