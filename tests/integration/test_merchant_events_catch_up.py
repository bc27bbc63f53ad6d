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
from payments.store.merchant_events import MerchantEventStore
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
