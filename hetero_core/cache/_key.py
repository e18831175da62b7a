"""What a cached decoy entry is a function of, and the one key derived from it.

With the default ``seed_by=smiles`` a molecule's decoys (and every column computed from them) are a pure function
of its canonical SMILES, the decoy parameters, the descriptor mode and the versions of the engine and RDKit. The
key is the sha256 of exactly that, so an entry can only ever be found by a run that would have made the same
bytes; anything that does not change the decoys (the scorer, ``q``, the margin, timeouts) is left out on purpose,
so a re-audit with a new model version finds last week's decoys.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import rdkit

from hetero_core import __version__
from hetero_core.layout import DECOYS_SCHEMA

if TYPE_CHECKING:
    from hetero_core.config import RunConfig

# Bumped when the entry's payload changes shape: old entries then simply stop being found.
ENTRY_FORMAT = "hetero2.decoy_cache.v1"


@dataclass(frozen=True, slots=True)
class DecoyRecipe:
    """Every input that changes a molecule's decoys or their columns; the key is a digest of all of it."""

    canonical_smiles: str
    molecule_seed: int
    seed_by: str
    run_seed: int
    k: int
    hard_mode: tuple[float, float] | None
    max_walk_swaps: int
    walk_attempts_per_missing_decoy: int
    decoy_filter: str
    max_rung: str
    decoy_descriptors: str
    decoys_schema: str = DECOYS_SCHEMA
    engine_version: str = __version__
    rdkit_version: str = rdkit.__version__
    entry_format: str = ENTRY_FORMAT

    @classmethod
    def of(cls, canonical_smiles: str, molecule_seed: int, config: RunConfig) -> DecoyRecipe:
        """The recipe of one prepared molecule (canonical SMILES of the standardised input) under ``config``."""
        return cls(canonical_smiles=canonical_smiles, molecule_seed=molecule_seed, **_run_part(config))

    def key(self) -> str:
        """Hex sha256 of the recipe as canonical JSON (sorted keys, floats in their shortest round-trip form)."""
        fields = {name: getattr(self, name) for name in _FIELDS}  # asdict() deep-copies: 4x slower, same JSON
        text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


_FIELDS = tuple(field.name for field in dataclasses.fields(DecoyRecipe))


@functools.lru_cache(maxsize=16)
def _run_part(config: RunConfig) -> dict[str, Any]:
    """The recipe's fields that come from the run, once per configuration (a row needs only its molecule's)."""
    params = config.decoy_params
    hard = (params.hard_mode.min_similarity, params.hard_mode.max_similarity) if params.hard_mode else None
    return {
        "seed_by": config.seed_by,
        "run_seed": config.seed,
        "k": params.k,
        "hard_mode": hard,
        "max_walk_swaps": params.max_walk_swaps,
        "walk_attempts_per_missing_decoy": params.walk_attempts_per_missing_decoy,
        "decoy_filter": params.decoy_filter,
        "max_rung": params.max_rung,
        "decoy_descriptors": config.decoy_descriptors,
    }


def decoy_cache_key(canonical_smiles: str, molecule_seed: int, config: RunConfig) -> str:
    """The cache key of one molecule's decoys: the only function that derives it."""
    return DecoyRecipe.of(canonical_smiles, molecule_seed, config).key()
