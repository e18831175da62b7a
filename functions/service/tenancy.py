"""Who owns what: validated ids, and the S3 prefix that is the boundary of an org's data.

Every id that reaches an S3 key or a DynamoDB key passes :func:`checked_id` first, so a name like
``../other-org`` can never walk out of its prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from functions.service.errors import InvalidIdentifierError, TenantAccessError

# The alphabets, as text too: the API's OpenAPI patterns are these, anchored.
ID_REGEX = r"[a-z0-9][a-z0-9-]{0,62}"
FILE_NAME_REGEX = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
_ID = re.compile(ID_REGEX)
_FILE_NAME = re.compile(FILE_NAME_REGEX)


def checked_id(value: object, what: str) -> str:
    """An org, project or job id: lowercase letters, digits and dashes, 1-63 characters."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidIdentifierError(f"{what} must be 1-63 lowercase letters, digits or dashes, got {value!r}")
    return value


def checked_file_name(value: object, what: str = "file name") -> str:
    """A file name inside a job: no slashes, no leading dot, no '..'."""
    if not isinstance(value, str) or not _FILE_NAME.fullmatch(value) or ".." in value:
        raise InvalidIdentifierError(
            f"{what} must be 1-128 characters of letters, digits, '.', '_' or '-' without '..', got {value!r}"
        )
    return value


def org_prefix(org: str) -> str:
    return f"tenants/{checked_id(org, 'org')}/"


def require_in_org(org: str, key: str) -> str:
    """Refuse any key outside the org's prefix (the handler was handed another tenant's object)."""
    prefix = org_prefix(org)
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
        return f"{org_prefix(self.org)}projects/{self.project}/"


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
        return f"{self.project_ref.prefix}jobs/{self.job}/"

    def as_dict(self) -> dict[str, str]:
        return {"org": self.org, "project": self.project, "job": self.job}
