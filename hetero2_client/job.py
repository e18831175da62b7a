"""A job on the service, as the client sees it: its last known record and the verbs that act on it.

``wait()`` polls with a progress bar; ``download_pack()`` verifies the pack against the org's published key
before handing it over; ``submit_scores()`` reruns the audit on the customer's own scores.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Never, overload
from urllib.parse import quote

from tqdm import tqdm

from hetero2_client.constants import (
    ARTIFACTS,
    SUCCEEDED_STATES,
    TERMINAL_STATES,
)
from hetero2_client.errors import (
    ConfigurationError,
    JobFailedError,
    WaitTimeoutError,
)
from hetero2_client.payloads import DataFrame, Payload, require_pandas
from hetero_core.errors import PackVerificationError
from hetero_core.hashing import file_sha256
from hetero_core.layout import DECOY_COLUMNS, ZIP
from hetero_core.pack import VerifyReport, verify_pack

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

    from hetero2_client.client import Client

DEFAULT_POLL_SECONDS = 2.0


def status_text(record: Mapping[str, Any]) -> str:
    """The state with what the wait depends on: the queue position while waiting for a slot, else the ETA."""
    text = str(record.get("state"))
    position = record.get("queue_position")
    if position is not None:
        return f"{text}, position {position} in queue"
    eta = (record.get("progress") or {}).get("eta_seconds")
    return text + (f", eta {eta:.0f} s" if eta is not None else "")


class _WaitBar:
    """tqdm over rows_done/rows_total with the state and the service's ETA beside it."""

    def __init__(self, label: str, enabled: bool):
        self._bar: tqdm | None = (
            tqdm(total=None, desc=label, unit="mol", file=sys.stderr, dynamic_ncols=True) if enabled else None
        )

    def show(self, record: Mapping[str, Any]) -> None:
        if self._bar is None:
            return
        progress = record.get("progress") or {}
        total, done = int(progress.get("rows_total") or 0), int(progress.get("rows_done") or 0)
        if total and self._bar.total != total:
            self._bar.total = total
        if done > self._bar.n:
            self._bar.update(done - self._bar.n)
        self._bar.set_postfix_str(status_text(record))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


class _RecordText:
    """A read-only attribute of a :class:`Job` that is one field of its record, as text."""

    def __init__(self, field: str) -> None:
        self._field = field

    @overload
    def __get__(self, job: None, owner: type[Job]) -> _RecordText: ...
    @overload
    def __get__(self, job: Job, owner: type[Job]) -> str: ...
    def __get__(self, job: Job | None, owner: type[Job]) -> str | _RecordText:
        return self if job is None else str(job._record[self._field])

    def __set__(self, job: Job, value: Never) -> None:
        raise AttributeError(f"a job's {self._field} is what the service says; refresh() reads it again")


