"""``hetero2 reproduce``: re-run a pack from its own manifest and say whether the same bytes come out.

The seed promises that any run is reproducible from its manifest (SAAS-E4, SAAS-M1). A third party holds the
pack and the input; this module verifies the pack (a tampered manifest is refused before anything runs),
checks that the input and scores files are the very files the manifest names (sha256), that the engine and
library versions are the recorded ones (a drift is named; the run goes on only when allowed), re-runs the
audit with the manifest's parameters, model, acceptance criteria and creation time, and compares every member
byte for byte, naming the first that differs and where.

What is compared: every member the manifest lists (summary.csv, decoys.csv, metrics.json, index.md,
report.html) and manifest.json itself. The re-run is not signed (the publisher's private key is not ours), so
a signed manifest is compared without its ``signature`` block; the signature itself was checked by
``verify``. The zip is not compared: its bytes include the signature files.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hetero_core.acceptance import Acceptance
from hetero_core.config import RunConfig
from hetero_core.errors import ConfigError, HeteroError
from hetero_core.hashing import file_sha256
from hetero_core.io import InputColumns
from hetero_core.layout import MANIFEST, METRICS
from hetero_core.pack import engine_info, runtime_versions, verify_pack
from hetero_core.pack._writer import write_json
from hetero_core.pipeline._run import run_audit
from hetero_core.scores import ModelInfo, Scorer, load_external_scores, make_scorer

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "ReproduceError",
    "Reproduction",
    "check_recorded_file",
    "compare_with_pack",
    "refuse_version_drift",
    "reproduce_pack",
    "version_drift",
]


class ReproduceError(HeteroError):
    """The re-run cannot start: a different input or scores file, a version drift, a manifest we cannot read."""


@dataclass(frozen=True, slots=True)
class Reproduction:
    """The outcome: ``reproduced`` True, or the first member that differs and where."""

    reproduced: bool
    members_compared: int
    member: str | None = None
    where: str | None = None
    drift: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The outcome as a job record shows it: ``REPRODUCED`` or ``DIFFERS`` with the member and where."""
        return {
            "outcome": "REPRODUCED" if self.reproduced else "DIFFERS",
            "members_compared": self.members_compared,
            "member": self.member,
            "where": self.where,
            "drift": list(self.drift),
        }


def _read_member(pack: Path, name: str) -> bytes:
    if pack.is_file():
        with zipfile.ZipFile(pack) as archive:
            return archive.read(name)
    return (pack / name).read_bytes()


def version_drift(manifest: dict[str, Any]) -> list[str]:
    """Each recorded version that differs from this process's, as "rdkit 2026.09.1 in the pack, 2026.03.2 here"."""
    recorded = {**{f"engine {k}": v for k, v in manifest.get("engine", {}).items() if k != "name"}}
    recorded.update(manifest.get("runtime", {}))
    here = {**{f"engine {k}": v for k, v in engine_info().items() if k != "name"}, **runtime_versions()}
    return [
        f"{name} {recorded[name]} in the pack, {here.get(name, 'absent')} here"
        for name in sorted(recorded)
        if recorded[name] != here.get(name)
    ]


def _config(parameters: dict[str, Any]) -> RunConfig:
    known = {f.name for f in fields(RunConfig)}
    try:
        return RunConfig(**{name: value for name, value in parameters.items() if name in known})
    except (ConfigError, TypeError) as exc:
        raise ReproduceError(f"{MANIFEST}: parameters cannot be re-run: {exc}") from exc


def refuse_version_drift(drift: list[str], allowed: bool, how_to_allow: str) -> None:
    """A re-run on other versions proves nothing about the pack: refuse it unless the caller allowed it.

    Raises:
        ReproduceError: ``drift`` is not empty and ``allowed`` is False; the message names every drift.
    """
    if drift and not allowed:
        raise ReproduceError("version drift: " + "; ".join(drift) + f" (re-run anyway with {how_to_allow})")


def _model(block: dict[str, Any] | None) -> ModelInfo:
    block = block or {}
    return ModelInfo(block.get("name"), block.get("version"), block.get("sha256"))


def check_recorded_file(path: Path, entry: dict[str, Any], role: str) -> None:
    digest = file_sha256(path)
    if digest != entry.get("sha256"):
        raise ReproduceError(
            f"{path}: sha256 {digest} is not the {role} file the pack was made from "
            f"({entry.get('name')}, sha256 {entry.get('sha256')})"
        )


def _first_difference(name: str, old: bytes, new: bytes) -> str:
    """Where two versions of a member part: a line for text members, a key path for JSON."""
    if name.endswith(".json"):
        try:
            path = _json_difference(json.loads(old), json.loads(new), "")
        except ValueError:
            path = None
        if path is not None:
            return f"at {path or 'the top level'}"
    old_lines = old.decode("utf-8", "replace").splitlines()
    new_lines = new.decode("utf-8", "replace").splitlines()
    for number, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), start=1):
        if a != b:
            return f"line {number}: {a[:100]!r} in the pack, {b[:100]!r} re-run"
    shorter = min(len(old_lines), len(new_lines))
    return f"line {shorter + 1}: the pack has {len(old_lines)} lines, the re-run {len(new_lines)}"


