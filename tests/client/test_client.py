"""``hetero2_client`` against ``hetero2 serve``'s local server: the whole path, the scores round trip, typed errors,
idempotent retries, and the pure helpers (row counting, upload names, error mapping)."""

from __future__ import annotations

import gzip
import importlib
import sys
import threading
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest
import requests

import hetero2_client as h2
from functions.local.server import LocalService, free_port
from hetero2_client import Client
from hetero2_client.client import IDEMPOTENCY_HEADER
from hetero2_client.errors import api_error
from hetero2_client.payloads import count_rows, upload_name
from hetero_core.errors import InputFileError, PackVerificationError, ScoresFileError
from hetero_core.layout import DECOY_COLUMNS
from tests.client.conftest import FAST, POLL, PROJECT, WAIT_SECONDS, Finished, molecules_file, token_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from tests.api.conftest import Tenant

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
CAFFEINE = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"
PARACETAMOL = "CC(=O)Nc1ccc(O)cc1"

pd: Any = importlib.import_module("pandas")  # a test dependency; it ships no type information


# --- the whole path ---------------------------------------------------------------------------------------------


def test_submitted_file_runs_to_a_pack_that_verifies_with_the_orgs_key(finished: Finished, tmp_path: Path) -> None:
    job = finished.job
    assert job.state == "SUCCEEDED"
    assert job.progress["rows_total"] == job.progress["rows_done"] == 13
    assert job.progress["rows_skip"] >= 1
    assert job.record["expected_rows"] == 13

    results = job.results()
    assert results["counts"]["total"] == 13
    assert set(results["verdicts"]) <= {"PASS", "FAIL", "SKIP"}

    pack = job.download_pack(tmp_path)
    assert pack == tmp_path / f"{job.id}-evidence_pack.zip"
    report = job.verify(pack)
    assert report.signed
    assert report.signature_checked_with == "public-key"
    assert b"BEGIN PUBLIC KEY" in job.public_key()


def test_a_changed_byte_in_the_pack_fails_verification(finished: Finished, tmp_path: Path) -> None:
    pack = finished.job.download("pack", tmp_path / "pack.zip")
    with zipfile.ZipFile(pack) as archive:
        offset = archive.getinfo("summary.csv").header_offset + 40
    data = bytearray(pack.read_bytes())
    data[offset] ^= 0xFF
    pack.write_bytes(bytes(data))

    with pytest.raises(PackVerificationError):
        finished.job.verify(pack)


def test_download_writes_the_named_artifact_where_asked(finished: Finished, tmp_path: Path) -> None:
    report = finished.job.download("report", tmp_path / "reports")
    assert report == tmp_path / "reports" / f"{finished.job.id}-report.html"
    assert report.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    assert not list((tmp_path / "reports").glob("*.part"))
    with pytest.raises(ValueError, match="artifact is one of"):
        finished.job.download_url("everything")


def test_jobs_lists_the_project_and_job_reads_one_back(finished: Finished) -> None:
    listed = finished.client.jobs(state="SUCCEEDED")
    assert finished.job.id in [job.id for job in listed]
    again = finished.client.job(finished.job.id)
    assert again.state == "SUCCEEDED"
    assert again.record["zip_sha256"] == finished.job.record["zip_sha256"]
    assert repr(again) == f"Job({finished.tenant.org}/{PROJECT}/{again.id}, SUCCEEDED, rows 13/13)"


def test_wait_draws_a_progress_bar_only_when_asked_or_on_a_terminal(
    finished: Finished, capsys: pytest.CaptureFixture[str]
) -> None:
    finished.job.wait(progress=True)
    drawn = capsys.readouterr().err
    assert "13/13" in drawn
    assert "SUCCEEDED" in drawn

    finished.job.wait()  # stderr is captured, not a terminal
    assert capsys.readouterr().err == ""


def test_decoys_come_back_as_a_dataframe_with_text_keys(finished: Finished) -> None:
    decoys = finished.job.decoys()
    # no score column: the job's own (QED) scores cannot be submitted back by mistake as the customer's
    assert list(decoys.columns) == list(DECOY_COLUMNS)
    assert set(decoys["role"]) == {"original", "decoy"}
    assert all(isinstance(value, str) for value in decoys["molecule_id"])
    assert decoys["hash"].str.fullmatch(r"[0-9a-f]{64}").all()
    originals = decoys[decoys["role"] == "original"]
    assert len(originals) == finished.job.progress["rows_ok"]


