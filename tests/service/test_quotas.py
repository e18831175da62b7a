"""Plans and quotas: one transaction takes molecules and a running slot together, and races cannot overshoot."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from functions.service import quotas
from functions.service.errors import OrgPlanError, QuotaExceededError, TransientServiceError
from functions.service.quotas import PLANS, PlanLimits, QuotaGuard
from functions.service.settings import DEFAULT_FARGATE_MIN_ROWS, DEFAULT_MAX_CONCURRENCY
from functions.service.table import slot_key

if TYPE_CHECKING:
    from collections.abc import Callable

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


def _counts(guard: QuotaGuard, org: str = "org-a", month: str = MONTH) -> tuple[int, int]:
    status = guard.status(org, month)
    return status.molecules_used, status.running_jobs


def _race(n: int, attempt: Callable[[int], str]) -> list[str]:
    barrier = threading.Barrier(n)
    outcomes: list[str] = []

    def run(index: int) -> None:
        barrier.wait()
        outcomes.append(attempt(index))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


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


def test_reserve_takes_molecules_and_a_slot(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "standard")
    reservation = guard.reserve("org-a", "proj", 1_500, MONTH)
    assert (reservation.rows, reservation.month, reservation.limits) == (1_500, MONTH, PLANS["standard"])
    assert reservation.already_held is False
    guard.reserve("org-a", "proj", 500, MONTH)
    assert _counts(guard) == (2_000, 2)
    status = guard.status("org-a", MONTH).as_dict()
    assert status["limits"]["max_workers"] == PLANS["standard"].max_workers


def test_rows_per_job_is_checked_first(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "trial")
    with pytest.raises(QuotaExceededError) as caught:
        guard.reserve("org-a", "proj", 2_001, MONTH)
    assert _refusal(caught.value) == ("rows_per_job", 2_000, 2_001, 0)
    assert _counts(guard) == (0, 0)


def test_monthly_molecules_may_reach_but_not_pass_the_limit(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "standard")
    for _ in range(4):
        guard.reserve("org-a", "proj", 250_000, MONTH)
    assert _counts(guard) == (1_000_000, 4)
    with pytest.raises(QuotaExceededError) as caught:
        guard.reserve("org-a", "proj", 1, MONTH)
    assert _refusal(caught.value) == ("molecules_per_month", 1_000_000, 1, 1_000_000)
    assert "molecules_per_month" in str(caught.value)
    assert _counts(guard) == (1_000_000, 4)  # the slot was not taken either
    guard.reserve("org-a", "proj", 1, "2025-04")  # a new month starts from zero
    assert _counts(guard, month="2025-04") == (1, 5)


def test_concurrent_jobs_limit_refuses_without_counting_molecules(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "trial")
    guard.reserve("org-a", "proj", 100, MONTH)
    with pytest.raises(QuotaExceededError) as caught:
        guard.reserve("org-a", "proj", 100, MONTH)
    assert _refusal(caught.value) == ("concurrent_jobs", 1, 1, 1)
    assert _counts(guard) == (100, 1)
    assert guard.release("org-a") is True
    guard.reserve("org-a", "proj", 100, MONTH)
    assert _counts(guard) == (200, 1)


def test_orgs_have_separate_counters(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "trial")
    _org(table, "org-b", "trial")
    guard.reserve("org-a", "proj", 100, MONTH)
    guard.reserve("org-b", "proj", 100, MONTH)
    assert _counts(guard, "org-a") == (100, 1)
    assert _counts(guard, "org-b") == (100, 1)


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


# --- release and refund ---


def test_release_never_goes_below_zero(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "standard")
    assert guard.release("org-a") is False
    guard.reserve("org-a", "proj", 10, MONTH)
    assert guard.release("org-a") is True
    assert guard.release("org-a") is False
    assert _counts(guard) == (10, 0)


def test_a_named_job_reserves_and_releases_once(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "standard")
    first = guard.reserve("org-a", "proj", 300, MONTH, job="j1")
    again = guard.reserve("org-a", "proj", 300, MONTH, job="j1")
    assert (first.already_held, again.already_held) == (False, True)
    assert (again.rows, again.month, again.job) == (300, MONTH, "j1")
    assert _counts(guard) == (300, 1)
    guard.reserve("org-a", "other", 300, MONTH, job="j1")  # same job id in another project is another job
    assert _counts(guard) == (600, 2)
    assert guard.release("org-a", project="proj", job="j1") is True
    assert guard.release("org-a", project="proj", job="j1") is False
    assert _counts(guard) == (600, 1)


def test_a_held_slot_is_reported_even_when_the_month_is_full(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "trial")
    guard.reserve("org-a", "proj", 2_000, MONTH, job="j1")
    again = guard.reserve("org-a", "proj", 2_000, MONTH, job="j1")
    assert again.already_held is True
    assert _counts(guard) == (2_000, 1)


def test_releasing_a_job_slot_after_the_counter_drifted_to_zero(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "standard")
    guard.reserve("org-a", "proj", 10, MONTH, job="j1")
    assert guard.release("org-a") is True  # a caller gave the slot back without naming the job
    assert guard.release("org-a", project="proj", job="j1") is True
    assert table.get_item(Key=slot_key("org-a", "proj", "j1")).get("Item") is None
    assert _counts(guard) == (10, 0)


def test_release_of_a_job_needs_its_project(guard: QuotaGuard) -> None:
    with pytest.raises(ValueError, match="project"):
        guard.release("org-a", job="j1")


def test_refund_gives_molecules_back_but_not_below_zero(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "standard")
    guard.reserve("org-a", "proj", 100, MONTH)
    assert guard.refund("org-a", MONTH, 101) is False
    assert guard.refund("org-a", MONTH, 0) is False
    assert guard.refund("org-a", MONTH, 60) is True
    assert _counts(guard) == (40, 1)
    assert guard.refund("org-a", "2025-01", 5) is False


# --- races ---


def test_racing_reservations_never_exceed_concurrent_jobs(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "standard")

    def attempt(_: int) -> str:
        try:
            guard.reserve("org-a", "proj", 10, MONTH)
        except QuotaExceededError as exc:
            return exc.quota
        return "ok"

    outcomes = _race(9, attempt)
    assert outcomes.count("ok") == PLANS["standard"].concurrent_jobs
    assert outcomes.count("concurrent_jobs") == 9 - PLANS["standard"].concurrent_jobs
    assert _counts(guard) == (10 * PLANS["standard"].concurrent_jobs, PLANS["standard"].concurrent_jobs)


def test_racing_reservations_never_exceed_monthly_molecules(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "enterprise")
    limits: PlanLimits = PLANS["enterprise"]

    def attempt(_: int) -> str:
        try:
            guard.reserve("org-a", "proj", limits.rows_per_job, MONTH)
        except QuotaExceededError as exc:
            return exc.quota
        return "ok"

    outcomes = _race(7, attempt)
    fits = limits.molecules_per_month // limits.rows_per_job
    assert outcomes.count("ok") == fits
    assert outcomes.count("molecules_per_month") == 7 - fits
    assert _counts(guard) == (limits.molecules_per_month, fits)


def test_racing_retries_of_one_job_count_it_once(table: Any, guard: QuotaGuard) -> None:
    _org(table, "org-a", "standard")

    def attempt(_: int) -> str:
        return "held" if guard.reserve("org-a", "proj", 50, MONTH, job="j1").already_held else "new"

    outcomes = _race(6, attempt)
    assert sorted(outcomes) == ["held"] * 5 + ["new"]
    assert _counts(guard) == (50, 1)


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


def test_a_transaction_conflict_is_retried(table: Any, guard: QuotaGuard, monkeypatch: pytest.MonkeyPatch) -> None:
    _org(table, "org-a", "standard")
    calls = _conflicting_client(table, monkeypatch, conflicts=2)
    guard.reserve("org-a", "proj", 10, MONTH)
    assert len(calls) == 3
    assert _counts(guard) == (10, 1)


def test_a_lasting_conflict_is_a_transient_error(
    table: Any, guard: QuotaGuard, monkeypatch: pytest.MonkeyPatch
) -> None:
    _org(table, "org-a", "standard")
    _conflicting_client(table, monkeypatch, conflicts=100)
    with pytest.raises(TransientServiceError):
        guard.reserve("org-a", "proj", 10, MONTH)
    assert _counts(guard) == (0, 0)


def test_quota_error_is_importable_from_the_quotas_module() -> None:
    assert quotas.QuotaExceededError is QuotaExceededError