class Job:
    """A job on the service: its last known record, and the verbs that act on it."""

    def __init__(self, client: Client, record: Mapping[str, Any], *, source: Payload | None = None):
        self.client = client
        self._record = dict(record)
        self._source = source

    def __repr__(self) -> str:
        progress = self.progress
        return (
            f"Job({self.org}/{self.project}/{self.id}, {self.state}, "
            f"rows {progress.get('rows_done', 0)}/{progress.get('rows_total', 0)})"
        )

    @property
    def record(self) -> dict[str, Any]:
        """The job as the API last described it (``JobOut``)."""
        return dict(self._record)

    id = _RecordText("job")
    org = _RecordText("org")
    project = _RecordText("project")
    state = _RecordText("state")

    @property
    def queue_position(self) -> int | None:
        """While QUEUED and waiting for a running slot: 1 for the org's next job to start; otherwise None."""
        position = self._record.get("queue_position")
        return int(position) if position is not None else None

    @property
    def progress(self) -> dict[str, Any]:
        return dict(self._record.get("progress") or {})

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self._record.get("parameters") or {})

    @property
    def done(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def succeeded(self) -> bool:
        return self.state in SUCCEEDED_STATES

    @property
    def path(self) -> str:
        org, project, job = (quote(part, safe="") for part in (self.org, self.project, self.id))
        return f"/v1/orgs/{org}/projects/{project}/jobs/{job}"

    def refresh(self) -> Job:
        self._record = dict(self.client.call("GET", self.path))
        return self

    def start(self) -> Job:
        self._record = dict(self.client.call("POST", self.path + "/start"))
        return self

    def cancel(self) -> Job:
        self._record = dict(self.client.call("POST", self.path + "/cancel"))
        return self

    def retry(self) -> Job:
        """Run a FAILED or CANCELLED job again (the service refuses any other state with ``invalid_state``)."""
        self._record = dict(self.client.call("POST", self.path + "/retry"))
        return self

    def reproduce(self, *, allow_version_drift: bool = False) -> Job:
        """Re-run this succeeded job's stored input with its parameters as a new job (started), which compares every
        member with this job's pack; ``.wait()`` on it, then ``.reproduction`` says REPRODUCED or what differs."""
        body = {"allow_version_drift": allow_version_drift}
        return Job(self.client, self.client.call("POST", self.path + "/reproduce", body))

    @property
    def reproduction(self) -> dict[str, Any] | None:
        """A finished reproduce job's outcome: ``outcome`` REPRODUCED or DIFFERS, ``member``, ``where``, ``drift``."""
        outcome = self._record.get("reproduction")
        return dict(outcome) if outcome else None

    def share(self, recipient: str, artifact: str = "pack", expires_in: int = 3600) -> dict[str, Any]:
        """A download link for someone outside the service; ``recipient`` is kept in the audit log."""
        body = {"recipient": recipient, "artifact": artifact, "expires_in": expires_in}
        link: dict[str, Any] = self.client.call("POST", self.path + "/share", body)
        return link

    def share_with(self, user: str) -> dict[str, Any]:
        """Show this job to another member of the org (their user id); they then read it without a project role."""
        share: dict[str, Any] = self.client.call("POST", self.path + "/shares", {"user": user})
        return share

    def unshare(self, user: str) -> None:
        self.client.call("DELETE", f"{self.path}/shares/{quote(user, safe='')}")

    def shares(self) -> list[dict[str, Any]]:
        """Who this job is shared with: user, granted_by, granted_at."""
        found: list[dict[str, Any]] = self.client.call("GET", self.path + "/shares")["shares"]
        return found

    def delete(self) -> dict[str, Any]:
        """Delete a finished job, its objects and its record (project admins)."""
        deleted: dict[str, Any] = self.client.call("DELETE", self.path)
        return deleted

    def wait(
        self,
        timeout: float | None = None,
        *,
        poll: float = DEFAULT_POLL_SECONDS,
        progress: bool | None = None,
        raise_on_failure: bool = True,
    ) -> Job:
        """Poll until the job ends; a progress bar on stderr when it is a terminal (or ``progress=True``).

        Raises :class:`JobFailedError` when it ends FAILED or CANCELLED (unless ``raise_on_failure=False``) and
        :class:`WaitTimeoutError` after ``timeout`` seconds; the job itself keeps running on the service.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = _WaitBar(f"job {self.id}", sys.stderr.isatty() if progress is None else progress)
        try:
            while True:
                bar.show(self._record)
                if self.done:
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    raise WaitTimeoutError(f"job {self.id} is still {self.state} after {timeout} s; it keeps running")
                time.sleep(poll)
                self.refresh()
        finally:
            bar.close()
        if raise_on_failure and not self.succeeded:
            raise JobFailedError(self.record)
        return self

    def results(self) -> dict[str, Any]:
        """The headline numbers: counts, verdicts, PASS-rate against chance, realism (a finished job only)."""
        found: dict[str, Any] = self.client.call("GET", self.path + "/results")
        return found

    def download_url(self, artifact: str = "pack") -> str:
        """A short-lived presigned URL of one artifact (``pack``, ``decoys``, ``summary``, ``report``, ...)."""
        if artifact not in ARTIFACTS:
            raise ValueError(f"artifact is one of {', '.join(ARTIFACTS)}, not {artifact!r}")
        return str(self.client.call("GET", self.path + "/download", params={"artifact": artifact})["url"])

    def download(self, artifact: str = "pack", dest: str | os.PathLike[str] | None = None) -> Path:
        """Save one artifact to ``dest``: a file name, or a folder (existing, or a new name without a suffix) to
        put ``<job>-<artifact file>`` in; default: the current folder."""
        url = self.download_url(artifact)
        target = Path(dest) if dest is not None else Path.cwd()
        if target.is_dir() or (not target.exists() and not target.suffix):
            target = target / f"{self.id}-{ARTIFACTS[artifact]}"
        target.parent.mkdir(parents=True, exist_ok=True)
        return self.client._get_file(url, target, f"{artifact} of job {self.id}")

    def public_key(self) -> bytes:
        """The org's published public key (PEM): the trust anchor that proves who signed the pack."""
        return self.client._get_bytes(self.download_url("public_key"), f"public key of org {self.org}")

    def manifest(self) -> dict[str, Any]:
        """The pack's ``manifest.json``: inputs with their sha256, parameters, scorer, versions."""
        found: dict[str, Any] = json.loads(self.client._get_bytes(self.download_url("manifest"), "manifest"))
        return found

    def verify(self, pack: str | os.PathLike[str], *, public_key: bytes | None = None) -> VerifyReport:
        """Verify a downloaded pack against the org's published key, and that it is the zip this job recorded."""
        path = Path(pack)
        report = verify_pack(path, public_key if public_key is not None else self.public_key())
        recorded = self._record.get("zip_sha256")
        actual = report.zip_sha256 or (file_sha256(path) if path.is_file() else None)
        if recorded and actual and actual != recorded:
            raise PackVerificationError(
                ZIP, f"sha256 {actual} is not the {recorded} the service recorded for job {self.id}"
            )
        return report

    def download_pack(
        self, dest: str | os.PathLike[str] | None = None, *, verify: bool = True, public_key: bytes | None = None
    ) -> Path:
        """Download ``evidence_pack.zip`` and, by default, verify it; a pack that fails is deleted, not kept."""
        path = self.download("pack", dest)
        if verify:
            try:
                self.verify(path, public_key=public_key)
            except PackVerificationError:
                path.unlink(missing_ok=True)
                raise
        return path

    def decoys(self) -> DataFrame:
        """The job's decoys (``molecule_id, role, hash, smiles``) as a DataFrame; add a ``score`` column from your
        model and pass it to :meth:`submit_scores`.

        The pack's ``decoys.csv`` also holds the scores this job was audited with (QED by default); they are left
        out, so that they cannot be submitted back by mistake as the customer's own. The four columns stay text
        exactly as written (ids like ``007``, a quote guarding a spreadsheet formula), so the table goes back to
        the service unchanged.
        """
        pandas = require_pandas()
        data = self.client._get_bytes(self.download_url("decoys"), f"decoys of job {self.id}")
        return pandas.read_csv(
            io.BytesIO(data),
            usecols=list(DECOY_COLUMNS),
            dtype=dict.fromkeys(DECOY_COLUMNS, str),
            keep_default_na=False,
        )

    def export_decoys(self, dest: str | os.PathLike[str]) -> Path:
        """Write the decoys-only table (``molecule_id, role, hash, smiles``; no score column) to ``dest``: what a
        scores-only customer's model scores. Needs no pandas; the columns are copied as text, unchanged."""
        data = self.client._get_bytes(self.download_url("decoys"), f"decoys of job {self.id}")
        target = Path(dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        rows = csv.DictReader(io.StringIO(data.decode("utf-8")))
        with target.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(DECOY_COLUMNS)
            writer.writerows([row[column] for column in DECOY_COLUMNS] for row in rows)
        return target

    def submit_scores(
        self,
        scores: str | os.PathLike[str] | DataFrame,
        *,
        source: str | os.PathLike[str] | DataFrame | None = None,
        name: str | None = None,
    ) -> Job:
        """Start a scores-only job: this job's input and parameters, scored by the customer's model.

        The decoys are regenerated from the same input and parameters and matched to ``scores`` by
        (molecule_id, hash). ``source`` is needed only when this job was not created by this ``Client``.
        """
        if source is None and self._source is None:
            raise ConfigurationError(f"job {self.id} was not created in this session: pass source= (its input file)")
        return self.client.submit(
            source if source is not None else self._source,
            project=self.project,
            scores=scores,
            scores_name=name,
            parameters=self.parameters,
        )
