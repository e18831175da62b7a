"""The CDK app's error classes, in one place (as ``functions/service/errors.py`` is the service's).

Both are raised at synth time, so a config or a state machine that cannot be deployed is refused before
CloudFormation sees it. They import no CDK: ``infra_cdk.config`` and ``infra_cdk.orchestration`` re-export them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hetero_core.errors import InputFileError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["AslSubstitutionError", "CustomerConfigError"]


class CustomerConfigError(InputFileError):
    """A customer config that cannot be deployed; ``field`` is the dotted path of the offending value."""

    def __init__(self, path: str | Path, field: str | None, message: str, *, line: int | None = None):
        self.field = field
        super().__init__(path, f"{field}: {message}" if field else message, line=line)


class AslSubstitutionError(ValueError):
    """The ASL file and the contract disagree on the ``${...}`` names."""