def test_scores_round_trip_ends_in_a_pass_fail_pack_scored_externally(finished: Finished, tmp_path: Path) -> None:
    decoys = finished.job.decoys()
    decoys["score"] = decoys["smiles"].str.len() / 100  # the customer's model
    scored = finished.job.submit_scores(decoys).wait(WAIT_SECONDS, poll=POLL)

    assert scored.id != finished.job.id
    assert scored.record["scores_name"] == "scores.csv"
    assert scored.record["input_name"] == "molecules.csv"
    # the record says what the manifest says: the scores came from outside (SPEC §4), everything else is equal
    assert scored.parameters == {**finished.job.parameters, "scorer": "external"}
    results = scored.results()
    ok = results["counts"]["OK"]
    assert ok > 0
    assert results["verdicts"].get("PASS", 0) + results["verdicts"].get("FAIL", 0) == ok

    manifest = scored.manifest()
    assert manifest["parameters"]["scorer"] == "external"
    roles = {entry["role"]: entry for entry in manifest["inputs"]}
    assert roles["scores"]["name"] == "scores.csv"
    assert roles["molecules"]["sha256"] == finished.job.manifest()["inputs"][0]["sha256"]

    pack = scored.download_pack(tmp_path)
    with pytest.raises(PackVerificationError, match="the service recorded"):
        finished.job.verify(pack)  # a valid pack, but another job's


def test_the_audited_model_and_score_direction_are_job_parameters(finished: Finished, tmp_path: Path) -> None:
    sha = "c" * 64
    job = finished.client.submit(
        molecules_file(tmp_path, 4),
        model_name="ChemProp-7",
        model_version="2.1",
        model_sha256=sha,
        score_direction="lower",
        **FAST,
    ).wait(WAIT_SECONDS, poll=POLL)
    manifest = job.manifest()
    assert manifest["model"] == {"name": "ChemProp-7", "version": "2.1", "sha256": sha, "scores": FAST["scorer"]}
    assert manifest["parameters"]["score_direction"] == "lower"
    with pytest.raises(h2.ValidationFailedError, match="model_sha256"):
        finished.client.submit(molecules_file(tmp_path, 2), model_sha256="xyz", **FAST)


def test_scores_need_the_jobs_input_when_the_job_was_not_created_here(finished: Finished) -> None:
    fetched = finished.client.job(finished.job.id)
    with pytest.raises(h2.ConfigurationError, match="source="):
        fetched.submit_scores(finished.input_path)


def test_scores_dataframe_without_a_score_column_is_refused_before_any_call(finished: Finished) -> None:
    unscored = pd.DataFrame({"molecule_id": ["m1"], "role": ["original"], "hash": ["0" * 64], "smiles": [ASPIRIN]})
    with pytest.raises(ScoresFileError, match="'score'"):
        finished.job.submit_scores(unscored)


