"""Customer score files (scores-only mode, SPEC §4): read them strictly, score from them like any scorer.

Two public contracts:

- ``hetero_scores.v2`` (primary): the decoys table the engine exported (``molecule_id, role, hash,
  smiles``) with a ``score`` column and an optional ``weight`` column added by the customer's model,
  as CSV (optionally gzipped) or Parquet. Each hash is recomputed from its SMILES, so a tampered row
  or a SMILES re-canonicalised by other tooling is refused rather than scored against the wrong
  molecule.
- ``hetero_scores.v1`` (JSON, read for compatibility with the original tool): one original score
  for every row and decoy scores keyed by hash.

A file-level fault is a :class:`~hetero_core.errors.ScoresFileError` naming the file, the line
(CSV), row (Parquet) or key (JSON) and what was expected. An empty score cell is not a fault: that
molecule simply has no score, and the coverage counters report it.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import json
import math
import re
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from hetero_core.errors import ScoresFileError
from hetero_core.hashing import file_sha256, smiles_hash
from hetero_core.io import raise_csv_field_limit, unneutralize_cell
from hetero_core.layout import DECOY_COLUMNS
from hetero_core.records import ScoredItem
from hetero_core.scores._scorers import ScoreRequest, ScoreResult

if TYPE_CHECKING:
    import io
    from collections.abc import Iterable, Iterator

SCHEMA_V1 = "hetero_scores.v1"
SCHEMA_V2 = "hetero_scores.v2"

ROLE_ORIGINAL = "original"
ROLE_DECOY = "decoy"

SCORE_COLUMN = "score"
WEIGHT_COLUMN = "weight"
REQUIRED_V2_COLUMNS: tuple[str, ...] = (*DECOY_COLUMNS, SCORE_COLUMN)

_EXPECTED_V2_HEADER = f"columns {', '.join(REQUIRED_V2_COLUMNS)} (weight optional)"
_EXPECTED_SUFFIXES = ".json (hetero_scores.v1), .csv, .csv.gz or .parquet (hetero_scores.v2)"
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
_PARQUET_BATCH_ROWS = 65_536

_Key = TypeVar("_Key")

# One shared object for the default weight, so a million unweighted rows hold no extra floats.
_DEFAULT_WEIGHT = 1.0


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class ExternalScores:
    """The customer's scores, looked up per molecule; implements the ``Scorer`` protocol.

    v2: the original is found by ``molecule_id`` and each decoy by ``(molecule_id, hash)``.
    v1: the one original score applies to every molecule and decoys are found by hash alone.

    Memory: ids are shared between the rows of a molecule and hashes are kept as 32 raw bytes, so a
    scored row costs about 250 bytes (1 million decoy rows ≈ 0.25 GB); unscored rows cost nothing
    once loading is done. The object pickles with plain :mod:`pickle` (it is sent to worker
    processes), and a worker pays that size once per process, not per chunk.
    """

    name = "external"

    schema_version: str
    """``hetero_scores.v1`` or ``hetero_scores.v2``."""
    source_path: str
    """The path the scores were read from, as given to the loader."""
    sha256: str
    """Hex sha256 of the file's bytes as stored (compressed bytes for .csv.gz), for the manifest."""
    n_rows: int
    """Data rows read (v2, blank lines excluded) or score entries read (v1: original + decoys)."""
    originals: dict[str, tuple[bytes, ScoredItem]] = field(default_factory=dict)
    """v2: molecule id -> (the original's hash, its score)."""
    decoys: dict[tuple[str, bytes], ScoredItem] = field(default_factory=dict)
    """v2: (molecule id, decoy hash) -> its score."""
    shared_original: ScoredItem | None = None
    """v1: the one original score of every molecule."""
    decoys_by_hash: dict[bytes, ScoredItem] = field(default_factory=dict)
    """v1: decoy hash -> its score."""

    @property
    def n_original_entries(self) -> int:
        """Originals that carry a score (v1: 1, the shared original)."""
        if self.schema_version == SCHEMA_V1:
            return 0 if self.shared_original is None else 1
        return len(self.originals)

    @property
    def n_decoy_entries(self) -> int:
        """Decoys that carry a score."""
        if self.schema_version == SCHEMA_V1:
            return len(self.decoys_by_hash)
        return len(self.decoys)

    def score(self, request: ScoreRequest) -> ScoreResult:
        """Look the molecule up; anything not in the file is ``None`` (no score), never a default."""
        if self.schema_version == SCHEMA_V1:
            by_hash = self.decoys_by_hash
            return ScoreResult(
                original=self.shared_original,
                decoys=[by_hash.get(bytes.fromhex(decoy.hash)) for decoy in request.decoys],
            )
        molecule_id = request.molecule_id
        decoys = self.decoys
        # The original is matched by id AND structure: a file scored for another molecule under the same id
        # must not lend it its score (the row then SKIPs as missing_scores).
        entry = self.originals.get(molecule_id)
        original = entry[1] if entry is not None and entry[0] == bytes.fromhex(request.original.hash) else None
        return ScoreResult(
            original=original,
            decoys=[decoys.get((molecule_id, bytes.fromhex(decoy.hash))) for decoy in request.decoys],
        )

    def restricted_to(self, molecule_ids: Iterable[str]) -> ExternalScores:
        """The scores of these molecules only (a service chunk's share); file facts stay those of the whole file.

        v1 decoys are keyed by hash alone, so a v1 subset keeps every decoy entry.
        """
        wanted = set(molecule_ids)
        return replace(
            self,
            originals={i: entry for i, entry in self.originals.items() if i in wanted},
            decoys={key: item for key, item in self.decoys.items() if key[0] in wanted},
            decoys_by_hash=dict(self.decoys_by_hash),
        )

    def to_portable(self) -> dict[str, Any]:
        """A JSON-able form (hashes as hex) for shipping a chunk's scores between processes or machines."""
        shared = self.shared_original
        return {
            "schema_version": self.schema_version,
            "source_path": self.source_path,
            "sha256": self.sha256,
            "n_rows": self.n_rows,
            "originals": [[i, h.hex(), it.score, it.weight] for i, (h, it) in sorted(self.originals.items())],
            "decoys": [[i, h.hex(), it.score, it.weight] for (i, h), it in sorted(self.decoys.items())],
            "shared_original": None if shared is None else [shared.score, shared.weight],
            "decoys_by_hash": [[h.hex(), it.score, it.weight] for h, it in sorted(self.decoys_by_hash.items())],
        }

    @classmethod
    def from_portable(cls, data: dict[str, Any]) -> ExternalScores:
        shared = data.get("shared_original")
        return cls(
            schema_version=str(data["schema_version"]),
            source_path=str(data["source_path"]),
            sha256=str(data["sha256"]),
            n_rows=int(data["n_rows"]),
            originals={str(i): (bytes.fromhex(h), ScoredItem(float(s), float(w))) for i, h, s, w in data["originals"]},
            decoys={(str(i), bytes.fromhex(h)): ScoredItem(float(s), float(w)) for i, h, s, w in data["decoys"]},
            shared_original=None if shared is None else ScoredItem(float(shared[0]), float(shared[1])),
            decoys_by_hash={bytes.fromhex(h): ScoredItem(float(s), float(w)) for h, s, w in data["decoys_by_hash"]},
        )

    def __repr__(self) -> str:
        return (
            f"ExternalScores(schema_version={self.schema_version!r}, source_path={self.source_path!r}, "
            f"n_rows={self.n_rows}, n_original_entries={self.n_original_entries}, "
            f"n_decoy_entries={self.n_decoy_entries})"
        )


