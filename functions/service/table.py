"""The main table's and the audit table's item keys, and the one loop that reads every page of a query or scan.

One partition per org (IAM's ``dynamodb:LeadingKeys`` condition pins a role to its orgs by this prefix)::

    pk=ORG#{org}                       sk=META                           the org record (plan, retention_days)
    pk=ORG#{org}                       sk=USER#{user}                    org role
    pk=ORG#{org}                       sk=PROJECT#{project}              project record
    pk=ORG#{org}                       sk=QUOTA#MOLECULES#{yyyy-mm}      molecules reserved that month
    pk=ORG#{org}                       sk=QUOTA#RUNNING                  jobs holding a running slot
    pk=ORG#{org}                       sk=USAGE#{yyyy-mm}#{project}      metered usage
    pk=ORG#{org}                       sk=REFUSALS#{yyyy-mm-ddThh:mm}    refusals audited that minute (rate limit)
    pk=ORG#{org}                       sk=SHARE#{user}#{project}#{job}   a job shown to a member of the org
    pk=ORG#{org}                       sk=SCIM#TOKEN                     the SCIM bearer token's SHA-256
    pk=ORG#{org}                       sk=SCIM#USER#{id}                 a SCIM User (its USER# item holds the access)
    pk=ORG#{org}                       sk=SCIM#GROUP#{id}                a SCIM Group
    pk=ORG#{org}#PROJECT#{project}     sk=MEMBER#{user}                  project role
    pk=ORG#{org}#PROJECT#{project}     sk=JOB#{job}                      job record
    pk=ORG#{org}#PROJECT#{project}     sk=PROGRESS#{job}#{attempt}#{chunk}  one counted chunk (no growing set)
    pk=QUEUE                           sk=RUNNING                        the deployment's jobs holding a slot
    pk=QUEUE                           sk=WAIT#{rank}#{queued_at}#{org}#{project}#{job}   a job waiting for a slot
    audit table: pk=ORG#{org}          sk=EVENT#{seq:012d}               one audit event

The job queue is the one partition that is not an org's: it orders every tenant's waiting jobs together (plan rank,
then arrival), so its roles get their own grant on ``pk=QUEUE`` (``infra_cdk/access.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from functions.service.clock import checked_month
from functions.service.ids import checked_id

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

ORG: Final = "ORG#"
META: Final = "META"
USER: Final = "USER#"
PROJECT: Final = "PROJECT#"
MEMBER: Final = "MEMBER#"
JOB: Final = "JOB#"
USAGE: Final = "USAGE#"
EVENT: Final = "EVENT#"
QUOTA_MOLECULES: Final = "QUOTA#MOLECULES#"
QUOTA_RUNNING: Final = "QUOTA#RUNNING"
REFUSALS: Final = "REFUSALS#"
PROGRESS: Final = "PROGRESS#"
SHARE: Final = "SHARE#"
SCIM_TOKEN: Final = "SCIM#TOKEN"
SCIM_USER: Final = "SCIM#USER#"
SCIM_GROUP: Final = "SCIM#GROUP#"
QUEUE: Final = "QUEUE"
QUEUE_WAITING: Final = "WAIT#"
QUEUE_RUNNING: Final = "RUNNING"

Key = dict[str, str]


def org_pk(org: str) -> str:
    return f"{ORG}{checked_id(org, 'org')}"


def project_pk(org: str, project: str) -> str:
    return f"{org_pk(org)}#{PROJECT}{checked_id(project, 'project')}"


def org_of_pk(pk: object) -> str:
    """The org id of an org partition key, unchecked (the caller checks it)."""
    return str(pk).removeprefix(ORG)


def org_key(org: str) -> Key:
    return {"pk": org_pk(org), "sk": META}


def user_key(org: str, user: str) -> Key:
    return {"pk": org_pk(org), "sk": f"{USER}{user}"}


def project_key(org: str, project: str) -> Key:
    return {"pk": org_pk(org), "sk": f"{PROJECT}{checked_id(project, 'project')}"}


def project_of_sk(sk: object) -> str:
    return str(sk).removeprefix(PROJECT)


def member_key(org: str, project: str, user: str) -> Key:
    return {"pk": project_pk(org, project), "sk": f"{MEMBER}{user}"}


def job_key(org: str, project: str, job: str) -> Key:
    return {"pk": project_pk(org, project), "sk": f"{JOB}{checked_id(job, 'job')}"}


def progress_prefix(org: str, project: str, job: str) -> Key:
    """The partition and sort-key prefix of a job's counted-chunk markers (every attempt)."""
    return {"pk": project_pk(org, project), "sk": f"{PROGRESS}{checked_id(job, 'job')}#"}


