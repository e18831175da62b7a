"""The HETERO-2 API from Python: submit a file or a DataFrame, wait, fetch and verify the evidence pack.

Three lines from a notebook::

    client = Client("https://api.example", token, project="screening")
    job = client.submit("molecules.csv", k_decoys=20).wait()
    job.download_pack("packs/")  # verified against the org's published public key

Every POST carries a fresh ``Idempotency-Key``; a call that loses its connection is sent once more with the
same key, so the service runs it at most once. The token goes only to the API, never to the presigned
storage URLs, and never into a message or ``repr``.
"""

from __future__ import annotations

import gzip
import importlib
import io
import json
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import quote, urlsplit

import requests
from tqdm import tqdm

from hetero2_client.constants import (
    ARTIFACTS,
    ENV_ORG,
    ENV_PROJECT,
    ENV_TOKEN,
    ENV_URL,
    SUCCEEDED_STATES,
    TERMINAL_STATES,
)
from hetero2_client.errors import (
    ApiError,
    ConfigurationError,
    JobFailedError,
    MissingDependencyError,
    TransferError,
    TransportError,
    WaitTimeoutError,
    api_error,
)
from hetero_core.errors import InputFileError, PackVerificationError, ScoresFileError
from hetero_core.hashing import file_sha256
from hetero_core.layout import DECOY_COLUMNS, ZIP
from hetero_core.pack import VerifyReport, verify_pack

__all__ = [
    "ARTIFACTS",
    "ENV_ORG",
    "ENV_PROJECT",
    "ENV_TOKEN",
    "ENV_URL",
    "IDEMPOTENCY_HEADER",
    "SUCCEEDED_STATES",
    "TERMINAL_STATES",
    "Client",
    "DataFrame",
    "Job",
    "count_rows",
    "upload_name",
]

IDEMPOTENCY_HEADER = "Idempotency-Key"

# hetero_scores.v2: the decoys table plus the customer's score (weight optional).
SCORES_COLUMNS: tuple[str, ...] = (*DECOY_COLUMNS, "score")
OPTIONAL_SCORES_COLUMNS: tuple[str, ...] = ("weight",)

DataFrame = Any
"""A ``pandas.DataFrame``; pandas is optional and ships no type information, so it is typed loosely here."""

DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_POLL_SECONDS = 2.0
_BLOCK = 1 << 20
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_MAX_NAME = 128
_XML_FIELD = re.compile(r"<(Code|Message)>([^<]*)</\1>")
_RETRIED = (requests.ConnectionError, requests.Timeout)


def upload_name(name: str) -> str:
    """A file name the API accepts (letters, digits, ``._-``), keeping the suffix the engine reads the format from."""
    cleaned = _NAME_UNSAFE.sub("_", name)[-_MAX_NAME:].lstrip("._-")
    return cleaned or "input"


def count_rows(path: Path) -> int:
    """Rows the job reserves against the quota; a slight over-count (a ``.smi`` header) only reserves more."""
    lower = path.name.lower()
    suffix = Path(lower.removesuffix(".gz")).suffix
    lines = _lines(path, gzipped=lower.endswith(".gz"))
    try:
        if suffix in (".sdf", ".sd"):
            rows = sum(1 for line in lines if line.startswith(b"$$$$"))
        elif suffix == ".smi":
            rows = sum(1 for line in lines if line.strip() and not line.startswith(b"#"))
        else:
            rows = sum(1 for line in lines if line.strip()) - 1
    except (OSError, EOFError) as exc:
        raise InputFileError(path, f"cannot be read: {exc}") from exc
    return max(rows, 1)


def _lines(path: Path, *, gzipped: bool) -> Iterator[bytes]:
    with gzip.open(path, "rb") if gzipped else path.open("rb") as handle:
        yield from handle


def _pandas() -> Any:
    try:
        return importlib.import_module("pandas")
    except ImportError as exc:
        raise MissingDependencyError(
            "this needs pandas, which is not installed: pip install pandas (or pass a file path instead)"
        ) from exc


def _is_dataframe(value: object) -> bool:
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


