"""Readers for the molecule tables users bring (SPEC §2 "Input"): CSV, TSV, SMILES and SDF, optionally gzipped.

Reading streams: one physical line (or one SDF record) is in memory at a time, so a caller can scan a
multi-gigabyte file with :func:`scan_input` before any heavy work. A fault that makes the whole file
unusable raises :class:`InputFileError` naming the line; a fault of one row is left to later stages
(missing SMILES) or flagged on the row itself (``InputRow.error`` for an SDF record RDKit cannot parse),
so that every row still reaches the summary.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rdkit import Chem, rdBase

from hetero_core.errors import ConfigError, InputFileError
from hetero_core.hashing import file_sha256 as _file_sha256
from hetero_core.reasons import SkipReason
from hetero_core.records import InputRow

if TYPE_CHECKING:
    from collections.abc import Iterator

FORMATS = ("csv", "tsv", "smi", "sdf")
ACCEPTED_SUFFIXES = ".csv, .tsv, .smi, .sdf or .sd, each optionally followed by .gz"
MAX_FIELD_CHARS = 10_000_000
"""Longest CSV field accepted: far above any real SMILES, low enough to stop a runaway quote early."""
MAX_LINE_BYTES = 32 * 1024 * 1024
"""Longest physical line accepted, so a file without line breaks cannot be pulled into memory whole."""
MAX_SDF_RECORD_CHARS = 64 * 1024 * 1024
"""Largest SDF record accepted, so a file without ``$$$$`` cannot be pulled into memory whole."""

_SUFFIX_FORMATS = {".csv": "csv", ".tsv": "tsv", ".smi": "smi", ".sdf": "sdf", ".sd": "sdf"}

_MAX_LISTED_COLUMNS = 20


@dataclass(frozen=True)
class InputScan:
    """What a full pass over an input file found, before any chemistry is done.

    ``columns`` are the header names as written (whitespace trimmed) for CSV/TSV, ``("smiles", "id")``
    for ``.smi`` and ``("id", "smiles", <SD properties>)`` for SDF; ``extra_columns`` are the ones that
    end up in ``InputRow.extra``. ``sha256`` is over the file's bytes as stored (compressed for ``.gz``).
    """

    format: str
    rows: int
    columns: tuple[str, ...]
    extra_columns: tuple[str, ...]
    sha256: str


@dataclass(frozen=True)
class InputColumns:
    """Which columns (or SD property) hold the id and the SMILES; the defaults fit most files."""

    id_column: str = "id"
    smiles_column: str = "smiles"
    sdf_id_property: str | None = None

    def read(self, path: str | Path) -> Iterator[InputRow]:
        return read_rows(
            path, id_column=self.id_column, smiles_column=self.smiles_column, sdf_id_property=self.sdf_id_property
        )

    def scan(self, path: str | Path) -> InputScan:
        return scan_input(
            path, id_column=self.id_column, smiles_column=self.smiles_column, sdf_id_property=self.sdf_id_property
        )

    def to_manifest(self) -> dict[str, str | None]:
        return {
            "id_column": self.id_column,
            "smiles_column": self.smiles_column,
            "sdf_id_property": self.sdf_id_property,
        }


DEFAULT_COLUMNS = InputColumns()


def raise_csv_field_limit() -> None:
    """Let one CSV cell hold a very long SMILES; the limit is process-wide, so every CSV reader calls this."""
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD_CHARS))


def detect_format(path: str | Path) -> str:
    """Format from the suffix alone (case-insensitive; a trailing ``.gz`` means gzip), never from content."""
    suffixes = [suffix.lower() for suffix in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    found = _SUFFIX_FORMATS.get(suffixes[-1]) if suffixes else None
    if found is None:
        shown = "".join(Path(path).suffixes) or "(none)"
        raise InputFileError(path, f"unknown file type {shown!r}", expected=ACCEPTED_SUFFIXES)
    return found


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of the file's bytes, read in 1 MiB blocks so a large file never sits in memory."""
    checked = _checked_path(path)
    try:
        return _file_sha256(checked)
    except OSError as exc:
        raise InputFileError(checked, f"cannot be read: {exc.strerror or exc}") from exc