def load_external_scores(path: str | Path) -> ExternalScores:
    """Read a customer scores file; the format follows the name: .json is v1, .csv/.csv.gz/.parquet v2.

    Raises:
        ScoresFileError: unknown file type, unreadable file, or any breach of the schema rules.
    """
    source = Path(path)
    lower_name = source.name.lower()
    if lower_name.endswith(".json"):
        reader = _read_v1_json
    elif lower_name.endswith((".csv", ".csv.gz")):
        reader = _read_v2_csv
    elif lower_name.endswith(".parquet"):
        reader = _read_v2_parquet
    else:
        raise ScoresFileError(source, "unsupported scores file type", expected=_EXPECTED_SUFFIXES)
    return reader(source, _file_sha256(source))


def _file_sha256(path: Path) -> str:
    try:
        return file_sha256(path)
    except OSError as exc:
        raise ScoresFileError(path, f"cannot read the file: {exc.strerror or exc}") from exc


# --- hetero_scores.v2: shared row rules ---------------------------------------------------------


class _V2Builder:
    """Applies the v2 row rules in one place for CSV and Parquet; ``unit`` is "line" or "row"."""

    def __init__(self, path: Path, unit: str) -> None:
        self.path = path
        self.unit = unit
        self.n_rows = 0
        self.originals: dict[str, tuple[bytes, ScoredItem]] = {}
        self.decoys: dict[tuple[str, bytes], ScoredItem] = {}
        self._ids: dict[str, str] = {}
        # Where each key was first seen, to name both places of a duplicate; dropped after loading.
        self._original_at: dict[str, int] = {}
        self._decoy_at: dict[tuple[str, bytes], int] = {}

    def error(self, number: int | None, message: str, expected: str | None = None) -> ScoresFileError:
        if number is None:
            return ScoresFileError(self.path, message, expected=expected)
        if self.unit == "line":
            return ScoresFileError(self.path, message, line=number, expected=expected)
        return ScoresFileError(self.path, f"row {number}: {message}", expected=expected)

    def add(
        self,
        number: int,
        *,
        molecule_id: str,
        role: str,
        hash_hex: str,
        smiles: str,
        score: float | None,
        weight: float,
    ) -> None:
        """Check one data row and keep its score; ``score`` None means the cell was empty.

        ``molecule_id`` is kept exactly as written (ids are data); the other cells are trimmed.
        """
        self.n_rows += 1
        role, hash_hex, smiles = role.strip().lower(), hash_hex.strip().lower(), smiles.strip()
        if not (molecule_id and role and hash_hex and smiles):
            cells = {"molecule_id": molecule_id, "role": role, "hash": hash_hex, "smiles": smiles}
            column = next(name for name, value in cells.items() if not value)
            raise self.error(number, f"empty {column}", expected=f"a non-empty {column} on every row")
        if role not in (ROLE_ORIGINAL, ROLE_DECOY):
            raise self.error(number, f"role is {role!r}", expected=f"{ROLE_ORIGINAL!r} or {ROLE_DECOY!r}")
        digest = smiles_hash(smiles)
        if hash_hex != digest:
            raise self.error(
                number,
                "hash does not match the sha256 of this row's SMILES: the row was altered or the SMILES was "
                "re-canonicalised by other tooling",
                expected="the hash and SMILES exactly as exported by the engine",
            )
        if score is not None and not math.isfinite(score):
            raise self.error(number, f"score is {score!r}", expected="a finite number or an empty cell")
        if not (math.isfinite(weight) and weight > 0):
            raise self.error(number, f"weight is {weight!r}", expected="a finite number > 0 or an empty cell")
        molecule_id = unneutralize_cell(molecule_id)  # a pack's decoys.csv quotes formula-like ids
        molecule_id = self._ids.setdefault(molecule_id, molecule_id)
        item = None if score is None else ScoredItem(score, weight)
        if role == ROLE_ORIGINAL:
            what = f"second original row for molecule_id {molecule_id!r}"
            self._first_seen(self._original_at, molecule_id, number, what, "one original row per molecule_id")
            if item is not None:
                self.originals[molecule_id] = (bytes.fromhex(digest), item)
            return
        key = (molecule_id, bytes.fromhex(digest))
        what = f"duplicate decoy row for molecule_id {molecule_id!r} and hash {digest}"
        self._first_seen(self._decoy_at, key, number, what, "each (molecule_id, role, hash) once")
        if item is not None:
            self.decoys[key] = item

    def _first_seen(self, seen: dict[_Key, int], key: _Key, number: int, what: str, expected: str) -> None:
        """Refuse a second row for ``key``, naming the line (or row) of the first."""
        first = seen.setdefault(key, number)
        if first != number:
            raise self.error(number, f"{what} (first on {self.unit} {first})", expected=expected)

    def finish(self, source_path: Path, sha256: str) -> ExternalScores:
        if self.n_rows == 0:
            raise self.error(None, "no data rows (header only)", expected="at least one scored row")
        return ExternalScores(
            schema_version=SCHEMA_V2,
            source_path=str(source_path),
            sha256=sha256,
            n_rows=self.n_rows,
            originals=self.originals,
            decoys=self.decoys,
        )


