"""Named exceptions of the engine.

File-level faults carry the file, the line and what was expected, so the CLI (exit code 2) and the
API (4xx) can show one clear message without a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


class HeteroError(Exception):
    """Base class of every error the engine raises on purpose."""


class InputFileError(HeteroError):
    """A whole input file cannot be used: no header, missing column, bad encoding, empty, ..."""

    def __init__(self, path: str | Path, message: str, *, line: int | None = None, expected: str | None = None):
        self.path = str(path)
        self.line = line
        self.expected = expected
        self.reason = message
        where = f"{self.path}, line {line}" if line is not None else self.path
        text = f"{where}: {message}"
        if expected:
            text += f" (expected {expected})"
        super().__init__(text)


class ScoresFileError(InputFileError):
    """A scores file cannot be used: wrong schema version, missing column, tampered hash, ..."""


class ConfigError(HeteroError):
    """A run parameter is out of range or inconsistent with another one."""


class ScoreCoverageError(HeteroError):
    """The scores cover too little of the audit to judge it: most likely they were made for another input
    or other decoy parameters. Refused (exit 2, job FAILED) rather than reported as a run of SKIPs."""


class PackVerificationError(HeteroError):
    """An evidence pack failed verification; ``member`` names the first thing that failed."""

    def __init__(self, member: str, message: str):
        self.member = member
        super().__init__(f"{member}: {message}")


class SigningError(HeteroError):
    """A signing key cannot be loaded or used."""


class PackOutputError(HeteroError):
    """The evidence pack cannot be written where asked (the output folder holds something that is not a pack)."""

    def __init__(self, path: str | Path, message: str):
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")
