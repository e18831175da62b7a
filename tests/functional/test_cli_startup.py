"""What ``hetero2`` loads before it does anything: the heavy libraries only a pack's report needs stay unloaded.

matplotlib alone was about 1.1 CPU s of every command's start-up (``--help`` included) while only sealing a pack
draws with it. Each probe runs in a fresh interpreter, as the console script does, and lists the heavy modules
it finds in ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

# Loaded at the end of a run (the report), or by one option (Parquet scores, the notebook API), never at start-up.
LATE = ("matplotlib", "pyarrow", "pandas")


def _loaded_after(statements: str, *argv: str, watch: tuple[str, ...] = LATE) -> list[str]:
    """Run ``statements`` in a new interpreter (``argv`` as its ``sys.argv[1:]``); which ``watch`` modules it loaded."""
    probe = (
        "import json, sys\n"
        f"{statements}\n"
        f"print(json.dumps(sorted(m for m in {watch!r} if m in sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=True, timeout=120)
    loaded: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return loaded


def test_importing_the_cli_loads_no_matplotlib() -> None:
    assert _loaded_after("import hetero_core.cli") == []


def test_the_command_line_with_its_plugin_verbs_parses_without_matplotlib() -> None:
    """What the console script runs before a verb starts: the whole parser, serve and remote registered."""
    statements = (
        "from hetero_core.cli import main\n"
        "try:\n"
        "    main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "assert {'hetero2_client.cli', 'functions.local.server'} <= set(sys.modules), 'plugin verbs not loaded'"
    )
    assert _loaded_after(statements) == []


def test_the_remote_verbs_load_no_chemistry() -> None:
    """``hetero2 remote`` talks HTTP: it needs the engine's number formatters, not RDKit, NumPy or matplotlib."""
    assert _loaded_after("import hetero2_client.cli", watch=("rdkit", "numpy", "matplotlib")) == []


def test_a_decoys_table_is_written_without_matplotlib(tmp_path: Path) -> None:
    """``hetero2 decoys`` writes no report, so it never pays for the library that draws one."""
    source = tmp_path / "in.csv"
    source.write_text("id,smiles\naspirin,CC(=O)Oc1ccccc1C(=O)O\n", encoding="utf-8")
    out = tmp_path / "decoys.csv"
    statements = "\n".join(("from hetero_core.cli import main", "assert main(sys.argv[1:]) == 0"))
    options = ("--k-decoys", "3", "--workers", "1", "--quiet", "--no-cache")
    assert _loaded_after(statements, "decoys", str(source), "--out", str(out), *options) == []
    assert out.read_text(encoding="utf-8").startswith("molecule_id,")


def test_the_report_still_loads_matplotlib_when_a_pack_is_drawn() -> None:
    """The other side of the lazy face: asking for ``render_report`` brings the plotting library in."""
    assert _loaded_after("from hetero_core.report import render_report") == ["matplotlib"]
