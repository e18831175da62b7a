"""The notebook API (issue 16, items 1-2): molecules and a Python model in, a decision and the CLI's own pack out."""

from __future__ import annotations

import csv
import hashlib
import pickle
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from rdkit import Chem

from hetero_core import audit_model
from hetero_core.cli import bundled_example, main
from hetero_core.config import RunConfig
from hetero_core.errors import ConfigError
from hetero_core.pack import verify_pack
from hetero_core.reasons import ErrorReason, Status

if TYPE_CHECKING:
    from pathlib import Path

    from hetero_core.pipeline import ModelAudit

CREATED_AT = "2026-11-30T12:00:00Z"
CONFIG = RunConfig(k_decoys=4, decoy_descriptors="fast")
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
CAFFEINE = "Cn1c(=O)c2c(ncn2C)n(C)c1=O"


def bertz(smiles: list[str]) -> list[float]:
    """A real, picklable toy model: Bertz complexity, which does read bonding (decoys differ from originals)."""
    from rdkit.Chem import GraphDescriptors  # noqa: PLC0415

    return [GraphDescriptors.BertzCT(Chem.MolFromSmiles(s)) for s in smiles]


bertz.model_name = "bertz-toy"  # type: ignore[attr-defined]
bertz.model_version = "1.2"  # type: ignore[attr-defined]


def _drugs(n: int) -> pd.DataFrame:
    with bundled_example().open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:n]
    return pd.DataFrame({"id": [r["id"] for r in rows], "smiles": [r["smiles"] for r in rows]})


def _digests(pack: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(pack.iterdir()) if p.is_file()}


def test_a_dataframe_audit_returns_the_decision_table_metrics_and_a_verifiable_pack(tmp_path: Path) -> None:
    frame = _drugs(8)
    result = audit_model(frame, bertz, out=tmp_path / "pack", config=CONFIG, workers=2, created_at=CREATED_AT)

    assert result.decision in {"GO", "STOP", "INCONCLUSIVE"}
    assert result.decision == result.metrics["decision"]["outcome"]
    assert list(result.molecules["id"]) == list(frame["id"])  # one row per input row, input order
    assert set(result.molecules["status"]) <= {"OK", "SKIP", "ERROR"}
    assert result.metrics["counts"]["total"] == 8
    assert (result.scoring, result.workers) == ("workers", 2)
    assert result.pack_path == tmp_path / "pack"
    assert result.scores_path == tmp_path / "pack.scores.csv"
    assert result.input_path == tmp_path / "pack.molecules.csv"
    assert (result.model.name, result.model.version) == ("bertz-toy", "1.2")
    assert verify_pack(result.pack_path).members_checked > 0
    assert "<b>" in result._repr_html_()


def test_the_pack_is_byte_identical_to_the_clis_given_the_same_scores(tmp_path: Path) -> None:
    result = audit_model(_drugs(10), bertz, out=tmp_path / "nb", config=CONFIG, workers=1, created_at=CREATED_AT)
    cli = tmp_path / "cli"
    argv = ["run", str(result.input_path), "--scores", str(result.scores_path), "--out", str(cli)]
    argv += ["--k-decoys", "4", "--decoy-descriptors", "fast", "--workers", "1", "--quiet", "--created-at", CREATED_AT]
    argv += ["--model-name", "bertz-toy", "--model-version", "1.2"]
    assert main(argv) == 0
    assert _digests(result.pack_path) == _digests(cli)


def test_workers_and_the_main_process_give_the_same_pack(tmp_path: Path) -> None:
    # same pack name in two folders: the manifest names the molecules and scores files, which follow the name
    here = audit_model(_drugs(6), bertz, out=tmp_path / "a" / "p", config=CONFIG, workers=1, created_at=CREATED_AT)
    pool = audit_model(_drugs(6), bertz, out=tmp_path / "b" / "p", config=CONFIG, workers=2, created_at=CREATED_AT)
    assert (here.scoring, pool.scoring) == ("main process", "workers")
    assert _digests(here.pack_path) == _digests(pool.pack_path)


def test_a_re_audit_takes_its_decoys_from_the_cache_and_writes_the_same_pack(tmp_path: Path) -> None:
    """As ``hetero2 run``: a new model version re-audits the same library without building its decoys again."""
    folder = tmp_path / "cache"

    def audit(name: str, cache: Path | bool) -> ModelAudit:
        out = tmp_path / name / "p"  # same pack name: the manifest names the molecules and scores files
        return audit_model(
            _drugs(6), bertz, out=out, config=CONFIG, workers=1, created_at=CREATED_AT, decoy_cache=cache
        )

    first, again, off = audit("a", folder), audit("b", folder), audit("c", False)
    ok = first.metrics["counts"]["OK"]
    assert ok > 0
    assert (first.decoy_cache.hits, first.decoy_cache.misses) == (0, ok)
    assert (again.decoy_cache.hits, again.decoy_cache.misses) == (ok, 0)
    assert (off.decoy_cache.hits, off.decoy_cache.misses) == (0, 0)
    assert _digests(first.pack_path) == _digests(again.pack_path) == _digests(off.pack_path)
    assert any(folder.rglob("*.entry"))