def _column_positions(names: Iterable[str], builder: _V2Builder, line: int | None) -> dict[str, int]:
    """Map the columns we use to their position; headers match case-insensitively after trimming."""
    found = list(names)
    positions: dict[str, int] = {}
    for position, raw in enumerate(found):
        name = raw.strip().lower()
        if name not in (*REQUIRED_V2_COLUMNS, WEIGHT_COLUMN):
            continue
        if name in positions:
            raise builder.error(line, f"column {name!r} appears twice in the header", expected=_EXPECTED_V2_HEADER)
        positions[name] = position
    missing = [name for name in REQUIRED_V2_COLUMNS if name not in positions]
    if missing:
        raise builder.error(
            line,
            f"missing column(s) {', '.join(missing)}; found {', '.join(repr(name) for name in found) or 'none'}",
            expected=_EXPECTED_V2_HEADER,
        )
    return positions


# --- hetero_scores.v2: CSV ----------------------------------------------------------------------


def _decoded_lines(stream: Iterable[bytes], builder: _V2Builder) -> Iterator[str]:
    """Decode line by line so a non-UTF-8 byte is reported with its line (UTF-8 never encodes \\n)."""
    for number, raw in enumerate(stream, start=1):
        chunk = raw[len(codecs.BOM_UTF8) :] if number == 1 and raw.startswith(codecs.BOM_UTF8) else raw
        try:
            yield chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise builder.error(number, f"not UTF-8 text (byte {exc.start + 1} of the line)", expected="UTF-8") from exc


