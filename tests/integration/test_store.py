"""The store against moto's DynamoDB: conditional writes, atomic events, the engine's retries, bounded
reads, the lease, and rejected attempts kept apart."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer

from payments.clock import iso
from payments.engine import Engine, Plan
from payments.errors import ConcurrentUpdateError
from payments.facts import RefundStatus
from payments.ledger import MERCHANT, Refund
from payments.money import Money
from payments.orders import OrderEvent, OrderStatus
from payments.store.orders import OrdersStore
from payments.store.rejected import KeptRequest, RejectedNotifications
from payments.store.table import Table
from tests.conftest import Stack
from tests.support.orders import stored_order
from tests.support.providers import ANOTHER_PROVIDER, ANY_PROVIDER
from tests.support.store import event_items, items, order_item

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def event(type_: str = "test") -> OrderEvent:
    return OrderEvent(type=type_, at=iso(datetime.now(UTC)), source="test")


def moved(target: OrderStatus, **kwargs: object) -> Callable[[Plan], None]:
    def decide(plan: Plan) -> None:
        plan.move(target, **kwargs)  # type: ignore[arg-type]

    return decide


@pytest.fixture
def store(stack: Stack) -> OrdersStore:
    return OrdersStore(Table(stack.table_name))


def test_create_is_conditional_and_returns_the_existing_order(store: OrdersStore, stack: Stack) -> None:
    assert store.create(stored_order(provider=ANY_PROVIDER), event("order_created")) is None
    other = stored_order(provider=ANY_PROVIDER)
    other.request_hash = "hash-2"
    existing = store.create(other, event("order_created"))
    assert existing is not None
    assert existing.request_hash == "hash-1"
    assert len(event_items(stack.table_name, "s-1")) == 1  # the refused create wrote no event either


def test_stale_version_is_refused_and_writes_nothing(store: OrdersStore, stack: Stack) -> None:
    store.create(stored_order(provider=ANY_PROVIDER), event())
    order = store.get("s-1")
    assert order is not None
    first = Plan(order, iso(NOW), event())
    first.move(OrderStatus.PENDING)
    store.commit(first)
    late = Plan(order, iso(NOW), event("late"))  # read at version 1
    late.move(OrderStatus.FAILED)
    with pytest.raises(ConcurrentUpdateError):
        store.commit(late)
    item = order_item(stack.table_name, "s-1")
    assert item is not None
    assert (item["status"], item["version"], item["event_seq"]) == ("pending", 2, 2)
    assert [e["seq"] for e in event_items(stack.table_name, "s-1")] == [1, 2]


def test_engine_rereads_after_a_lost_race(store: OrdersStore, stack: Stack) -> None:
    store.create(stored_order(provider=ANY_PROVIDER), event())
    stale = store.get("s-1")
    assert stale is not None
    someone = Plan(stale, iso(NOW), event())
    someone.move(OrderStatus.PENDING)
    fresh = store.commit(someone)  # someone else got there first
    result = Engine(store).run(stale, [], event("notification"), moved(OrderStatus.PAID)).order
    assert result.status == OrderStatus.PAID
    assert result.version == fresh.version + 1
    last = event_items(stack.table_name, "s-1")[-1]
    assert (last["from_status"], last["to_status"]) == ("pending", "paid")  # decided on what was really there


def test_engine_ignores_a_move_that_became_backwards(store: OrdersStore, stack: Stack) -> None:
    store.create(stored_order(provider=ANY_PROVIDER), event())
    stale = store.get("s-1")
    assert stale is not None
    paid = Plan(stale, iso(NOW), event())
    paid.move(OrderStatus.PAID)
    paid_order = store.commit(paid)
    result = (
        Engine(store)
        .run(stale, [], event("notification"), moved(OrderStatus.EXPIRED, record_ignored=True))
        .order
    )
    assert (result.status, result.version) == (OrderStatus.PAID, paid_order.version + 1)
    assert event_items(stack.table_name, "s-1")[-1]["type"] == "notification_ignored"


def test_a_refund_and_its_effect_on_the_order_are_one_transaction(store: OrdersStore, stack: Stack) -> None:
    store.create(stored_order(provider=ANY_PROVIDER), event())
    order = store.get("s-1")
    assert order is not None
    refund = Refund(
        "rf-1", "s-1", Money(400, "EUR"), RefundStatus.PENDING, MERCHANT, "R1", iso(NOW), iso(NOW)
    )
    plan = Plan(order, iso(NOW), event("refund_requested"))
    plan.put_refund(refund)
    plan.order.reserved_value = 400
    plan.record("refund_requested", refund=refund)
    store.commit(plan)
    found = store.get_with_refunds("s-1")
    assert found is not None
    assert found[0].reserved_value == 400
    assert [(r.refund_id, r.version) for r in found[1]] == [("rf-1", 1)]
    # A second writer that read before the refund existed cannot create it again.
    again = Plan(order, iso(NOW), event("refund_requested"))
    again.put_refund(refund)
    again.record("refund_requested", refund=refund)
    with pytest.raises(ConcurrentUpdateError):
        store.commit(again)
    assert len([item for item in items(stack.table_name, "s-1") if item["sk"].startswith("REFUND#")]) == 1


def test_reads_are_bounded_newest_events_first_with_a_cursor(store: OrdersStore) -> None:
    store.create(stored_order(provider=ANY_PROVIDER), event("first"))
    engine = Engine(store)
    for index in range(60):
        order = store.get("s-1")
        assert order is not None

        def decide(plan: Plan, index: int = index) -> None:
            plan.record(f"e{index}")

        engine.run(order, [], event(), decide)
    page = store.read_page("s-1", limit=50)
    assert page is not None
    assert [e.seq for e in page.events] == list(range(12, 62))  # oldest first within the newest page
    assert page.older_events_cursor == 12
    older = store.read_page("s-1", events_before=12, limit=50)
    assert older is not None
    assert [e.seq for e in older.events] == list(range(1, 12))
    assert older.events[0].type == "first"
    assert older.older_events_cursor is None


def test_only_one_request_holds_the_lease_until_it_expires(store: OrdersStore) -> None:
    order = stored_order(provider=ANY_PROVIDER)
    order.status = OrderStatus.UNKNOWN
    store.create(order, event())
    resumable = frozenset({OrderStatus.CREATED, OrderStatus.UNKNOWN})
    assert store.acquire_lease("s-1", resumable, now=1000, until=1060)
    assert not store.acquire_lease("s-1", resumable, now=1030, until=1090)
    assert store.acquire_lease("s-1", resumable, now=1061, until=1121)  # the first holder gave up
    store.release_lease("s-1", 1121)
    assert store.acquire_lease("s-1", resumable, now=1062, until=1122)
    assert not store.acquire_lease("s-1", frozenset({OrderStatus.CREATED}), now=2000, until=2060)


def test_rejected_attempts_live_in_their_own_partition(store: OrdersStore, stack: Stack) -> None:
    store.create(stored_order(provider=ANY_PROVIDER), event())
    rejected = RejectedNotifications(store.table)
    rejected.record(
        ANY_PROVIDER, NOW, reason="bad_signature", claimed_order_id="s-1", verified=False, payload={}
    )
    assert [e["type"] for e in event_items(stack.table_name, "s-1")] == ["test"]
    [attempt] = rejected.attempts(ANY_PROVIDER, "2026-11-22")
    assert (attempt.reason, attempt.claimed_order_id, attempt.verified) == ("bad_signature", "s-1", False)


def kept(body: bytes, at: datetime) -> KeptRequest:
    return KeptRequest("POST", "https://x/v1/notify/p", "/notify/p", {"content-type": "a/b"}, {}, body, at)


def test_a_refused_request_is_kept_seven_days_and_listed_masked_newest_first(stack: Stack) -> None:
    rejected = RejectedNotifications(Table(stack.table_name))
    now = datetime.now(UTC)
    first = rejected.record(
        ANY_PROVIDER,
        now - timedelta(days=1),
        reason="bad_signature",
        claimed_order_id=None,
        verified=False,
        payload={},
        code="signature_invalid",
        explanation="x",
        request=kept(b"a" * 10, now - timedelta(days=1)),
    )
    second = rejected.record(
        ANOTHER_PROVIDER,
        now,
        reason="missing_signature",
        claimed_order_id="o-1",
        verified=False,
        payload={},
        code="unsigned",
        explanation="y",
        request=kept(b"b" * (64 * 1024 + 1), now),
    )
    listed = rejected.newest([ANY_PROVIDER, ANOTHER_PROVIDER], now, after=None, limit=10)
    assert [attempt.id for attempt in listed or []] == [second, first]
    assert (
        rejected.newest([ANY_PROVIDER, ANOTHER_PROVIDER], now, after=second, limit=10) == (listed or [])[1:]
    )
    assert rejected.newest([ANOTHER_PROVIDER], now, after=None, limit=10) == (listed or [])[:1]
    bodies = [
        found[1].body if found and found[1] else None for found in map(rejected.kept_request, [first, second])
    ]
    assert bodies == [b"a" * 10, None]  # over 64 KB: listed, not kept for a replay
    [raw] = items_with_pk(stack.table_name, f"REJECTED_RAW#{first}")
    [attempt] = [
        i
        for i in items_with_pk(
            stack.table_name, f"REJECTED#{ANY_PROVIDER}#{(now - timedelta(days=1)):%Y-%m-%d}"
        )
    ]
    received = int((now - timedelta(days=1)).timestamp())
    assert (int(raw["ttl"]), int(attempt["ttl"])) == (received + 7 * 86400, received + 180 * 86400)


def items_with_pk(table: str, pk: str) -> list[dict[str, Any]]:
    page = boto3.client("dynamodb").query(
        TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": pk}}
    )
    return [{k: TypeDeserializer().deserialize(v) for k, v in item.items()} for item in page["Items"]]
