"""The store against moto's DynamoDB: conditional writes, atomic events, the transition engine's retries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from payments.config import ProviderDirectory
from payments.orders import OrderEvent, OrderStatus
from payments.service import PaymentsService
from payments.store import ConcurrentUpdateError, OrdersStore, iso
from tests.conftest import Stack
from tests.support.orders import stored_order
from tests.support.store import event_items, order_item

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def event(type_: str = "test") -> OrderEvent:
    return OrderEvent(type=type_, at=iso(datetime.now(UTC)), source="test")


@pytest.fixture
def store(stack: Stack) -> OrdersStore:
    return OrdersStore(stack.table_name)


def test_create_is_conditional_and_returns_the_existing_order(store: OrdersStore, stack: Stack) -> None:
    assert store.create(stored_order(), event("order_created")) is None
    other = stored_order()
    other.request_hash = "hash-2"
    existing = store.create(other, event("order_created"))
    assert existing is not None
    assert existing.request_hash == "hash-1"
    assert len(event_items(stack.table_name, "s-1")) == 1  # the refused create wrote no event either


def test_stale_version_is_refused_and_writes_nothing(store: OrdersStore, stack: Stack) -> None:
    order = stored_order()
    store.create(order, event())
    store.change(order, event(), status=OrderStatus.PENDING, now=NOW)
    with pytest.raises(ConcurrentUpdateError):
        store.change(order, event("late"), status=OrderStatus.FAILED, now=NOW)  # read at version 1
    item = order_item(stack.table_name, "s-1")
    assert item is not None
    assert (item["status"], item["version"]) == ("pending", 2)
    assert [e["type"] for e in event_items(stack.table_name, "s-1")] == ["test", "test"]


def test_engine_rereads_after_a_lost_race(store: OrdersStore, stack: Stack) -> None:
    service = PaymentsService(store, ProviderDirectory())
    stale = stored_order()
    store.create(stale, event())
    fresh = store.change(stale, event(), status=OrderStatus.PENDING, now=NOW)  # someone else got there first
    result = service._apply(stale, OrderStatus.PAID, event("notification"))
    assert result.status == OrderStatus.PAID
    assert result.version == fresh.version + 1
    last = event_items(stack.table_name, "s-1")[-1]
    assert (last["from_status"], last["to_status"]) == ("pending", "paid")  # decided on what was really there


def test_engine_ignores_a_move_that_became_backwards(store: OrdersStore, stack: Stack) -> None:
    service = PaymentsService(store, ProviderDirectory())
    stale = stored_order()
    store.create(stale, event())
    paid = store.change(stale, event(), status=OrderStatus.PAID, now=NOW)
    result = service._apply(stale, OrderStatus.EXPIRED, event("notification"), record_ignored=True)
    assert (result.status, result.version) == (OrderStatus.PAID, paid.version)
    assert event_items(stack.table_name, "s-1")[-1]["type"] == "notification_ignored"


def test_history_is_returned_oldest_first(store: OrdersStore) -> None:
    order = stored_order()
    store.create(order, OrderEvent(type="first", at=iso(NOW), source="t"))
    store.record_event("s-1", OrderEvent(type="third", at="2026-11-22T12:00:02.000000Z", source="t"))
    store.record_event("s-1", OrderEvent(type="second", at="2026-11-22T12:00:01.000000Z", source="t"))
    found = store.get_with_events("s-1")
    assert found is not None
    assert [e.type for e in found[1]] == ["first", "second", "third"]
