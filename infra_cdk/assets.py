"""What CDK packages from the repository: the control-plane code, its layer, the worker image context.

Synth stages these folders into ``cdk.out``; each asset names exactly what it ships, so a virtualenv, caches
or test data never end up in a Lambda zip or a Docker build context.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_lambda as lambda_

from infra_cdk import contract
from infra_cdk.contract import CONTROL_PLANE_LAYER_BUILD, WORKER_DOCKERFILE

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
# The worker image's dependencies: uv.lock exported with hashes (scripts/lock.sh), installed before the code is copied.
WORKER_REQUIREMENTS: Final = "functions/worker.requirements.txt"
CHUNK_REQUIREMENTS: Final = "functions/chunk.requirements.txt"  # the lean `chunk` target (RunChunk)

# Docker-style ignore rules: everything out, then the few paths each asset needs back in.
_CACHES: Final = ("**/__pycache__", "**/*.pyc", "**/.mypy_cache", "**/.pytest_cache", "**/.ruff_cache")
# The control-plane handlers import the service layer and the engine's light modules (exceptions, signing);
# RDKit and NumPy stay out: they are neither in this zip nor in its layer.
# ``hetero2 serve`` (functions/local/) runs on a laptop, never in AWS.
_LOCAL_ONLY: Final = ("functions/local",)
CONTROL_PLANE_EXCLUDE: Final = (
    "*",
    "!functions",
    "!hetero_core",
    WORKER_DOCKERFILE,
    WORKER_REQUIREMENTS,
    *_LOCAL_ONLY,
    *_CACHES,
)
WORKER_EXCLUDE: Final = ("*", "!hetero_core", "!functions", *_LOCAL_ONLY, *_CACHES)

PLACEHOLDER_NOTE: Final = (
    "Placeholder control-plane layer: layers/control_plane/build was absent at synth. "
    "Run layers/build.sh before cdk deploy.\n"
)


@dataclass(frozen=True, slots=True)
class AssetPaths:
    """Where the assets come from; tests point ``layer_dir`` at a stub folder."""

    repo_root: Path = REPO_ROOT
    layer_dir: Path | None = None

    @property
    def layer_is_built(self) -> bool:
        return (self.resolved_layer_dir / "python").is_dir()

    @property
    def resolved_layer_dir(self) -> Path:
        return self.layer_dir or self.repo_root / CONTROL_PLANE_LAYER_BUILD

    def layer_code(self) -> lambda_.Code:
        """The built layer, or an empty stand-in so a clean checkout still synthesizes (no Docker, no pip)."""
        if self.layer_is_built:
            return lambda_.Code.from_asset(str(self.resolved_layer_dir), exclude=list(_CACHES))
        stand_in = Path(tempfile.mkdtemp(prefix="hetero2-layer-")) / "python"
        stand_in.mkdir()
        (stand_in / "HETERO2_LAYER_NOT_BUILT.txt").write_text(PLACEHOLDER_NOTE, encoding="utf-8")
        return lambda_.Code.from_asset(str(stand_in.parent))

    def control_plane_code(self) -> lambda_.Code:
        return lambda_.Code.from_asset(
            str(self.repo_root), exclude=list(CONTROL_PLANE_EXCLUDE), ignore_mode=cdk.IgnoreMode.DOCKER
        )

    def worker_function_code(self, handler: str, target: str = contract.FULL_IMAGE_TARGET) -> lambda_.DockerImageCode:
        return lambda_.DockerImageCode.from_image_asset(
            str(self.repo_root),
            file=WORKER_DOCKERFILE,
            target=target,
            cmd=[handler],
            exclude=list(WORKER_EXCLUDE),
            ignore_mode=cdk.IgnoreMode.DOCKER,
        )

    def worker_container_image(self, target: str = contract.FULL_IMAGE_TARGET) -> ecs.ContainerImage:
        # Same directory, file, ignore rules and platform as the functions: one image asset per target.
        return ecs.ContainerImage.from_asset(
            str(self.repo_root),
            file=WORKER_DOCKERFILE,
            target=target,
            platform=ecr_assets.Platform.LINUX_AMD64,
            exclude=list(WORKER_EXCLUDE),
            ignore_mode=cdk.IgnoreMode.DOCKER,
        )
