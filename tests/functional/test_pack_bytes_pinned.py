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
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import pytest
import rdkit
from rdkit import RDConfig

from hetero_core.cli import main
from hetero_core.layout import DECOYS, INDEX, MANIFEST, METRICS, REPORT, SUMMARY, ZIP

if TYPE_CHECKING:
    from tests.functional.conftest import PinCommit

CREATED_AT = "2026-01-01T00:00:00Z"
# RDKit's wheels differ per Python minor version (measured: two AUCs of the example move between 3.11 and 3.12).
PINNED_FOR = {"python": "3.11", "rdkit": "2026.09.1", "matplotlib": "3.11.2"}
DATA = Path(__file__).resolve().parents[1] / "data"

EXAMPLE_PINS = {
    SUMMARY: "66b6b6687674fddacc02c241f8b79b04a41c5075d02b4b07f08c9369b6644e20",
    DECOYS: "60fd5f85bc88b3b349ba89b54bbc3f42bdbcfd9c0c763ef3c384372e7a5547e2",
    METRICS: "d29be5a23d89b53e7e63aeeb92ed5d6166f5017d9b0b27f06a08c1938076c367",
    INDEX: "e16373dcc649a1e1da8a41fe0d6e60e99e8ebedd06695225c70c4ffa48dfb4fb",
    REPORT: "ebc1b82c2b7e4abd7df66e5faf12989d04089d95c3a423868e529c5dbd7bc9eb",
    MANIFEST: "d3656015b41f2b5d3573181436b82af7bee102fe2eb64bc0886fda2c0ad08971",
    ZIP: "2382d581fd1cdb281adb352fa6b662701b7a23e1be38e7a1e60846defed40b5e",
}
REAL_300_PINS = {
    SUMMARY: "8c80a03ee9fe2b75271e43c8d51cea5c74d72e5ccf4a4c426b5c65efc1fde06b",
    DECOYS: "519d4986e316c5e4bab584ab3bc6a29a33c9c77d22b477977a231ad71adc9f28",
    METRICS: "364813db2a77200427ee623b50cf642ecceac55a7f3ee10d0cf4f64fbf90fab3",
    INDEX: "607179980384051a83d592e6614063420545f4b2256b7caf322ad0fb31f45058",
    REPORT: "7d9337fbe4489f6f43f0c01caa747f233660263e44b4b58ce90550ac319f03db",
    MANIFEST: "ed18121ce00ae2a69b75e1bdc02b78475a2e5d01ee12e255d17b10e79254728d",
    ZIP: "874fe2749eca3f89c239aa282f5e750396a6b92f8e1fbbb6233b8013510a9ffe",
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
def pinned_commit(pin_commit: PinCommit) -> None:
    pin_commit("pinned")


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