def chunk_progress_key(org: str, project: str, job: str, attempt: int, chunk: int) -> Key:
    """One counted chunk of one attempt: a small item of its own, so counting chunk 900 costs what chunk 1 did."""
    prefix = progress_prefix(org, project, job)
    return {"pk": prefix["pk"], "sk": f"{prefix['sk']}{int(attempt):03d}#{int(chunk):07d}"}


def shares_prefix(user: str) -> str:
    """The sort-key prefix of every job shared with ``user`` (user ids hold no ``#``: functions/api/auth.py)."""
    return f"{SHARE}{user}#"


def share_key(org: str, user: str, project: str, job: str) -> Key:
    return {"pk": org_pk(org), "sk": f"{shares_prefix(user)}{checked_id(project, 'project')}#{checked_id(job, 'job')}"}


def molecules_key(org: str, month: str) -> Key:
    return {"pk": org_pk(org), "sk": f"{QUOTA_MOLECULES}{checked_month(month)}"}


def running_key(org: str) -> Key:
    return {"pk": org_pk(org), "sk": QUOTA_RUNNING}


def deployment_running_key() -> Key:
    """The count of jobs holding a running slot across every org of the deployment (its ``max_running_jobs``)."""
    return {"pk": QUEUE, "sk": QUEUE_RUNNING}


def queue_entry_key(rank: int, queued_at: str, org: str, project: str, job: str) -> Key:
    """A waiting job's place: sorted by plan rank, then arrival (microseconds), then ids (a stable tie-break)."""
    ids = f"{checked_id(org, 'org')}#{checked_id(project, 'project')}#{checked_id(job, 'job')}"
    return {"pk": QUEUE, "sk": f"{QUEUE_WAITING}{int(rank):02d}#{queued_at}#{ids}"}


def usage_prefix(month: str | None = None) -> str:
    """The sort-key prefix of one month's usage rows, or of every month's."""
    return USAGE if month is None else f"{USAGE}{checked_month(month)}#"


def usage_key(org: str, month: str, project: str) -> Key:
    return {"pk": org_pk(org), "sk": f"{usage_prefix(month)}{checked_id(project, 'project')}"}


def month_and_project_of_usage_sk(sk: object) -> tuple[str, str]:
    _, month, project = str(sk).split("#", 2)
    return month, project


def refusals_key(org: str, minute: str) -> Key:
    """The counter of refusal events audited for ``org`` in one UTC minute (``yyyy-mm-ddThh:mm``)."""
    return {"pk": org_pk(org), "sk": f"{REFUSALS}{minute}"}


def scim_token_key(org: str) -> Key:
    return {"pk": org_pk(org), "sk": SCIM_TOKEN}


def scim_resource_key(org: str, prefix: str, scim_id: str) -> Key:
    """A SCIM User (``SCIM_USER``) or Group (``SCIM_GROUP``); ``scim_id`` is one the service assigned."""
    return {"pk": org_pk(org), "sk": f"{prefix}{scim_id}"}


def event_sk(seq: int) -> str:
    return f"{EVENT}{seq:012d}"


def event_key(org: str, seq: int) -> Key:
    return {"pk": org_pk(org), "sk": event_sk(seq)}


def all_items(
    operation: Callable[..., Mapping[str, Any]], *, limit: int | None = None, **request: Any
) -> Iterator[dict[str, Any]]:
    """Every item a ``Table.query`` or ``Table.scan`` returns, following ``LastEvaluatedKey`` page after page.

    DynamoDB stops a page at 1 MB (or at ``Limit``), so a single call can silently miss items; this is the one
    place that loops. With ``limit``, at most that many items are read and each page asks only for what is left.
    """
    remaining = limit
    while remaining is None or remaining > 0:
        page = operation(**request) if remaining is None else operation(Limit=remaining, **request)
        items: list[dict[str, Any]] = list(page.get("Items", []))
        yield from items
        if remaining is not None:
            remaining -= len(items)
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