@dataclass(frozen=True, slots=True)
class _Payload:
    """One file to PUT: streamed from disk, or held in memory (a DataFrame written as CSV)."""

    name: str
    path: Path | None = None
    data: bytes | None = None
    rows: int = 1

    @contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        if self.path is not None:
            with self.path.open("rb") as handle:
                yield handle
        else:
            yield io.BytesIO(self.data or b"")


def _csv_bytes(frame: DataFrame) -> bytes:
    data: bytes = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    return data


def _input_payload(source: object, name: str | None, parameters: Mapping[str, Any]) -> _Payload:
    if isinstance(source, _Payload):
        return source
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise InputFileError(path, "no such file")
        return _Payload(upload_name(name or path.name), path=path, rows=count_rows(path))
    if _is_dataframe(source):
        frame: Any = source
        wanted = [str(parameters.get("id_column", "id")), str(parameters.get("smiles_column", "smiles"))]
        missing = [column for column in wanted if column not in frame.columns]
        if missing:
            raise InputFileError(
                "DataFrame",
                f"no column {', '.join(repr(c) for c in missing)}",
                expected=f"columns {wanted[0]!r} and {wanted[1]!r}, or pass id_column= / smiles_column=",
            )
        if len(frame) == 0:
            raise InputFileError("DataFrame", "has no rows", expected="one molecule per row")
        return _Payload(upload_name(name or "molecules.csv"), data=_csv_bytes(frame), rows=len(frame))
    raise TypeError(f"a job's input is a file path or a pandas DataFrame, not {type(source).__name__}")


def _scores_payload(scores: object, name: str | None) -> _Payload:
    if isinstance(scores, _Payload):
        return scores
    if isinstance(scores, (str, os.PathLike)):
        path = Path(scores)
        if not path.is_file():
            raise ScoresFileError(path, "no such file")
        return _Payload(upload_name(name or path.name), path=path)
    if _is_dataframe(scores):
        frame: Any = scores
        missing = [column for column in SCORES_COLUMNS if column not in frame.columns]
        if missing:
            raise ScoresFileError(
                "DataFrame",
                f"no column {', '.join(repr(c) for c in missing)}",
                expected="the job's decoys table (Job.decoys()) with a 'score' column added",
            )
        kept = [*SCORES_COLUMNS, *(c for c in OPTIONAL_SCORES_COLUMNS if c in frame.columns)]
        return _Payload(upload_name(name or "scores.csv"), data=_csv_bytes(frame[kept]))
    raise TypeError(f"scores are a file path or a pandas DataFrame, not {type(scores).__name__}")


def _storage_message(response: requests.Response) -> str:
    fields = dict(_XML_FIELD.findall(response.text[:4000]))
    if fields:
        return ": ".join(v for v in (fields.get("Code"), fields.get("Message")) if v)
    return " ".join(response.text.split())[:200] or response.reason or "refused"