def test_a_scorer_that_does_not_pickle_runs_in_the_main_process_and_says_why(tmp_path: Path) -> None:
    offset = 0.5

    def closure_model(smiles: list[str]) -> list[float]:  # a notebook closure over a local: not picklable
        return [len(s) + offset for s in smiles]

    closure_model.unpicklable = lambda: None  # type: ignore[attr-defined]
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever pickle raises
        pickle.dumps(closure_model)
    result = audit_model([ASPIRIN, CAFFEINE], closure_model, out=tmp_path / "p", config=CONFIG, workers=2)
    assert (result.scoring, result.workers) == ("main process", 1)
    assert "cannot be pickled" in result.scoring_note
    assert list(result.molecules["id"]) == ["mol1", "mol2"]


def test_a_path_is_read_as_the_cli_reads_it_and_not_copied(tmp_path: Path) -> None:
    source = tmp_path / "mols.smi"
    source.write_text(f"{ASPIRIN} aspirin\n{CAFFEINE} caffeine\n", encoding="utf-8")
    result = audit_model(source, bertz, out=tmp_path / "p", config=CONFIG, workers=1, progress=False)
    assert result.input_path == source
    assert list(result.molecules["id"]) == ["aspirin", "caffeine"]


def test_keyword_parameters_override_the_config_and_given_names_beat_attributes(tmp_path: Path) -> None:
    result = audit_model(
        [ASPIRIN], bertz, out=tmp_path / "p", config=CONFIG, k_decoys=3, seed=7, model_name="mine", workers=1
    )
    assert result.molecules["n_decoys"].tolist() == [3]
    manifest = (result.pack_path / "manifest.json").read_text(encoding="utf-8")
    assert '"name": "mine"' in manifest
    assert '"version": "1.2"' in manifest
    assert '"seed": 7' in manifest


def test_a_failing_molecule_is_an_error_row_in_the_table_and_the_run_still_ends_in_a_pack(tmp_path: Path) -> None:
    def fragile(smiles: list[str]) -> list[float]:
        if CAFFEINE in smiles:
            raise RuntimeError("caffeine is out of domain")
        return [float(len(s)) for s in smiles]

    result = audit_model([ASPIRIN, CAFFEINE], fragile, out=tmp_path / "p", config=CONFIG, workers=1)
    statuses = dict(zip(result.molecules["id"], result.molecules["status"], strict=True))
    assert statuses == {"mol1": Status.OK, "mol2": Status.ERROR}
    assert result.molecules["reason"].tolist()[1] == ErrorReason.SCORER_ERROR
    assert result.decision in {"INCONCLUSIVE", "STOP"}  # GO needs ERROR = 0
    verify_pack(result.pack_path)


def test_audit_model_does_not_shadow_the_audit_subpackage() -> None:
    import hetero_core.audit  # noqa: PLC0415

    assert hetero_core.audit_model is audit_model
    assert hasattr(hetero_core.audit, "audit_molecule")


@pytest.mark.parametrize(
    ("molecules", "message"),
    [
        (pd.DataFrame({"name": ["a"], "smiles": [ASPIRIN]}), "no column 'id'"),
        ([ASPIRIN, 42], "must hold SMILES strings"),
        ([], "no molecules given"),
        ({"a": ASPIRIN}, "must be a DataFrame, a list of SMILES or a path"),
        ("/nonexistent/mols.csv", "no such molecules file"),
    ],
    ids=["missing-column", "non-string", "empty", "dict", "missing-path"],
)
def test_bad_molecules_are_refused_with_one_clear_message(tmp_path: Path, molecules: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        audit_model(molecules, bertz, out=tmp_path / "p", config=CONFIG)
    assert not (tmp_path / "p").exists()


def test_zero_workers_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="workers must be at least 1"):
        audit_model([ASPIRIN], bertz, out=tmp_path / "p", config=CONFIG, workers=0)


def test_the_progress_bar_counts_every_row_and_can_be_turned_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audit_model([ASPIRIN, CAFFEINE], bertz, out=tmp_path / "a", config=CONFIG, workers=1, progress=True)
    assert "2/2" in capsys.readouterr().err
    audit_model([ASPIRIN, CAFFEINE], bertz, out=tmp_path / "b", config=CONFIG, workers=1, progress=False)
    assert "2/2" not in capsys.readouterr().err


def test_score_direction_lower_is_recorded_and_flips_the_audit(tmp_path: Path) -> None:
    higher = audit_model([ASPIRIN], bertz, out=tmp_path / "h", config=CONFIG, workers=1, progress=False)
    lower = audit_model(
        [ASPIRIN], bertz, out=tmp_path / "l", config=CONFIG, workers=1, progress=False, score_direction="lower"
    )
    assert lower.metrics["config"]["score_direction"] == "lower"
    assert higher.molecules["auc"][0] + lower.molecules["auc"][0] == pytest.approx(1.0)
