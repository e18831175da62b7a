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
    SUMMARY: "1913256acfb3e0328274352cdb53567298ee1f03b8eb9f042eed6aa9dda3a5c6",
    DECOYS: "122a229a1e364d3c24bc09de3e575780411843fe65149fc94d9997eb28840537",
    METRICS: "304c37339cf87a303e76aaf1825e6310428af926f0a5c94c0d21fa161bb19833",
    INDEX: "abfc69ffffe93be8467485ae424a0f78732109113b45b6cc0494051d3c3f92f0",
    REPORT: "8b44f3450e491d4651fd59455d2f07c0c44a8c07511f426a51b74b770ac35b34",
    MANIFEST: "ad2a0bfacf05b42faee7930dce456ee6d39108a18c59731449c37c1a6bd2298f",
    ZIP: "d56c0cdd0e3ad99e2dba487b5a9661e1b2ccb8b917e5a305784886f3c9f92774",
}
REAL_300_PINS = {
    SUMMARY: "34035e2d6590da281db7c3ab382b0e8841f67a2299a130005d512857125d3db6",
    DECOYS: "fca077a8982d956dcc317e9e222069a8ce0a26f3fde09e42f2e27889a8cdde02",
    METRICS: "33f58e2d94e26e7bbb621bfd4782abc763523c8527686522f8a13569e7575624",
    INDEX: "5e477570a5293aecbbcd8971d5f60e2cd2df9bc679e6517f15be04c9075bf043",
    REPORT: "b4641db2de38472687fa7ba517eaa3c0d574dd550267feb383ad28fc0a8aa734",
    MANIFEST: "77199f8e685fa25d896715ce4f2b32e80921ac41ed8fe12e8aa05134f7891e15",
    ZIP: "c7f835d201ad3bbfe219498ecb0b83d6fec4db6517ee4b594e3a7cec5b65ebe2",
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
