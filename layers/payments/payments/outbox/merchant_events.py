"""Merchant events: what we tell the merchant about every committed change, once per change, in order.

The source of truth is the audit event the engine writes in the same transaction as each change
(payments/engine.py): the orders table's stream carries it to functions/publish_events, which turns it
into the merchant events below. So an event exists if and only if its change was committed.

An audit event becomes up to three merchant events: the order's new status (`order.<status>`), the
refund it settled (`refund.succeeded`, `refund.failed`), and what was flagged (`order.flagged`). Each
has an id that is unique and stable per change (the same stream record always gives the same ids), so
a merchant dedupes by `id`; `sequence` orders the events of one order: strictly increasing per order,
not contiguous (the change's own number times SEQUENCE_STRIDE, plus the event's place in the change),
so it is the same every time the change is published and needs no counter of its own.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from payments.orders import OrderEvent, OrderStatus
from payments.records import frozen
from payments.store.order_items import event_from_item

SOURCE = "alipay-payments"  # EventBridge `source` of every event
ORDER_TYPES = {
    OrderStatus.PENDING: "order.pending",
    OrderStatus.PAID: "order.paid",
    OrderStatus.FAILED: "order.failed",
    OrderStatus.CANCELLED: "order.cancelled",
    OrderStatus.EXPIRED: "order.expired",
    OrderStatus.UNKNOWN: "order.unknown",
    OrderStatus.PARTIALLY_REFUNDED: "order.partially_refunded",
    OrderStatus.REFUNDED: "order.refunded",
    OrderStatus.CHARGED_BACK: "order.charged_back",
}
REFUND_TYPES = {"succeeded": "refund.succeeded", "failed": "refund.failed"}
EVENT_TYPES = sorted({*ORDER_TYPES.values(), *REFUND_TYPES.values(), "order.flagged"})
# Flags worth an `order.flagged` event: what a person must look at.
ATTENTION_FLAGS = frozenset(
    {
        "amount_mismatch",
        "amount_missing",
        "payment_unverified",
        "late_payment",
        "needs_attention",
        "refund_before_payment",
        "chargeback_before_payment",
        "refund_exceeds_amount",
        "currency_mismatch",
        "refund_amount_mismatch",
        "refund_total_decreased",
        "refund_conflict",
    }
)
# Room for each change's events in `sequence` (a change gives at most three: status, refund, flag).
SEQUENCE_STRIDE = 10


@frozen
class MerchantEvent:
    """An event the merchant receives (bus, webhook, GET /events) about one change of an order."""

    id: str
    type: str
    created_at: str
    order_id: str
    sequence: int  # strictly increasing per order, stable per event (see SEQUENCE_STRIDE)
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "created_at": self.created_at,
            "order_id": self.order_id,
            "sequence": self.sequence,
            "data": self.data,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MerchantEvent:
        """The event from its body (as kept for catching up and redelivery)."""
        return cls(
            id=data["id"],
            type=data["type"],
            created_at=data["created_at"],
            order_id=data["order_id"],
            sequence=data["sequence"],
            data=data["data"],
        )

    def body(self) -> str:
        """The JSON body POSTed to the merchant's webhook, exactly the bytes that are signed."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"), sort_keys=True)

    @property
    def cursor(self) -> str:
        """Sorts events oldest first across orders: commit time, then order, then place in the change."""
        return self.id


EVENT_ID_RE = re.compile(r"evt_[0-9TZ]{15,30}_[0-9a-f]{16}")  # what event_id makes


def event_id(at: str, order_id: str, sequence: int, kind: str) -> str:
    """`evt_<time>_<digest>`: sortable by commit time, unique per (order, change, kind)."""
    stamp = at.replace("-", "").replace(":", "").replace(".", "")
    digest = hashlib.sha256(f"{order_id}\n{sequence}\n{kind}".encode()).hexdigest()[:16]
    return f"evt_{stamp}_{digest}"


def merchant_events(order: dict[str, Any], audit: OrderEvent, order_id: str) -> list[MerchantEvent]:
    """The merchant events one committed audit event stands for (none for what changed nothing the
    merchant sees: a recorded refusal, our own bookkeeping)."""
    data_base: dict[str, Any] = {
        "order": order,
        "previous_status": str(audit.from_status) if audit.from_status else None,
        "flags": list(audit.flags),
    }
    found: list[tuple[str, dict[str, Any]]] = []
    if (
        audit.to_status is not None
        and audit.to_status in ORDER_TYPES
        and audit.to_status != audit.from_status
    ):
        found.append((ORDER_TYPES[audit.to_status], {}))
    if audit.refund is not None and audit.refund.get("status") in REFUND_TYPES:
        found.append((REFUND_TYPES[audit.refund["status"]], {"refund": audit.refund}))
    if ATTENTION_FLAGS.intersection(audit.flags):
        found.append(("order.flagged", {"reason": audit.reason}))
    events = []
    for place, (type_, extra) in enumerate(found):
        data = {**data_base, **extra}
        if audit.refund is not None:
            data.setdefault("refund", audit.refund)
        events.append(
            MerchantEvent(
                id=event_id(audit.at, order_id, audit.seq, type_),
                type=type_,
                created_at=audit.at,
                order_id=order_id,
                sequence=audit.seq * SEQUENCE_STRIDE + place,
                data=data,
            )
        )
    return events


def events_of(item: Mapping[str, Any]) -> list[MerchantEvent]:
    """The merchant events of an audit event's item, as the table holds it and its stream carries it
    (the publisher's and GET /orders/{order_id}/events' one derivation). None without the order as the
    change left it (`order_json`): nothing is published from such an item."""
    if "order_json" not in item:
        return []
    order = json.loads(item["order_json"]["S"])
    return merchant_events(order, event_from_item(item), item["order_id"]["S"])
