"""An order, its refunds and its audit events as items of the table (keys: payments/store/table.py),
and back. Also read from the table's stream (payments/outbox/publisher.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from payments.clock import iso
from payments.facts import RefundStatus
from payments.ledger import IN_FLIGHT, Refund
from payments.money import Money
from payments.orders import DEFAULT_WALLET, OPEN, Order, OrderEvent, OrderStatus, watched
from payments.schedule import due_partition, next_check, next_watch_check
from payments.store.day_movements import movement_attributes
from payments.store.order_listing import listing_attributes, refund_lookup_attributes
from payments.store.table import deserialize, payload_text, plain, serialize

ORDER_PREFIX = "ORDER#"
ORDER_SK = "ORDER"
EVENT_PREFIX = "EVENT#"
REFUND_PREFIX = "REFUND#"
DUE_INDEX = "DueIndex"


def order_pk(order_id: str) -> str:
    return f"{ORDER_PREFIX}{order_id}"


def order_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": order_pk(order_id)}, "sk": {"S": ORDER_SK}}


def refund_key(refund: Refund) -> dict[str, Any]:
    return {"pk": {"S": order_pk(refund.order_id)}, "sk": {"S": f"{REFUND_PREFIX}{refund.refund_id}"}}


def event_sk(seq: int) -> str:
    return f"{EVENT_PREFIX}{seq:012d}"


def as_stored(value: Any) -> Any:
    """Attribute value as DynamoDB keeps it: tuples as lists, empty lists not at all."""
    if isinstance(value, tuple):
        return list(value) or None
    return value


def order_due_at(order: Order) -> str | None:
    """When reconciliation next checks the order; None when it is not open work."""
    if "needs_attention" in order.flags:
        return None
    if order.status in OPEN:
        due = next_check(order.created_at, order.checks)
    elif watched(order) and order.watch_until is not None:
        due = next_watch_check(order.created_at, order.checks, order.watch_until)
    else:
        return None
    return iso(due) if due else None


def refund_due_at(refund: Refund) -> str | None:
    if refund.status not in IN_FLIGHT:
        return None
    due = next_check(refund.created_at, refund.checks)
    return iso(due) if due else None


def _due(order_id: str, due_at: str | None) -> dict[str, Any]:
    return {"due_pk": due_partition(order_id) if due_at else None, "due_at": due_at}


def order_item(order: Order) -> dict[str, Any]:
    return serialize(
        {
            "pk": order_pk(order.order_id),
            "sk": ORDER_SK,
            "order_id": order.order_id,
            "provider": order.provider,
            "status": str(order.status),
            "amount_value": order.amount.value,
            "currency": order.amount.currency,
            "description": order.description,
            "return_url": order.return_url,
            "cancel_url": order.cancel_url,
            "flow": order.flow,
            "terminal_type": order.terminal_type,
            "wallet": order.wallet,
            "request_hash": order.request_hash,
            "created_at": order.created_at,
            "updated_at": order.updated_at,
            "expires_at": order.expires_at,
            "version": order.version,
            "event_seq": order.event_seq,
            "metadata": order.metadata or None,
            "payment_url": order.payment_url,
            "payment_action": order.payment_action,
            "provider_reference": order.provider_reference,
            "provider_status": order.provider_status,
            "refunded_value": order.refunded_value,
            "reserved_value": order.reserved_value,
            "flags": as_stored(order.flags),
            "ignored_reports": as_stored(order.ignored_reports),
            "lease_until": order.lease_until,
            "checks": order.checks,
            "amount_confirmed": order.amount_confirmed or None,
            "watch_until": order.watch_until,
            **_due(order.order_id, order_due_at(order)),
            **listing_attributes(order),
        }
    )


def order_from_item(raw: Mapping[str, Any]) -> Order:
    item = deserialize(raw)
    lease = item.get("lease_until")
    return Order(
        order_id=item["order_id"],
        provider=item["provider"],
        status=OrderStatus(item["status"]),
        amount=Money(int(item["amount_value"]), item["currency"]),
        description=item["description"],
        return_url=item.get("return_url"),
        cancel_url=item.get("cancel_url"),
        flow=item["flow"],
        terminal_type=item["terminal_type"],
        wallet=item.get("wallet", DEFAULT_WALLET),  # orders made before the field: Alipay
        request_hash=item["request_hash"],
        created_at=item["created_at"],
        updated_at=item["updated_at"],
        expires_at=item["expires_at"],
        version=int(item["version"]),
        event_seq=int(item.get("event_seq", 0)),
        metadata=dict(item.get("metadata") or {}),
        payment_url=item.get("payment_url"),
        payment_action=plain(item.get("payment_action")),
        provider_reference=item.get("provider_reference"),
        provider_status=item.get("provider_status"),
        refunded_value=int(item.get("refunded_value", 0)),
        reserved_value=int(item.get("reserved_value", 0)),
        flags=tuple(item.get("flags") or ()),
        ignored_reports=tuple(item.get("ignored_reports") or ()),
        checks=int(item.get("checks", 0)),
        lease_until=int(lease) if lease is not None else None,
        amount_confirmed=bool(item.get("amount_confirmed")),
        watch_until=item.get("watch_until"),
    )


def refund_item(refund: Refund, provider: str) -> dict[str, Any]:
    return serialize(
        {
            "pk": order_pk(refund.order_id),
            "sk": f"{REFUND_PREFIX}{refund.refund_id}",
            "refund_id": refund.refund_id,
            "order_id": refund.order_id,
            "amount_value": refund.amount.value,
            "currency": refund.amount.currency,
            "status": str(refund.status),
            "origin": refund.origin,
            "provider_key": refund.provider_key,
            "created_at": refund.created_at,
            "updated_at": refund.updated_at,
            "reason": refund.reason,
            "provider_reference": refund.provider_reference,
            "request_hash": refund.request_hash,
            "version": refund.version,
            "lease_until": refund.lease_until,
            "checks": refund.checks,
            "provider": provider,  # so the due index can group work by provider
            **_due(refund.order_id, refund_due_at(refund)),
            **refund_lookup_attributes(refund),
        }
    )


def refund_from_item(raw: Mapping[str, Any]) -> Refund:
    item = deserialize(raw)
    return Refund(
        refund_id=item["refund_id"],
        order_id=item["order_id"],
        amount=Money(int(item["amount_value"]), item["currency"]),
        status=RefundStatus(item["status"]),
        origin=item["origin"],
        provider_key=item["provider_key"],
        created_at=item["created_at"],
        updated_at=item["updated_at"],
        reason=item.get("reason"),
        provider_reference=item.get("provider_reference"),
        request_hash=item.get("request_hash"),
        version=int(item["version"]),
        lease_until=int(item["lease_until"]) if item.get("lease_until") is not None else None,
        checks=int(item.get("checks", 0)),
    )


def event_item(
    order_id: str, event: OrderEvent, order: Order | None = None, recorded_at: str | None = None
) -> dict[str, Any]:
    return serialize(
        {
            "pk": order_pk(order_id),
            "sk": event_sk(event.seq),
            "order_id": order_id,
            "seq": event.seq,
            "type": event.type,
            "at": event.at,
            "occurred_at": event.occurred_at,
            "source": event.source,
            "from_status": event.from_status and str(event.from_status),
            "to_status": event.to_status and str(event.to_status),
            "provider_status": event.provider_status,
            "verified": event.verified,
            "flags": as_stored(event.flags),
            "reason": event.reason,
            "refund_json": payload_text(event.refund),
            "payload_json": payload_text(event.payload),
            # The order as this change left it: what the merchant event published from it shows.
            "order_json": payload_text(order.to_public()) if order is not None else None,
            # A money movement: its report line, on the index by day (payments/store/day_movements.py).
            **movement_attributes(event, order, recorded_at or event.at),
        }
    )


def event_from_item(raw: Mapping[str, Any]) -> OrderEvent:
    """An audit event from its item as DynamoDB returns it (also in stream records)."""
    item = deserialize(raw)
    return OrderEvent(
        type=item["type"],
        at=item["at"],
        occurred_at=item.get("occurred_at"),
        source=item["source"],
        seq=int(item.get("seq", 0)),
        from_status=OrderStatus(item["from_status"]) if item.get("from_status") else None,
        to_status=OrderStatus(item["to_status"]) if item.get("to_status") else None,
        provider_status=item.get("provider_status"),
        verified=item.get("verified"),
        flags=tuple(item.get("flags") or ()),
        reason=item.get("reason"),
        refund=json.loads(item["refund_json"]) if item.get("refund_json") else None,
        payload=json.loads(item["payload_json"]) if item.get("payload_json") else None,
    )
