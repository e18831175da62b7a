"""A job's parameters as the API accepts them: validated here, turned into the engine's RunConfig by the planner.

This module must import without RDKit (the API runs as a light zip function), so it mirrors the engine's
limits instead of importing them; tests/service/test_job_params.py keeps the two in step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from hetero_core.config import RunConfig
    from hetero_core.io import InputColumns

ScorerName = Literal["mock", "constant", "random", "good", "qed", "sa", "composition"]
Executor = Literal["auto", "lambda", "fargate"]


class JobParameters(BaseModel):
    """Everything that changes a result, plus where it runs. Unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    k_decoys: int = Field(20, ge=1, le=1000, description="decoys requested per molecule")
    seed: int = Field(0, ge=0, lt=2**32)
    seed_by: Literal["smiles", "id"] = "smiles"
    hard_mode: bool = False
    hard_min_similarity: float = Field(0.65, ge=0.0, le=1.0)
    hard_max_similarity: float = Field(0.95, ge=0.0, le=1.0)
    standardize: bool = False
    max_heavy_atoms: int = Field(200, ge=1, le=10_000)
    q: float = Field(0.95, ge=0.5, lt=1.0)
    margin: float = Field(0.05, ge=0.0, le=0.5)
    timeout_s: float = Field(60.0, gt=0.0, le=3600.0)
    decoy_descriptors: Literal["full", "fast"] = "full"
    score_direction: Literal["higher", "lower"] = Field(
        "higher", description="higher: a higher score means more likely real; lower: IC50, docking energy"
    )
    min_score_coverage: float = Field(
        0.9, ge=0.0, le=1.0, description="refuse the job when scores cover less of its molecules or decoys"
    )
    decoy_filter: Literal["standard", "none", "strict"] = Field(
        "standard", description="standard: no decoy with a red-flag motif its original lacks (decoys.v2); none: v1"
    )
    max_rung: Literal["strict", "relax_aromatic", "relax_rings", "kekule"] = Field(
        "kekule", description="highest rung of the decoy ladder; relax_aromatic never rewires ring systems"
    )
    model_name: str | None = Field(None, min_length=1, max_length=200, description="the audited model's name")
    model_version: str | None = Field(None, min_length=1, max_length=200, description="the audited model's version")
    model_sha256: str | None = Field(None, pattern="^[0-9a-f]{64}$", description="sha256 of the model artifact")
    scorer: ScorerName = Field(
        "qed", description="built-in scorer; ignored when the job has a scores file (scores-only mode)"
    )
    id_column: str = Field("id", min_length=1, max_length=128)
    smiles_column: str = Field("smiles", min_length=1, max_length=128)
    sdf_id_property: str | None = Field(None, min_length=1, max_length=128)
    executor: Executor = "auto"
    chunk_rows: int | None = Field(None, ge=1, le=20_000, description="override the planner's chunk size")
    decoy_cache: bool = Field(
        False,
        description="read and write the org's decoy cache: a re-audit of the same molecules builds no decoys again, "
        "at one S3 request per molecule (docs/cost.md); packs are identical either way",
    )

    @model_validator(mode="after")
    def _similarity_window(self) -> JobParameters:
        if self.hard_min_similarity > self.hard_max_similarity:
            raise ValueError("hard_min_similarity must not exceed hard_max_similarity")
        return self

    def run_config(self) -> RunConfig:
        from hetero_core.config import RunConfig  # noqa: PLC0415 - RDKit only where the engine runs

        return RunConfig(
            k_decoys=self.k_decoys,
            seed=self.seed,
            seed_by=self.seed_by,
            hard_mode=self.hard_mode,
            hard_min_similarity=self.hard_min_similarity,
            hard_max_similarity=self.hard_max_similarity,
            standardize=self.standardize,
            max_heavy_atoms=self.max_heavy_atoms,
            q=self.q,
            margin=self.margin,
            timeout_s=self.timeout_s,
            decoy_descriptors=self.decoy_descriptors,
            score_direction=self.score_direction,
            min_score_coverage=self.min_score_coverage,
            decoy_filter=self.decoy_filter,
            max_rung=self.max_rung,
        )

    def input_columns(self) -> InputColumns:
        from hetero_core.io import InputColumns  # noqa: PLC0415 - RDKit only where the engine runs

        return InputColumns(
            id_column=self.id_column, smiles_column=self.smiles_column, sdf_id_property=self.sdf_id_property
        )
