"""Chunk files: input rows as JSON Lines, one object per row, in input order."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from hetero_core.records import InputRow

if TYPE_CHECKING:
    from collections.abc import Iterable


def encode_rows(rows: Iterable[InputRow]) -> bytes:
    return "".join(json.dumps(asdict(row), separators=(",", ":")) + "\n" for row in rows).encode("utf-8")


def decode_rows(data: bytes) -> list[InputRow]:
    return [InputRow(**json.loads(line)) for line in data.decode("utf-8").splitlines() if line]
