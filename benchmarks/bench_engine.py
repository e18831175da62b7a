"""Engine benchmark: throughput, decoy yield and peak memory of ``run_audit`` on real drug-like molecules.

Numbers, not assertions. The mock scorer is used so that a customer model's cost is not part of the figure.
Every measurement runs in a fresh Python process: ``ru_maxrss`` is a high-water mark that never goes down, so
only a fresh process gives a peak that belongs to one run and one input size, and there the pool workers are
the only children whose peak ``RUSAGE_CHILDREN`` reports (the pip download of the data set is not one of them).

    python benchmarks/bench_engine.py --n 2000 --workers 2 --k 20 [--verify-decoys] [--json FILE]
    python benchmarks/bench_engine.py --memory-series 1000,10000,100000 --k 5 --workers 2
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datasets import DATASETS, DataCache, DatasetError, write_input  # this script's folder, first on sys.path
from rdkit import Chem, rdBase
from rdkit.Chem.rdMolDescriptors import CalcMolFormula

from hetero_core.chunks import default_workers
from hetero_core.config import RunConfig
from hetero_core.io import unneutralize_cell
from hetero_core.layout import DECOYS, SUMMARY
from hetero_core.pack import engine_info, runtime_versions
from hetero_core.pipeline import run_audit
from hetero_core.scores import make_scorer

if TYPE_CHECKING:
    from collections.abc import Sequence

SCORER = "mock"
EXAMPLES_KEPT = 5
# ru_maxrss is in kilobytes on Linux and in bytes on macOS.
_RSS_UNIT_BYTES = 1 if sys.platform == "darwin" else 1024
_MB = 1024 * 1024


class BenchmarkError(Exception):
    """A measurement could not be made (its subprocess failed or returned nothing usable)."""


@dataclass(frozen=True, slots=True)
class Measurement:
    """One ``run_audit`` call as measured in its own process; RSS figures are peaks, in MB."""

    molecules: int
    workers: int
    k: int
    seconds: float
    molecules_per_second: float
    mean_decoys_per_molecule: float | None
    share_reaching_k: float | None
    ok: int
    skip: int
    error: int
    main_peak_rss_mb: float
    worker_peak_rss_mb: float | None  # None when no worker process ran (workers=1 runs in the main process)
    # CPU seconds (user + system) of the run: this process plus its reaped pool workers; steadier than wall time
    cpu_seconds: float = 0.0
    cpu_ms_per_molecule: float | None = None


@dataclass(slots=True)
class DecoyCheck:
    """Independent re-check of every decoy in a pack (SPEC §3 properties 1-3), from the CSV members alone."""

    molecules: int = 0
    decoys: int = 0
    violations: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    @property
    def total_violations(self) -> int:
        return self.violations.total()

    def flag(self, kind: str, molecule_id: str, smiles: str) -> None:
        self.violations[kind] += 1
        if len(self.examples) < EXAMPLES_KEPT:
            self.examples.append(f"{kind}: {molecule_id} {smiles}")

    def to_json(self) -> dict[str, Any]:
        return {
            "molecules": self.molecules,
            "decoys_checked": self.decoys,
            "violations": self.total_violations,
            "violations_by_kind": dict(sorted(self.violations.items())),
            "examples": self.examples,
        }


# --- measuring (runs in the child process) ----------------------------------------------------------------------


def peak_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss * _RSS_UNIT_BYTES / _MB


def cpu_seconds() -> float:
    """User + system CPU of this process and of its children reaped so far (the pool's workers, once shut down)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(
    input_path: Path, pack_dir: Path, *, workers: int, k: int, seed: int, engine: Sequence[str] = ()
) -> Measurement:
    """Run the audit here and read this process's peaks; call it in a fresh process (see the module docstring).

    With one worker the runner uses no pool, so there is no worker peak to report. ``engine_info`` is warmed first:
    it forks ``git`` once (cached), and a fork made at the end of the run would copy the main process's final
    resident size into ``RUSAGE_CHILDREN`` and pass for a worker.
    """
    engine_info()
    cpu_before = cpu_seconds()
    outcome = run_audit(
        input_path,
        pack_dir,
        config=RunConfig(k_decoys=k, seed=seed, **_engine_options(engine)),
        scorer=make_scorer(SCORER),
        created_at=datetime.now(UTC),
        workers=workers,
    )
    cpu = cpu_seconds() - cpu_before
    main_rss = peak_rss_mb(resource.RUSAGE_SELF)
    children_rss = peak_rss_mb(resource.RUSAGE_CHILDREN)
    decoys, counts = outcome.metrics["decoys"], outcome.metrics["counts"]
    return Measurement(
        molecules=outcome.rows,
        workers=workers,
        k=k,
        seconds=outcome.seconds,
        molecules_per_second=outcome.molecules_per_second,
        mean_decoys_per_molecule=decoys["mean_per_molecule"],
        share_reaching_k=decoys["share_reaching_k"],
        ok=counts["OK"],
        skip=counts["SKIP"],
        error=counts["ERROR"],
        main_peak_rss_mb=main_rss,
        worker_peak_rss_mb=children_rss if workers > 1 else None,
        cpu_seconds=cpu,
        cpu_ms_per_molecule=1000 * cpu / outcome.rows if outcome.rows else None,
    )


