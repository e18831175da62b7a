"""docs/notebook.md's worked example runs as written, its pack verifies, and `--scores` rebuilds it byte for byte."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from hetero_core.cli import main

if TYPE_CHECKING:
    import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "notebook.md"


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def _digests(pack: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(pack.iterdir())}


def test_the_worked_example_runs_verifies_and_matches_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = DOC.read_text(encoding="utf-8")
    blocks = _python_blocks(text)
    assert len(blocks) == 3  # the model, the three-line audit, the verification
    assert len([line for line in blocks[1].splitlines() if line.strip()]) == 3
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "notebook_example"}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    result = namespace["result"]
    pack = tmp_path / "potency_audit" / "pack"
    assert result.pack_path == pack  # type: ignore[attr-defined]
    assert result.decision == "STOP"  # type: ignore[attr-defined]  # what the page says the audit finds
    assert result.metrics["counts"]["OK"] == 30  # type: ignore[attr-defined]
    table = result.molecules[["id", "status", "verdict", "auc", "slack"]].head()  # type: ignore[attr-defined]
    words = " ".join(text.split())
    for line in table.to_string().splitlines()[1:]:
        assert " ".join(line.split()) in words  # the table on the page is the one the example prints

    # the CLI command shown on the page, with the same scores, writes the same bytes
    command = re.search(r"hetero2 run potency_audit.*?seed0", text, flags=re.DOTALL)
    assert command is not None
    argv = re.findall(r'"[^"]*"|\S+', command.group(0).replace("\\\n", " "))[1:]
    argv = [a.strip('"') for a in argv]
    assert main(["verify", str(pack)]) == 0
    assert main([*argv, "--quiet", "--workers", "1"]) == 0
    assert _digests(tmp_path / "again") == _digests(pack)