def _json_difference(old: object, new: object, path: str) -> str | None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            if key not in old or key not in new:
                return f"{path}.{key}".lstrip(".")
            found = _json_difference(old[key], new[key], f"{path}.{key}")
            if found is not None:
                return found.lstrip(".")
        return None
    if isinstance(old, list) and isinstance(new, list):
        for i, (a, b) in enumerate(zip(old, new, strict=False)):
            found = _json_difference(a, b, f"{path}[{i}]")
            if found is not None:
                return found
        return None if len(old) == len(new) else f"{path} (length {len(old)} vs {len(new)})".lstrip(".")
    return (
        None if old == new else f"{path}: {json.dumps(old)[:80]} in the pack, {json.dumps(new)[:80]} re-run".lstrip(".")
    )


def reproduce_pack(
    pack: Path,
    input_path: Path,
    *,
    scores_path: Path | None = None,
    public_key_pem: bytes | None = None,
    allow_version_drift: bool = False,
    workers: int = 1,
) -> Reproduction:
    """Re-run ``pack`` from its manifest on ``input_path`` and compare every member.

    Raises:
        PackVerificationError: the pack fails ``verify`` (e.g. an edited manifest breaks its signature).
        ReproduceError: the input or scores file is not the recorded one, versions drifted without
            ``allow_version_drift``, or the manifest cannot be re-run.
    """
    verify_pack(pack, public_key_pem)
    manifest: dict[str, Any] = json.loads(_read_member(pack, MANIFEST))
    if "calibration" in json.loads(_read_member(pack, METRICS)):
        raise ReproduceError(f"{pack} is a calibration pack: re-run hetero2 calibrate with its parameters instead")
    inputs = {entry.get("role"): entry for entry in manifest.get("inputs", [])}
    if "molecules" not in inputs:
        raise ReproduceError(f"{MANIFEST}: names no molecules input")
    check_recorded_file(input_path, inputs["molecules"], "molecules")
    parameters = dict(manifest.get("parameters", {}))
    external = parameters.get("scorer") == "external"
    if external and scores_path is None:
        raise ReproduceError("the pack audited a scores file: give it with --scores")
    if external and scores_path is not None:
        check_recorded_file(scores_path, inputs["scores"], "scores")
    drift = version_drift(manifest)
    refuse_version_drift(drift, allow_version_drift, "--allow-version-drift")

    config = _config(parameters)
    columns_block = inputs["molecules"].get("columns") or {}
    columns = InputColumns(
        columns_block.get("id_column", "id"),
        columns_block.get("smiles_column", "smiles"),
        columns_block.get("sdf_id_property"),
    )
    created_at = datetime.fromisoformat(str(manifest["created_at"]).replace("Z", "+00:00"))
    with tempfile.TemporaryDirectory(prefix="hetero2-reproduce-") as tmp:
        work = Path(tmp)
        # the manifest records file names, so the re-run reads copies under the recorded names
        staged_input = work / "in" / str(inputs["molecules"]["name"])
        staged_input.parent.mkdir()
        shutil.copyfile(input_path, staged_input)
        scorer: Scorer
        if external and scores_path is not None:
            staged_scores = work / "scores" / str(inputs["scores"]["name"])
            staged_scores.parent.mkdir()
            shutil.copyfile(scores_path, staged_scores)
            scorer = load_external_scores(staged_scores)
        else:
            scorer = make_scorer(str(parameters.get("scorer")), seed=config.seed)
        out = work / "pack"
        run_audit(
            staged_input,
            out,
            config=config,
            scorer=scorer,
            created_at=created_at,
            model=_model(manifest.get("model")),
            acceptance=Acceptance.from_manifest(manifest.get("acceptance")),
            workers=workers,
            service=manifest.get("service"),
            columns=columns,
        )
        return compare_with_pack(
            manifest, lambda name: _read_member(pack, name), lambda name: (out / name).read_bytes(), drift
        )


def compare_with_pack(
    manifest: dict[str, Any],
    read_member: Callable[[str], bytes],
    read_rebuilt: Callable[[str], bytes],
    drift: list[str],
) -> Reproduction:
    """Compare a re-run pack with the original, member by member, then the manifests without their
    ``signature`` blocks (the CLI's re-run is unsigned; the service signs its re-run with the org's key).

    ``read_member`` and ``read_rebuilt`` give a member's bytes by name, of the original and of the re-run (a pack on
    disk, or objects in the service's store).
    """
    names = [str(entry["path"]) for entry in manifest.get("files", [])]
    for name in names:
        old, new = read_member(name), read_rebuilt(name)
        if old != new:
            return Reproduction(False, len(names), name, _first_difference(name, old, new), tuple(drift))
    old_manifest = _unsigned(manifest)
    new_manifest = _unsigned(json.loads(read_rebuilt(MANIFEST)))
    if old_manifest != new_manifest:
        where = _first_difference(MANIFEST, old_manifest, new_manifest)
        return Reproduction(False, len(names) + 1, MANIFEST, where, tuple(drift))
    return Reproduction(True, len(names) + 1, drift=tuple(drift))


def _unsigned(manifest: dict[str, Any]) -> bytes:
    """The manifest's bytes as the pack writer writes them, without the ``signature`` block."""
    expected = dict(manifest)
    expected.pop("signature", None)
    with tempfile.TemporaryDirectory(prefix="hetero2-manifest-") as tmp:
        return write_json(Path(tmp) / MANIFEST, expected)