def test_decoys_without_pandas_name_the_missing_package(finished: Finished, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(h2.MissingDependencyError, match="pip install pandas") as caught:
        finished.job.decoys()
    assert isinstance(caught.value, ImportError)


# --- DataFrame input, start, cancel, wait outcomes -------------------------------------------------------------


def test_dataframe_input_is_uploaded_and_the_job_can_start_and_be_cancelled(project_client: Client) -> None:
    client = project_client
    frame = pd.DataFrame({"name": ["aspirin", "caffeine", "paracetamol"], "SMILES": [ASPIRIN, CAFFEINE, PARACETAMOL]})

    job = client.create_job(frame, id_column="name", smiles_column="SMILES", **FAST)
    assert job.state == "CREATED"
    assert job.record["input_name"] == "molecules.csv"
    assert job.record["expected_rows"] == 3

    job.start()  # the service refuses to start (409 input_missing) unless the upload landed
    assert job.state in {"QUEUED", "RUNNING"}
    job.cancel()
    assert job.state == "CANCELLED"
    with pytest.raises(h2.JobFailedError, match="CANCELLED"):
        job.wait(poll=POLL)
    assert job.wait(raise_on_failure=False).state == "CANCELLED"


def test_dataframe_without_the_smiles_column_is_refused_before_any_call(finished: Finished) -> None:
    frame = pd.DataFrame({"id": ["aspirin"], "structure": [ASPIRIN]})
    with pytest.raises(InputFileError, match="'smiles'"):
        finished.client.create_job(frame, **FAST)
    with pytest.raises(InputFileError, match="no rows"):
        finished.client.create_job(pd.DataFrame({"id": [], "smiles": []}), **FAST)
    with pytest.raises(TypeError, match="file path or a pandas DataFrame"):
        finished.client.create_job([ASPIRIN], **FAST)
    with pytest.raises(InputFileError, match="no such file"):
        finished.client.create_job(finished.input_path.with_name("absent.csv"), **FAST)


def test_wait_gives_up_after_its_timeout_and_the_job_stays_created(finished: Finished) -> None:
    job = finished.client.create_job(finished.input_path, **FAST)
    with pytest.raises(h2.WaitTimeoutError, match="still CREATED"):
        job.wait(timeout=0)
    assert job.refresh().state == "CREATED"


# --- typed errors -----------------------------------------------------------------------------------------------


def test_another_orgs_job_is_not_found(finished: Finished, other_tenant: Tenant) -> None:
    intruder = Client(other_tenant.service.url, token_of(other_tenant), org=finished.tenant.org, project=PROJECT)
    with pytest.raises(h2.NotFoundError) as caught:
        intruder.job(finished.job.id)
    assert caught.value.status == 404
    assert caught.value.code == "not_found"
    assert caught.value.request_id
    assert caught.value.request_id in str(caught.value)


def test_a_bad_token_is_unauthenticated(service: LocalService) -> None:
    client = Client(service.url, "not-a-jwt", project=PROJECT)
    with pytest.raises(h2.UnauthenticatedError) as caught:
        _ = client.org
    assert caught.value.status == 401
    assert caught.value.code == "unauthenticated"


def test_a_viewer_cannot_submit(finished: Finished) -> None:
    finished.tenant.member(PROJECT, "viewer", "view")
    viewer = Client(finished.tenant.service.url, finished.tenant.service.issuer.token("viewer", finished.tenant.org))
    with pytest.raises(h2.ForbiddenError) as caught:
        viewer.create_job(finished.input_path, project=PROJECT, **FAST)
    assert (caught.value.status, caught.value.code) == (403, "forbidden")


def test_bad_parameters_are_validation_failed_naming_the_field(finished: Finished) -> None:
    with pytest.raises(h2.ValidationFailedError) as caught:
        finished.client.create_job(finished.input_path, k_decoys=0)
    assert caught.value.status == 422
    assert caught.value.code == "validation_error"
    assert any("k_decoys" in detail["loc"] for detail in caught.value.details or [])

    with pytest.raises(h2.ValidationFailedError):
        finished.client.create_job(finished.input_path, colour="red")


def test_wrong_state_is_a_conflict(finished: Finished) -> None:
    with pytest.raises(h2.ConflictError) as caught:
        finished.job.start()
    assert caught.value.status == 409
    assert caught.value.code == "invalid_state"

    created = finished.client.create_job(finished.input_path, **FAST)
    with pytest.raises(h2.ConflictError, match="not_ready"):
        created.results()
    with pytest.raises(h2.ConflictError, match="not_ready"):
        created.download_pack()


def test_too_many_rows_is_quota_exceeded(finished: Finished) -> None:
    with pytest.raises(h2.QuotaExceededError) as caught:
        finished.client.create_job(finished.input_path, expected_rows=50_000_000, **FAST)
    assert caught.value.status == 429
    assert caught.value.code == "quota_exceeded"
    [detail] = caught.value.details or [{}]
    assert (detail["quota"], detail["requested"]) == ("rows_per_job", 50_000_000)
    assert detail["limit"] < 50_000_000


def test_no_endpoint_or_token_or_project_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, finished: Finished
) -> None:
    for name in ("HETERO2_URL", "HETERO2_TOKEN", "HETERO2_ORG", "HETERO2_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(h2.ConfigurationError, match="HETERO2_URL"):
        Client(token="t")
    with pytest.raises(h2.ConfigurationError, match="HETERO2_TOKEN"):
        Client("http://127.0.0.1:1")
    no_project = Client(finished.client.url, finished.token)
    with pytest.raises(h2.ConfigurationError, match="HETERO2_PROJECT"):
        no_project.jobs()


def test_the_environment_configures_the_client_and_repr_hides_the_token(
    monkeypatch: pytest.MonkeyPatch, finished: Finished
) -> None:
    monkeypatch.setenv("HETERO2_URL", finished.client.url + "/")
    monkeypatch.setenv("HETERO2_TOKEN", finished.token)
    monkeypatch.setenv("HETERO2_PROJECT", PROJECT)
    monkeypatch.delenv("HETERO2_ORG", raising=False)
    client = Client()
    assert client.org == finished.tenant.org  # the token's org, asked of the service
    assert client.job(finished.job.id).state == "SUCCEEDED"
    assert finished.token not in repr(client)


def test_the_org_must_exist_before_its_projects(service: LocalService) -> None:
    client = Client(service.url, service.issuer.token("newcomer", f"fresh-{uuid.uuid4().hex[:8]}"))
    with pytest.raises(h2.ConfigurationError, match="create_org"):
        _ = client.org
    created = client.create_org("Fresh org")
    assert client.org == created["org"]
    client.create_project("first")
    assert client.project == "first"
    assert [p["project"] for p in client.projects()] == ["first"]


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, h2.ValidationFailedError),
        (401, h2.UnauthenticatedError),
        (403, h2.ForbiddenError),
        (404, h2.NotFoundError),
        (409, h2.ConflictError),
        (422, h2.ValidationFailedError),
        (429, h2.QuotaExceededError),
        (500, h2.ServerError),
        (418, h2.ApiError),
    ],
)
def test_api_error_maps_each_status_to_its_class(status: int, kind: type[h2.ApiError]) -> None:
    body = {"error": {"code": "x", "message": "m", "request_id": "r-1", "details": [{"loc": ["k"]}]}}
    error = api_error(status, body)
    assert type(error) is kind
    assert (error.status, error.code, error.message, error.request_id, error.details) == (
        status,
        "x",
        "m",
        "r-1",
        [{"loc": ["k"]}],
    )


