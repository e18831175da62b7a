"""Metering: atomic usage counters per org, project and month, read back per project and as an org total."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from functions.service.clock import checked_month, month_of
from functions.service.errors import InvalidIdentifierError
from functions.service.metering import Metering
from functions.service.table import usage_key
from tests.service.harness import REGION, TABLE

ZERO = {"molecules": 0, "decoys": 0, "worker_seconds": 0.0, "stored_bytes": 0}


@pytest.fixture
def metering(table: Any) -> Metering:
    return Metering(table)


def test_add_accumulates_on_the_contract_key(table: Any, metering: Metering) -> None:
    metering.add("org-a", "proj", "2025-03", molecules=2_000, decoys=40_000, worker_seconds=12.5, stored_bytes=1_024)
    metering.add("org-a", "proj", "2025-03", molecules=10, worker_seconds=0.25)
    item = table.get_item(Key={"pk": "ORG#org-a", "sk": "USAGE#2025-03#proj"})["Item"]
    assert (item["org"], item["project"], item["month"]) == ("org-a", "proj", "2025-03")
    report = metering.usage("org-a", "2025-03")
    assert report["projects"] == [
        {
            "org": "org-a",
            "project": "proj",
            "month": "2025-03",
            "molecules": 2_010,
            "decoys": 40_000,
            "worker_seconds": 12.75,
            "stored_bytes": 1_024,
        }
    ]
    assert report["total"] == {"molecules": 2_010, "decoys": 40_000, "worker_seconds": 12.75, "stored_bytes": 1_024}


def test_usage_per_project_with_an_org_total(metering: Metering) -> None:
    metering.add("org-a", "beta", "2025-03", molecules=5, decoys=50)
    metering.add("org-a", "alpha", "2025-03", molecules=7, stored_bytes=100)
    metering.add("org-a", "alpha", "2025-04", molecules=1_000)
    metering.add("org-b", "alpha", "2025-03", molecules=99)
    march = metering.usage("org-a", "2025-03")
    assert (march["org"], march["month"]) == ("org-a", "2025-03")
    assert [(p["project"], p["molecules"]) for p in march["projects"]] == [("alpha", 7), ("beta", 5)]
    assert march["total"] == {"molecules": 12, "decoys": 50, "worker_seconds": 0.0, "stored_bytes": 100}
    every_month = metering.usage("org-a")
    assert every_month["month"] is None
    assert [(p["month"], p["project"]) for p in every_month["projects"]] == [
        ("2025-03", "alpha"),
        ("2025-03", "beta"),
        ("2025-04", "alpha"),
    ]
    assert every_month["total"]["molecules"] == 1_012


def test_usage_of_a_quiet_month_is_zero(metering: Metering) -> None:
    report = metering.usage("org-a", "2025-03")
    assert report["projects"] == []
    assert report["total"] == ZERO


def test_usage_ignores_other_items_of_the_org(table: Any, metering: Metering) -> None:
    table.put_item(Item={"pk": "ORG#org-a", "sk": "META", "plan": "trial", "molecules": 5})
    table.put_item(Item={"pk": "ORG#org-a", "sk": "QUOTA#MOLECULES#2025-03", "used": 5})
    metering.add("org-a", "proj", "2025-03", decoys=3)
    assert [p["project"] for p in metering.usage("org-a")["projects"]] == ["proj"]


def test_nothing_to_add_writes_nothing(table: Any, metering: Metering) -> None:
    metering.add("org-a", "proj", "2025-03")
    assert table.scan()["Items"] == []


def test_worker_seconds_are_kept_to_the_millisecond(metering: Metering) -> None:
    for _ in range(3):
        metering.add("org-a", "proj", "2025-03", worker_seconds=0.1)
    metering.add("org-a", "proj", "2025-03", worker_seconds=1 / 3)
    assert metering.usage("org-a", "2025-03")["total"]["worker_seconds"] == 0.633


def test_concurrent_adds_lose_nothing(table: Any) -> None:
    barrier = threading.Barrier(6)

    def report(index: int) -> None:
        own = Metering(boto3.session.Session().resource("dynamodb", region_name=REGION).Table(TABLE))
        barrier.wait()
        for _ in range(5):
            own.add("org-a", "proj", "2025-03", molecules=index + 1, decoys=2)

    threads = [threading.Thread(target=report, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Metering(table).usage("org-a", "2025-03")["total"]
    assert (total["molecules"], total["decoys"]) == (5 * sum(range(1, 7)), 5 * 6 * 2)


@pytest.mark.parametrize(
    "amounts", [{"molecules": -1}, {"decoys": -5}, {"worker_seconds": -0.5}, {"stored_bytes": -10}]
)
def test_counters_only_grow(table: Any, metering: Metering, amounts: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="only grow"):
        metering.add("org-a", "proj", "2025-03", **{"decoys": 1, **amounts})
    assert table.scan()["Items"] == []


@pytest.mark.parametrize(
    ("org", "project", "month", "error"),
    [
        ("org-a", "proj", "2025-3", ValueError),
        ("org-a", "proj", "2025-00", ValueError),
        ("org-a", "proj", "25-03", ValueError),
        ("../org-b", "proj", "2025-03", InvalidIdentifierError),
        ("org-a", "proj#x", "2025-03", InvalidIdentifierError),
    ],
)
def test_bad_keys_are_refused(metering: Metering, org: str, project: str, month: str, error: type) -> None:
    with pytest.raises(error):
        metering.add(org, project, month, molecules=1)


def test_bad_month_filter_is_refused(metering: Metering) -> None:
    with pytest.raises(ValueError, match="yyyy-mm"):
        metering.usage("org-a", "2025")


def test_month_of_is_the_utc_month() -> None:
    late_evening_in_new_york = datetime(2025, 3, 31, 21, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert month_of(late_evening_in_new_york) == "2025-04"
    assert month_of(datetime(2025, 12, 31, 23, 59, tzinfo=UTC)) == "2025-12"
    with pytest.raises(ValueError, match="timezone"):
        month_of(datetime(2025, 3, 1))  # naive on purpose
    assert checked_month("2025-11") == "2025-11"
    assert usage_key("org-a", "2025-11", "proj") == {"pk": "ORG#org-a", "sk": "USAGE#2025-11#proj"}