def _csv_number(cell: str, column: str, builder: _V2Builder, line: int) -> float | None:
    text = cell.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise builder.error(
            line, f"{column} {text!r} is not a number", expected="a finite number or an empty cell"
        ) from None


def _open_binary(path: Path) -> io.BufferedIOBase:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


def _read_v2_csv(path: Path, sha256: str) -> ExternalScores:
    builder = _V2Builder(path, "line")
    try:
        with _open_binary(path) as stream:
            _read_csv_rows(stream, builder)
    except (OSError, EOFError, zlib.error) as exc:
        raise builder.error(None, f"cannot read the file: {exc}", expected=_EXPECTED_SUFFIXES) from exc
    return builder.finish(path, sha256)


def _read_csv_rows(stream: Iterable[bytes], builder: _V2Builder) -> None:
    raise_csv_field_limit()
    reader = csv.reader(_decoded_lines(stream, builder))
    try:
        header = next(reader, None)
        if header is None:
            raise builder.error(None, "empty file", expected=f"a header with {_EXPECTED_V2_HEADER}")
        columns = _column_positions(header, builder, 1)
        width = len(header)
        id_at, role_at, hash_at = columns["molecule_id"], columns["role"], columns["hash"]
        smiles_at, score_at, weight_at = columns["smiles"], columns[SCORE_COLUMN], columns.get(WEIGHT_COLUMN)
        last_line = reader.line_num
        for record in reader:
            line, last_line = last_line + 1, reader.line_num
            if not record:
                continue
            if len(record) != width:
                raise builder.error(
                    line, f"{len(record)} fields on this line", expected=f"{width} fields, as in the header"
                )
            weight = None if weight_at is None else _csv_number(record[weight_at], WEIGHT_COLUMN, builder, line)
            builder.add(
                line,
                molecule_id=record[id_at],
                role=record[role_at],
                hash_hex=record[hash_at],
                smiles=record[smiles_at],
                score=_csv_number(record[score_at], SCORE_COLUMN, builder, line),
                weight=_DEFAULT_WEIGHT if weight is None else weight,
            )
    except csv.Error as exc:
        raise builder.error(reader.line_num, f"malformed CSV: {exc}", expected="RFC 4180 CSV") from exc


# --- hetero_scores.v2: Parquet ------------------------------------------------------------------


def _base_type(arrow_type: Any) -> Any:
    import pyarrow as pa  # noqa: PLC0415 - only Parquet needs pyarrow

    return arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type


def _is_text(arrow_type: Any) -> bool:
    import pyarrow as pa  # noqa: PLC0415

    kind = _base_type(arrow_type)
    is_view = getattr(pa.types, "is_string_view", lambda _: False)
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind) or is_view(kind) or pa.types.is_null(kind))


def _is_numeric(arrow_type: Any) -> bool:
    import pyarrow as pa  # noqa: PLC0415

    kind = _base_type(arrow_type)
    return bool(
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind) or pa.types.is_null(kind)
    )


def _read_v2_parquet(path: Path, sha256: str) -> ExternalScores:
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    builder = _V2Builder(path, "row")
    try:
        parquet = pq.ParquetFile(path)
        schema = parquet.schema_arrow
        columns = _column_positions(schema.names, builder, None)
        for name, position in columns.items():
            field = schema.field(position)
            if name in (SCORE_COLUMN, WEIGHT_COLUMN):
                if not _is_numeric(field.type):
                    raise builder.error(
                        None,
                        f"column {field.name!r} has type {field.type}",
                        expected=f"a numeric (float64) {name} column; write scores as numbers, not text",
                    )
            elif not _is_text(field.type):
                raise builder.error(
                    None, f"column {field.name!r} has type {field.type}", expected=f"a string {name} column"
                )
        wanted = sorted(columns, key=columns.__getitem__)
        number = 0
        for batch in parquet.iter_batches(
            batch_size=_PARQUET_BATCH_ROWS, columns=[schema.names[columns[n]] for n in wanted]
        ):
            values = {name: batch.column(index).to_pylist() for index, name in enumerate(wanted)}
            weights = values.get(WEIGHT_COLUMN) or [None] * batch.num_rows
            for molecule_id, role, hash_hex, smiles, score, weight in zip(
                values["molecule_id"],
                values["role"],
                values["hash"],
                values["smiles"],
                values[SCORE_COLUMN],
                weights,
                strict=True,
            ):
                number += 1
                builder.add(
                    number,
                    molecule_id=molecule_id or "",
                    role=role or "",
                    hash_hex=hash_hex or "",
                    smiles=smiles or "",
                    score=None if score is None else float(score),
                    weight=_DEFAULT_WEIGHT if weight is None else float(weight),
                )
    except (pa.ArrowException, OSError) as exc:
        raise builder.error(None, f"not a readable Parquet file: {exc}", expected=_EXPECTED_SUFFIXES) from exc
    return builder.finish(path, sha256)


