"""Reads for GET /orders/{order_id}. They need neither provider credentials nor adapters, so the get
function imports only this, the store and the web glue — not pydantic, requests or the secret."""

from __future__ import annotations

from payments.errors import NotFound
from payments.orders import ORDER_ID_RE, Order, OrderEvent
from payments.store import OrdersStore


def order_with_history(store: OrdersStore, order_id: str) -> tuple[Order, list[OrderEvent]]:
    """The order and its audit events, oldest first; 404 for an id that cannot exist or does not."""
    if not ORDER_ID_RE.match(order_id):
        raise NotFound("no such order", field="order_id", code="order_not_found")
    found = store.get_with_events(order_id)
    if found is None:
        raise NotFound("no such order", field="order_id", code="order_not_found")
    return found
