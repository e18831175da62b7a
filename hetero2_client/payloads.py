"""What a job uploads: a molecules file or DataFrame, a scores table, and the row count the quota reserves.

Files are streamed from disk; a DataFrame is written as CSV in memory. Names are made safe for the API here,
keeping the suffix the engine reads the format from. pandas is optional and imported only when a call needs it.
"""

from __future__ import annotations

import gzip
import importlib
import io
import os
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from hetero2_client.errors import (
    MissingDependencyError,
)
from hetero_core.acceptance import load_acceptance
from hetero_core.errors import InputFileError, ScoresFileError
from hetero_core.layout import DECOY_COLUMNS

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

# hetero_scores.v2: the decoys table plus the customer's score (weight optional).
SCORES_COLUMNS: tuple[str, ...] = (*DECOY_COLUMNS, "score")
OPTIONAL_SCORES_COLUMNS: tuple[str, ...] = ("weight",)

DataFrame = Any
"""A ``pandas.DataFrame``; pandas is optional and ships no type information, so it is typed loosely here."""

_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_MAX_NAME = 128


def upload_name(name: str) -> str:
    """A file name the API accepts (letters, digits, ``._-``), keeping the suffix the engine reads the format from."""
    cleaned = _NAME_UNSAFE.sub("_", name)[-_MAX_NAME:].lstrip("._-")
    return cleaned or "input"


def count_rows(path: Path) -> int:
    """Rows the job reserves against the quota; a slight over-count (a ``.smi`` header) only reserves more."""
    lower = path.name.lower()
    suffix = Path(lower.removesuffix(".gz")).suffix
    lines = _lines(path, gzipped=lower.endswith(".gz"))
    try:
        if suffix in (".sdf", ".sd"):
            rows = sum(1 for line in lines if line.startswith(b"$$$$"))
        elif suffix == ".smi":
            rows = sum(1 for line in lines if line.strip() and not line.startswith(b"#"))
        else:
            rows = sum(1 for line in lines if line.strip()) - 1
    except (OSError, EOFError) as exc:
        raise InputFileError(path, f"cannot be read: {exc}") from exc
    return max(rows, 1)


def _lines(path: Path, *, gzipped: bool) -> Iterator[bytes]:
    with gzip.open(path, "rb") if gzipped else path.open("rb") as handle:
        yield from handle


def require_pandas() -> Any:
    try:
        return importlib.import_module("pandas")
    except ImportError as exc:
        raise MissingDependencyError(
            "this needs pandas, which is not installed: pip install pandas (or pass a file path instead)"
        ) from exc


def is_dataframe(value: object) -> bool:
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


@dataclass(frozen=True, slots=True)
class Payload:
    """One file to PUT: streamed from disk, or held in memory (a DataFrame written as CSV)."""

    name: str
    path: Path | None = None
    data: bytes | None = None
    rows: int = 1

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        if self.path is not None:
            with self.path.open("rb") as handle:
                yield handle
        else:
            yield io.BytesIO(self.data or b"")


def csv_bytes(frame: DataFrame) -> bytes:
    data: bytes = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    return data


def _existing_file(source: str | os.PathLike[str], error: type[InputFileError]) -> Path:
    path = Path(source)
    if not path.is_file():
        raise error(path, "no such file")
    return path


def _require_columns(frame: Any, wanted: Sequence[str], error: type[InputFileError], expected: str) -> None:
    """Refuse a DataFrame without the columns the service will look for, before anything is uploaded."""
    missing = [column for column in wanted if column not in frame.columns]
    if missing:
        raise error("DataFrame", f"no column {', '.join(repr(c) for c in missing)}", expected=expected)


def input_payload(source: object, name: str | None, parameters: Mapping[str, Any]) -> Payload:
    if isinstance(source, Payload):
        return source
    if isinstance(source, (str, os.PathLike)):
        path = _existing_file(source, InputFileError)
        return Payload(upload_name(name or path.name), path=path, rows=count_rows(path))
    if is_dataframe(source):
        frame: Any = source
        wanted = [str(parameters.get("id_column", "id")), str(parameters.get("smiles_column", "smiles"))]
        expected = f"columns {wanted[0]!r} and {wanted[1]!r}, or pass id_column= / smiles_column="
        _require_columns(frame, wanted, InputFileError, expected)
        if len(frame) == 0:
            raise InputFileError("DataFrame", "has no rows", expected="one molecule per row")
        return Payload(upload_name(name or "molecules.csv"), data=csv_bytes(frame), rows=len(frame))
    raise TypeError(f"a job's input is a file path or a pandas DataFrame, not {type(source).__name__}")


def scores_payload(scores: object, name: str | None) -> Payload:
    if isinstance(scores, Payload):
        return scores
    if isinstance(scores, (str, os.PathLike)):
        path = _existing_file(scores, ScoresFileError)
        return Payload(upload_name(name or path.name), path=path)
    if is_dataframe(scores):
        frame: Any = scores
        expected = "the job's decoys table (Job.decoys()) with a 'score' column added"
        _require_columns(frame, SCORES_COLUMNS, ScoresFileError, expected)
        kept = [*SCORES_COLUMNS, *(c for c in OPTIONAL_SCORES_COLUMNS if c in frame.columns)]
        return Payload(upload_name(name or "scores.csv"), data=csv_bytes(frame[kept]))
    raise TypeError(f"scores are a file path or a pandas DataFrame, not {type(scores).__name__}")


def acceptance_fields(acceptance: str | os.PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """The job body's ``acceptance`` and ``acceptance_name``: a file is checked here as ``hetero2 run`` checks it
    (same messages), then sent as its text, so the service hashes the file's own bytes."""
    if not isinstance(acceptance, str | os.PathLike):
        return {"acceptance": dict(acceptance)}
    path = Path(acceptance)
    load_acceptance(path)  # raises ConfigError naming the file and the field
    return {"acceptance": path.read_bytes().decode("utf-8"), "acceptance_name": upload_name(path.name)}
