"""API Gateway (REST, proxy) → the HETERO-2 API."""

from __future__ import annotations

from functions.api.app import handler

__all__ = ["handler"]
