"""Helpers for the create-order tests: our error shape, and a creation abandoned half-way."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from payments.api import parse_create_order
from payments.clock import iso
from payments.flows.base import LEASE
from payments.orders import OrderEvent
from payments.store.orders import OrdersStore
from payments.store.table import Table
from tests.support.orders import order_body, stored_order


def error_of(reply: Any) -> dict[str, Any]:
    """The error of a reply in our error shape (checked: nothing else in the body)."""
    body = reply.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    return dict(body["error"])


def abandoned_creation(stack: Any, order_id: str, age_seconds: int, *, provider: str) -> None:
    """An order whose creating request died after its first write (e.g. Lambda timed out)."""
    started = datetime.now(UTC) - timedelta(seconds=age_seconds)
    order = stored_order(order_id, at=started, provider=provider)
    order.request_hash = parse_create_order(json.dumps(order_body(order_id, provider=provider))).fingerprint()
    order.lease_until = int((started + LEASE).timestamp())  # as the creating request took it
    OrdersStore(Table(stack.table_name)).create(
        order, OrderEvent(type="order_created", at=iso(datetime.now(UTC)), source="merchant")
    )