def _engine_options(engine: Sequence[str]) -> dict[str, Any]:
    """``--decoy-filter``, ``--max-rung`` and ``--decoy-descriptors`` as given, as RunConfig fields."""
    names = {"--decoy-filter": "decoy_filter", "--max-rung": "max_rung", "--decoy-descriptors": "decoy_descriptors"}
    return {names[flag]: value for flag, value in zip(engine[::2], engine[1::2], strict=True)}


def measure_in_subprocess(
    input_path: Path, pack_dir: Path, *, workers: int, k: int, seed: int, engine: Sequence[str] = ()
) -> Measurement:
    """Re-run this script in child mode so the measurement gets a process (and peak RSS) of its own."""
    result_path = pack_dir.parent / f"{pack_dir.name}.measurement.json"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child-input",
        str(input_path),
        "--child-pack",
        str(pack_dir),
        "--child-result",
        str(result_path),
        "--workers",
        str(workers),
        "--k",
        str(k),
        "--seed",
        str(seed),
        *engine,
    ]
    completed = subprocess.run(command, check=False)
    if completed.returncode != 0:
        raise BenchmarkError(f"the measurement process for {input_path} failed with exit code {completed.returncode}")
    try:
        return Measurement(**json.loads(result_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise BenchmarkError(f"{result_path}: no usable measurement ({exc})") from exc


# --- decoy verification (runs in the parent, after the measured process has exited) ---------------------------


def _signature(mol: Chem.Mol) -> tuple[str, tuple[int, ...]]:
    """Molecular formula and sorted heavy-atom degree sequence: what a matched decoy must keep."""
    degrees = sorted(atom.GetDegree() for atom in mol.GetAtoms() if atom.GetAtomicNum() > 1)
    return CalcMolFormula(mol), tuple(degrees)


def _read_originals(summary: Path) -> dict[str, str]:
    with summary.open(encoding="utf-8", newline="") as handle:
        return {
            row["id"]: unneutralize_cell(row["canonical_smiles"])
            for row in csv.DictReader(handle)
            if row["canonical_smiles"]
        }


def verify_decoys(pack_dir: Path) -> DecoyCheck:
    """Check every decoy in the pack against its original, re-deriving everything with RDKit.

    Deliberately independent of the engine's own code: the decoys are parsed from ``decoys.csv`` and the originals
    from ``summary.csv`` (canonical SMILES), so a bug in the generator cannot hide itself here.
    """
    originals = _read_originals(pack_dir / SUMMARY)
    check = DecoyCheck()
    current: str | None = None
    reference: tuple[str, tuple[int, ...]] | None = None
    seen: set[str] = set()
    # A bad SMILES is counted below; RDKit's own log line for it would only add noise.
    with rdBase.BlockLogs(), (pack_dir / DECOYS).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["role"] != "decoy":
                continue
            molecule_id, smiles = row["molecule_id"], unneutralize_cell(row["smiles"])
            if molecule_id != current:
                current, reference, seen = molecule_id, None, set()
                original = Chem.MolFromSmiles(originals.get(molecule_id, ""))
                if original is not None and original.GetNumAtoms() > 0:
                    reference = _signature(original)
                    seen.add(Chem.MolToSmiles(original))
                    check.molecules += 1
            check.decoys += 1
            _check_one(check, molecule_id, smiles, reference, seen)
    return check


def _check_one(
    check: DecoyCheck,
    molecule_id: str,
    smiles: str,
    reference: tuple[str, tuple[int, ...]] | None,
    seen: set[str],
) -> None:
    if reference is None:
        check.flag("original_not_in_summary", molecule_id, smiles)
        return
    mol = Chem.MolFromSmiles(smiles)
    if mol is None or mol.GetNumAtoms() == 0:
        check.flag("unparsable", molecule_id, smiles)
        return
    if len(Chem.GetMolFrags(mol)) != 1:
        check.flag("disconnected", molecule_id, smiles)
    formula, degrees = _signature(mol)
    if formula != reference[0]:
        check.flag("formula_differs", molecule_id, smiles)
    if degrees != reference[1]:
        check.flag("degree_sequence_differs", molecule_id, smiles)
    canonical = Chem.MolToSmiles(mol)
    if canonical in seen:
        check.flag("same_as_original_or_another_decoy", molecule_id, smiles)
    seen.add(canonical)


# --- reporting -------------------------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def render_run(dataset: str, run: Measurement, check: DecoyCheck | None) -> str:
    lines = [
        ("data set", dataset),
        ("molecules", str(run.molecules)),
        ("workers", str(run.workers)),
        ("k (decoys requested)", str(run.k)),
        ("wall seconds", _fmt(run.seconds)),
        ("molecules/s", _fmt(run.molecules_per_second)),
        ("CPU s (main + workers)", _fmt(run.cpu_seconds)),
        ("CPU-ms per molecule", _fmt(run.cpu_ms_per_molecule)),
        ("mean decoys per molecule", _fmt(run.mean_decoys_per_molecule)),
        ("share reaching k", _fmt(run.share_reaching_k, 3)),
        ("OK / SKIP / ERROR", f"{run.ok} / {run.skip} / {run.error}"),
        ("peak RSS main process (MB)", _fmt(run.main_peak_rss_mb, 1)),
        ("peak RSS largest worker (MB)", _fmt(run.worker_peak_rss_mb, 1)),
    ]
    if check is not None:
        lines += [
            ("decoys checked", f"{check.decoys} (of {check.molecules} molecules)"),
            ("decoy violations", str(check.total_violations)),
        ]
        lines += [(f"  {kind}", str(count)) for kind, count in sorted(check.violations.items())]
        lines += [("  example", example) for example in check.examples]
    width = max(len(label) for label, _ in lines)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in lines)


def render_series(dataset: str, runs: list[Measurement]) -> str:
    header = (
        "molecules",
        "k",
        "workers",
        "wall s",
        "mol/s",
        "CPU-ms/mol",
        "mean decoys",
        "main RSS MB",
        "worker RSS MB",
    )
    rows = [
        (
            str(r.molecules),
            str(r.k),
            str(r.workers),
            _fmt(r.seconds, 1),
            _fmt(r.molecules_per_second, 1),
            _fmt(r.cpu_ms_per_molecule),
            _fmt(r.mean_decoys_per_molecule),
            _fmt(r.main_peak_rss_mb, 1),
            _fmt(r.worker_peak_rss_mb, 1),
        )
        for r in runs
    ]
    widths = [max(len(cells[i]) for cells in (header, *rows)) for i in range(len(header))]
    table = [" ".join(cell.rjust(w) for cell, w in zip(cells, widths, strict=True)) for cells in (header, *rows)]
    return f"memory series, data set {dataset} (each size in a fresh process)\n" + "\n".join(table)


# --- command line ----------------------------------------------------------------------------------------------


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 1")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 2**32 - 1")
    return value


