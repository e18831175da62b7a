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
    SUMMARY: "b0bbd37f25af92397ec479a89bab2a27eab8a581c0c59cced03a2fcf3a9d0a33",
    DECOYS: "9f98ab2f55e70a4d1ce281e300c010a60b3175bb0f100c661a105c6a1381a6f6",
    METRICS: "339719609b642badba569f037fce85935d5589c564994e65a94d5f351bba517c",
    INDEX: "b58027faaa86ab59340f5133cbf1e636e17b7d8f2cf512d78b316dbaaf8f2342",
    REPORT: "5e0f0f21c962d331714b65617f2d17ab2edc2f97524ab82665a74343df311181",
    MANIFEST: "9f6c613e6fa6cb3ed2977c0683d49df49f1299c45d3aa44fc5b4a8842e9b6a81",
    ZIP: "cfcaee67e2b9e6d974d746080d33b96e1096e61a5bbf0a4cbb21cba673c8eff0",
}
REAL_300_PINS = {
    SUMMARY: "301db7b69133e99d5d95c85fde04c1872ad4b552e943d0bfc358738e07d88a38",
    DECOYS: "87e18c7e82d36e165b0571732fc24376f02d57c682b74a5e4f1c82aee02f559d",
    METRICS: "55f60abd56f5c2d8d80215942276a49979fa1f5b2be55163584187113d92af77",
    INDEX: "3adc351400b8ced321dba447ace6dd324df11fb985e3a56150f645b6478c04dc",
    REPORT: "2bc8dfd00fd3c4fcc2bc4314a37a28d2c0770f8862ae96d221fd4baf5f527f29",
    MANIFEST: "13604e0057493862aa8afbe3e97881c9802f2d7256dc410c6d9f7dfb59aa93fd",
    ZIP: "69c617d8567f64ab2d3ce3aeb27fa68e15d5c321bfe77c8ae4df6c08e6362a13",
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
