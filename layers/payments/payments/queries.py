"""Reads for GET /orders/{order_id}. They need neither provider credentials nor adapters, so the get
function imports only this, the store and the web glue — not pydantic, requests or the secret."""

from __future__ import annotations

from typing import Any

from payments.errors import NotFound, ValidationFailed
from payments.orders import ORDER_ID_RE
from payments.store.orders import OrderPage, OrdersStore


def order_page(store: OrdersStore, order_id: str, events_before: str | None = None) -> OrderPage:
    """The order, its refunds and its newest events; 404 for an id that cannot exist or does not."""
    if not ORDER_ID_RE.match(order_id):
        raise NotFound("no such order", field="order_id", code="order_not_found")
    before = None
    if events_before is not None:
        if not events_before.isascii() or not events_before.isdigit() or not 1 < int(events_before) < 10**12:
            raise ValidationFailed(
                "events_before: must be the events_before value of an earlier answer",
                field="events_before",
                code="invalid_field",
            )
        before = int(events_before)
    page = store.read_page(order_id, events_before=before)
    if page is None:
        raise NotFound("no such order", field="order_id", code="order_not_found")
    return page


def public_order(page: OrderPage) -> dict[str, Any]:
    """The order as GET /orders/{order_id} shows it: verified history only, newest page of it."""
    body = page.order.to_public()
    body["refunds"] = [refund.to_public() for refund in page.refunds]
    body["events"] = [event.to_public() for event in page.events]
    body["events_before"] = str(page.older_events_cursor) if page.older_events_cursor else None
    return body
