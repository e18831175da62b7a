"""Where moto differs from AWS in a way our tests depend on, and the one adjustment we make for it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from moto.dynamodb.responses import DynamoHandler

from functions.local.stack import serialised

if TYPE_CHECKING:
    import pytest


def make_dynamodb_atomic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Per-request atomicity of DynamoDB, which moto lacks (see ``functions.local.stack.serialised``)."""
    monkeypatch.setattr(DynamoHandler, "call_action", serialised(DynamoHandler.call_action))
