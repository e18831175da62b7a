"""Pack bytes pinned for this RDKit and matplotlib: a refactoring that changes one byte of a pack fails here.

Two packs: the bundled example (44 drugs, QED) and 300 real molecules built from files that RDKit ships (the
tests' tricky set, a ChEMBL series and a ChEMBL actives file). A change that is meant to alter the bytes (a new
decoy or audit contract) re-pins them here and says so in the CHANGELOG. The pins hold for the versions in
``PINNED_FOR``, which the lock file fixes; on other versions the test says which versions it needs instead of
comparing bytes that RDKit or matplotlib are entitled to change.
"""

from __future__ import annotations

import hashlib
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
PINNED_FOR = {"rdkit": "2026.09.1", "matplotlib": "3.11.2"}
DATA = Path(__file__).resolve().parents[1] / "data"

EXAMPLE_PINS = {
    SUMMARY: "02c09618490487bfbbb2e31a2a9767aa1de4e6f125f0433c0256b5d5ebf384f6",
    DECOYS: "c01e0676abe366ccdbc71d098ab73c5f323b2d78e7a2ddb1136cd999f7c83058",
    METRICS: "63f84f17e54abae936f0d3e96c19583e0f92be33dbdbcc14f454839beb27e65a",
    INDEX: "852e2aef7dc372f2ec8ce2ea728171ab928463bf427aa69f59a4a008234a033d",
    REPORT: "fb17c0bc2234169889164bda0298d1a1bd8a53172f4936641439faab9d33295e",
    MANIFEST: "371b6b124b6b84125e3af6a5c0683145b072140b51ddcf247e22fdb12ae78a27",
    ZIP: "351ccbdc71a3e7ab8f82e7478bd6f6f7be1adb5b19a2d99a7ea5bdb4e08ec8f7",
}
REAL_300_PINS = {
    SUMMARY: "39bbef6784aa2d126c9e64ec5028859f6be85db1fca6b5882bf06924e1c095e9",
    DECOYS: "6b15889af225620e1e2d7b2a8b79f76babc5b9196bbbc6eb019e2caaf8e3496e",
    METRICS: "e9697a15fcbca80c6532437b0035788a18a9eea4ef5c0c37e41fcaf6da6db937",
    INDEX: "39a053c3b08952275e5f175dd52b3fee543137842582e7de589ab6441f3ba823",
    REPORT: "376167ea0a2ad636d2288a449324335df6f283d084613d420a9f4abd2a808f24",
    MANIFEST: "e4477ddff81a2b913a2257cda6c088fc20a337f856fcc83b2d67639ec1305a4a",
    ZIP: "a5a3f0cdfa8291b44a0da4f5406bfb1a84e19b5b8fc4a54f5735637f527630bd",
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
    found = {"rdkit": rdkit.__version__, "matplotlib": matplotlib.__version__}
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
