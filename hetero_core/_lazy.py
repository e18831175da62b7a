"""Public names loaded on first use, for package faces whose parts differ a lot in weight.

``hetero_core.pack`` holds both the signature check (cryptography only, used by the API and the client) and the
pack assembly (RDKit, matplotlib): importing the first must not pay for the second. A package lists
``{name: private module}`` and gets a PEP 562 ``__getattr__``/``__dir__`` pair; type checkers read the
``TYPE_CHECKING`` imports beside it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


def lazy_attributes(
    package: str, namespace: dict[str, Any], sources: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: each name imported from its module once, then cached."""

    def __getattr__(name: str) -> Any:
        module = sources.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(sources))

    return __getattr__, __dir__