def _sizes(text: str) -> list[int]:
    return [_positive(part.strip()) for part in text.split(",") if part.strip()] or [_positive(text)]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Benchmark the HETERO-2 engine (mock scorer): throughput, decoy yield, peak memory.",
        epilog="Numbers, not assertions; on a shared machine they are noisy. See benchmarks/README.md.",
    )
    parser.add_argument("--dataset", choices=DATASETS, default="moses", help="moses (fetched once) or chembl")
    parser.add_argument("--n", type=_positive, default=2000, help="molecules to audit (default 2000)")
    parser.add_argument(
        "--workers", type=_positive, default=default_workers(), help="worker processes (default: CPUs available)"
    )
    parser.add_argument("--k", type=_positive, default=20, help="decoys requested per molecule (default 20)")
    parser.add_argument("--seed", type=_seed, default=0, help="run seed (default 0)")
    parser.add_argument("--verify-decoys", action="store_true", help="re-check every decoy with RDKit afterwards")
    parser.add_argument("--decoy-filter", choices=("standard", "none", "strict"), help="engine default if omitted")
    parser.add_argument("--max-rung", choices=("strict", "relax_aromatic", "relax_rings", "kekule"))
    parser.add_argument("--decoy-descriptors", choices=("full", "fast"))
    parser.add_argument(
        "--memory-series",
        type=_sizes,
        metavar="N1,N2,...",
        help="run each size in a fresh process and report its peak RSS (ignores --n); large sizes take long",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the numbers as JSON here")
    parser.add_argument("--keep-packs", type=Path, metavar="DIR", help="keep inputs and packs here (a new folder)")
    parser.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="data set cache (default $HETERO2_DATA_CACHE, else ~/.cache/hetero2/datasets)",
    )
    for hidden in ("--child-input", "--child-pack", "--child-result"):
        parser.add_argument(hidden, type=Path, help=argparse.SUPPRESS)
    return parser


