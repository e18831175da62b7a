"""HETERO-2 engine: matched degree-preserving decoys, per-molecule audit, verifiable evidence packs.

The engine is pure: molecules and tables in, results out. It imports nothing from AWS so the CLI,
the worker Lambda and the Fargate task all run exactly the same code.
"""

from __future__ import annotations

__version__ = "0.1.0"
ENGINE_NAME = "hetero2"

__all__ = ["ENGINE_NAME", "__version__"]
