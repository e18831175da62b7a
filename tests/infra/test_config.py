"""Customer configs: the examples load, and every undeployable config is one error naming file and field."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from infra_cdk.app import EXAMPLE_CUSTOMERS
from infra_cdk.config import load_customer_config, load_customer_configs
from infra_cdk.errors import CustomerConfigError
from infra_cdk.plans import PLANS

if TYPE_CHECKING:
    from pathlib import Path

ACME = EXAMPLE_CUSTOMERS / "acme-pharma-eu-central-1.json"


def _acme() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ACME.read_text(encoding="utf-8"))
    return data


def _write(folder: Path, name: str, data: object) -> Path:
    path = folder / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_examples_are_two_customers_in_two_regions() -> None:
    configs = load_customer_configs(EXAMPLE_CUSTOMERS)
    assert [config.stack_name for config in configs] == [
        "Hetero2-acme-pharma-eu-central-1",
        "Hetero2-borealis-bio-us-east-2",
    ]
    assert len({config.region for config in configs}) == 2
    assert all(config.source.parent == EXAMPLE_CUSTOMERS for config in configs)


def test_defaults_zones_jwks_and_reserved_concurrency() -> None:
    acme = load_customer_config(ACME)
    assert acme.zones == ("eu-central-1a", "eu-central-1b")
    assert acme.oidc.resolved_jwks_url == "https://login.acme-pharma.example/oauth2/default/.well-known/jwks.json"
    assert acme.chunk_concurrency == PLANS["enterprise"].chunk_concurrency + PLANS["standard"].chunk_concurrency
    assert acme.orgs == ("acme-discovery", "acme-tox")
    # no cap of its own: the tenants' plans are the only limits on running jobs
    assert acme.running_jobs_cap == PLANS["enterprise"].concurrent_jobs + PLANS["standard"].concurrent_jobs


def test_a_deployment_cap_on_running_jobs_is_a_positive_number(tmp_path: Path) -> None:
    capped = load_customer_config(_write(tmp_path, "acme.json", {**_acme(), "max_running_jobs": 5}))
    assert capped.running_jobs_cap == 5
    with pytest.raises(CustomerConfigError, match="max_running_jobs"):
        load_customer_config(_write(tmp_path, "acme.json", {**_acme(), "max_running_jobs": 0}))


def test_toml_config_reads_like_json(tmp_path: Path) -> None:
    toml = tmp_path / "acme.toml"
    toml.write_text(
        'customer = "acme-pharma"\naccount = "111111111111"\nregion = "eu-west-1"\n'
        '[oidc]\nissuer = "https://login.acme-pharma.example"\naudience = "hetero2"\n'
        '[[tenants]]\norg = "acme"\nplan = "trial"\nretention_days = 30\n',
        encoding="utf-8",
    )
    config = load_customer_config(toml)
    assert config.stack_name == "Hetero2-acme-pharma-eu-west-1"
    assert config.tenants[0].retention_days == 30


def _set(data: dict[str, Any], path: str, value: object) -> None:
    """Set (or, with ``...``, delete) the value at a dotted path such as ``tenants.0.plan``."""
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is ...:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value


BAD_FIELDS = [
    ("region", ..., "region", "Field required"),
    ("region", "Frankfurt", "region", "AWS region code"),
    ("account", 111111111111, "account", "string"),
    ("account", "1111", "account", "12-digit"),
    ("customer", "Acme Pharma", "customer", "lowercase"),
    ("oidc.issuer", "http://login.acme-pharma.example", "oidc.issuer", "https://"),
    ("oidc.audience", "", "oidc.audience", "at least 1 character"),
    ("tenants.0.org", "../acme", "tenants[0].org", "lowercase letters"),
    ("tenants.1.plan", "platinum", "tenants[1].plan", "'trial', 'standard' or 'enterprise'"),
    ("tenants.1.retention_days", 0, "tenants[1].retention_days", "greater than or equal to 1"),
    (
        "tenants.0.drop_folder_principals",
        ["arn:aws:iam::111111111111:root"],
        "tenants[0].drop_folder_principals",
        "not an IAM role or user ARN",
    ),
    ("tenants.1.org", "acme-discovery", "tenants", "listed twice"),
    ("tenants", [], "tenants", "at least 1 item"),
    ("alarm_emails", ["oncall"], "alarm_emails", "not an email address"),
    ("vpc_cidr", "10.0.0.0/8", "vpc_cidr", "/16 to /22"),
    ("vpc_cidr", "10.80.0.1/16", "vpc_cidr", "host bits set"),
    ("availability_zones", ["us-east-1a", "us-east-1b"], "availability_zones", "not a zone of eu-central-1"),
    ("lambda_concurrency_limit", 400, "tenants", "reserve 400 concurrent chunk workers"),
    ("colour", "blue", "colour", "Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("path", "value", "field", "message"), BAD_FIELDS, ids=[case[0] for case in BAD_FIELDS])
def test_bad_field_is_one_error_naming_file_and_field(
    tmp_path: Path, path: str, value: object, field: str, message: str
) -> None:
    data = _acme()
    _set(data, path, value)
    config = _write(tmp_path, "acme.json", data)
    with pytest.raises(CustomerConfigError) as caught:
        load_customer_config(config)
    assert caught.value.path == str(config)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{config}: {field}: ")
    assert message in str(caught.value)


def test_malformed_json_names_the_line(tmp_path: Path) -> None:
    config = tmp_path / "acme.json"
    config.write_text('{\n  "customer": "acme-pharma",\n  "account": \n}\n', encoding="utf-8")
    with pytest.raises(CustomerConfigError) as caught:
        load_customer_config(config)
    assert caught.value.line == 4
    assert str(caught.value).startswith(f"{config}, line 4: is not valid JSON")


def test_a_list_is_not_a_config(tmp_path: Path) -> None:
    with pytest.raises(CustomerConfigError, match="must hold one object"):
        load_customer_config(_write(tmp_path, "acme.json", [_acme()]))


def test_two_files_for_one_customer_region_name_both(tmp_path: Path) -> None:
    first = _write(tmp_path, "a.json", _acme())
    second = _write(tmp_path, "b.json", _acme())
    with pytest.raises(CustomerConfigError) as caught:
        load_customer_configs(tmp_path)
    assert caught.value.path == str(second)
    assert caught.value.field == "customer"
    assert str(first) in str(caught.value)


def test_empty_or_missing_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a config", encoding="utf-8")
    with pytest.raises(CustomerConfigError, match="holds no customer config"):
        load_customer_configs(tmp_path)
    with pytest.raises(CustomerConfigError, match="is not a folder"):
        load_customer_configs(tmp_path / "absent")


def test_cdk_app_exits_2_with_the_file_and_field(tmp_path: Path) -> None:
    """What an operator sees from ``cdk synth``: one line, no traceback."""
    data = _acme()
    data["tenants"][0]["retention_days"] = -5
    config = _write(tmp_path, "acme.json", data)
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({"hetero2:customersDir": str(tmp_path)}),
        "CDK_OUTDIR": str(tmp_path / "cdk.out"),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    result = subprocess.run(
        [sys.executable, "-m", "infra_cdk.app"],
        cwd=EXAMPLE_CUSTOMERS.parent.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {config}: tenants[0].retention_days: Input should be greater than or equal to 1"
    )
    assert "Traceback" not in result.stderr
