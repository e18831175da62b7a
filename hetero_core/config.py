"""Run parameters: everything that changes a result, validated once and recorded in the manifest."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Literal

from hetero_core.decoys import DECOY_FILTERS, LADDER, DecoyFilter, DecoyParams, HardMode, SeedBy
from hetero_core.errors import ConfigError
from hetero_core.molecules import DEFAULT_MAX_HEAVY_ATOMS, Guardrails

if TYPE_CHECKING:
    from collections.abc import Mapping

DecoyDescriptors = Literal["full", "fast"]
ScoreDirection = Literal["higher", "lower"]
DEFAULT_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class RunConfig:
    k_decoys: int = 20
    seed: int = 0
    seed_by: SeedBy = "smiles"
    hard_mode: bool = False
    hard_min_similarity: float = 0.65
    hard_max_similarity: float = 0.95
    standardize: bool = False
    max_heavy_atoms: int = DEFAULT_MAX_HEAVY_ATOMS
    q: float = 0.95
    margin: float = 0.05
    timeout_s: float = DEFAULT_TIMEOUT_S
    decoy_descriptors: DecoyDescriptors = "full"
    # higher: a higher score means "more likely real/active"; lower: IC50, docking energy, toxicity (SPEC §4)
    score_direction: ScoreDirection = "higher"
    # below this share of molecules (or decoys) with a score the run is refused: the scores fit another input
    min_score_coverage: float = 0.9
    decoy_filter: DecoyFilter = "standard"
    max_rung: str = LADDER[-1]

    def __post_init__(self) -> None:
        checks: list[tuple[bool, str]] = [
            (1 <= self.k_decoys <= 1000, "k_decoys must be between 1 and 1000"),
            (0 <= self.seed < 2**32, "seed must be between 0 and 2**32 - 1"),
            (self.seed_by in ("smiles", "id"), "seed_by must be 'smiles' or 'id'"),
            (
                0.0 <= self.hard_min_similarity <= self.hard_max_similarity <= 1.0,
                "hard mode needs 0 <= min similarity <= max similarity <= 1",
            ),
            (1 <= self.max_heavy_atoms <= 10_000, "max_heavy_atoms must be between 1 and 10000"),
            (0.5 <= self.q < 1.0, "q must be in [0.5, 1)"),
            (0.0 <= self.margin <= 0.5, "margin must be in [0, 0.5]"),
            (0.0 < self.timeout_s <= 3600.0, "timeout_s must be in (0, 3600]"),
            (self.decoy_descriptors in ("full", "fast"), "decoy_descriptors must be 'full' or 'fast'"),
            (self.score_direction in ("higher", "lower"), "score_direction must be 'higher' or 'lower'"),
            (0.0 <= self.min_score_coverage <= 1.0, "min_score_coverage must be in [0, 1]"),
            (self.decoy_filter in DECOY_FILTERS, f"decoy_filter must be one of {', '.join(DECOY_FILTERS)}"),
            (self.max_rung in LADDER, f"max_rung must be one of {', '.join(LADDER)}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    @classmethod
    def from_attributes(cls, source: object, renamed: Mapping[str, str] | None = None) -> RunConfig:
        """Every parameter read from ``source``'s attribute of the same name, or of the name ``renamed`` maps it to:
        the CLI's parsed options and the service's job parameters become a config this one way, and a parameter
        added here that either does not offer fails loudly instead of running on its default."""
        names = renamed or {}
        return cls(**{field.name: getattr(source, names.get(field.name, field.name)) for field in fields(cls)})

    @property
    def decoy_params(self) -> DecoyParams:
        hard = HardMode(self.hard_min_similarity, self.hard_max_similarity) if self.hard_mode else None
        return DecoyParams(k=self.k_decoys, hard_mode=hard, decoy_filter=self.decoy_filter, max_rung=self.max_rung)

    @property
    def guardrails(self) -> Guardrails:
        return Guardrails(max_heavy_atoms=self.max_heavy_atoms, standardize=self.standardize)

    def to_manifest(self) -> dict[str, object]:
        params = asdict(self)
        params["decoy_ladder"] = list(LADDER)
        params["max_walk_swaps"] = self.decoy_params.max_walk_swaps
        params["walk_attempts_per_missing_decoy"] = self.decoy_params.walk_attempts_per_missing_decoy
        params["fingerprint"] = "morgan_r2_2048"
        return params