def read_rows(
    path: str | Path,
    *,
    id_column: str = "id",
    smiles_column: str = "smiles",
    sdf_id_property: str | None = None,
) -> Iterator[InputRow]:
    """Yield the file's rows in input order, streaming.

    Path faults (missing file, directory, unknown suffix) and bad arguments raise at once; faults inside
    the file raise when the reader reaches them, with the line, after the rows before them were yielded.
    ``id_column``/``smiles_column`` apply to CSV/TSV, ``sdf_id_property`` to SDF. SDF rows carry the
    physical line where their record starts.
    """
    return _Reader(path, id_column=id_column, smiles_column=smiles_column, sdf_id_property=sdf_id_property).rows()


def scan_input(
    path: str | Path,
    *,
    id_column: str = "id",
    smiles_column: str = "smiles",
    sdf_id_property: str | None = None,
) -> InputScan:
    """Validate the whole file and count its rows (no SMILES parsing), so heavy work never starts on a bad file."""
    reader = _Reader(path, id_column=id_column, smiles_column=smiles_column, sdf_id_property=sdf_id_property)
    rows = sum(1 for _ in reader.rows())
    return InputScan(
        format=reader.format,
        rows=rows,
        columns=reader.columns,
        extra_columns=reader.extra_columns,
        sha256=file_sha256(reader.path),
    )


def _checked_path(path: str | Path) -> Path:
    checked = Path(path)
    if not checked.exists():
        raise InputFileError(checked, "file does not exist")
    if checked.is_dir():
        raise InputFileError(checked, "is a directory, not a file", expected="the path of an input file")
    return checked


def _open_raw(path: Path) -> io.BufferedIOBase:
    """The file's bytes, decompressed on the fly when the name ends in ``.gz``."""
    try:
        if path.suffix.lower() == ".gz":
            return gzip.open(path, "rb")
        return path.open("rb")
    except OSError as exc:
        raise InputFileError(path, f"cannot be opened: {exc.strerror or exc}") from exc


def _column_key(name: str) -> str:
    """Header names match ignoring case and surrounding whitespace (SPEC §2)."""
    return name.strip().casefold()


def _describe_columns(names: tuple[str, ...]) -> str:
    shown = ", ".join(repr(name) for name in names[:_MAX_LISTED_COLUMNS])
    if len(names) > _MAX_LISTED_COLUMNS:
        shown += f", ... ({len(names) - _MAX_LISTED_COLUMNS} more)"
    return shown


