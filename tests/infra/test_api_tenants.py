"""The API is told which orgs its deployment serves, with the plan and retention of the customer config."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from functions.service.settings import Settings
from infra_cdk import contract

if TYPE_CHECKING:
    import pytest

    from tests.infra.conftest import Synthesized


def test_api_function_knows_the_configured_tenants_plans_and_retention(synthesized: Synthesized, stack: str) -> None:
    config = synthesized.configs[stack]
    functions = synthesized.resources(stack, "AWS::Lambda::Function")
    (api,) = [f for f in functions.values() if f["Properties"].get("Handler") == contract.API_HANDLER]
    tenants = json.loads(api["Properties"]["Environment"]["Variables"][contract.env.TENANTS])
    assert tenants == {t.org: {"plan": t.plan, "retention_days": t.retention_days} for t in config.tenants}


def test_settings_read_the_tenants_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HETERO2_BUCKET", "b")
    monkeypatch.setenv("HETERO2_TABLE", "t")
    monkeypatch.setenv(contract.env.TENANTS, '{"acme": {"plan": "trial", "retention_days": 30}}')
    assert Settings.from_env().tenants == {"acme": {"plan": "trial", "retention_days": 30}}
    monkeypatch.delenv(contract.env.TENANTS)
    assert Settings.from_env().tenants == {}
