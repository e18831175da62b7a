"""Pack bytes pinned for this RDKit and matplotlib: a refactoring that changes one byte of a pack fails here.

Two packs: the bundled example (44 drugs, QED) and 300 real molecules built from files that RDKit ships (the
tests' tricky set, a ChEMBL series and a ChEMBL actives file). A change that is meant to alter the bytes (a new
decoy or audit contract) re-pins them here and says so in the CHANGELOG. The pins hold for the versions in
``PINNED_FOR``, which the lock file fixes (with the Python minor version); on other versions the test says
which versions it needs instead of comparing bytes that RDKit or matplotlib are entitled to change.
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import pytest
import rdkit
from rdkit import RDConfig

from hetero_core.cli import main
from hetero_core.layout import DECOYS, INDEX, MANIFEST, METRICS, REPORT, SUMMARY, ZIP
from hetero_core.pack._provenance import git_commit

CREATED_AT = "2026-01-01T00:00:00Z"
# RDKit's wheels differ per Python minor version (measured: two AUCs of the example move between 3.11 and 3.12).
PINNED_FOR = {"python": "3.11", "rdkit": "2026.09.1", "matplotlib": "3.11.2"}
DATA = Path(__file__).resolve().parents[1] / "data"

EXAMPLE_PINS = {
    SUMMARY: "02c09618490487bfbbb2e31a2a9767aa1de4e6f125f0433c0256b5d5ebf384f6",
    DECOYS: "c01e0676abe366ccdbc71d098ab73c5f323b2d78e7a2ddb1136cd999f7c83058",
    METRICS: "a72003231d65b6ee68fd3cda67250d2a8d9d1448d04fb8946a21b183eb6638a5",
    INDEX: "852e2aef7dc372f2ec8ce2ea728171ab928463bf427aa69f59a4a008234a033d",
    REPORT: "fb17c0bc2234169889164bda0298d1a1bd8a53172f4936641439faab9d33295e",
    MANIFEST: "61014395741ff32842225d27409ca6536f6b16b6747b6a159df62b8faf036f09",
    ZIP: "9445c6be6cce03dcdf4dbc0b6dc24bd25c8f70e657bbc4b9e83b7703e58add25",
}
REAL_300_PINS = {
    SUMMARY: "39bbef6784aa2d126c9e64ec5028859f6be85db1fca6b5882bf06924e1c095e9",
    DECOYS: "6b15889af225620e1e2d7b2a8b79f76babc5b9196bbbc6eb019e2caaf8e3496e",
    METRICS: "5e08ec5f1eaa121b030dad971c44aae460497b9f6555d893e89f2e75dea4c03d",
    INDEX: "39a053c3b08952275e5f175dd52b3fee543137842582e7de589ab6441f3ba823",
    REPORT: "376167ea0a2ad636d2288a449324335df6f283d084613d420a9f4abd2a808f24",
    MANIFEST: "0c7298344c506d6d1b4ae645e2d4ca8af24d9e2022b815d68507fbc4ae278d7b",
    ZIP: "d226be49b8614334a7a177ea188ef05b6781c0eebf8f2d4b98c54a2c438e5c98",
}


def _real_300(path: Path) -> Path:
    contrib = Path(RDConfig.RDContribDir)
    sources = (
        DATA / "tricky_molecules.smi",
        contrib / "FreeWilson" / "data" / "CHEMBL2321810.smi",
        contrib / "fraggle" / "data" / "ChEMBL_11265_actives.smi",
    )
    smiles = [
        line.split()[0]
        for source in sources
        for line in source.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ][:300]
    path.write_text("id,smiles\n" + "".join(f"m{i:03d},{s}\n" for i, s in enumerate(smiles)), encoding="utf-8")
    return path


@pytest.fixture
def pinned_commit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The manifest names the git commit; pin it so the bytes do not follow HEAD."""
    monkeypatch.setenv("HETERO2_GIT_COMMIT", "pinned")
    git_commit.cache_clear()
    yield
    git_commit.cache_clear()


def _digests(pack: Path) -> dict[str, str]:
    return {name: hashlib.sha256((pack / name).read_bytes()).hexdigest() for name in EXAMPLE_PINS}


def _require_pinned_versions() -> None:
    python = ".".join(platform.python_version_tuple()[:2])
    found = {"python": python, "rdkit": rdkit.__version__, "matplotlib": matplotlib.__version__}
    if found != PINNED_FOR:
        pytest.skip(f"pack bytes are pinned for {PINNED_FOR}, this environment has {found}; install from the lock")


@pytest.mark.usefixtures("pinned_commit")
def test_bundled_example_pack_is_byte_identical_to_its_pin(tmp_path: Path) -> None:
    _require_pinned_versions()
    out = tmp_path / "example"
    assert main(["run", "--out", str(out), "--created-at", CREATED_AT, "--quiet"]) == 0
    assert _digests(out) == EXAMPLE_PINS


@pytest.mark.usefixtures("pinned_commit")
def test_300_real_molecules_pack_is_byte_identical_to_its_pin(tmp_path: Path) -> None:
    _require_pinned_versions()
    source = _real_300(tmp_path / "in300.csv")
    out = tmp_path / "p300"
    assert main(["run", str(source), "--out", str(out), "--created-at", CREATED_AT, "--quiet"]) == 0
    assert _digests(out) == REAL_300_PINS
