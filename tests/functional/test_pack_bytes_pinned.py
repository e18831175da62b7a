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
    SUMMARY: "75f7a0b9b74b0efe7b4ae153e6f77b58ff3aa99ec72c9ec028b1347deac1b512",
    DECOYS: "4df6c36373abe923ad3503e1f34f83f9ffc470bd6a50581e8b60b6adaf5d3185",
    METRICS: "c998f8be0e3e245fa16c6f85045f8ebe0f7fc81cb44e40bee3a8f961a2390692",
    INDEX: "852e2aef7dc372f2ec8ce2ea728171ab928463bf427aa69f59a4a008234a033d",
    REPORT: "fb17c0bc2234169889164bda0298d1a1bd8a53172f4936641439faab9d33295e",
    MANIFEST: "55c4ff56331cb51ef5491bed700c03866c91b41223ec38c81a1be4a8445efbb6",
    ZIP: "0793aa6753907b9bfc8752d46a009508af3538aff71a0d18b56ee40316a473ba",
}
REAL_300_PINS = {
    SUMMARY: "648b67b11e461f5a565ab1f64c3c55058db9dc5972f625a74abb5f892c3bc529",
    DECOYS: "2273ee6fec2e398deee6b87b5252dfb290e9ba8e3577978e931956badafbe169",
    METRICS: "9f2dfe0ee582fa6ab8f1158c3fb0a40a5c8787343d68561616d7f0764ce867ea",
    INDEX: "39a053c3b08952275e5f175dd52b3fee543137842582e7de589ab6441f3ba823",
    REPORT: "376167ea0a2ad636d2288a449324335df6f283d084613d420a9f4abd2a808f24",
    MANIFEST: "4267d9ad233d6e117ce62dda0fd2160e69af3ee3f04a45d43eec99f786a81beb",
    ZIP: "4c1aeb1b2f65bed5adafe7a1352e84b7bf728e4b41fa0e62f46b69d6c4ab45b3",
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
