"""The Jobs list's filters (``GET .../jobs?...``): which jobs of a project a page shows.

Each filter is optional and they combine with AND. Dates are UTC calendar days compared with the day of the job's
``created_at``, both ends included, so a date picker's values can be sent as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from functions.service.jobs import JobRecord


@dataclass(frozen=True, slots=True)
class JobFilter:
    state: str | None = None
    model_name: str | None = None
    model_version: str | None = None
    decision: str | None = None
    created_by: str | None = None
    created_from: str | None = None  # yyyy-mm-dd
    created_to: str | None = None  # yyyy-mm-dd

    def matches(self, job: JobRecord) -> bool:
        params = job.params
        decision = job.get("decision") or {}
        day = str(job.get("created_at", ""))[:10]
        return (
            _equal(self.state, job.state.value)
            and _equal(self.model_name, params.get("model_name"))
            and _equal(self.model_version, params.get("model_version"))
            and _equal(self.decision, decision.get("outcome") if isinstance(decision, dict) else None)
            and _equal(self.created_by, job.get("created_by"))
            and (self.created_from is None or day >= self.created_from)
            and (self.created_to is None or day <= self.created_to)
        )


def _equal(wanted: str | None, value: object) -> bool:
    return wanted is None or (value is not None and str(value) == wanted)
