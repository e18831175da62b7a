"""What every construct after compute builds on: the customer's config, its data store and its compute.

The API, the event routing, the state machine, the SIEM export and the observability construct all read
these three; one frozen value hands them over, so each constructor names only what is its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra_cdk.compute import Compute
    from infra_cdk.config import CustomerConfig
    from infra_cdk.data import DataStore


@dataclass(frozen=True, slots=True)
class Foundation:
    """One customer region's config, data store and compute, as the later constructs read them."""

    config: CustomerConfig
    data: DataStore
    compute: Compute
