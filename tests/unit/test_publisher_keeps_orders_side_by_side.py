"""A stream batch's events are kept for several orders at once, each order's in its records' order, and
a failure to keep one is the batch's failure from its record on (payments/outbox/publisher.py `_keep`)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from payments.engine import event
from payments.errors import StoreUnavailable
from payments.orders import OrderStatus
from payments.outbox.publisher import EventPublisher
from payments.store.order_items import event_item
from tests.support.orders import stored_order
from tests.support.providers import ANY_PROVIDER

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
STEPS = [(OrderStatus.CREATED, OrderStatus.PENDING), (OrderStatus.PENDING, OrderStatus.PAID)]


def record(order_id: str, seq: int, position: int) -> dict[str, Any]:
    """The stream record of one of the order's audit events (one merchant event each)."""
    order = stored_order(order_id, T0, provider=ANY_PROVIDER)
    from_status, to_status = STEPS[seq - 1]
    order.status = to_status
    audit = event("notification", "notification", T0, from_status=from_status, to_status=to_status, seq=seq)
    image = event_item(order_id, audit, order)
    return {"eventName": "INSERT", "dynamodb": {"NewImage": image, "SequenceNumber": f"{position:021d}"}}


class SlowStore:
    """Keeps events after a round trip's wait; refuses the orders in `down`."""

    def __init__(self, down: set[str] | None = None) -> None:
        self.down = down or set()
        self.kept: list[tuple[str, str]] = []  # (order id, event type) in the order they were kept
        self.at_once = self.most_at_once = 0
        self.lock = threading.Lock()

    def put(
        self, event_id: str, order_id: str, type_: str, body: str, at: datetime, stored_at: datetime
    ) -> bool:
        with self.lock:
            self.at_once += 1
            self.most_at_once = max(self.most_at_once, self.at_once)
        time.sleep(0.02)
        with self.lock:
            self.at_once -= 1
            if order_id in self.down:
                raise StoreUnavailable("down")
            self.kept.append((order_id, type_))
        return True


class Bus:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 (botocore's name)
        self.sent.extend(entry["DetailType"] for entry in Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "x"} for _ in Entries]}


def batch(orders: int) -> list[dict[str, Any]]:
    """Each order's two audit events, the orders interleaved as a shard would carry them."""
    return [record(f"ord-{o}", seq, 0) for seq in (1, 2) for o in range(orders)]


def test_orders_are_kept_side_by_side_and_each_in_its_order() -> None:
    store, bus = SlowStore(), Bus()
    outcome = EventPublisher(store, bus, "bus").publish_records(batch(8))  # type: ignore[arg-type]
    assert (outcome.published, outcome.failed_from) == (16, None)
    assert store.most_at_once > 1  # one at a time would take 16 round trips
    for o in range(8):
        mine = [type_ for order_id, type_ in store.kept if order_id == f"ord-{o}"]
        assert mine == ["order.pending", "order.paid"]


def test_an_order_not_kept_fails_the_batch_from_its_first_record() -> None:
    store, bus = SlowStore(down={"ord-3"}), Bus()
    records = batch(6)
    outcome = EventPublisher(store, bus, "bus").publish_records(records)  # type: ignore[arg-type]
    first_of_ord_3 = 3  # the records are ord-0..5's first events, then their second
    assert outcome.failed_from == first_of_ord_3
    assert outcome.published == first_of_ord_3  # only the records before it went to the bus
    assert len(bus.sent) == first_of_ord_3
    assert ("ord-3", "order.paid") not in store.kept  # the order stops at its first failure
