"""One cache entry: a molecule's decoys with everything the pack needs from them, behind a checksum.

An entry is a header line and a JSON payload::

    hetero2.decoy_cache.v1 <sha256 of the payload> <payload length in bytes>
    {"key": ..., "decoys": [[smiles, hash, similarity], ...], "rejections": {...}, "columns": {...},
     "as_written": {"heavy_atoms": n}}   (the last only when the canonical SMILES is a fixed point; see CachedDecoys)

Reading checks the format, the length (a truncated write), the sha256 (a flipped byte) and that the payload
names the key it was asked for (a file copied under another name); any failure is :class:`CorruptEntryError`
and the caller rebuilds the entry. JSON writes floats in their shortest round-trip form, so a value read back is
the same float that was computed, and the pack's bytes cannot tell a hit from a fresh build.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from hetero_core.cache._key import ENTRY_FORMAT


class CorruptEntryError(Exception):
    """A stored entry failed its checks; it is never used, only rebuilt and overwritten."""


@dataclass(frozen=True, slots=True)
class CachedDecoy:
    """What a row needs of one decoy once it exists: its identity and its similarity to the original."""

    smiles: str
    hash: str
    similarity: float


@dataclass(frozen=True, slots=True)
class CachedDecoys:
    """A molecule's decoys, the candidates rejected by reason, and the summary columns computed from them.

    ``as_written`` is set when RDKit writes the canonical SMILES back unchanged once parsed (most are; it is not
    guaranteed for every molecule), with the molecule's heavy-atom count for the guardrail: an input given as
    exactly that SMILES is then known to canonicalise to it, and a row can be served without RDKit.
    """

    decoys: tuple[CachedDecoy, ...]
    rejections: dict[str, int] = field(default_factory=dict)
    columns: dict[str, Any] = field(default_factory=dict)
    as_written: AsWritten | None = None


@dataclass(frozen=True, slots=True)
class AsWritten:
    """The canonical SMILES is a fixed point of parse-then-write, and the molecule has this many heavy atoms."""

    heavy_atoms: int


def encode_entry(key: str, cached: CachedDecoys) -> bytes:
    payload = json.dumps(
        {
            "key": key,
            "decoys": [[d.smiles, d.hash, d.similarity] for d in cached.decoys],
            "rejections": cached.rejections,
            "columns": cached.columns,
            **({"as_written": {"heavy_atoms": cached.as_written.heavy_atoms}} if cached.as_written else {}),
        },
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")
    header = f"{ENTRY_FORMAT} {hashlib.sha256(payload).hexdigest()} {len(payload)}\n".encode("ascii")
    return header + payload


def decode_entry(key: str, data: bytes) -> CachedDecoys:
    """The entry stored under ``key``; :class:`CorruptEntryError` unless every check passes."""
    header, newline, payload = data.partition(b"\n")
    parts = header.split(b" ")
    if not newline or len(parts) != 3 or parts[0] != ENTRY_FORMAT.encode("ascii"):
        raise CorruptEntryError("not a decoy cache entry (header missing or of another format)")
    if not parts[2].isdigit() or int(parts[2]) != len(payload):
        raise CorruptEntryError(f"payload is {len(payload)} bytes, the header says {parts[2]!r} (truncated?)")
    if hashlib.sha256(payload).hexdigest().encode("ascii") != parts[1]:
        raise CorruptEntryError("payload checksum mismatch")
    try:
        body = json.loads(payload)
        if body["key"] != key:
            raise CorruptEntryError("entry belongs to another key")
        decoys = tuple(CachedDecoy(str(s), str(h), float(sim)) for s, h, sim in body["decoys"])
        written = body.get("as_written")  # absent from entries made before it was recorded: no shortcut then
        as_written = AsWritten(int(written["heavy_atoms"])) if written is not None else None
        return CachedDecoys(decoys, dict(body["rejections"]), dict(body["columns"]), as_written)
    except (ValueError, KeyError, TypeError) as exc:  # checksum right but content wrong: a bug of the writer
        raise CorruptEntryError(f"payload unreadable: {exc}") from exc