def _without_query(url: str) -> str:
    """A presigned URL's query is a credential: messages show only where it points."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class Client:
    """One user of one HETERO-2 service: endpoint + bearer token, and optionally the org and project to use.

    Arguments left out are read from ``HETERO2_URL``, ``HETERO2_TOKEN``, ``HETERO2_ORG`` and
    ``HETERO2_PROJECT``; the org defaults to the one the token belongs to.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        org: str | None = None,
        project: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        session: requests.Session | None = None,
    ):
        url = url or os.environ.get(ENV_URL)
        token = token or os.environ.get(ENV_TOKEN)
        if not url:
            raise ConfigurationError(f"no service endpoint: pass url= or set {ENV_URL}")
        if not token:
            raise ConfigurationError(f"no token: pass token= or set {ENV_TOKEN}")
        self.url = url.rstrip("/")
        self.project = project or os.environ.get(ENV_PROJECT) or None
        self.timeout = timeout
        self._token = token
        self._org = org or os.environ.get(ENV_ORG) or None
        self._session = session or requests.Session()

    def __repr__(self) -> str:
        return f"Client(url={self.url!r}, org={self._org!r}, project={self.project!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    # --- transport -------------------------------------------------------------------------------------------

    def _retrying(self, what: str, send: Callable[[], requests.Response]) -> requests.Response:
        """Send; on a lost connection or a timeout send exactly once more (POSTs reuse their idempotency key)."""
        try:
            return send()
        except _RETRIED:
            try:
                return send()
            except _RETRIED as exc:
                raise TransportError(f"{what}: {type(exc).__name__}; no answer after two attempts") from exc

    def call(self, method: str, path: str, body: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        """One API call (``path`` below the endpoint); the decoded JSON answer, or a typed :class:`ApiError`."""
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        if method.upper() == "POST":
            headers[IDEMPOTENCY_HEADER] = str(uuid.uuid4())
        response = self._retrying(
            f"{method} {self.url}{path}",
            lambda: self._session.request(
                method, self.url + path, json=body, params=params, headers=headers, timeout=self.timeout
            ),
        )
        try:
            answer = response.json() if response.content else {}
        except ValueError:
            answer = None
        if response.status_code >= 400:
            raise api_error(response.status_code, answer, response.text)
        if answer is None:
            raise ApiError(response.status_code, "bad_response", f"{method} {path}: the answer is not JSON")
        return answer

    def _put(self, instruction: Mapping[str, Any], payload: _Payload) -> None:
        url = str(instruction["url"])

        def send() -> requests.Response:
            with payload.open() as body:
                return self._session.request(
                    str(instruction.get("method", "PUT")),
                    url,
                    data=body,
                    headers=dict(instruction.get("headers") or {}),
                    timeout=self.timeout,
                )

        response = self._retrying(f"upload {payload.name} to {_without_query(url)}", send)
        if response.status_code >= 300:
            raise TransferError(response.status_code, f"upload of {payload.name} refused: {_storage_message(response)}")

    def _get_bytes(self, url: str, what: str) -> bytes:
        response = self._retrying(f"download {what}", lambda: self._session.get(url, timeout=self.timeout))
        if response.status_code != 200:
            raise TransferError(response.status_code, f"download of {what} refused: {_storage_message(response)}")
        return response.content

    def _get_file(self, url: str, dest: Path, what: str) -> Path:
        """Stream to ``dest`` through a ``.part`` file, so a broken download never leaves a half file behind."""
        partial = dest.with_name(dest.name + ".part")
        response = self._retrying(f"download {what}", lambda: self._session.get(url, stream=True, timeout=self.timeout))
        try:
            with response:
                if response.status_code != 200:
                    raise TransferError(
                        response.status_code, f"download of {what} refused: {_storage_message(response)}"
                    )
                with partial.open("wb") as handle:
                    for block in response.iter_content(_BLOCK):
                        handle.write(block)
            partial.replace(dest)
        except requests.RequestException as exc:
            raise TransportError(f"download {what}: {type(exc).__name__} while receiving") from exc
        finally:
            partial.unlink(missing_ok=True)
        return dest

    # --- orgs and projects -----------------------------------------------------------------------------------

    @property
    def org(self) -> str:
        """The org every path uses: given, from ``HETERO2_ORG``, or the one the token belongs to."""
        if self._org is None:
            orgs = self.call("GET", "/v1/orgs")["orgs"]
            if not orgs:
                raise ConfigurationError("your token's org does not exist yet: create it with Client.create_org(name)")
            self._org = str(orgs[0]["org"])
        return self._org

    def create_org(self, name: str) -> dict[str, Any]:
        """Create the token's org (with its signing keys); you become its admin."""
        created: dict[str, Any] = self.call("POST", "/v1/orgs", {"name": name})
        self._org = str(created["org"])
        return created

    def create_project(self, project: str, name: str | None = None) -> dict[str, Any]:
        created: dict[str, Any] = self.call(
            "POST", f"/v1/orgs/{quote(self.org, safe='')}/projects", {"project": project, "name": name or project}
        )
        self.project = self.project or project
        return created

    def projects(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.call("GET", f"/v1/orgs/{quote(self.org, safe='')}/projects")["projects"]
        return found

    def _project(self, project: str | None) -> str:
        chosen = project or self.project
        if not chosen:
            raise ConfigurationError(f"no project: pass project= or set {ENV_PROJECT}")
        return chosen

    def jobs_path(self, project: str | None = None) -> str:
        return f"/v1/orgs/{quote(self.org, safe='')}/projects/{quote(self._project(project), safe='')}/jobs"

    # --- jobs ------------------------------------------------------------------------------------------------

    def create_job(
        self,
        source: str | os.PathLike[str] | DataFrame,
        *,
        project: str | None = None,
        scores: str | os.PathLike[str] | DataFrame | None = None,
        name: str | None = None,
        scores_name: str | None = None,
        expected_rows: int | None = None,
        parameters: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> Job:
        """Create a job and upload its input (and scores file, for scores-only mode); it is not started yet.

        ``source`` is a molecules file (.csv/.tsv/.smi/.sdf, optionally .gz) or a DataFrame with ``id`` and
        ``smiles`` columns (or the ones named by ``id_column=`` / ``smiles_column=``). Keyword parameters are
        the job's parameters (``k_decoys=20, scorer="qed", ...``); the service refuses unknown ones (422).
        """
        merged = {**(parameters or {}), **params}
        payload = _input_payload(source, name, merged)
        scores_payload = _scores_payload(scores, scores_name) if scores is not None else None
        if scores_payload is not None and scores_payload.name == payload.name:
            renamed = upload_name("scores-" + payload.name)
            scores_payload = _Payload(renamed, scores_payload.path, scores_payload.data, scores_payload.rows)
        body: dict[str, Any] = {
            "input_name": payload.name,
            "expected_rows": expected_rows or payload.rows,
            "parameters": merged,
        }
        if scores_payload is not None:
            body["scores_name"] = scores_payload.name
        created = self.call("POST", self.jobs_path(project), body)
        self._put(created["uploads"]["input"], payload)
        if scores_payload is not None:
            self._put(created["uploads"]["scores"], scores_payload)
        return Job(self, created["job"], source=payload)

    def submit(
        self,
        source: str | os.PathLike[str] | DataFrame,
        *,
        project: str | None = None,
        scores: str | os.PathLike[str] | DataFrame | None = None,
        name: str | None = None,
        scores_name: str | None = None,
        expected_rows: int | None = None,
        parameters: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> Job:
        """:meth:`create_job`, then start it; ``.wait()`` on the result waits for the pack."""
        job = self.create_job(
            source,
            project=project,
            scores=scores,
            name=name,
            scores_name=scores_name,
            expected_rows=expected_rows,
            parameters=parameters,
            **params,
        )
        return job.start()

    def job(self, job_id: str, project: str | None = None) -> Job:
        record = self.call("GET", f"{self.jobs_path(project)}/{quote(job_id, safe='')}")
        return Job(self, record)

    def jobs(self, project: str | None = None, *, state: str | None = None, limit: int | None = None) -> list[Job]:
        """The project's jobs, newest first (every page, or the first ``limit``)."""
        found: list[Job] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"limit": min(limit - len(found), 200) if limit else 200}
            if state:
                params["state"] = state
            if token:
                params["next_token"] = token
            page = self.call("GET", self.jobs_path(project), params=params)
            found.extend(Job(self, record) for record in page["jobs"])
            token = page.get("next_token")
            if not token or (limit is not None and len(found) >= limit):
                return found


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
        eta = progress.get("eta_seconds")
        self._bar.set_postfix_str(str(record.get("state")) + (f", eta {eta:.0f} s" if eta is not None else ""))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


class Job:
    """A job on the service: its last known record, and the verbs that act on it."""

    def __init__(self, client: Client, record: Mapping[str, Any], *, source: _Payload | None = None):
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

    @property
    def id(self) -> str:
        return str(self._record["job"])

    @property
    def org(self) -> str:
        return str(self._record["org"])

    @property
    def project(self) -> str:
        return str(self._record["project"])

    @property
    def state(self) -> str:
        return str(self._record["state"])

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
        pandas = _pandas()
        data = self.client._get_bytes(self.download_url("decoys"), f"decoys of job {self.id}")
        return pandas.read_csv(
            io.BytesIO(data),
            usecols=list(DECOY_COLUMNS),
            dtype=dict.fromkeys(DECOY_COLUMNS, str),
            keep_default_na=False,
        )

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
            # a scores-only job's record shows scorer "external", which is not a parameter one can send
            parameters={k: v for k, v in self.parameters.items() if not (k == "scorer" and v == "external")},
        )