def _engine_flags(args: argparse.Namespace) -> list[str]:
    flags = {
        "--decoy-filter": args.decoy_filter,
        "--max-rung": args.max_rung,
        "--decoy-descriptors": args.decoy_descriptors,
    }
    return [part for flag, value in flags.items() if value is not None for part in (flag, value)]


def _run_child(args: argparse.Namespace) -> int:
    run = measure(
        args.child_input, args.child_pack, workers=args.workers, k=args.k, seed=args.seed, engine=_engine_flags(args)
    )
    args.child_result.write_text(json.dumps(asdict(run), indent=2) + "\n", encoding="utf-8")
    return 0


def _benchmark(args: argparse.Namespace, work: Path, *, keep: bool) -> dict[str, Any]:
    sizes: list[int] = args.memory_series or [args.n]
    cache = DataCache(args.cache) if args.cache is not None else None
    runs: list[Measurement] = []
    checks: list[DecoyCheck | None] = []
    for size in sizes:
        input_path = write_input(args.dataset, size, work / f"input_n{size}.csv", cache=cache)
        pack_dir = work / f"pack_n{size}"
        run = measure_in_subprocess(
            input_path, pack_dir, workers=args.workers, k=args.k, seed=args.seed, engine=_engine_flags(args)
        )
        check = verify_decoys(pack_dir) if args.verify_decoys else None
        if not keep:  # a series' packs add up; only one size needs the disk at a time
            shutil.rmtree(pack_dir)
            input_path.unlink()
        runs.append(run)
        checks.append(check)
        if args.memory_series is None:
            print(render_run(args.dataset, run, check))
    if args.memory_series is not None:
        print(render_series(args.dataset, runs))
        for run, check in zip(runs, checks, strict=True):
            if check is not None:
                print(f"n={run.molecules}: {check.decoys} decoys checked, {check.total_violations} violations")
    print("note: numbers from a shared machine are noisy; compare runs made side by side", file=sys.stderr)
    return {
        "mode": "memory_series" if args.memory_series is not None else "single",
        "dataset": args.dataset,
        "scorer": SCORER,
        "engine": engine_info(),
        "versions": runtime_versions(),
        "cpus_available": default_workers(),
        "runs": [
            {**asdict(run), "decoy_check": check.to_json() if check is not None else None}
            for run, check in zip(runs, checks, strict=True)
        ],
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.child_input is not None:
        return _run_child(args)
    try:
        if args.keep_packs is not None:
            args.keep_packs.mkdir(parents=True, exist_ok=False)
            report = _benchmark(args, args.keep_packs, keep=True)
        else:
            with tempfile.TemporaryDirectory(prefix="hetero2-bench-") as scratch:
                report = _benchmark(args, Path(scratch), keep=False)
    except (DatasetError, BenchmarkError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json is not None:
        try:
            args.json.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        except OSError as exc:
            print(f"error: cannot write {args.json}: {exc}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