class _Lines:
    """Physical lines of the file, decoded strictly as UTF-8 (BOM dropped) and numbered from 1.

    ``number`` and ``text`` describe the last line handed out, which is how the parsers (and
    ``csv.reader`` pulling from this iterator) know where they are for messages.
    """

    def __init__(self, path: Path, raw: io.BufferedIOBase, *, bare_cr_ok: bool) -> None:
        self._path = path
        self._raw = raw
        self._bare_cr_ok = bare_cr_ok
        self.number = 0
        self.text = ""

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        data = self._read()
        if not data:
            raise StopIteration
        self.number += 1
        if len(data) > MAX_LINE_BYTES:
            raise InputFileError(
                self._path,
                f"line is longer than {MAX_LINE_BYTES:,} bytes",
                line=self.number,
                expected="one molecule per line (is this a binary file?)",
            )
        if self.number == 1:
            data = self._drop_bom(data)
        nul = data.find(b"\x00")
        if nul >= 0:
            raise InputFileError(
                self._path,
                f"contains a NUL byte at byte {nul + 1} of the line: this looks like a binary file",
                line=self.number,
                expected="UTF-8 text",
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputFileError(
                self._path,
                f"is not valid UTF-8: byte 0x{data[exc.start]:02X} at byte {exc.start + 1} of the line",
                line=self.number,
                expected="UTF-8 text (re-save the file as UTF-8)",
            ) from exc
        if not self._bare_cr_ok and "\r" in text.removesuffix("\n").removesuffix("\r"):
            raise _bare_cr_error(self._path, self.number)
        self.text = text
        return text

    def _read(self) -> bytes:
        try:
            return self._raw.readline(MAX_LINE_BYTES + 1)
        except gzip.BadGzipFile as exc:
            raise InputFileError(
                self._path, f"is not valid gzip data: {exc}", expected="gzip-compressed data, or drop the .gz suffix"
            ) from exc
        except (EOFError, zlib.error) as exc:
            raise InputFileError(
                self._path,
                f"gzip data is truncated or corrupt after line {self.number}: {exc}",
                line=self.number + 1,
                expected="a complete gzip file",
            ) from exc
        except OSError as exc:
            raise InputFileError(self._path, f"cannot be read: {exc.strerror or exc}", line=self.number + 1) from exc

    def _drop_bom(self, data: bytes) -> bytes:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise InputFileError(
                self._path, "is UTF-16 encoded", line=1, expected="UTF-8 text (save as 'CSV UTF-8' or plain UTF-8)"
            )
        return data.removeprefix(codecs.BOM_UTF8)


def _bare_cr_error(path: Path, line: int) -> InputFileError:
    return InputFileError(
        path,
        "uses a bare carriage return (\\r) as a line break",
        line=line,
        expected="lines ending in \\n or \\r\\n",
    )


@dataclass(frozen=True)
class _Layout:
    """Where the wanted columns sit in a CSV/TSV header."""

    names: tuple[str, ...]
    smiles_at: int
    id_at: int | None
    extra_at: tuple[int, ...]

    def row(self, index: int, line: int, cells: list[str]) -> InputRow:
        if len(cells) < len(self.names):
            cells += [""] * (len(self.names) - len(cells))
        ident = cells[self.id_at].strip() if self.id_at is not None else ""
        return InputRow(
            index,
            line,
            ident or f"row_{index}",
            cells[self.smiles_at].strip(),
            {self.names[at]: cells[at] for at in self.extra_at},
        )


class _Reader:
    """One pass over one file; remembers the columns it met so :func:`scan_input` can report them."""

    def __init__(self, path: str | Path, *, id_column: str, smiles_column: str, sdf_id_property: str | None) -> None:
        if not _column_key(smiles_column):
            raise ConfigError("smiles_column must name a column")
        if _column_key(id_column) == _column_key(smiles_column):
            raise ConfigError(f"id_column and smiles_column name the same column: {id_column!r}")
        self.path = _checked_path(path)
        self.format = detect_format(self.path)
        self.columns: tuple[str, ...] = ()
        self._extra_columns: dict[str, None] = {}
        self._id_column = id_column
        self._smiles_column = smiles_column
        self._sdf_id_property = sdf_id_property

    @property
    def extra_columns(self) -> tuple[str, ...]:
        return tuple(self._extra_columns)

    def rows(self) -> Iterator[InputRow]:
        with _open_raw(self.path) as raw:
            lines = _Lines(self.path, raw, bare_cr_ok=self.format in ("csv", "tsv"))
            if self.format == "csv":
                yield from self._table_rows(lines, ",")
            elif self.format == "tsv":
                yield from self._table_rows(lines, "\t")
            elif self.format == "smi":
                yield from self._smi_rows(lines)
            else:
                yield from self._sdf_rows(lines)

    def _no_content(self, lines: _Lines) -> InputFileError:
        if lines.number == 0:
            size = "decompresses to 0 bytes" if self.path.suffix.lower() == ".gz" else "0 bytes"
            return InputFileError(self.path, f"file is empty ({size})", expected="at least one molecule")
        return InputFileError(self.path, "file contains only blank lines", expected="at least one molecule")

    # CSV / TSV -------------------------------------------------------------------------------------

    def _table_rows(self, lines: _Lines, delimiter: str) -> Iterator[InputRow]:
        raise_csv_field_limit()
        reader = csv.reader(lines, delimiter=delimiter, strict=True)
        layout: _Layout | None = None
        header_line = 0
        index = 0
        while True:
            start = lines.number + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise self._csv_error(exc, start, lines.number, delimiter) from exc
            if lines.number == start and not lines.text.strip():
                continue
            if layout is None:
                layout = self._layout(cells, start, delimiter)
                header_line = start
                continue
            if len(cells) > len(layout.names):
                raise InputFileError(
                    self.path,
                    f"row has {len(cells)} fields but the header has {len(layout.names)}",
                    line=start,
                    expected=f"at most {len(layout.names)} fields; quote values that contain {delimiter!r}",
                )
            index += 1
            yield layout.row(index, start, cells)
        if layout is None:
            raise self._no_content(lines)
        if index == 0:
            raise InputFileError(
                self.path, "has a header but no data rows", line=header_line, expected="one molecule per row"
            )

    def _layout(self, cells: list[str], line: int, delimiter: str) -> _Layout:
        names = tuple(cell.strip() for cell in cells)
        first_at: dict[str, int] = {}
        for at, name in enumerate(names):
            key = _column_key(name)
            if key in first_at:
                raise InputFileError(
                    self.path,
                    f"duplicate column {name!r}: columns {first_at[key] + 1} and {at + 1} have the same name "
                    "once case and surrounding spaces are ignored",
                    line=line,
                    expected="unique column names",
                )
            first_at[key] = at
        smiles_at = first_at.get(_column_key(self._smiles_column))
        if smiles_at is None:
            other = "\t" if delimiter == "," else ","
            hint = ""
            if len(names) == 1 and other in names[0]:
                hint = f"; the header looks {'tab' if other == chr(9) else 'comma'}-separated: check the file suffix"
            raise InputFileError(
                self.path,
                f"no {self._smiles_column!r} column; found columns: {_describe_columns(names)}{hint}",
                line=line,
                expected=f"a header line with a {self._smiles_column!r} column",
            )
        id_at = first_at.get(_column_key(self._id_column))
        if id_at is None and _column_key(self._id_column) != "id":
            raise InputFileError(
                self.path,
                f"no {self._id_column!r} column (named as the id column); found columns: {_describe_columns(names)}",
                line=line,
                expected=f"a header line with a {self._id_column!r} column",
            )
        extra_at = tuple(at for at in range(len(names)) if at not in (smiles_at, id_at))
        self.columns = names
        self._extra_columns = {names[at]: None for at in extra_at}
        return _Layout(names=names, smiles_at=smiles_at, id_at=id_at, extra_at=extra_at)

    def _csv_error(self, exc: csv.Error, start: int, current: int, delimiter: str) -> InputFileError:
        text = str(exc)
        if "unexpected end of data" in text:
            return InputFileError(
                self.path,
                "a quoted field that starts in this row is never closed (unterminated quote)",
                line=start,
                expected='a closing double quote (")',
            )
        if "field larger than field limit" in text:
            return InputFileError(
                self.path,
                f"a field in this row is longer than {MAX_FIELD_CHARS:,} characters (often an unterminated quote)",
                line=start,
                expected='fields of sane length, each opening " closed',
            )
        if "expected after" in text:
            return InputFileError(
                self.path,
                "unexpected character after a closing quote",
                line=current,
                expected=f"{delimiter!r} or the end of the line right after a closing quote",
            )
        if "new-line character" in text:
            return _bare_cr_error(self.path, current)
        return InputFileError(self.path, f"is not valid {self.format.upper()}: {text}", line=current)

    # SMILES ----------------------------------------------------------------------------------------

    def _smi_rows(self, lines: _Lines) -> Iterator[InputRow]:
        self.columns = ("smiles", "id")
        header_line: int | None = None
        seen_comment = False
        index = 0
        for text in lines:
            stripped = text.strip()
            if not stripped or stripped.startswith("#"):
                seen_comment = seen_comment or bool(stripped)
                continue
            smiles, *rest = stripped.split(None, 1)
            if header_line is None and index == 0 and smiles.casefold() == "smiles":
                header_line = lines.number
                continue
            index += 1
            ident = rest[0].strip() if rest else ""
            yield InputRow(index=index, line=lines.number, id=ident or f"row_{index}", smiles=smiles)
        if index == 0 and header_line is None and not seen_comment:
            raise self._no_content(lines)
        if index == 0:
            raise InputFileError(
                self.path,
                "has no molecules" + (" after its header" if header_line else ", only comments"),
                line=header_line,
                expected="one 'SMILES [id]' per line",
            )

    # SDF -------------------------------------------------------------------------------------------

    def _sdf_rows(self, lines: _Lines) -> Iterator[InputRow]:
        self.columns = ("id", "smiles")
        record: list[str] = []
        size = 0
        start = 1
        index = 0
        for text in lines:
            if not record:
                start = lines.number
            record.append(text)
            size += len(text)
            if size > MAX_SDF_RECORD_CHARS:
                raise InputFileError(
                    self.path,
                    f"SDF record is longer than {MAX_SDF_RECORD_CHARS:,} characters",
                    line=start,
                    expected="records ending with a '$$$$' line",
                )
            if text.strip() == "$$$$":
                index += 1
                yield self._sdf_row(index, start, record)
                record, size = [], 0
        if any(text.strip() for text in record):
            index += 1
            yield self._sdf_row(index, start, record)
        if index == 0:
            raise self._no_content(lines)

    def _sdf_row(self, index: int, line: int, record: list[str]) -> InputRow:
        with rdBase.BlockLogs():
            mol = next(Chem.ForwardSDMolSupplier(io.BytesIO("".join(record).encode("utf-8"))), None)
        if mol is None:
            title = record[0].rstrip("\r\n")
            props = _sd_data_items(record)
            smiles = ""
            error: str | None = SkipReason.INVALID_SMILES.value
        else:
            title = mol.GetProp("_Name") if mol.HasProp("_Name") else ""
            props = {name: mol.GetProp(name) for name in mol.GetPropNames()}
            smiles = Chem.MolToSmiles(mol)
            error = None
        if self._sdf_id_property is None:
            ident = title.strip()
        else:
            key = _find_property(props, self._sdf_id_property)
            ident = props.pop(key).strip() if key is not None else ""
        self._extra_columns.update(dict.fromkeys(props))
        self.columns = ("id", "smiles", *self._extra_columns)
        return InputRow(index=index, line=line, id=ident or f"row_{index}", smiles=smiles, extra=props, error=error)


def _find_property(props: dict[str, str], wanted: str) -> str | None:
    """Exact SD property name first, then the same case/space-insensitive match as CSV headers."""
    if wanted in props:
        return wanted
    return next((name for name in props if _column_key(name) == _column_key(wanted)), None)


def _sd_data_items(record: list[str]) -> dict[str, str]:
    """Best-effort read of the ``> <name>`` data items of a record RDKit rejected, so its id and columns survive."""
    items: dict[str, str] = {}
    end = next((at for at, text in enumerate(record) if text.startswith("M  END")), None)
    if end is None:
        return items
    name: str | None = None
    values: list[str] = []
    for text in record[end + 1 :]:
        line = text.rstrip("\r\n")
        if line.strip() == "$$$$":
            break
        if name is None:
            opened = line.find("<")
            closed = line.find(">", opened + 1)
            if line.startswith(">") and 0 < opened < closed:
                name, values = line[opened + 1 : closed], []
        elif line.strip():
            values.append(line)
        else:
            items[name] = "\n".join(values)
            name = None
    if name is not None:
        items[name] = "\n".join(values)
    return items