def test_an_answer_not_in_the_api_shape_keeps_its_status_and_text() -> None:
    error = api_error(502, None, "<html> Bad   gateway </html>")
    assert isinstance(error, h2.ServerError)
    assert (error.code, error.message, error.request_id) == ("http_502", "<html> Bad gateway </html>", "")


# --- idempotent retries -----------------------------------------------------------------------------------------


class Proxy:
    """A forwarding proxy in front of the API that records each request and can drop chosen answers.

    A dropped answer is one the service *did* produce: the request went through, only the reply is lost, which
    is exactly when a retry without an idempotency key would create a second job.
    """

    def __init__(self, target: str, drop: Callable[[str, str, int], bool]):
        self.target = target
        self.drop = drop
        self.seen: list[tuple[str, str, str | None]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.seen.append((self.command, self.path, self.headers.get(IDEMPOTENCY_HEADER)))
                attempt = sum(1 for m, p, _ in proxy.seen if (m, p) == (self.command, self.path))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in {"host", "content-length"}}
                answer = requests.request(
                    self.command, proxy.target + self.path, data=body, headers=headers, timeout=60
                )
                if proxy.drop(self.command, self.path, attempt):
                    self.close_connection = True
                    return
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def proxy_factory(service: LocalService) -> Iterator[Callable[[Callable[[str, str, int], bool]], Proxy]]:
    started: list[Proxy] = []

    def make(drop: Callable[[str, str, int], bool]) -> Proxy:
        started.append(Proxy(service.url, drop))
        return started[-1]

    yield make
    for proxy in started:
        proxy.close()


def test_a_lost_answer_is_retried_with_the_same_key_and_creates_one_job(
    tenant: Tenant, tmp_path: Path, proxy_factory: Callable[[Callable[[str, str, int], bool]], Proxy]
) -> None:
    tenant.project(PROJECT)
    proxy = proxy_factory(lambda method, path, attempt: method == "POST" and path.endswith("/jobs") and attempt == 1)
    client = Client(proxy.url, token_of(tenant), project=PROJECT)

    job = client.create_job(_tiny(tmp_path), **FAST)
    job.cancel()

    posts = [(path, key) for method, path, key in proxy.seen if method == "POST"]
    assert [path.rsplit("/", 1)[-1] for path, _ in posts] == ["jobs", "jobs", "cancel"]
    keys = [key for _, key in posts]
    assert keys[0] == keys[1] != keys[2]
    assert all(key is not None and uuid.UUID(key).version == 4 for key in keys)
    assert [j.id for j in Client(tenant.service.url, token_of(tenant), project=PROJECT).jobs()] == [job.id]


