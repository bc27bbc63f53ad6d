"""GET /orders/{order_id}/events: an order's merchant events, in sequence, each with where its webhook
delivery stands. The events are computed from the order's audit history as the publisher computes them
from the stream (payments/outbox/merchant_events.py, `events_of`), so they are listed even before
(or without) being published; their delivery statuses are read in one BatchGetItem
(payments/store/webhook_deliveries.py). Bounded: one Query of the order's partition, one batch read."""

from __future__ import annotations

from typing import Any

from payments.errors import NotFound
from payments.orders import ORDER_ID_RE
from payments.outbox.merchant_events import events_of
from payments.store.orders import OrdersStore
from payments.store.table import BATCH_GET_MAX_KEYS
from payments.store.webhook_deliveries import WebhookDeliveries, not_tried

# The newest audit events read: each gives at most three merchant events, most give one or none.
HISTORY_READ = 200
MAX_EVENTS = BATCH_GET_MAX_KEYS  # the newest ones: their statuses in one batch read


def order_events(orders: OrdersStore, deliveries: WebhookDeliveries, order_id: str) -> dict[str, Any]:
    """The order's newest MAX_EVENTS merchant events, oldest first, each with its `delivery`;
    `older_omitted` when the order has older ones not listed. 404 as GET /orders/{order_id}."""
    history = orders.newest_event_items(order_id, HISTORY_READ) if ORDER_ID_RE.match(order_id) else None
    if history is None:
        raise NotFound("no such order", field="order_id", code="order_not_found")
    items, older = history
    events = [event for item in items for event in events_of(item)]
    shown = events[-MAX_EVENTS:]
    statuses = deliveries.statuses([event.id for event in shown])
    listed = []
    for event in shown:
        status = statuses.get(event.id)
        delivery = status.to_public() if status else not_tried()
        listed.append({**event.to_dict(), "delivery": delivery})
    return {"order_id": order_id, "events": listed, "older_omitted": older or len(events) > len(shown)}
