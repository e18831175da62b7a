"""What a run depended on, for the manifest: engine, versions, creation time.

Only facts that change results go in; the machine, the worker count and timings stay out so that the same
inputs, parameters and versions give a byte-identical pack on any machine.
"""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import numpy
import rdkit

from hetero_core import ENGINE_NAME, __version__
from hetero_core.errors import ConfigError


@lru_cache(maxsize=1)
def git_commit() -> str:
    """The engine's git commit: ``HETERO2_GIT_COMMIT`` (set in container builds), else the checkout's HEAD."""
    pinned = os.environ.get("HETERO2_GIT_COMMIT")
    if pinned:
        return pinned
    source = Path(__file__).resolve().parents[2]
    if not (source / ".git").exists():
        return "unknown"
    try:
        done = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def engine_info() -> dict[str, str]:
    return {"name": ENGINE_NAME, "version": __version__, "git_commit": git_commit()}


def runtime_versions() -> dict[str, str]:
    # matplotlib draws report.html's plots, so its version decides those bytes too; imported here, so a chunk
    # worker (which imports this module but never seals a pack) does not load it
    import matplotlib  # noqa: PLC0415

    return {
        "python": platform.python_version(),
        "rdkit": rdkit.__version__,
        "numpy": numpy.__version__,
        "matplotlib": matplotlib.__version__,
    }


def resolve_created_at(value: str | None) -> datetime:
    """``--created-at`` wins, then ``SOURCE_DATE_EPOCH`` (reproducible builds convention), then now; UTC, seconds."""
    if value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ConfigError(
                f"--created-at {value!r} is not an ISO 8601 date-time (e.g. 2026-01-31T12:00:00Z)"
            ) from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC).replace(microsecond=0)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise ConfigError(f"SOURCE_DATE_EPOCH={epoch!r} is not a Unix timestamp") from exc
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
