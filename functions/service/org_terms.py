"""The org record follows the deployment's customer config: plan and the retention the lifecycle enforces.

A deployment is told its tenants' terms (``HETERO2_TENANTS``: org → plan, retention_days) and the CDK app turns
each tenant's retention into an S3 lifecycle rule. The org record is written once at creation, so without this
module a plan change in the config would never reach the record the quota reads, and an admin could PATCH a
retention the lifecycle rule does not keep (objects would vanish before the record says). :func:`sync` runs on
every authorized API call (it already has the record in hand), changes the record only when it differs, and
audits each change as ``system:config``. Only the record's ``plan`` and ``retention_days`` are written here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.service import audit_log
from functions.service.directory import Org
from functions.service.observability import logger

if TYPE_CHECKING:
    from functions.service.context import ServiceContext

CONFIG_ACTOR = "system:config"


def configured(ctx: ServiceContext, org: str) -> dict[str, Any] | None:
    """The org's terms in the customer config, or None where no config binds it (the local server)."""
    terms = ctx.settings.tenants.get(org)
    return terms if isinstance(terms, dict) else None


def max_retention_days(ctx: ServiceContext, org: str) -> int | None:
    """The longest retention the lifecycle rule keeps the org's objects for; None where there is no rule."""
    terms = configured(ctx, org)
    days = terms.get("retention_days") if terms else None
    return days if isinstance(days, int) and not isinstance(days, bool) else None


def sync(ctx: ServiceContext, found: Org) -> Org:
    """Bring ``found`` (the org record as read) to the configured plan and retention bound; returns it as stored."""
    terms = configured(ctx, found.org)
    if terms is None:
        return found
    plan, retention = found.plan, found.retention_days
    wanted_plan = terms.get("plan")
    if isinstance(wanted_plan, str) and wanted_plan != found.plan:
        previous = ctx.quotas.set_plan(found.org, wanted_plan)
        _audit_change(ctx, found.org, audit_log.QUOTA_CHANGE, {"plan": wanted_plan, "previous_plan": previous})
        logger.info("org plan follows the customer config", extra={"org": found.org, "plan": wanted_plan})
        plan = wanted_plan
    bound = max_retention_days(ctx, found.org)
    if bound is not None and found.retention_days > bound:
        ctx.directory.set_retention_days(found.org, bound)
        _audit_change(
            ctx,
            found.org,
            audit_log.RETENTION_CHANGE,
            {"retention_days": bound, "previous_retention_days": found.retention_days},
        )
        retention = bound
    return Org(found.org, found.name, plan, retention, found.created_at, found.external_sharing)


def _audit_change(ctx: ServiceContext, org: str, action: str, details: dict[str, Any]) -> None:
    """One audit event for a change the config made: acted by ``system:config`` on the org itself."""
    ctx.audit.append(
        org,
        actor=CONFIG_ACTOR,
        action=action,
        target=org,
        outcome="success",
        details={**details, "source": "customer config"},
    )
