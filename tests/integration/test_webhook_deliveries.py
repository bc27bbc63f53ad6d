"""Each merchant event's webhook delivery status in the table (payments/store/webhook_deliveries.py):
one item per event, one UpdateItem per outcome, read for an order's events in one BatchGetItem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from payments.errors import StoreUnavailable
from payments.store.table import CONFLICT_ATTEMPTS, Table
from payments.store.webhook_deliveries import (
    DEAD_LETTERED,
    DELIVERED,
    RETRYING,
    WEBHOOK_DELIVERY_TTL_S,
    WebhookDeliveries,
    delivery_key,
)
from tests.conftest import Stack

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def deliveries(stack: Stack) -> WebhookDeliveries:
    return WebhookDeliveries(Table(stack.table_name))


def test_each_outcome_is_the_events_status_and_every_attempt_is_counted(
    deliveries: WebhookDeliveries,
) -> None:
    deliveries.record("evt_a", RETRYING, NOW, error="HTTP 500", next_try_at=NOW + timedelta(seconds=30))
    retrying = deliveries.statuses(["evt_a"])["evt_a"]
    assert (retrying.status, retrying.attempts, retrying.last_error) == (RETRYING, 1, "HTTP 500")
    assert (retrying.next_try_at, retrying.delivered_at) == ("2026-12-01T12:00:30.000000Z", None)

    deliveries.record("evt_a", DEAD_LETTERED, NOW + timedelta(days=1), error="timeout")
    dead = deliveries.statuses(["evt_a"])["evt_a"]
    assert (dead.status, dead.attempts, dead.last_error, dead.next_try_at) == (
        DEAD_LETTERED,
        2,
        "timeout",
        None,
    )

    later = NOW + timedelta(days=2)  # redelivered, and this time it is taken
    deliveries.record("evt_a", DELIVERED, later)
    delivered = deliveries.statuses(["evt_a"])["evt_a"].to_public()
    assert delivered == {
        "status": DELIVERED,
        "attempts": 3,
        "last_error": None,
        "last_attempt_at": "2026-12-03T12:00:00.000000Z",
        "delivered_at": "2026-12-03T12:00:00.000000Z",
        "next_try_at": None,
    }


def test_the_status_expires_with_the_events(deliveries: WebhookDeliveries, stack: Stack) -> None:
    deliveries.record("evt_b", DELIVERED, NOW)
    item = boto3.client("dynamodb").get_item(TableName=stack.table_name, Key=delivery_key("evt_b"))["Item"]
    assert (
        int(item["ttl"]["N"])
        == int(NOW.timestamp()) + WEBHOOK_DELIVERY_TTL_S
        == int(NOW.timestamp()) + 30 * 86400
    )


def test_a_hundred_statuses_in_one_batch_read_and_none_for_events_not_tried(
    deliveries: WebhookDeliveries, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [f"evt_{n:03d}" for n in range(100)]
    for event_id in ids[::2]:
        deliveries.record(event_id, DELIVERED, NOW)
    client = deliveries.table.client
    calls: list[int] = []
    real = client.batch_get_item

    def counted(**request: Any) -> Any:
        calls.append(len(next(iter(request["RequestItems"].values()))["Keys"]))
        return real(**request)

    monkeypatch.setattr(client, "batch_get_item", counted)
    found = deliveries.statuses(ids)
    assert sorted(found) == ids[::2]
    assert calls == [100]
    assert deliveries.statuses([]) == {}
    assert calls == [100]  # nothing to read: no call
    with pytest.raises(ValueError, match="at most 100"):
        deliveries.statuses([f"evt_{n}" for n in range(101)])


class Throttling:
    """BatchGetItem throttled as DynamoDB throttles it: its first answer takes one key and leaves the
    others unprocessed; `always`: every answer leaves every key unprocessed."""

    def __init__(self, real: Any, always: bool = False) -> None:
        self.real, self.always, self.calls = real, always, 0

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803  (botocore's name)
        self.calls += 1
        ((table, request),) = RequestItems.items()
        if self.always:
            return {"Responses": {table: []}, "UnprocessedKeys": RequestItems}
        if self.calls > 1:
            return self.real.batch_get_item(RequestItems=RequestItems)  # type: ignore[no-any-return]
        answer = self.real.batch_get_item(RequestItems={table: {**request, "Keys": request["Keys"][:1]}})
        answer["UnprocessedKeys"] = {table: {**request, "Keys": request["Keys"][1:]}}
        return answer  # type: ignore[no-any-return]


def test_keys_left_unprocessed_are_asked_again_and_a_read_that_never_completes_is_unavailable(
    stack: Stack,
) -> None:
    writer = WebhookDeliveries(Table(stack.table_name))
    for event_id in ("evt_1", "evt_2", "evt_3"):
        writer.record(event_id, DELIVERED, NOW)
    throttled = Throttling(boto3.client("dynamodb"))
    assert sorted(
        WebhookDeliveries(Table(stack.table_name, throttled)).statuses(["evt_1", "evt_2", "evt_3"])
    ) == [
        "evt_1",
        "evt_2",
        "evt_3",
    ]
    assert throttled.calls == 2
    never = Throttling(boto3.client("dynamodb"), always=True)
    with pytest.raises(StoreUnavailable):
        WebhookDeliveries(Table(stack.table_name, never)).statuses(["evt_1", "evt_2", "evt_3"])
    assert never.calls == CONFLICT_ATTEMPTS  # a bounded number of tries, then the store is unavailable
