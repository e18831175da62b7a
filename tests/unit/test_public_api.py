"""The engine's public faces: every advertised name resolves, and the light ones stay light."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import hetero_core

SUBPACKAGES = ("audit", "chunks", "decoys", "io", "molecules", "pack", "pipeline", "report", "scores")


@pytest.mark.parametrize("package", ["hetero_core", *(f"hetero_core.{name}" for name in SUBPACKAGES)])
def test_every_name_in_all_resolves(package: str) -> None:
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if getattr(module, name, None) is None]
    assert missing == []


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'run_audits'"):
        _ = hetero_core.run_audits


def test_pack_layout_and_signature_checks_load_no_rdkit() -> None:
    """The API and the client read member names and verify signatures; that must not cost an RDKit import."""
    probe = (
        "import json, sys\n"
        "from hetero_core.layout import REQUIRED_MEMBERS\n"
        "from hetero_core.pack import public_key_id, verify_pack\n"
        "print(json.dumps(sorted(m for m in ('rdkit', 'matplotlib', 'numpy') if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(done.stdout) == []
