"""Errors the service raises on purpose; each maps to one clear outcome (HTTP status, job state, retry)."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every deliberate service error."""


class InvalidIdentifierError(ServiceError):
    """An org/project/job id or a file name that is not in the allowed alphabet (path traversal, etc.)."""


class TenantAccessError(ServiceError):
    """An operation for one org reached for another org's objects or keys; never retried, always a bug or an attack."""


class JobNotFoundError(ServiceError):
    """No job with these ids in this org (another org's job answers the same)."""


class StateConflictError(ServiceError):
    """A job state transition that the current state does not allow (lost race, cancelled, already finished)."""

    def __init__(self, message: str, current: str | None) -> None:
        super().__init__(message)
        self.current = current


class UploadMissingError(ServiceError):
    """A job was started before its input (or scores) file was uploaded to the presigned URL."""


class UploadRejectedError(ServiceError):
    """An uploaded file was not written under the org's own KMS key; it must be uploaded again with the job's URL."""


class JobInputError(ServiceError):
    """The job's input or parameters are unusable; the job fails with this message shown to the customer."""


class AlreadyExistsError(ServiceError):
    """An org, project or member that exists already."""


class NotAMemberError(ServiceError):
    """A signed-in user whom the org's identity provider deprovisioned (SCIM DELETE or ``active: false``), or, in
    an org whose membership SCIM manages, never provisioned: refused on every request, whatever the token says."""


class ScimTokenError(ServiceError):
    """A SCIM bearer token that is missing, malformed, rotated away or of no org (401)."""


class NotFoundError(ServiceError):
    """No such org, project or member in this org (another org's answers the same)."""


class ChunkResultsMismatchError(ServiceError):
    """A results object that does not hold exactly its chunk's rows: refuse to seal a pack from it."""


class ChunksFailedError(ServiceError):
    """More chunks failed after all retries than the job tolerates: the job fails instead of sealing a pack that
    is mostly ERROR rows."""


class TransientServiceError(ServiceError):
    """A storage or service hiccup worth retrying; the state machine's Retry names this class."""


class QuotaExceededError(ServiceError):
    """A job would take its org past a limit of the org's plan; the API answers 429 naming the quota."""

    def __init__(self, quota: str, limit: int, requested: int, used: int) -> None:
        super().__init__(f"quota {quota} exceeded: {used} used + {requested} requested > limit {limit}")
        self.quota = quota
        self.limit = limit
        self.requested = requested
        self.used = used


class OrgPlanError(ServiceError):
    """The org has no record, or its record names a plan that does not exist; no job may run until it is fixed."""


class AuditLogError(ServiceError):
    """An audit event that cannot be stored as given, or an append that kept losing the race for the next seq."""


class RetentionIncompleteError(ServiceError):
    """Some expired jobs could not be deleted this run; the others were, and the next run tries the rest again."""

    def __init__(self, message: str, deleted: list[object], failed: list[object]) -> None:
        super().__init__(message)
        self.deleted = deleted
        self.failed = failed