def test_a_service_that_never_answers_is_a_transport_error_after_two_attempts(
    tenant: Tenant, proxy_factory: Callable[[Callable[[str, str, int], bool]], Proxy]
) -> None:
    proxy = proxy_factory(lambda method, path, attempt: True)
    client = Client(proxy.url, token_of(tenant), org=tenant.org, project=PROJECT)
    with pytest.raises(h2.TransportError, match="two attempts"):
        client.jobs()
    assert len(proxy.seen) == 2


# --- pure helpers -----------------------------------------------------------------------------------------------


def _tiny(folder: Path) -> Path:
    path = folder / "tiny.csv"
    path.write_text(f"id,smiles\naspirin,{ASPIRIN}\ncaffeine,{CAFFEINE}\n", encoding="utf-8")
    return path


def test_count_rows_reads_each_format(tmp_path: Path) -> None:
    csv_path = tmp_path / "drugs.csv"
    csv_path.write_text(f"id,smiles\naspirin,{ASPIRIN}\n\ncaffeine,{CAFFEINE}\n", encoding="utf-8")
    smi_path = tmp_path / "drugs.smi"
    smi_path.write_text(f"# approved drugs\n{ASPIRIN} aspirin\n{CAFFEINE} caffeine\n{PARACETAMOL} paracetamol\n")
    sdf_path = tmp_path / "drugs.sdf"
    sdf_path.write_text("aspirin\n\n\nM  END\n$$$$\ncaffeine\n\n\nM  END\n$$$$\n")
    gz_path = tmp_path / "drugs.tsv.gz"
    gz_path.write_bytes(gzip.compress(f"id\tsmiles\naspirin\t{ASPIRIN}\n".encode()))
    header_only = tmp_path / "empty.csv"
    header_only.write_text("id,smiles\n")

    assert [count_rows(p) for p in (csv_path, smi_path, sdf_path, gz_path, header_only)] == [2, 3, 2, 1, 1]


def test_count_rows_names_an_unreadable_gzip(tmp_path: Path) -> None:
    broken = tmp_path / "drugs.csv.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(InputFileError, match=r"drugs\.csv\.gz: cannot be read"):
        count_rows(broken)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("molecules.csv", "molecules.csv"),
        ("my molecules (v2).csv", "my_molecules__v2_.csv"),
        ("..hidden.smi", "hidden.smi"),
        ("étude.sdf.gz", "tude.sdf.gz"),
        ("???", "input"),
        ("a" * 200 + ".csv", "a" * 124 + ".csv"),
    ],
)
def test_upload_name_keeps_what_the_api_accepts(name: str, expected: str) -> None:
    assert upload_name(name) == expected


def test_storage_refusing_a_changed_presigned_url_is_a_transfer_error_without_the_signature(
    finished: Finished,
) -> None:
    url = finished.job.download_url("report")
    path, query = url.split("?", 1)
    with pytest.raises(h2.TransferError) as caught:
        finished.client._get_bytes(f"{path}-absent?{query}", "report")
    assert caught.value.status == 403
    assert "download of report refused: SignatureDoesNotMatch" in str(caught.value)
    assert query not in str(caught.value)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("ClientError", "Hetero2ClientError"),
        ("NotFound", "NotFoundError"),
        ("ValidationFailed", "ValidationFailedError"),
    ],
)
def test_the_error_names_docs_promised_before_still_work_with_a_warning(old: str, new: str) -> None:
    import hetero2_client  # noqa: PLC0415
    from hetero2_client import errors  # noqa: PLC0415

    with pytest.warns(DeprecationWarning, match=new):
        assert getattr(hetero2_client, old) is getattr(errors, new)
    with pytest.warns(DeprecationWarning, match=new):
        assert getattr(errors, old) is getattr(errors, new)
    with pytest.raises(AttributeError):
        _ = hetero2_client.NoSuchError
