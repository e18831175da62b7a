"""Who owns what: the refs to a project and a job, and the checks that keep a handler inside its org's prefix.

Every ref is built from checked ids (:mod:`functions.service.ids`); its S3 prefix is spelled by
:mod:`functions.service.layout`.
"""

from __future__ import annotations

from dataclasses import dataclass

from functions.service import layout
from functions.service.errors import TenantAccessError
from functions.service.ids import checked_id


def require_in_org(org: str, key: str) -> str:
    """Refuse any key outside the org's prefix (the handler was handed another tenant's object)."""
    prefix = layout.org_prefix(org)
    if not key.startswith(prefix) or "/../" in key or key.endswith("/.."):
        raise TenantAccessError(f"org {org!r} may not touch {key!r}")
    return key


def require_in_job(ref: JobRef, key: str) -> str:
    """Refuse any key outside the job's own folder (another org's, or another job's of the same org)."""
    require_in_org(ref.org, key)
    if not key.startswith(ref.prefix):
        raise TenantAccessError(f"job {ref.job!r} of org {ref.org!r} may not touch {key!r}")
    return key


@dataclass(frozen=True, slots=True)
class ProjectRef:
    org: str
    project: str

    def __post_init__(self) -> None:
        checked_id(self.org, "org")
        checked_id(self.project, "project")

    @property
    def prefix(self) -> str:
        return layout.project_prefix(self.org, self.project)


@dataclass(frozen=True, slots=True)
class JobRef:
    org: str
    project: str
    job: str

    def __post_init__(self) -> None:
        checked_id(self.org, "org")
        checked_id(self.project, "project")
        checked_id(self.job, "job")

    @classmethod
    def from_event(cls, event: dict[str, object]) -> JobRef:
        return cls(
            org=checked_id(event.get("org"), "org"),
            project=checked_id(event.get("project"), "project"),
            job=checked_id(event.get("job"), "job"),
        )

    @property
    def project_ref(self) -> ProjectRef:
        return ProjectRef(self.org, self.project)

    @property
    def prefix(self) -> str:
        return layout.job_prefix(self.org, self.project, self.job)

    def as_dict(self) -> dict[str, str]:
        return {"org": self.org, "project": self.project, "job": self.job}
