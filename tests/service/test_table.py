"""The main table's key layout and the one pagination loop (functions/service/table.py), on moto."""

from __future__ import annotations

from typing import Any

import pytest

from functions.service import table as keys
from functions.service.errors import InvalidIdentifierError


def _fill(table: Any, count: int) -> None:
    for i in range(count):
        table.put_item(Item={"pk": keys.org_pk("org-a"), "sk": f"{keys.PROJECT}p{i:02d}"})


def _query(table: Any, **extra: Any) -> list[dict[str, Any]]:
    return list(
        keys.all_items(
            table.query,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": keys.org_pk("org-a")},
            **extra,
        )
    )


def test_every_page_is_read_when_dynamodb_stops_a_page_early(table: Any) -> None:
    _fill(table, 12)
    items = _query(table, Limit=5)  # pages of 5, 5 and 2: only following LastEvaluatedKey finds them all
    assert [keys.project_of_sk(i["sk"]) for i in items] == [f"p{i:02d}" for i in range(12)]


def test_a_limit_reads_no_more_than_asked_across_pages(table: Any) -> None:
    _fill(table, 12)
    assert len(_query(table, limit=7)) == 7
    assert len(_query(table, limit=50)) == 12


def test_keys_are_the_documented_layout_and_refuse_unchecked_ids() -> None:
    assert keys.job_key("org-a", "proj", "j1") == {"pk": "ORG#org-a#PROJECT#proj", "sk": "JOB#j1"}
    entry = keys.queue_entry_key(1, "2027-01-01T00:00:00.000001Z", "org-a", "proj", "j1")
    assert entry == {"pk": "QUEUE", "sk": "WAIT#01#2027-01-01T00:00:00.000001Z#org-a#proj#j1"}
    assert keys.deployment_running_key() == {"pk": "QUEUE", "sk": "RUNNING"}
    assert keys.molecules_key("org-a", "2027-01") == {"pk": "ORG#org-a", "sk": "QUOTA#MOLECULES#2027-01"}
    assert keys.event_key("org-a", 7) == {"pk": "ORG#org-a", "sk": "EVENT#000000000007"}
    assert keys.month_and_project_of_usage_sk(keys.usage_key("org-a", "2027-01", "proj")["sk"]) == ("2027-01", "proj")
    with pytest.raises(InvalidIdentifierError):
        keys.org_pk("ORG#other")
    with pytest.raises(InvalidIdentifierError):
        keys.queue_entry_key(0, "t", "org-a", "proj", "j1#x")
