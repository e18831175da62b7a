"""The functional tier: ``hetero2`` driven end to end the way a user drives it.

The CLI runs in-process through ``hetero_core.cli.main`` (what the console script calls), so the tier stays in
seconds on a shared machine; ``test_cli_run.py`` runs the installed script once. Helpers are fixtures, so the
test modules import from here only for type annotations.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from rdkit import RDConfig

from hetero_core.cli import main
from hetero_core.pack._provenance import git_commit

CREATED_AT = "2026-01-01T00:00:00Z"

# Drug-like molecules from the bundled example; each reaches the full 20 decoys, so calibration is exact.
DRUGS: tuple[tuple[str, str], ...] = (
    ("aspirin", "CC(=O)Oc1ccccc1C(=O)O"),
    ("ibuprofen", "CC(C)Cc1ccc(cc1)C(C)C(=O)O"),
    ("paracetamol", "CC(=O)Nc1ccc(O)cc1"),
    ("naproxen", "COc1ccc2cc(ccc2c1)C(C)C(=O)O"),
    ("diclofenac", "OC(=O)Cc1ccccc1Nc1c(Cl)cccc1Cl"),
)

WriteTable = Callable[[Path, Sequence[Sequence[str]]], Path]
ReadTable = Callable[[Path], list[dict[str, str]]]
Snapshot = Callable[[Path], dict[str, bytes]]
PinCommit = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class CliResult:
    """What a user sees: the exit code and the two streams."""

    code: int
    out: str
    err: str


class Cli:
    """``hetero2 ...`` in this process, with stdout and stderr captured per call."""

    created_at = CREATED_AT

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def __call__(self, *args: str | Path) -> CliResult:
        self._capsys.readouterr()  # what earlier calls printed is not this call's output
        code = main([str(arg) for arg in args])
        captured = self._capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    def run(
        self,
        source: Path | None,
        out: Path,
        *options: str | Path,
        k: int = 5,
        workers: int = 1,
        created_at: str | None = CREATED_AT,
    ) -> CliResult:
        """``hetero2 run`` with what most tests share: few decoys, one worker, no progress bar, fixed time."""
        args: list[str | Path] = ["run"] if source is None else ["run", source]
        args += ["--out", out, "--k-decoys", str(k), "--workers", str(workers), "--quiet"]
        if created_at is not None:
            args += ["--created-at", created_at]
        return self(*args, *options)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    # A SOURCE_DATE_EPOCH from the developer's shell must not leak into runs that test the fallback.
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    return Cli(capsys)


def _write_table(path: Path, rows: Sequence[Sequence[str]]) -> Path:
    """A UTF-8 CSV whose first row is the header, quoted the way any spreadsheet would quote it."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def _read_table(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file and folder under ``root`` (relative posix path → bytes, b"" for folders)."""
    return {
        path.relative_to(root).as_posix(): b"" if path.is_dir() else path.read_bytes()
        for path in sorted(root.rglob("*"))
    }


@pytest.fixture
def write_table() -> WriteTable:
    return _write_table


@pytest.fixture
def read_table() -> ReadTable:
    return _read_table


@pytest.fixture
def snapshot() -> Snapshot:
    return _snapshot


@pytest.fixture
def drugs_csv(tmp_path: Path) -> Path:
    """Five approved drugs (aspirin, ibuprofen, paracetamol, naproxen, diclofenac) as ``id,smiles``."""
    return _write_table(tmp_path / "drugs.csv", [("id", "smiles"), *DRUGS])


@pytest.fixture(scope="module")
def module_drugs_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same five drugs, for module-wide fixtures that build a pack or a decoys table once."""
    return _write_table(tmp_path_factory.mktemp("drugs") / "drugs.csv", [("id", "smiles"), *DRUGS])


def real_set(path: Path, n_actives: int = 40, n_series: int = 20) -> Path:
    """Real molecules from files RDKit ships: ChEMBL actives (varied scaffolds) then a ChEMBL series."""
    contrib = Path(RDConfig.RDContribDir)
    sources = (
        (contrib / "fraggle" / "data" / "ChEMBL_11265_actives.smi", n_actives),
        (contrib / "FreeWilson" / "data" / "CHEMBL2321810.smi", n_series),
    )
    rows: list[tuple[str, str]] = []
    for source, count in sources:
        lines = [line.split() for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
        smiles = [parts[0] for parts in lines if not parts[0].lower().startswith(("smiles", "#"))][:count]
        rows += [(f"{source.stem}_{i:03d}", s) for i, s in enumerate(smiles)]
    return _write_table(path, [("id", "smiles"), *rows])


@pytest.fixture(scope="session")
def real_set_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sixty real ChEMBL molecules as ``id,smiles`` (built once per session)."""
    return real_set(tmp_path_factory.mktemp("real") / "chembl60.csv")


@pytest.fixture
def pin_commit(monkeypatch: pytest.MonkeyPatch) -> Iterator[PinCommit]:
    """The manifest names the engine's git commit: pin it, so that pack bytes do not follow HEAD."""

    def pin(value: str) -> None:
        monkeypatch.setenv("HETERO2_GIT_COMMIT", value)
        git_commit.cache_clear()

    yield pin
    git_commit.cache_clear()


@pytest.fixture(scope="session")
def real_300_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``in300.csv``: 300 real molecules from files RDKit ships (two ChEMBL sets) after our tricky set, as
    ``id,smiles``; its name and bytes are part of the pinned packs (the manifest names the input)."""
    contrib = Path(RDConfig.RDContribDir)
    sources = (
        Path(__file__).resolve().parents[1] / "data" / "tricky_molecules.smi",
        contrib / "FreeWilson" / "data" / "CHEMBL2321810.smi",
        contrib / "fraggle" / "data" / "ChEMBL_11265_actives.smi",
    )
    smiles = [
        line.split()[0]
        for source in sources
        for line in source.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ][:300]
    path = tmp_path_factory.mktemp("real300") / "in300.csv"
    path.write_text("id,smiles\n" + "".join(f"m{i:03d},{s}\n" for i, s in enumerate(smiles)), encoding="utf-8")
    return path
