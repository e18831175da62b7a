"""The CLI's cache: one file per entry in a folder, written whole or not at all.

Entries live at ``DIR/<first two hex digits>/<key>.entry`` so no folder grows past a few thousand files. A write
goes to a temporary file beside its target and is renamed into place, so a reader never sees half an entry and
two processes writing the same key (the same molecule in two workers) each rename a complete, identical file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from hetero_core.io import atomic_text_file

CACHE_DIR_ENV = "HETERO2_CACHE_DIR"
_ENTRY_SUFFIX = ".entry"
_ENTRY_NAME = re.compile(r"[0-9a-f]{64}\.entry")


def default_cache_dir() -> Path:
    """The user's cache folder: ``$HETERO2_CACHE_DIR``, else ``$XDG_CACHE_HOME/hetero2/decoys``, else
    ``~/.cache/hetero2/decoys`` (``%LOCALAPPDATA%`` on Windows). The XDG rule is three lines, so no dependency."""
    if explicit := os.environ.get(CACHE_DIR_ENV):
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or (os.environ.get("LOCALAPPDATA") if os.name == "nt" else None)
    root = Path(base).expanduser() if base else Path.home() / ".cache"
    return root / "hetero2" / "decoys"


@dataclass(frozen=True, slots=True)
class FolderUsage:
    path: Path
    entries: int
    bytes: int


class FolderStore:
    """Entries as files under one folder; picklable (only the path), so pool workers each open their own."""

    cheap_misses = True  # an absent entry is a failed open()
    read_ahead = 0  # a read is a local open(): nothing to overlap

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"FolderStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / (key + _ENTRY_SUFFIX)

    def read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_text_file(path) as handle:  # an entry is UTF-8 text: a header line and JSON
            handle.write(data.decode("utf-8"))

    def _entries(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return [p for p in self.root.glob("??/*" + _ENTRY_SUFFIX) if _ENTRY_NAME.fullmatch(p.name)]

    def usage(self) -> FolderUsage:
        entries = self._entries()
        return FolderUsage(self.root, len(entries), sum(p.stat().st_size for p in entries))

    def clear(self) -> FolderUsage:
        """Remove every entry (and nothing else: the folder may be shared with other files); what was removed."""
        removed = FolderUsage(self.root, 0, 0)
        for path in self._entries():
            size = path.stat().st_size
            path.unlink(missing_ok=True)
            removed = FolderUsage(self.root, removed.entries + 1, removed.bytes + size)
        for folder in self.root.glob("??"):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        return removed
