"""Which Python the service builds packs with, and the pack pins kept for it beside the CLI's.

Pack bytes depend on the Python minor version (RDKit's and NumPy's builds move the last bit of some QED scores), so the
service's packs equal the CLI's only when both run the same minor. The decision (docs/architecture.md, "Python of
the service"): the service stays on python3.12 everywhere, because Lambda's python3.11 runs on Amazon Linux 2
(glibc 2.26), which cannot load the locked RDKit's manylinux_2_28 wheels; the packs are pinned on 3.12 as well as on
the CLI's 3.11. These tests hold the facts the decision rests on.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from infra_cdk import contract
from infra_cdk.compute import RUNTIME
from tests.functional.test_pack_bytes_pinned import PINNED_PYTHONS

ROOT = Path(__file__).resolve().parents[2]
# The oldest glibc any Lambda Python runtime offers: python3.11 on Amazon Linux 2 (python3.12 and later: AL2023, 2.34).
AMAZON_LINUX_2_GLIBC = (2, 26)


def _image_python() -> str:
    """The minor version of the worker image's base (``public.ecr.aws/lambda/python:3.12@sha256:...``)."""
    dockerfile = (ROOT / contract.WORKER_DOCKERFILE).read_text(encoding="utf-8")
    # one pinned base for every target (``... AS base``; the chunk and full targets build FROM base)
    pattern = r"^FROM public\.ecr\.aws/lambda/python:(\d+\.\d+)@sha256:[0-9a-f]{64}(?: AS \w+)?$"
    (tag,) = re.findall(pattern, dockerfile, re.M)
    return tag


def _layer_python() -> str:
    (version,) = re.findall(r"--python-version (\d+\.\d+)", (ROOT / "layers" / "build.sh").read_text(encoding="utf-8"))
    return version


def _service_python() -> str:
    return RUNTIME.name.removeprefix("python")


def test_the_service_runs_one_python_in_the_image_the_layer_and_the_lambda_runtime() -> None:
    assert _image_python() == _layer_python() == _service_python() == "3.12"


def test_the_service_python_has_pack_pins() -> None:
    """A service pack is checked byte for byte on the service's own Python minor, not only on the CLI's."""
    assert _image_python() == _service_python()
    assert _service_python() in PINNED_PYTHONS


def test_the_locked_rdkit_has_no_wheel_that_lambdas_python311_could_load() -> None:
    """Why the service is not pinned to python3.11: its Amazon Linux 2 has glibc 2.26, below every locked wheel."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    (rdkit,) = [package for package in lock["package"] if package["name"] == "rdkit"]
    linux_cp311 = [
        wheel["url"].rsplit("/", 1)[-1]
        for wheel in rdkit["wheels"]
        if "-cp311-cp311-" in wheel["url"] and "linux" in wheel["url"] and "x86_64" in wheel["url"]
    ]
    assert linux_cp311, "the lock names RDKit wheels for CPython 3.11 on Linux x86_64"
    needs = {tuple(int(part) for part in re.findall(r"manylinux_(\d+)_(\d+)", name)[0]) for name in linux_cp311}
    assert all(glibc > AMAZON_LINUX_2_GLIBC for glibc in needs), linux_cp311
