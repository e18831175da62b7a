"""Small pieces of the service layer: ids and prefixes, parameters vs the engine, chunk sizing, error text,
chunk files, KMS keys and signatures."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from functions.service.chunk_io import decode_rows, encode_rows
from functions.service.chunk_sizing import (
    MAX_CHUNK_ROWS,
    MIN_CHUNK_ROWS,
    SLICE_ROWS,
    TARGET_CHUNK_SECONDS,
    choose_executor,
    choose_finalizer,
    chunk_rows_for,
    seconds_per_molecule,
)
from functions.service.errors import InvalidIdentifierError, TenantAccessError
from functions.service.failure import describe_error
from functions.service.ids import checked_file_name, checked_id
from functions.service.job_params import JobParameters
from functions.service.tenancy import JobRef, require_in_job, require_in_org
from functions.service.tenant_keys import TenantKeys
from hetero_core.config import RunConfig
from hetero_core.errors import ConfigError
from hetero_core.pack import _slices as pack_slices
from hetero_core.pack._signing import verify_signature
from hetero_core.records import InputRow
from hetero_core.scores._scorers import SCORER_NAMES
from tests.service.harness import REGION

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mypy_boto3_kms import KMSClient


@pytest.mark.parametrize("bad", ["", "A", "a_b", "-a", "a/b", "..", "a" * 64, "org a", None, 3])
def test_ids_refuse_anything_outside_the_alphabet(bad: object) -> None:
    with pytest.raises(InvalidIdentifierError):
        checked_id(bad, "org")


@pytest.mark.parametrize("bad", ["", ".hidden", "a/b", "..", "a..b", "x" * 129, "a b.csv", "é.csv"])
def test_file_names_refuse_paths_and_traversal(bad: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        checked_file_name(bad)


def test_prefix_checks() -> None:
    ref = JobRef("org-a", "proj", "j1")
    assert require_in_job(ref, ref.prefix + "chunks/000000.jsonl")
    for key in ("tenants/org-b/x", "tenants/org-a/../org-b/x", "tenants/org-a/projects/proj/jobs/j2/x", "x"):
        with pytest.raises(TenantAccessError):
            require_in_job(ref, key)
    with pytest.raises(TenantAccessError):
        require_in_org("org-a", "tenants/org-ab/projects/p/x")


def test_job_parameters_default_to_the_engine_defaults_and_convert_exactly() -> None:
    params = JobParameters()
    config = params.run_config()
    assert config == RunConfig()
    for field in fields(RunConfig):
        assert getattr(params, field.name) == getattr(config, field.name), field.name
    assert set(JobParameters.model_fields["scorer"].annotation.__args__) == set(SCORER_NAMES)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "value"),
    [("k_decoys", 0), ("k_decoys", 1001), ("q", 1.0), ("q", 0.4), ("margin", 0.6), ("timeout_s", 0), ("seed", -1)],
)
def test_job_parameters_refuse_what_the_engine_refuses(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=name):
        JobParameters.model_validate({name: value})
    with pytest.raises(ConfigError):
        RunConfig(**{name: value})  # type: ignore[arg-type]


def test_job_parameters_refuse_unknown_fields_and_inverted_windows() -> None:
    with pytest.raises(ValueError, match="extra"):
        JobParameters.model_validate({"k": 20})
    with pytest.raises(ValueError, match="hard_min_similarity"):
        JobParameters.model_validate({"hard_min_similarity": 0.9, "hard_max_similarity": 0.8})


def test_chunk_size_targets_the_chunk_time_within_bounds() -> None:
    rows = chunk_rows_for(20, "full")
    assert rows * seconds_per_molecule(20, "full") <= TARGET_CHUNK_SECONDS
    # whole pack slices: one more slice per chunk would pass the deadline
    assert rows % SLICE_ROWS == 0
    assert rows % pack_slices.SLICE_ROWS == 0
    assert (rows + SLICE_ROWS) * seconds_per_molecule(20, "full") > TARGET_CHUNK_SECONDS
    assert chunk_rows_for(20, "fast") > rows
    assert chunk_rows_for(1000, "full") >= MIN_CHUNK_ROWS
    assert chunk_rows_for(1, "fast") == MAX_CHUNK_ROWS


def test_executor_choice() -> None:
    assert choose_executor("auto", 10, 100) == "lambda"
    assert choose_executor("auto", 100, 100) == "fargate"
    assert choose_executor("lambda", 10**9, 100) == "lambda"
    assert choose_executor("fargate", 1, 100) == "fargate"
    assert choose_finalizer(100, 100) == "lambda"
    assert choose_finalizer(101, 100) == "fargate"


def test_describe_error_reads_the_lambda_payload_in_the_cause() -> None:
    cause = json.dumps({"errorMessage": "input.csv line 1: no 'smiles' column", "errorType": "JobInputError"})
    assert describe_error({"Error": "JobInputError", "Cause": cause}) == {
        "code": "JobInputError",
        "message": "input.csv line 1: no 'smiles' column",
    }
    assert describe_error({"Error": "States.Timeout", "Cause": "plain text"}) == {
        "code": "States.Timeout",
        "message": "plain text",
    }
    assert describe_error(None)["code"] == "Unknown"
    assert len(describe_error({"Error": "X", "Cause": "y" * 5000})["message"]) == 1000


def test_chunk_files_round_trip_rows() -> None:
    rows = [
        InputRow(1, 2, "aspirin", "CC(=O)Oc1ccccc1C(=O)O", {"batch": "7"}),
        InputRow(2, 3, "bad", "", {"batch": "é"}, "invalid_smiles"),
    ]
    assert decode_rows(encode_rows(rows)) == rows


@pytest.fixture
def kms(aws_env: None) -> Iterator[object]:
    with mock_aws():
        yield boto3.client("kms", region_name=REGION)


def test_org_keys_are_created_once_and_found_by_alias(kms: KMSClient) -> None:
    keys = TenantKeys(kms, "alias/hetero2")
    created = keys.create_org_keys("org-a")
    again = TenantKeys(kms, "alias/hetero2").create_org_keys("org-a")
    assert again == created
    assert keys.data_alias("org-a") == "alias/hetero2/org-a/data"
    other = keys.create_org_keys("org-b")
    assert {other.data_key_arn, other.signing_key_arn}.isdisjoint({created.data_key_arn, created.signing_key_arn})
    with pytest.raises(TenantAccessError):
        TenantKeys(kms, "alias/hetero2").keys_of("org-nobody")


def test_kms_signer_signs_what_the_engine_verifies(kms: KMSClient) -> None:
    keys = TenantKeys(kms, "alias/hetero2")
    keys.create_org_keys("org-a")
    signer = keys.signer("org-a")
    message = b'{"schema_version": "hetero_manifest.v1"}'
    signature = signer.sign(message)
    assert verify_signature(signer.public_key_pem(), message, signature)
    assert not verify_signature(signer.public_key_pem(), message + b" ", signature)
    assert signer.public_key_pem().startswith(b"-----BEGIN PUBLIC KEY-----")


def test_chunks_are_sized_from_a_deadline_so_a_million_molecules_is_one_wave_of_few_children() -> None:
    from functions.service.deployment import DEFAULT_JOB_CONCURRENCY  # noqa: PLC0415
    from infra_cdk.compute import CHUNK_TIMEOUT_SECONDS  # noqa: PLC0415

    for descriptors, most in (("full", 90), ("fast", 70)):
        rows = chunk_rows_for(20, descriptors)
        children = -(-1_000_000 // rows)
        assert children <= most, (descriptors, children)  # 84 / 63; was 579 / 378 with 45 s chunks
        assert children <= DEFAULT_JOB_CONCURRENCY  # one wave
        assert rows * seconds_per_molecule(20, descriptors) <= CHUNK_TIMEOUT_SECONDS / 4  # a retry fits too


def _printed_by_fresh_python(code: str) -> str:
    """What ``code`` prints in a new interpreter with only the settings the handlers need (a cold start)."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    environment = {"HETERO2_BUCKET": "b", "HETERO2_TABLE": "t", "PATH": "/usr/bin:/bin"}
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True, env=environment
    )
    return shown.stdout.strip()


