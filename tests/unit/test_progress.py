"""The progress bar stays off where nobody watches it."""

from __future__ import annotations

import io
import sys
from typing import TYPE_CHECKING

from hetero_core.progress import Progress

if TYPE_CHECKING:
    import pytest


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_silent_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = io.StringIO()
    monkeypatch.setattr(sys, "stderr", fake)
    with Progress("audit") as progress:
        progress.set_total(10)
        progress.advance(10)
    assert fake.getvalue() == ""


def test_progress_draws_on_a_terminal_unless_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with Progress("audit") as progress:
        progress.set_total(10)
        progress.advance(10)
    assert "10/10" in terminal.getvalue()

    quiet = _Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    with Progress("audit", quiet=True) as progress:
        progress.set_total(10)
        progress.advance(10)
    assert quiet.getvalue() == ""
