"""Deprecated location of ``hetero2 serve``'s plugin: the installed entry point still names this module.

Delete this file once pyproject.toml registers ``serve = "functions.local.server:register"`` and the
environment is reinstalled.
"""

from __future__ import annotations

from functions.local.server import register

__all__ = ["register"]
