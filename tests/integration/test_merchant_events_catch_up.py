"""GET /events?after=<id>: a merchant paging with `after` sees every event exactly once, also events
stored late (stream lag, another shard, two publishers at once) whose change was recorded before an
event the merchant already holds as its cursor."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from payments.errors import ValidationFailed
from payments.orders import OrderEvent
from payments.orders import OrderStatus as S
from payments.outbox import event_queries
from payments.outbox.merchant_events import MerchantEvent, merchant_events
from payments.outbox.publisher import EventPublisher
from payments.store.merchant_events import (
    LEGACY_MERCHANT_EVENTS_PK,
    MERCHANT_EVENTS_PREFIX,
    MerchantEventStore,
    event_partition,
)
from payments.store.shards import every_shard
from payments.store.table import Table
from tests.conftest import Stack

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
Page = Callable[..., dict[str, Any]]


@pytest.fixture
def publisher(stack: Stack) -> EventPublisher:
    boto3.client("events").create_event_bus(Name="catch-up")
    return EventPublisher(MerchantEventStore(Table(stack.table_name)), boto3.client("events"), "catch-up")


@pytest.fixture
def page(publisher: EventPublisher) -> Page:
    """GET /events as the merchant pages it: after an event's id, `limit` at a time."""

    def read(after: str | None, limit: int = 100) -> dict[str, Any]:
        return event_queries.events_page(publisher.store, after, str(limit))

    return read


def paid(order_id: str, recorded: datetime) -> MerchantEvent:
    """The `order.paid` event of a change recorded (committed) at `recorded`."""
    at = recorded.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    audit = OrderEvent(
        type="notification", at=at, source="notification", seq=2, from_status=S.PENDING, to_status=S.PAID
    )
    [event] = merchant_events({"order_id": order_id, "status": "paid"}, audit, order_id)
    return event


def settled(monkeypatch: pytest.MonkeyPatch, seconds: float = 3600) -> None:
    """Look at the list `seconds` from now: every event stored so far is past the settle window."""
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    monkeypatch.setattr(event_queries, "utc_now", lambda: moment, raising=False)


