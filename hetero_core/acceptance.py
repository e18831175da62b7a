"""The ``acceptance.v1`` document: the criteria a GO needs, parsed and validated in one place.

The CLI reads it from ``--acceptance FILE``; the API takes the same document in a job's body and the client sends a
file's text. All three go through :func:`parse_acceptance`, so every front door gives the same message naming the
field. This module imports only the standard library and ``hetero_core.errors``: the API runs without NumPy.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from hetero_core.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

ACCEPTANCE_SCHEMA = "acceptance.v1"

__all__ = ["ACCEPTANCE_SCHEMA", "Acceptance", "AcceptanceCriteria", "load_acceptance", "parse_acceptance"]


@dataclass(frozen=True, slots=True)
class AcceptanceCriteria:
    """What a GO needs. Defaults are SPEC §5's: no ERROR rows, full coverage, one-sided p < 0.05."""

    max_errors: int = 0
    min_score_coverage: float = 1.0
    min_judged: int = 30
    alpha: float = 0.05
    min_hard_pairs: int = 50

    def __post_init__(self) -> None:
        checks = (
            ("max_errors", _is_int(self.max_errors) and self.max_errors >= 0, "an integer >= 0"),
            (
                "min_score_coverage",
                _is_number(self.min_score_coverage) and 0.0 < self.min_score_coverage <= 1.0,
                "a number in (0, 1]",
            ),
            ("min_judged", _is_int(self.min_judged) and self.min_judged >= 1, "an integer >= 1"),
            ("alpha", _is_number(self.alpha) and 0.0 < self.alpha <= 0.5, "a number in (0, 0.5]"),
            ("min_hard_pairs", _is_int(self.min_hard_pairs) and self.min_hard_pairs >= 0, "an integer >= 0"),
        )
        for name, ok, expected in checks:
            if not ok:
                raise ConfigError(f"acceptance criterion '{name}' must be {expected}, got {getattr(self, name)!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True, slots=True)
class Acceptance:
    """Criteria plus where they came from: the defaults, or a document (its name as given, and its sha256)."""

    criteria: AcceptanceCriteria = AcceptanceCriteria()
    path: str | None = None
    sha256: str | None = None

    def to_manifest(self) -> dict[str, Any]:
        """The manifest's ``acceptance`` block."""
        source = "file" if self.path is not None else "default"
        return {
            "schema_version": ACCEPTANCE_SCHEMA,
            "source": source,
            "path": self.path,
            "sha256": self.sha256,
            "criteria": self.criteria.to_dict(),
        }

    @classmethod
    def from_manifest(cls, block: dict[str, Any] | None) -> Acceptance | None:
        """The criteria a pack was decided with (None: the defaults), for a re-run of that pack."""
        if not block or block.get("source") != "file":
            return None
        return cls(AcceptanceCriteria(**block["criteria"]), block.get("path"), block.get("sha256"))


def parse_acceptance(raw: bytes, name: str) -> Acceptance:
    """Validate an ``acceptance.v1`` document's bytes; every fault starts with ``name`` and names the field.

    Format: ``{"schema_version": "acceptance.v1", "criteria": {...}}`` where ``criteria`` holds any of
    :class:`AcceptanceCriteria`'s fields; absent fields keep their defaults, unknown ones are refused (a typo
    must not silently leave a default in force). The sha256 recorded is of ``raw``, byte for byte.

    Raises:
        ConfigError: not UTF-8 JSON, or a field is missing, unknown or out of range.
    """
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{name}: the acceptance file is not UTF-8 JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: the acceptance file must hold a JSON object")
    unknown_top = sorted(set(data) - {"schema_version", "criteria", "description"})
    if unknown_top:
        raise ConfigError(f"{name}: unknown field '{unknown_top[0]}' (expected schema_version, criteria)")
    if data.get("schema_version") != ACCEPTANCE_SCHEMA:
        raise ConfigError(
            f"{name}: field 'schema_version' must be {ACCEPTANCE_SCHEMA!r}, got {data.get('schema_version')!r}"
        )
    criteria = data.get("criteria", {})
    if not isinstance(criteria, dict):
        raise ConfigError(f"{name}: field 'criteria' must be a JSON object")
    known = {f.name for f in fields(AcceptanceCriteria)}
    unknown = sorted(set(criteria) - known)
    if unknown:
        raise ConfigError(f"{name}: unknown field 'criteria.{unknown[0]}' (known: {', '.join(sorted(known))})")
    try:
        parsed = AcceptanceCriteria(**criteria)
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}") from exc
    return Acceptance(parsed, name, hashlib.sha256(raw).hexdigest())


def load_acceptance(path: Path) -> Acceptance:
    """Read and validate an ``acceptance.v1`` file (:func:`parse_acceptance`); the path is recorded as given.

    Raises:
        ConfigError: the file is unreadable, or :func:`parse_acceptance` refuses it.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the acceptance file: {exc.strerror or exc}") from exc
    return parse_acceptance(raw, str(path))
