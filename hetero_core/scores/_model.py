"""Which model was audited (SPEC §4): a pack that does not name its model cannot be signed off.

The name, version and optional sha256 of the model's artifact are the customer's words, recorded in the
manifest's ``model`` block and shown at the top of the report; the engine checks only that they are short,
printable and (for the sha256) 64 hex digits, so a typo is caught before hours of decoys.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from hetero_core.errors import ConfigError

MAX_MODEL_TEXT = 200
_SHA256 = re.compile(r"[0-9a-f]{64}")

__all__ = ["ModelInfo"]


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """The audited model as its owner names it; ``name`` None means nobody said (the report says so)."""

    name: str | None = None
    version: str | None = None
    sha256: str | None = None

    def __post_init__(self) -> None:
        for field_name in ("name", "version"):
            value = getattr(self, field_name)
            if value is None:
                continue
            if not value.strip() or len(value) > MAX_MODEL_TEXT or not value.isprintable():
                raise ConfigError(
                    f"model {field_name} must be 1 to {MAX_MODEL_TEXT} printable characters, got {value!r}"
                )
        if self.sha256 is not None and not _SHA256.fullmatch(self.sha256):
            raise ConfigError(f"model sha256 must be 64 lowercase hex digits, got {self.sha256!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ModelInfo:
        return cls(**data) if data else cls()
