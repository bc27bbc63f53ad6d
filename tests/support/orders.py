"""Request bodies for the merchant API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from payments.clock import iso
from payments.money import Money
from payments.orders import Order, OrderStatus


def order_body(order_id: str = "order-1", *, provider: str, **overrides: Any) -> dict[str, Any]:
    """A valid create-order body for `provider` (any registered one: every test says which)."""
    body: dict[str, Any] = {
        "order_id": order_id,
        "provider": provider,
        "amount": {"value": 1000, "currency": "EUR"},
        "description": "Tea set",
        "return_url": "https://shop.example.com/return",
        "cancel_url": "https://shop.example.com/cancel",
        "customer": {
            "first_name": "Mei",
            "last_name": "Wang",
            "email": "mei.wang@example.com",
            "phone": "+31208500500",
            "ip_address": "89.20.162.110",
            "locale": "zh_CN",
            "country": "NL",
        },
    }
    body.update(overrides)
    return body


def stored_order(order_id: str = "s-1", at: datetime | None = None, *, provider: str) -> Order:
    """An Order as the store holds it, for tests below the handlers."""
    moment = iso(at or datetime(2026, 11, 22, 12, 0, tzinfo=UTC))
    return Order(
        order_id,
        provider,
        OrderStatus.CREATED,
        Money(1000, "EUR"),
        "Tea",
        "https://r",
        "https://c",
        "redirect",
        "WEB",
        "hash-1",
        moment,
        moment,
        moment,
    )
