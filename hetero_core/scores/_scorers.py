"""Score sources (SPEC §4): who puts a number on the original and on each of its decoys.

The audit is only as trustworthy as its ability to tell a bad model from a good one, so next to the
demo (``mock``) and the built-in real scorers (``qed``, ``sa``) this module ships *reference* scorers
with a known answer: ``constant`` and ``random`` must FAIL, ``good`` must PASS. Customer scores
(``external``) live in :mod:`hetero_core.scores._external` and implement the same :class:`Scorer`
protocol, so the chunk processor never knows where a number came from.

Every scorer is a small picklable object (it is sent to worker processes) and is a pure function of
the request: no dependence on call order, chunking or process.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from rdkit import Chem
from rdkit.Chem import QED, rdMolDescriptors

from hetero_core.errors import ConfigError
from hetero_core.records import ScoredItem

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from types import ModuleType

SCORER_NAMES: tuple[str, ...] = ("mock", "constant", "random", "good", "qed", "sa", "composition")

_MOCK_DENOMINATOR = 16**12 - 1


@dataclass(frozen=True)
class Candidate:
    """One molecule to score: the original or a decoy, exactly as ``decoys.csv`` exports it.

    ``hash`` is ``smiles_hash(smiles)``, the key customers use in score files; ``smiles`` is canonical.
    There is deliberately no RDKit object here: a built-in scorer parses ``smiles`` itself, so it scores
    the molecule a customer scoring the exported table would see (SPEC §4), not an in-memory graph whose
    perception may differ from what the SMILES reads back as.
    """

    hash: str
    smiles: str


@dataclass(frozen=True)
class ScoreRequest:
    """Everything a scorer may look at for one input molecule: its id, the original and its decoys.

    ``seed`` is the per-molecule seed its decoys were built with; the built-in scorers ignore it
    (``random`` takes the run seed from :func:`make_scorer`) so their numbers do not depend on ``seed_by``.
    """

    molecule_id: str
    original: Candidate
    decoys: Sequence[Candidate]
    seed: int


@dataclass(frozen=True)
class ScoreResult:
    """Scores for one request; ``decoys`` is in request order and ``None`` means "no score"."""

    original: ScoredItem | None
    decoys: list[ScoredItem | None]


@runtime_checkable
class Scorer(Protocol):
    """What the chunk processor calls: one request in, one result out, nothing else."""

    name: str

    def score(self, request: ScoreRequest) -> ScoreResult:
        """Score the original and every decoy of one molecule."""
        ...


@runtime_checkable
class BatchScorer(Scorer, Protocol):
    """A scorer that prefers many rows at once (a customer's model): the chunk processor batches for it."""

    batch_size: int

    def score_many(self, requests: Sequence[ScoreRequest]) -> Sequence[ScoreResult | Exception]:
        """Per request, its scores or the exception that says why its row cannot be scored."""
        ...


class MockScorer:
    """Demo only: the original always scores 1.0 and decoys get a pseudo-random value below it.

    Decoy score is ``int(hash[:12], 16) / (16**12 - 1)``, so the audit always PASSes; it shows the
    pipeline end to end and says nothing about any model.
    """

    name = "mock"

    def score(self, request: ScoreRequest) -> ScoreResult:
        return ScoreResult(
            original=ScoredItem(1.0),
            decoys=[ScoredItem(int(decoy.hash[:12], 16) / _MOCK_DENOMINATOR) for decoy in request.decoys],
        )


class ConstantScorer:
    """Known bad reference: every molecule scores 0.5, so the model sees no structure at all.

    All scores tie, the AUC is 0.5 and every audited molecule must FAIL; if it does not, the audit
    is broken.
    """

    name = "constant"

    def score(self, request: ScoreRequest) -> ScoreResult:
        return ScoreResult(original=ScoredItem(0.5), decoys=[ScoredItem(0.5) for _ in request.decoys])


class RandomScorer:
    """Known bad reference: uniform noise, a model that ranks the real molecule first only by chance.

    Each score is drawn from a generator seeded by sha256 of (run seed, molecule id, candidate hash),
    so a molecule gets the same number whatever the order, chunking or worker process, and a new run
    seed gives new numbers. PASS-rate must stay near its null rate (1/(k+1) with k decoys).
    """

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def _draw(self, molecule_id: str, candidate: Candidate) -> ScoredItem:
        # JSON keeps the three parts unambiguous whatever characters the id holds.
        key = json.dumps([self.seed, molecule_id, candidate.hash]).encode("utf-8")
        generator_seed = int.from_bytes(hashlib.sha256(key).digest(), "big")
        # random.Random(int).random() is guaranteed stable across Python versions.
        return ScoredItem(random.Random(generator_seed).random())

    def score(self, request: ScoreRequest) -> ScoreResult:
        return ScoreResult(
            original=self._draw(request.molecule_id, request.original),
            decoys=[self._draw(request.molecule_id, decoy) for decoy in request.decoys],
        )


class GoodScorer:
    """Known good reference: the original scores 1.0 and every decoy 0.0, a model that sees structure.

    Every audited molecule must PASS; together with ``constant`` it measures the separation the audit
    can show between a good and a bad model (the seed's VALUE-M2 facts).
    """

    name = "good"

    def score(self, request: ScoreRequest) -> ScoreResult:
        return ScoreResult(original=ScoredItem(1.0), decoys=[ScoredItem(0.0) for _ in request.decoys])


class CompositionScorer:
    """Known bad reference: a model that sees only composition, i.e. a function of the molecular formula.

    The score is seeded noise keyed by (run seed, formula): it varies from molecule to molecule like a real
    model's output, but a decoy has its original's formula by construction, so every decoy ties its original
    and the molecule cannot PASS. The calibration uses it to show that the audit catches exactly the failure
    it exists for: a model that reacts to which atoms are present, not to how they are bonded.
    """

    name = "composition"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def _value(self, mol: Chem.Mol) -> float:
        key = json.dumps([self.seed, rdMolDescriptors.CalcMolFormula(mol)]).encode("utf-8")
        return random.Random(int.from_bytes(hashlib.sha256(key).digest(), "big")).random()

    def score(self, request: ScoreRequest) -> ScoreResult:
        return _score_each(request, self._value)


def _molecule(candidate: Candidate) -> Chem.Mol | None:
    """The molecule as exported: parsed back from its canonical SMILES (None if RDKit rejects it)."""
    return Chem.MolFromSmiles(candidate.smiles)


def _score_each(request: ScoreRequest, measure: Callable[[Chem.Mol], float | None]) -> ScoreResult:
    """Apply a per-molecule measure; an unparsable molecule or no value gives no score, not a guess."""

    def item(candidate: Candidate) -> ScoredItem | None:
        mol = _molecule(candidate)
        if mol is None:
            return None
        value = measure(mol)
        return None if value is None else ScoredItem(float(value))

    return ScoreResult(original=item(request.original), decoys=[item(decoy) for decoy in request.decoys])


class QedScorer:
    """Built-in real scorer: RDKit's QED drug-likeness (0..1, higher is more drug-like).

    Gives a new user a meaningful audit with no model of their own. QED combines descriptors
    (MW, logP, HBD/HBA, PSA, rotatable bonds, aromatic rings, structural alerts); a decoy has the same
    MW but the others can move when bonds are rewired, so how far QED sees structure is a real question.
    """

    name = "qed"

    def score(self, request: ScoreRequest) -> ScoreResult:
        return _score_each(request, QED.qed)


@functools.cache
def _sascorer() -> ModuleType:
    """RDKit Contrib's SA_Score with its fragment table loaded, once per process, on first use."""
    from rdkit.Contrib.SA_Score import sascorer  # noqa: PLC0415 - heavy table, loaded only if asked for

    module: ModuleType = sascorer
    if getattr(module, "_fscores", None) is None:
        module.readFragmentScores()
    return module


def _sa_goodness(mol: Chem.Mol) -> float | None:
    """Ertl-Schuffenhauer SA (1 easy .. 10 hard) turned into (10 - sa) / 9: higher is more makeable."""
    sa = _sascorer().calculateScore(mol)
    if sa is None:
        return None
    return (10.0 - float(sa)) / 9.0


class SaScorer:
    """Built-in real scorer: synthetic accessibility, reported so that higher means easier to make.

    Rewired decoys tend to have unusual fragments and ring systems, so a model that rewards real,
    makeable chemistry should rank the original first; ``(10 - sa) / 9`` maps SA's 1 (easy) .. 10
    (hard) onto 1 .. 0 like every other score. The fragment table is read lazily, once per process.
    """

    name = "sa"

    def score(self, request: ScoreRequest) -> ScoreResult:
        return _score_each(request, _sa_goodness)


# name -> constructor from the run seed (only the seeded scorers use it); SCORER_NAMES lists the same names in the
# order the CLI prints them (tests/unit/test_scoring.py builds each listed name here).
_FACTORIES: dict[str, Callable[[int], Scorer]] = {
    "mock": lambda _seed: MockScorer(),
    "constant": lambda _seed: ConstantScorer(),
    "random": RandomScorer,
    "good": lambda _seed: GoodScorer(),
    "qed": lambda _seed: QedScorer(),
    "sa": lambda _seed: SaScorer(),
    "composition": CompositionScorer,
}


def make_scorer(name: str, *, seed: int = 0) -> Scorer:
    """Build a named built-in scorer; ``seed`` is the run seed (only ``random`` uses it).

    Raises:
        ConfigError: ``name`` is not one of :data:`SCORER_NAMES`.
    """
    factory = _FACTORIES.get(name)
    if factory is not None:
        return factory(seed)
    raise ConfigError(
        f"unknown scorer {name!r}; valid names: {', '.join(SCORER_NAMES)} "
        "(customer scores are given with --scores FILE)"
    )
