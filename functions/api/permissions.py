"""Who may do what: the one permission table of the service.

A route names one permission. The caller's org comes from the verified token, never from the path or body; a
resource of another org is answered 404 exactly like a missing one, before any permission is looked at. Within
the org, an ``org_admin`` may do everything; a ``member`` may do what their project role allows.
"""

from __future__ import annotations

from enum import StrEnum

from functions.service.directory import OrgRole, ProjectRole


class Permission(StrEnum):
    ORG_READ = "org.read"
    ORG_MANAGE = "org.manage"  # retention days
    ORG_AUDIT_READ = "org.audit.read"
    ORG_USAGE_READ = "org.usage.read"
    ORG_SCIM_MANAGE = "org.scim.manage"  # issue or rotate the org's SCIM bearer token
    PROJECT_CREATE = "project.create"
    PROJECT_READ = "project.read"
    PROJECT_DELETE = "project.delete"
    MEMBERS_MANAGE = "members.manage"
    JOB_SUBMIT = "job.submit"  # create, start, cancel, retry, reproduce, upload scores
    JOB_READ = "job.read"  # status, results, downloads
    JOB_SHARE = "job.share"  # show a job to another member of the org
    JOB_DELETE = "job.delete"


# Permissions that need no project role: held by every member of the org (org_admin holds everything).
ORG_MEMBER_PERMISSIONS: frozenset[Permission] = frozenset({Permission.ORG_READ, Permission.PROJECT_CREATE})

ORG_ADMIN_ONLY: frozenset[Permission] = frozenset(
    {Permission.ORG_MANAGE, Permission.ORG_AUDIT_READ, Permission.ORG_USAGE_READ, Permission.ORG_SCIM_MANAGE}
)

PROJECT_ROLE_PERMISSIONS: dict[ProjectRole, frozenset[Permission]] = {
    ProjectRole.VIEW: frozenset({Permission.PROJECT_READ, Permission.JOB_READ}),
    ProjectRole.RUN: frozenset(
        {Permission.PROJECT_READ, Permission.JOB_READ, Permission.JOB_SUBMIT, Permission.JOB_SHARE}
    ),
    ProjectRole.ADMIN: frozenset(
        {
            Permission.PROJECT_READ,
            Permission.JOB_READ,
            Permission.JOB_SUBMIT,
            Permission.JOB_SHARE,
            Permission.JOB_DELETE,
            Permission.PROJECT_DELETE,
            Permission.MEMBERS_MANAGE,
        }
    ),
}


# What a job shared with a member (functions/service/job_shares.py) lets them do on that one job: read it, nothing
# more (no link for outsiders, no re-sharing, no cancel).
SHARED_JOB_PERMISSIONS: frozenset[Permission] = frozenset({Permission.JOB_READ})


def allowed(
    permission: Permission, org_role: OrgRole, project_role: ProjectRole | None, *, shared_job: bool = False
) -> bool:
    if org_role == OrgRole.ORG_ADMIN:
        return True
    if shared_job and permission in SHARED_JOB_PERMISSIONS:
        return True
    if permission in ORG_ADMIN_ONLY:
        return False
    if permission in ORG_MEMBER_PERMISSIONS:
        return True
    return project_role is not None and permission in PROJECT_ROLE_PERMISSIONS[project_role]


def hides_existence(
    permission: Permission, project_role: ProjectRole | None, org_role: OrgRole, *, shared_job: bool = False
) -> bool:
    """A member with no role in a project learns nothing about it (404, not 403), beyond a job shared with them."""
    if shared_job and permission in SHARED_JOB_PERMISSIONS:
        return False
    return org_role != OrgRole.ORG_ADMIN and project_role is None and permission not in ORG_MEMBER_PERMISSIONS
