"""A model shipped as an installable scorer (issue 16, item 3): found by entry point or MODULE:FUNCTION, run, named.

The test distribution is real metadata on a temporary path entry (a ``.dist-info`` folder with METADATA,
entry_points.txt and top_level.txt beside its package), exactly what an installer would leave; no network.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from typing import TYPE_CHECKING

import pytest

from hetero_core.cli import main
from hetero_core.pack import verify_pack
from hetero_core.scores import SCORER_GROUP, installed_scorers, load_scorer

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

CREATED_AT = "2026-11-30T12:00:00Z"
MOLECULES = "id,smiles\naspirin,CC(=O)Oc1ccccc1C(=O)O\ncaffeine,Cn1c(=O)c2c(ncn2C)n(C)c1=O\n"
FAST = ["--k-decoys", "4", "--decoy-descriptors", "fast", "--workers", "1", "--quiet", "--created-at", CREATED_AT]

ACME = '''"""Acme's potency model, v7: a stand-in that reads bonding (Bertz complexity)."""
from rdkit import Chem
from rdkit.Chem import GraphDescriptors


def potency(smiles):
    return [GraphDescriptors.BertzCT(Chem.MolFromSmiles(s)) for s in smiles]


def named(smiles):
    return [float(len(s)) for s in smiles]


named.model_name = "acme named model"
named.model_version = "2026.11"
not_callable = 42
'''


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    (root / "acme_models").mkdir()
    (root / "acme_models" / "__init__.py").write_text(ACME, encoding="utf-8")
    info = root / "acme_models-7.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-models\nVersion: 7.0.1\n", encoding="utf-8")
    (info / "top_level.txt").write_text("acme_models\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        f"[{SCORER_GROUP}]\npotency_v7 = acme_models:potency\nnamed = acme_models:named\n"
        "broken = acme_models_gone:score\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture
def installed(site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.syspath_prepend(str(site))
    yield
    sys.modules.pop("acme_models", None)


@pytest.fixture
def molecules(tmp_path: Path) -> Path:
    path = tmp_path / "mols.csv"
    path.write_text(MOLECULES, encoding="utf-8")
    return path


def _model_block(pack: Path) -> dict[str, object]:
    block: dict[str, object] = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))["model"]
    return block


@pytest.mark.usefixtures("installed")
def test_hetero2_scorers_lists_builtins_and_the_installed_plugin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scorers"]) == 0
    out = capsys.readouterr().out
    assert "built-in: mock, constant, random, good, qed, sa, composition" in out
    assert "potency_v7\tacme_models:potency\tacme-models 7.0.1" in out
    assert [s.name for s in installed_scorers()] == ["broken", "named", "potency_v7"]


def test_hetero2_scorers_says_when_no_plugin_is_installed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scorers"]) == 0
    assert "none installed" in capsys.readouterr().out


@pytest.mark.usefixtures("installed")
def test_an_installed_plugin_runs_from_the_cli_and_names_its_distribution(molecules: Path, tmp_path: Path) -> None:
    out = tmp_path / "pack"
    assert main(["run", str(molecules), "--scorer", "potency_v7", "--out", str(out), *FAST]) == 0
    verify_pack(out)
    model = _model_block(out)
    assert (model["name"], model["version"]) == ("acme-models:potency_v7", "7.0.1")
    assert (tmp_path / "pack.scores.csv").is_file()


@pytest.mark.usefixtures("installed")
def test_the_scorer_run_equals_the_scores_run_byte_for_byte(molecules: Path, tmp_path: Path) -> None:
    model = tmp_path / "a" / "pack"
    model.parent.mkdir()
    assert main(["run", str(molecules), "--scorer", "potency_v7", "--out", str(model), *FAST]) == 0
    scores = tmp_path / "a" / "pack.scores.csv"
    again = tmp_path / "b" / "pack"
    named = ["--model-name", "acme-models:potency_v7", "--model-version", "7.0.1"]
    assert main(["run", str(molecules), "--scores", str(scores), "--out", str(again), *FAST, *named]) == 0
    digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in model.iterdir()}
    assert digest == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in again.iterdir()}


@pytest.mark.usefixtures("installed")
def test_module_function_is_imported_and_versioned_by_its_distribution(molecules: Path, tmp_path: Path) -> None:
    out = tmp_path / "pack"
    assert main(["run", str(molecules), "--scorer", "acme_models:potency", "--out", str(out), *FAST]) == 0
    assert _model_block(out)["name"] == "acme_models:potency"
    assert _model_block(out)["version"] == "7.0.1"


@pytest.mark.usefixtures("installed")
def test_the_scorers_own_attributes_beat_the_distribution_and_flags_beat_both(molecules: Path, tmp_path: Path) -> None:
    assert main(["run", str(molecules), "--scorer", "named", "--out", str(tmp_path / "a"), *FAST]) == 0
    assert _model_block(tmp_path / "a")["name"] == "acme named model"
    assert _model_block(tmp_path / "a")["version"] == "2026.11"
    flags = ["--model-name", "mine", "--model-version", "0.1"]
    assert main(["run", str(molecules), "--scorer", "named", "--out", str(tmp_path / "b"), *FAST, *flags]) == 0
    assert (_model_block(tmp_path / "b")["name"], _model_block(tmp_path / "b")["version"]) == ("mine", "0.1")


def test_a_loose_module_in_the_current_folder_is_found(
    molecules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "loose_model_16.py").write_text("def score(smiles):\n    return [len(s) for s in smiles]\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path / "unused"))  # sys.path is restored after the test
    loaded = load_scorer("loose_model_16:score")
    assert (loaded.model.name, loaded.model.version) == ("loose_model_16:score", None)
    assert main(["run", str(molecules), "--scorer", "loose_model_16:score", "--out", str(tmp_path / "p"), *FAST]) == 0
    monkeypatch.delitem(sys.modules, "loose_model_16")


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("potency_v8", "unknown scorer 'potency_v8'.*broken, named, potency_v7"),
        ("broken", "scorer plugin 'broken' .* failed to load: ModuleNotFoundError"),
        ("acme_models:missing", "has no attribute 'missing'"),
        ("acme_models:not_callable", "is a int, not a callable"),
        ("no_such_module_16:score", "cannot import 'no_such_module_16'"),
        (":score", "expected MODULE:FUNCTION"),
    ],
    ids=["unknown", "broken-plugin", "missing-attribute", "not-callable", "missing-module", "no-module"],
)
def test_a_scorer_that_cannot_be_loaded_is_exit_2_with_one_line(
    spec: str, message: str, molecules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pack"
    assert main(["run", str(molecules), "--scorer", spec, "--out", str(out), *FAST]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hetero2: error:")
    assert re.search(message, err), err
    assert "Traceback" not in err
    assert not out.exists()


@pytest.mark.usefixtures("installed")
def test_a_batch_size_below_one_is_exit_2(molecules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", str(molecules), "--scorer", "potency_v7", "--batch-size", "0", "--out", str(tmp_path / "p"), *FAST]
    assert main(argv) == 2
    assert "batch_size must be at least 1" in capsys.readouterr().err
