"""A text file that appears whole or not at all: written beside its target, renamed into place on success."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO


class atomic_text_file:
    """Write to a temporary file beside ``path`` and rename on success; remove it on failure."""

    def __init__(self, path: Path) -> None:
        self._path = path
        descriptor, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        self._temp = Path(temp)
        self._handle = os.fdopen(descriptor, "w", encoding="utf-8", newline="")

    def __enter__(self) -> IO[str]:
        return self._handle

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._handle.close()
        if exc_type is None:
            os.replace(self._temp, self._path)
        else:
            self._temp.unlink(missing_ok=True)
