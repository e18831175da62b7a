"""Finding a customer's model by name (issue 16): ``MODULE:FUNCTION`` or an installed ``hetero2.scorers`` plugin.

A team ships its model as an ordinary Python distribution that declares an entry point::

    [project.entry-points."hetero2.scorers"]
    potency_v7 = "acme_models:potency"

and ``hetero2 run mols.csv --scorer potency_v7`` audits it. The model is named in the manifest by its own
``model_name``/``model_version`` attributes, else by the entry point (or the ``MODULE:FUNCTION`` given) and the
version of the distribution that ships it, so a pack says which release of the model it judged.

Only the CLI runs this: the service never imports customer code (there, scores arrive as a file).
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from importlib.metadata import Distribution, entry_points, packages_distributions
from typing import TYPE_CHECKING, Any

from hetero_core.errors import ConfigError
from hetero_core.scores._model import ModelInfo

if TYPE_CHECKING:
    from collections.abc import Callable

SCORER_GROUP = "hetero2.scorers"

__all__ = ["SCORER_GROUP", "InstalledScorer", "LoadedScorer", "installed_scorers", "load_scorer"]


@dataclass(frozen=True, slots=True)
class InstalledScorer:
    """One ``hetero2.scorers`` entry point, described without importing it (listing runs no model code)."""

    name: str
    target: str
    distribution: str | None
    version: str | None


@dataclass(frozen=True, slots=True)
class LoadedScorer:
    """A model ready to call, with the identity the manifest records unless the user names it."""

    fn: Callable[[list[Any]], Any]
    spec: str
    model: ModelInfo


def installed_scorers() -> list[InstalledScorer]:
    """Every installed ``hetero2.scorers`` entry point, by name."""
    found = []
    for point in entry_points(group=SCORER_GROUP):
        dist = point.dist
        found.append(
            InstalledScorer(point.name, point.value, dist.name if dist else None, dist.version if dist else None)
        )
    return sorted(found, key=lambda s: s.name)


def load_scorer(spec: str) -> LoadedScorer:
    """``MODULE:FUNCTION`` (imported, the current folder first on the path) or an installed plugin's name.

    Raises:
        ConfigError: no such plugin or module, the attribute is missing, or it is not callable.
    """
    if ":" in spec:
        fn, version = _from_module(spec)
        name = spec
    else:
        points = [p for p in entry_points(group=SCORER_GROUP) if p.name == spec]
        if not points:
            installed = ", ".join(s.name for s in installed_scorers()) or "none installed"
            raise ConfigError(
                f"unknown scorer {spec!r}: not a built-in, not an installed {SCORER_GROUP} plugin ({installed}) "
                "and not MODULE:FUNCTION"
            )
        point = points[0]
        try:
            fn = point.load()
        except Exception as exc:  # the plugin's own import failed: say which plugin, not a traceback
            raise ConfigError(
                f"scorer plugin {spec!r} ({point.value}) failed to load: {type(exc).__name__}: {exc}"
            ) from exc
        dist = point.dist
        name = f"{dist.name}:{point.name}" if dist else point.name
        version = dist.version if dist else None
    if not callable(fn):
        raise ConfigError(f"scorer {spec!r} is a {type(fn).__name__}, not a callable")
    return LoadedScorer(fn, spec, ModelInfo(name=name, version=version))


def _from_module(spec: str) -> tuple[Any, str | None]:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"--scorer {spec!r}: expected MODULE:FUNCTION, e.g. acme_models:potency")
    # like `python -m` and uvicorn: a model module in the current folder is found without installing it
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"--scorer {spec!r}: cannot import {module_name!r}: {exc}") from exc
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ConfigError(f"--scorer {spec!r}: {module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    return target, _distribution_version(module_name)


def _distribution_version(module_name: str) -> str | None:
    """The version of the installed distribution that ships ``module_name`` (None for a loose module)."""
    names = packages_distributions().get(module_name.partition(".")[0], [])
    for name in names:
        try:
            return Distribution.from_name(name).version
        except Exception:
            continue
    return None
