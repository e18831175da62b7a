"""The HETERO-2 API from Python: submit a file or a DataFrame, wait, fetch and verify the evidence pack.

Three lines from a notebook::

    client = Client("https://api.example", token, project="screening")
    job = client.submit("molecules.csv", k_decoys=20).wait()
    job.download_pack("packs/")  # verified against the org's published public key

Every POST carries a fresh ``Idempotency-Key``; a call that loses its connection is sent once more with the
same key, so the service runs it at most once. The token goes only to the API, never to the presigned
storage URLs, and never into a message or ``repr``. A job's verbs are :mod:`hetero2_client.job`; what is
uploaded (files, DataFrames, row counts) is :mod:`hetero2_client.payloads`.
"""

from __future__ import annotations

import functools
import os
import re
import uuid
from typing import TYPE_CHECKING, Any, ParamSpec
from urllib.parse import quote, urlsplit

import requests

from hetero2_client import payloads
from hetero2_client.constants import (
    ENV_ORG,
    ENV_PROJECT,
    ENV_TOKEN,
    ENV_URL,
)
from hetero2_client.errors import (
    ApiError,
    ConfigurationError,
    TransferError,
    TransportError,
    api_error,
)
from hetero2_client.job import Job
from hetero2_client.payloads import DataFrame, Payload

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path
    from types import TracebackType

__all__ = ["IDEMPOTENCY_HEADER", "Client"]

IDEMPOTENCY_HEADER = "Idempotency-Key"


DEFAULT_TIMEOUT_SECONDS = 60.0
_BLOCK = 1 << 20
_XML_FIELD = re.compile(r"<(Code|Message)>([^<]*)</\1>")
_RETRIED = (requests.ConnectionError, requests.Timeout)
_P = ParamSpec("_P")


def _storage_message(response: requests.Response) -> str:
    fields = dict(_XML_FIELD.findall(response.text[:4000]))
    if fields:
        return ": ".join(v for v in (fields.get("Code"), fields.get("Message")) if v)
    return " ".join(response.text.split())[:200] or response.reason or "refused"


def _then_started(create: Callable[_P, Job]) -> Callable[_P, Job]:
    """``Client.submit``: the very arguments of ``create_job`` (one signature to document and keep compatible), and
    the created job started."""

    @functools.wraps(create)
    def submit(*args: _P.args, **kwargs: _P.kwargs) -> Job:
        return create(*args, **kwargs).start()

    submit.__name__, submit.__qualname__ = "submit", "Client.submit"
    submit.__doc__ = ":meth:`create_job`, then start it; ``.wait()`` on the result waits for the pack."
    return submit


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

    def _put(self, instruction: Mapping[str, Any], payload: Payload) -> None:
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

    def usage(self, month: str | None = None) -> dict[str, Any]:
        """Metered molecules, decoys, worker seconds and stored bytes per project (org admins); ``month`` yyyy-mm."""
        params = {"month": month} if month else None
        used: dict[str, Any] = self.call("GET", f"/v1/orgs/{quote(self.org, safe='')}/usage", params=params)
        return used

    def audit(self, limit: int | None = None, after: str | None = None) -> dict[str, Any]:
        """The org's audit log, oldest first, with its hash chain (org admins)."""
        params = {k: v for k, v in (("limit", limit), ("after", after)) if v is not None} or None
        log: dict[str, Any] = self.call("GET", f"/v1/orgs/{quote(self.org, safe='')}/audit", params=params)
        return log

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
        acceptance: str | os.PathLike[str] | Mapping[str, Any] | None = None,
        **params: Any,
    ) -> Job:
        """Create a job and upload its input (and scores file, for scores-only mode); it is not started yet.

        ``source`` is a molecules file (.csv/.tsv/.smi/.sdf, optionally .gz) or a DataFrame with ``id`` and
        ``smiles`` columns (or the ones named by ``id_column=`` / ``smiles_column=``). Keyword parameters are
        the job's parameters (``k_decoys=20, scorer="qed", ...``); the service refuses unknown ones (422).
        ``acceptance`` overrides the decision's criteria: an ``acceptance.v1`` file (checked here first, as
        ``hetero2 run --acceptance`` checks it; the manifest records its name and its own sha256) or the document
        as a dict.
        """
        merged = {**(parameters or {}), **params}
        payload = payloads.input_payload(source, name, merged)
        scores_payload = payloads.scores_payload(scores, scores_name) if scores is not None else None
        if scores_payload is not None and scores_payload.name == payload.name:
            renamed = payloads.upload_name("scores-" + payload.name)
            scores_payload = Payload(renamed, scores_payload.path, scores_payload.data, scores_payload.rows)
        body: dict[str, Any] = {
            "input_name": payload.name,
            "expected_rows": expected_rows or payload.rows,
            "parameters": merged,
        }
        if scores_payload is not None:
            body["scores_name"] = scores_payload.name
        if acceptance is not None:
            body.update(payloads.acceptance_fields(acceptance))
        created = self.call("POST", self.jobs_path(project), body)
        self._put(created["uploads"]["input"], payload)
        if scores_payload is not None:
            self._put(created["uploads"]["scores"], scores_payload)
        return Job(self, created["job"], source=payload)

    submit = _then_started(create_job)

    def job(self, job_id: str, project: str | None = None) -> Job:
        record = self.call("GET", f"{self.jobs_path(project)}/{quote(job_id, safe='')}")
        return Job(self, record)

    def jobs(
        self, project: str | None = None, *, state: str | None = None, limit: int | None = None, **filters: str
    ) -> list[Job]:
        """The project's jobs, newest first (every page, or the first ``limit``).

        ``filters`` are the list's other exact-match filters: ``model_name``, ``model_version``, ``decision`` (GO,
        STOP, INCONCLUSIVE), ``created_by`` (a user id), ``created_from`` and ``created_to`` (UTC days, inclusive).
        """
        found: list[Job] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"limit": min(limit - len(found), 200) if limit else 200}
            params.update({name: value for name, value in filters.items() if value})
            if state:
                params["state"] = state
            if token:
                params["next_token"] = token
            page = self.call("GET", self.jobs_path(project), params=params)
            found.extend(Job(self, record) for record in page["jobs"])
            token = page.get("next_token")
            if not token or (limit is not None and len(found) >= limit):
                return found

    def shared_jobs(self) -> list[Job]:
        """Jobs other members of the org shared with you (``Job.share_with``), newest share first."""
        page = self.call("GET", f"/v1/orgs/{quote(self.org, safe='')}/shared-jobs")
        return [Job(self, shared["job"]) for shared in page["jobs"]]