def test_chunk_work_imports_neither_matplotlib_nor_pyarrow() -> None:
    """The RunChunk Lambda's cold start: the chunk handler loads the engine, never the report's plotting or the
    parquet reader (docs/cost.md has the measured import time)."""
    code = (
        "import sys, functions.handlers.run_chunk\n"
        "heavy = sorted(m for m in ('matplotlib', 'pyarrow', 'pandas', 'PIL') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    assert _printed_by_fresh_python(code) == ""


def test_the_chunk_handler_imports_only_what_the_lean_chunk_image_installs() -> None:
    """Every third-party package the RunChunk handler loads is in functions/chunk.requirements.txt (the Dockerfile's
    ``chunk`` target), and the handler imports with matplotlib and pyarrow absent, as in that image."""
    import json  # noqa: PLC0415
    import re  # noqa: PLC0415

    from infra_cdk.assets import CHUNK_REQUIREMENTS, REPO_ROOT  # noqa: PLC0415

    code = (
        "import importlib.abc, json, sys\n"
        "from importlib.metadata import packages_distributions\n"
        "class Absent(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('matplotlib', 'pyarrow'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Absent())\n"
        "import functions.handlers.run_chunk\n"
        "owners = packages_distributions()\n"
        "found = {d for m in list(sys.modules) for d in owners.get(m.split('.')[0], [])}\n"
        "print(json.dumps(sorted(found)))\n"
    )
    # hetero2 is this checkout; setuptools' _distutils_hack is the virtualenv's .pth hook, certifi an optional import
    # of botocore that falls back to its own CA bundle: neither is in any of our images.
    loaded = {re.sub(r"[-_.]+", "-", name).lower() for name in json.loads(_printed_by_fresh_python(code))}
    loaded -= {"hetero2", "setuptools", "certifi"}
    text = (REPO_ROOT / CHUNK_REQUIREMENTS).read_text(encoding="utf-8")
    pins = re.finditer(r"^([A-Za-z0-9._-]+)==", text, re.MULTILINE)
    installed = {re.sub(r"[-_.]+", "-", pin[1]).lower() for pin in pins}
    assert loaded, "the handler loads its third-party packages (boto3, rdkit, numpy, ...)"
    assert loaded <= installed, f"not in the chunk image: {sorted(loaded - installed)}"
