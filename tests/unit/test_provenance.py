"""Provenance: the engine's git commit comes from the environment (image builds) or the checkout's HEAD."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from hetero_core.pack._provenance import git_commit

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_commit(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.delenv("HETERO2_GIT_COMMIT", raising=False)
    git_commit.cache_clear()
    yield monkeypatch
    git_commit.cache_clear()


def test_git_commit_is_the_checkouts_head(fresh_commit: pytest.MonkeyPatch) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    assert git_commit() == head.stdout.strip()


def test_a_pinned_commit_wins_over_the_checkout(fresh_commit: pytest.MonkeyPatch) -> None:
    fresh_commit.setenv("HETERO2_GIT_COMMIT", "built-from-abc123")
    assert git_commit() == "built-from-abc123"
