"""Errors of the API layer: each is one HTTP answer (functions/api/app.py maps them to the one error shape)."""

from __future__ import annotations

from typing import Any

from functions.service.errors import ServiceError


class ApiError(Exception):
    """An answer other than success: status, stable code, message a person can act on."""

    def __init__(self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class AuthenticationError(ServiceError):
    """No token, or a token that is not valid for this service (401)."""
