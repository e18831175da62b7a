"""The dependency lock and what is built from it: uv.lock matches pyproject.toml, the worker image and the
control-plane layer install its exports with hashes, the version is written once, the uv pin is one version."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

import hetero_core
from infra_cdk.assets import CHUNK_REQUIREMENTS, REPO_ROOT, WORKER_REQUIREMENTS
from infra_cdk.contract import CHUNK_IMAGE_TARGET, FULL_IMAGE_TARGET, WORKER_DOCKERFILE

LAYER_REQUIREMENTS = "layers/control_plane/requirements.txt"


def _uv() -> str | None:
    beside = Path(sys.executable).with_name("uv")
    return str(beside) if beside.is_file() else shutil.which("uv")


def test_lock_and_exports_are_current() -> None:
    """pyproject.toml was re-locked after its last change, and both exports are exactly uv.lock's."""
    uv = _uv()
    if uv is None:
        pytest.skip("uv is not installed (the dev extra has it; the README's set-up installs it)")
    result = subprocess.run(
        ["bash", "scripts/lock.sh", "--check"],
        cwd=REPO_ROOT,
        env={**os.environ, "UV": uv},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]


@pytest.mark.parametrize("path", [WORKER_REQUIREMENTS, CHUNK_REQUIREMENTS, LAYER_REQUIREMENTS])
def test_exports_pin_every_package_with_hashes(path: str) -> None:
    requirements = [
        line
        for line in (REPO_ROOT / path).read_text(encoding="utf-8").splitlines()
        if line and not line.startswith((" ", "#"))
    ]
    assert requirements
    for line in requirements:
        assert re.match(r"^[A-Za-z0-9._-]+==[^ ;]+( ;.*)? \\$", line), line


def _stages() -> dict[str, list[str]]:
    """The Dockerfile's lines per ``FROM ... AS name`` stage."""
    stages: dict[str, list[str]] = {}
    current: list[str] = []
    for line in (REPO_ROOT / WORKER_DOCKERFILE).read_text(encoding="utf-8").splitlines():
        if line.startswith("FROM "):
            current = stages.setdefault(line.split()[-1], [line])
        elif line.strip() and not line.startswith("#"):
            current.append(line.strip())
    return stages


def test_worker_images_install_the_locked_dependencies_before_the_code() -> None:
    stages = _stages()
    assert list(stages) == ["base", CHUNK_IMAGE_TARGET, FULL_IMAGE_TARGET], "full is last: the default target"
    assert re.fullmatch(r"FROM public\.ecr\.aws/lambda/python:3\.12@sha256:[0-9a-f]{64} AS base", stages["base"][0])
    for target, requirements in ((CHUNK_IMAGE_TARGET, CHUNK_REQUIREMENTS), (FULL_IMAGE_TARGET, WORKER_REQUIREMENTS)):
        lines = stages[target]
        copies = [line for line in lines if line.startswith("COPY ")]
        assert copies[0].split()[1] == requirements, "the dependency layer comes before any code"
        install = next(index for index, line in enumerate(lines) if "pip install" in line)
        assert "--require-hashes" in " ".join(lines[install : install + 3])
        assert install < lines.index(copies[1])


def test_the_chunk_image_leaves_out_what_only_the_report_and_parquet_need() -> None:
    def names(path: str) -> set[str]:
        text = (REPO_ROOT / path).read_text(encoding="utf-8")
        return {line.split("==")[0].lower() for line in text.splitlines() if re.match(r"^[A-Za-z0-9._-]+==", line)}

    lean, full = names(CHUNK_REQUIREMENTS), names(WORKER_REQUIREMENTS)
    assert {"matplotlib", "pyarrow"} <= full
    assert lean < full
    assert not lean & {"matplotlib", "pyarrow", "contourpy", "fonttools", "kiwisolver", "cycler"}
    assert {"rdkit", "numpy", "boto3", "aws-lambda-powertools", "pydantic"} <= lean


def test_layer_build_installs_the_locked_export_with_hashes() -> None:
    script = (REPO_ROOT / "layers/build.sh").read_text(encoding="utf-8")
    assert "--require-hashes" in script
    assert "control_plane/requirements.txt" in script


def test_version_is_written_once() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "hetero_core.__version__"}
    assert version("hetero2") == hetero_core.__version__


def test_uv_is_pinned_to_one_version() -> None:
    """The Makefile (hence .ci/run), the README's set-up command and uv.lock name the same uv."""
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    (pinned,) = re.findall(r"^UV_VERSION := (\S+)$", makefile, flags=re.MULTILINE)
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert set(re.findall(r"pip install uv==(\S+)", readme)) == {pinned}
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text(encoding="utf-8"))
    assert [p["version"] for p in lock["package"] if p["name"] == "uv"] == [pinned]
