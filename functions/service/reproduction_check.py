"""The worker side of a reproduce job: before any chemistry, the input is the original's and the versions are the
recorded ones; after assembly, every member is compared with the original pack.

The comparison is ``hetero2 reproduce``'s own (``hetero_core.pipeline``), so the CLI and the service name the
same first difference the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from functions.service import layout
from functions.service.tenancy import JobRef
from hetero_core.layout import MANIFEST
from hetero_core.pipeline import (
    check_recorded_file,
    compare_with_pack,
    refuse_version_drift,
    version_drift,
)

if TYPE_CHECKING:
    from pathlib import Path

    from functions.service.artifacts import ArtifactStore
    from functions.service.jobs import JobRecord

__all__ = ["OriginalPack", "original_pack"]


class OriginalPack:
    """The pack a reproduce job re-creates: its manifest, and its members read from the store on demand."""

    def __init__(self, store: ArtifactStore, ref: JobRef) -> None:
        self.ref = ref
        self._store = store
        self.manifest: dict[str, Any] = store.get_json(layout.pack_member_key(ref, MANIFEST))

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(str(self.manifest["created_at"]).replace("Z", "+00:00"))

    @property
    def service(self) -> dict[str, str]:
        return dict(self.manifest.get("service") or {})

    def member(self, name: str) -> bytes:
        return self._store.get_bytes(layout.pack_member_key(self.ref, name))

    def check_rerun(self, job: JobRecord, input_path: Path, scores_path: Path | None) -> list[str]:
        """The version drifts (empty when none), once the files are the recorded ones and drift is allowed.

        Raises:
            ReproduceError: a file is not the one the pack was made from, or versions drifted and the job did not
                say ``allow_version_drift``.
        """
        inputs = {entry.get("role"): entry for entry in self.manifest.get("inputs", [])}
        check_recorded_file(input_path, inputs.get("molecules", {}), "molecules")
        if scores_path is not None:
            check_recorded_file(scores_path, inputs.get("scores", {}), "scores")
        drift = version_drift(self.manifest)
        refuse_version_drift(drift, bool(job.get("allow_version_drift")), "allow_version_drift")
        return drift

    def compare(self, rebuilt_prefix: str, drift: list[str]) -> dict[str, Any]:
        """What the reproduce job records: REPRODUCED, or DIFFERS with the first member and where; the re-run pack
        is read from where finalize stored it."""

        def read_rebuilt(name: str) -> bytes:
            return self._store.get_bytes(rebuilt_prefix + name)

        outcome = compare_with_pack(self.manifest, self.member, read_rebuilt, drift).to_dict()
        return {**outcome, "of": self.ref.job}


def original_pack(store: ArtifactStore, job: JobRecord) -> OriginalPack | None:
    """The original of a reproduce job (None for any other job)."""
    original = job.get("reproduce_of")
    if not original:
        return None
    return OriginalPack(store, JobRef(job.ref.org, job.ref.project, str(original)))
