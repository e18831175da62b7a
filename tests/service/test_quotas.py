"""Plans and quotas: one conditional write takes the month's molecules, and races cannot overshoot (running slots are
the job queue's: tests/service/test_job_queue.py)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from functions.service import quotas
from functions.service.errors import OrgPlanError, QuotaExceededError, TransientServiceError
from functions.service.quotas import PLANS, PlanLimits, QuotaGuard
from functions.service.settings import DEFAULT_FARGATE_MIN_ROWS, DEFAULT_MAX_CONCURRENCY
from tests.service.conftest import race

MONTH = "2025-03"


@pytest.fixture
def guard(table: Any) -> QuotaGuard:
    return QuotaGuard(table)


def _org(table: Any, org: str, plan: str | None) -> None:
    item: dict[str, Any] = {"pk": f"ORG#{org}", "sk": "META", "org": org, "retention_days": 30}
    if plan is not None:
        item["plan"] = plan
    table.put_item(Item=item)


def _refusal(error: QuotaExceededError) -> tuple[str, int, int, int]:
    return error.quota, error.limit, error.requested, error.used


def _counts(guard: QuotaGuard, org: str = "org-a", month: str = MONTH) -> int:
    status = guard.status(org, month)
    assert status.running_jobs == 0, "reserving molecules takes no running slot"
    return status.molecules_used


# --- plans ---


def test_plan_numbers_are_consistent() -> None:
    assert list(PLANS) == ["trial", "standard", "enterprise"]
    for limits in PLANS.values():
        assert limits.rows_per_job <= limits.molecules_per_month
        assert 1 <= limits.max_workers <= DEFAULT_MAX_CONCURRENCY
    assert PLANS["trial"].rows_per_job >= 2_000  # the demo job fits a trial
    assert PLANS["standard"].rows_per_job < DEFAULT_FARGATE_MIN_ROWS <= PLANS["enterprise"].rows_per_job
    assert [p.concurrent_jobs for p in PLANS.values()] == sorted(p.concurrent_jobs for p in PLANS.values())


@pytest.mark.parametrize("plan", ["trial", "standard", "enterprise"])
def test_limits_of_reads_the_org_plan(table: Any, guard: QuotaGuard, plan: str) -> None:
    _org(table, "org-a", plan)
    limits = guard.limits_of("org-a")
    assert limits == PLANS[plan]
    assert limits.as_dict()["plan"] == plan


def test_org_record_without_a_plan_is_on_trial(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", None)
    assert guard.limits_of("org-a").plan == "trial"


def test_unknown_org_or_plan_is_refused(table: Any, guard: QuotaGuard) -> None:
    with pytest.raises(OrgPlanError, match="no record"):
        guard.limits_of("org-a")
    _org(table, "org-a", "platinum")
    with pytest.raises(OrgPlanError, match="unknown plan 'platinum'"):
        guard.limits_of("org-a")


def test_set_plan_returns_the_previous_plan(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "trial")
    assert guard.set_plan("org-a", "enterprise") == "trial"
    assert guard.limits_of("org-a").plan == "enterprise"
    with pytest.raises(OrgPlanError, match="unknown plan"):
        guard.set_plan("org-a", "free")
    with pytest.raises(OrgPlanError, match="no record"):
        guard.set_plan("org-b", "standard")
    assert guard.limits_of("org-a").plan == "enterprise"


# --- reserve ---


def test_reserve_takes_molecules_and_no_slot(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "standard")
    reservation = guard.reserve("org-a", "proj", 1_500, MONTH)
    assert (reservation.rows, reservation.month, reservation.limits) == (1_500, MONTH, PLANS["standard"])
    guard.reserve("org-a", "proj", 500, MONTH)
    assert _counts(guard) == 2_000
    status = guard.status("org-a", MONTH).as_dict()
    assert status["limits"]["max_workers"] == PLANS["standard"].max_workers


def test_rows_per_job_is_checked_first(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "trial")
    with pytest.raises(QuotaExceededError) as caught:
        guard.reserve("org-a", "proj", 2_001, MONTH)
    assert _refusal(caught.value) == ("rows_per_job", 2_000, 2_001, 0)
    assert _counts(guard) == 0


def test_monthly_molecules_may_reach_but_not_pass_the_limit(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "standard")
    for _ in range(4):
        guard.reserve("org-a", "proj", 250_000, MONTH)
    assert _counts(guard) == 1_000_000
    with pytest.raises(QuotaExceededError) as caught:
        guard.reserve("org-a", "proj", 1, MONTH)
    assert _refusal(caught.value) == ("molecules_per_month", 1_000_000, 1, 1_000_000)
    assert "molecules_per_month" in str(caught.value)
    assert _counts(guard) == 1_000_000
    guard.reserve("org-a", "proj", 1, "2025-04")  # a new month starts from zero
    assert _counts(guard, month="2025-04") == 1


def test_orgs_have_separate_counters(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "trial")
    _org(table, "org-b", "trial")
    guard.reserve("org-a", "proj", 100, MONTH)
    guard.reserve("org-b", "proj", 100, MONTH)
    guard.reserve("org-b", "proj", 50, MONTH)
    assert _counts(guard, "org-a") == 100
    assert _counts(guard, "org-b") == 150


@pytest.mark.parametrize(
    ("rows", "month", "error"),
    [(-1, MONTH, ValueError), (True, MONTH, ValueError), (10, "2025-13", ValueError), (10, "March", ValueError)],
)
def test_bad_reservations_are_refused(table: Any, guard: QuotaGuard, rows: Any, month: str, error: type) -> None:
    _org(table, "org-a", "standard")
    with pytest.raises(error):
        guard.reserve("org-a", "proj", rows, month)
    assert guard.status("org-a", MONTH).running_jobs == 0


def test_reserve_for_an_org_without_a_record_is_refused(guard: QuotaGuard) -> None:
    with pytest.raises(OrgPlanError):
        guard.reserve("org-a", "proj", 1, MONTH)


# --- refund ---


def test_refund_gives_molecules_back_but_not_below_zero(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "standard")
    guard.reserve("org-a", "proj", 100, MONTH)
    assert guard.refund("org-a", MONTH, 101) is False
    assert guard.refund("org-a", MONTH, 0) is False
    assert guard.refund("org-a", MONTH, 60) is True
    assert _counts(guard) == 40
    assert guard.refund("org-a", "2025-01", 5) is False


# --- races ---


def test_racing_reservations_never_exceed_monthly_molecules(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "enterprise")
    limits: PlanLimits = PLANS["enterprise"]

    def attempt(_: int) -> str:
        try:
            guard.reserve("org-a", "proj", limits.rows_per_job, MONTH)
        except QuotaExceededError as exc:
            return exc.quota
        return "ok"

    outcomes = race(7, attempt)
    fits = limits.molecules_per_month // limits.rows_per_job
    assert outcomes.count("ok") == fits
    assert outcomes.count("molecules_per_month") == 7 - fits
    assert _counts(guard) == limits.molecules_per_month


# --- transaction conflicts ---


def _conflicting_client(guard_table: Any, monkeypatch: pytest.MonkeyPatch, conflicts: int) -> list[int]:
    client = guard_table.meta.client
    original = client.transact_write_items
    calls: list[int] = []

    def transact(**kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) <= conflicts:
            reasons = [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * (len(kwargs["TransactItems"]) - 1)
            error = {"Code": "TransactionCanceledException", "Message": "conflict"}
            response: Any = {"Error": error, "CancellationReasons": reasons}  # what DynamoDB answers
            raise ClientError(response, "TransactWriteItems")
        return original(**kwargs)

    monkeypatch.setattr(client, "transact_write_items", transact)
    monkeypatch.setattr(time, "sleep", lambda _: None)  # the retry backoff
    return calls


JOB_KEY = {"pk": "ORG#org-a#PROJECT#proj", "sk": "JOB#j1"}


def _reserved_job(table: Any, guard: QuotaGuard, rows: int) -> None:
    guard.reserve("org-a", "proj", rows, MONTH)
    table.put_item(Item={**JOB_KEY, "quota_reserved": True})


def test_a_refund_with_its_flag_happens_once(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "standard")
    _reserved_job(table, guard, 100)
    assert guard.release_job(JOB_KEY, "org-a", MONTH, 70) is True
    assert guard.release_job(JOB_KEY, "org-a", MONTH, 70) is False
    assert _counts(guard) == 30
    assert "quota_reserved" not in table.get_item(Key=JOB_KEY)["Item"]


def test_a_refund_larger_than_the_count_takes_the_flag_and_leaves_the_count(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "standard")
    _reserved_job(table, guard, 10)
    assert guard.release_job(JOB_KEY, "org-a", MONTH, 11) is True
    assert _counts(guard) == 10
    assert "quota_reserved" not in table.get_item(Key=JOB_KEY)["Item"]


def test_a_transaction_conflict_is_retried(table: Any, guard: QuotaGuard, monkeypatch: pytest.MonkeyPatch) -> None:
    _org(table, "org-a", "standard")
    _reserved_job(table, guard, 10)
    calls = _conflicting_client(table, monkeypatch, conflicts=2)
    assert guard.release_job(JOB_KEY, "org-a", MONTH, 10) is True
    assert len(calls) == 3
    assert _counts(guard) == 0


def test_a_lasting_conflict_is_a_transient_error(
    table: Any, guard: QuotaGuard, monkeypatch: pytest.MonkeyPatch
) -> None:
    _org(table, "org-a", "standard")
    _reserved_job(table, guard, 10)
    _conflicting_client(table, monkeypatch, conflicts=100)
    with pytest.raises(TransientServiceError):
        guard.release_job(JOB_KEY, "org-a", MONTH, 10)
    assert _counts(guard) == 10


def test_quota_error_is_importable_from_the_quotas_module() -> None:
    assert quotas.QuotaExceededError is QuotaExceededError
