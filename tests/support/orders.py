"""Request bodies for the merchant API."""

from __future__ import annotations

from typing import Any


def order_body(order_id: str = "order-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": order_id,
        "provider": "multisafepay",
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
