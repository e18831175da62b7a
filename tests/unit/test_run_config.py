"""RunConfig.from_attributes: the one way the CLI's options (and the service's job parameters) become a config."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from hetero_core import cli
from hetero_core.config import RunConfig
from hetero_core.errors import ConfigError


def _options(*argv: str) -> RunConfig:
    return cli._config(cli._parser().parse_args(["run", "--out", "pack", *argv]))


def test_the_cli_defaults_are_the_config_defaults() -> None:
    assert _options() == RunConfig()


def test_renamed_cli_options_reach_their_fields() -> None:
    config = _options("--hard-mode", "--hard-min", "0.7", "--hard-max", "0.9", "--timeout", "12", "--k-decoys", "5")
    assert (config.hard_mode, config.hard_min_similarity, config.hard_max_similarity) == (True, 0.7, 0.9)
    assert (config.timeout_s, config.k_decoys) == (12.0, 5)


def test_a_parameter_the_source_does_not_offer_fails_loudly() -> None:
    offered = {name: getattr(RunConfig(), name) for name in RunConfig.__dataclass_fields__ if name != "max_rung"}
    with pytest.raises(AttributeError, match="max_rung"):
        RunConfig.from_attributes(SimpleNamespace(**offered))


def test_values_read_are_validated_as_any_config() -> None:
    offered = {name: getattr(RunConfig(), name) for name in RunConfig.__dataclass_fields__}
    with pytest.raises(ConfigError, match="k_decoys"):
        RunConfig.from_attributes(SimpleNamespace(**{**offered, "k_decoys": 0}))