# --- hetero_scores.v1: JSON ---------------------------------------------------------------------


class _DuplicateKeyError(ValueError):
    """A JSON object repeats a key; json would silently keep the last one."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKeyError(key)
        document[key] = value
    return document


def _json_item(path: Path, entry: Any, where: str) -> ScoredItem:
    """One ``{"score": x, "weight": w}`` object; ``where`` names it in messages (e.g. ``decoys["ab.."]``)."""
    if not isinstance(entry, dict):
        raise ScoresFileError(path, f"{where} is not an object", expected='{"score": <number>, "weight": <number>}')
    score = _json_number(path, entry.get(SCORE_COLUMN), f"{where}.score", "a finite number")
    weight_value = entry.get(WEIGHT_COLUMN)
    if weight_value is None:
        return ScoredItem(score, _DEFAULT_WEIGHT)
    weight = _json_number(path, weight_value, f"{where}.weight", "a finite number > 0 (or no weight)")
    if weight <= 0:
        raise ScoresFileError(path, f"{where}.weight is {weight!r}", expected="a finite number > 0 (or no weight)")
    return ScoredItem(score, weight)


def _json_number(path: Path, value: Any, where: str, expected: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScoresFileError(path, f"{where} is {json.dumps(value)}", expected=expected)
    return float(value)


def _read_v1_json(path: Path, sha256: str) -> ExternalScores:
    expected_document = f'a JSON object with "schema_version": "{SCHEMA_V1}", "original" and "decoys"'
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScoresFileError(path, f"cannot read the file: {exc.strerror or exc}") from exc
    raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ScoresFileError(path, "not UTF-8 text", line=line, expected="UTF-8") from exc
    if not text.strip():
        raise ScoresFileError(path, "empty file", expected=expected_document)
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise ScoresFileError(
            path, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno, expected=expected_document
        ) from exc
    except _DuplicateKeyError as exc:
        raise ScoresFileError(
            path, f"key {exc.args[0]!r} appears twice in one object", expected=expected_document
        ) from exc

    if not isinstance(document, dict):
        raise ScoresFileError(path, "the top level is not a JSON object", expected=expected_document)
    if "schema_version" not in document:
        raise ScoresFileError(path, "no schema_version", expected=f'"schema_version": "{SCHEMA_V1}"')
    if document["schema_version"] != SCHEMA_V1:
        raise ScoresFileError(
            path,
            f"schema_version is {json.dumps(document['schema_version'])}",
            expected=f'"schema_version": "{SCHEMA_V1}" in a .json file (v2 is a .csv or .parquet table)',
        )
    if "original" not in document:
        raise ScoresFileError(path, 'no "original" entry', expected=expected_document)
    original = _json_item(path, document["original"], "original")
    decoys_entry = document.get("decoys")
    if not isinstance(decoys_entry, dict):
        raise ScoresFileError(path, '"decoys" is missing or not an object', expected='"decoys": {"<hash>": {...}}')
    decoys: dict[bytes, ScoredItem] = {}
    for key, entry in decoys_entry.items():
        where = f"decoys[{json.dumps(key)}]"
        if not _HEX_DIGEST.fullmatch(key):
            raise ScoresFileError(path, f"{where}: key is not a hash", expected="64 hex digits (sha256 of the SMILES)")
        digest = bytes.fromhex(key)
        if digest in decoys:
            raise ScoresFileError(path, f"{where}: the same hash appears twice (letter case differs)")
        decoys[digest] = _json_item(path, entry, where)
    return ExternalScores(
        schema_version=SCHEMA_V1,
        source_path=str(path),
        sha256=sha256,
        n_rows=1 + len(decoys),
        shared_original=original,
        decoys_by_hash=decoys,
    )