def test_an_event_stored_after_the_merchants_cursor_is_listed_though_recorded_before_it(
    publisher: EventPublisher, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    early, late = paid("o-early", T0), paid("o-late", T0 - timedelta(seconds=5))
    assert late.id < early.id  # its id sorts before the cursor the merchant will hold
    publisher.publish(early, T0)
    settled(monkeypatch)
    first = page(None)
    assert [e["id"] for e in first["events"]] == [early.id]
    publisher.publish(late, T0)  # the other shard's publisher was behind
    settled(monkeypatch)
    assert [e["id"] for e in page(first["next_after"])["events"]] == [late.id]


def test_an_event_is_listed_only_once_the_settle_window_has_passed(
    publisher: EventPublisher, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = paid("o-1", T0)
    publisher.publish(event, T0)
    assert page(None)["events"] == []  # a publisher that stamped earlier may still be writing
    assert page(None)["next_after"] is None
    settled(monkeypatch, event_queries.SETTLE_S + 1)
    assert [e["id"] for e in page(None)["events"]] == [event.id]


@pytest.mark.parametrize("seed", range(3))
def test_paging_while_publishers_race_sees_every_event_exactly_once(
    publisher: EventPublisher, page: Page, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(seed)
    # Changes recorded over a minute, stored in an order that has nothing to do with it.
    events = [paid(f"o-{i}", T0 + timedelta(seconds=rng.uniform(0, 60))) for i in range(30)]
    rng.shuffle(events)
    seen: list[str] = []
    cursor: str | None = None
    for index, event in enumerate(events):
        publisher.publish(event, T0)
        publisher.publish(event, T0)  # a stream batch delivered again: kept once
        if index % 4 == 3:  # the merchant catches up now and then, a page of two at a time
            settled(monkeypatch)
            while answer := page(cursor, 2)["events"]:
                seen.extend(e["id"] for e in answer)
                cursor = answer[-1]["id"]
    settled(monkeypatch)
    while answer := page(cursor, 2)["events"]:
        seen.extend(e["id"] for e in answer)
        cursor = answer[-1]["id"]
    assert sorted(seen) == sorted(e.id for e in events)  # every event, none twice


def test_ids_stay_the_merchants_handle_on_an_event(
    publisher: EventPublisher, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = paid("o-1", T0)
    publisher.publish(event, T0)
    assert publisher.redeliver(event.id) == event
    with pytest.raises(ValidationFailed) as unknown:  # a cursor we never gave out (or expired)
        page("evt_20260101T000000000000Z_0000000000000000")
    assert unknown.value.field == "after"


# -- the list over shards ----------------------------------------------------------------------------
def partitions_holding(stack: Stack, event_ids: list[str]) -> set[str]:
    client = boto3.client("dynamodb")
    found = set()
    for event_id in event_ids:
        for partition in (event_partition(event_id), LEGACY_MERCHANT_EVENTS_PK):
            page = client.query(
                TableName=stack.table_name,
                KeyConditionExpression="pk = :pk AND sk = :id",
                ExpressionAttributeValues={":pk": {"S": partition}, ":id": {"S": event_id}},
            )
            found |= {item["pk"]["S"] for item in page["Items"]}
    return found


def test_pages_over_every_shard_list_each_event_once_in_the_order_stored(
    publisher: EventPublisher, page: Page, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = [paid(f"sh-{i}", T0 + timedelta(seconds=i)) for i in range(40)]
    for event in events[:25]:
        publisher.publish(event, T0)
    assert len(partitions_holding(stack, [e.id for e in events[:25]])) >= 12  # spread, not one key
    settled(monkeypatch)
    seen: list[str] = []
    first = page(None, 3)
    seen.extend(e["id"] for e in first["events"])
    for event in events[25:]:  # stored between two page reads: listed after what was already paged
        publisher.publish(event, T0)
    settled(monkeypatch)
    cursor = first["next_after"]
    while answer := page(cursor, 3)["events"]:
        assert len(answer) <= 3
        seen.extend(e["id"] for e in answer)
        cursor = answer[-1]["id"]
    assert seen == [e.id for e in events]  # stored one after another: listed in that order, once each


def test_a_page_reads_each_shard_once_for_at_most_the_page(
    publisher: EventPublisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(10):
        publisher.publish(paid(f"b-{i}", T0), T0)
    asked: list[dict[str, Any]] = []
    call = publisher.store.table.call

    def counted(operation: str, **request: Any) -> Any:
        asked.append(request)
        return call(operation, **request)

    monkeypatch.setattr(publisher.store.table, "call", counted)
    bodies = publisher.store.listed_after(None, 4, datetime.now(UTC) + timedelta(days=1))
    assert bodies is not None
    assert len(bodies) == 4
    partitions = [request["ExpressionAttributeValues"][":pk"]["S"] for request in asked]
    assert sorted(partitions) == sorted([*every_shard(MERCHANT_EVENTS_PREFIX), LEGACY_MERCHANT_EVENTS_PK])
    assert all(request["Limit"] == 5 for request in asked)


def test_an_event_kept_under_the_old_single_key_is_still_listed_and_redelivered(
    publisher: EventPublisher, page: Page, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = paid("o-old", T0), paid("o-new", T0 + timedelta(seconds=1))
    body = old.body()
    listed = f"LISTED#{T0.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{old.id}"
    common = {"order_id": {"S": old.order_id}, "type": {"S": old.type}, "body": {"S": body}}
    client = boto3.client("dynamodb")
    for sort_key, extra in ((old.id, {"listed": {"S": listed}}), (listed, {})):
        client.put_item(
            TableName=stack.table_name,
            Item={"pk": {"S": LEGACY_MERCHANT_EVENTS_PK}, "sk": {"S": sort_key}, **common, **extra},
        )
    publisher.publish(new, T0 + timedelta(seconds=1))
    settled(monkeypatch)
    assert [e["id"] for e in page(None)["events"]] == [old.id, new.id]
    assert [e["id"] for e in page(old.id)["events"]] == [new.id]  # a cursor handed out before the deploy
    assert publisher.redeliver(old.id) == old
    assert publisher.redeliver(new.id) == new
