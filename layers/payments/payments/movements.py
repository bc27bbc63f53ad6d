"""Money movements: the audit events that moved money (a payment, a late payment, a refund that
succeeded, a chargeback), each as one line of the daily report (payments/daily_report.py). Worked out
when the event is written, from the event and the order as its change left it, and kept on the event's
item (payments/store/order_items.py), so a report reads lines and never re-derives history. A line
has `at` (when the fact was recorded) and, when the provider stated when the money moved, `occurred_at`
(payments/facts.py)."""

from __future__ import annotations

from typing import Any

from payments.orders import Order, OrderEvent, OrderStatus

PAYMENT = "payment"
LATE_PAYMENT = "late_payment"
REFUND = "refund"
CHARGEBACK = "chargeback"
MOVEMENT_TYPES = (PAYMENT, LATE_PAYMENT, REFUND, CHARGEBACK)


def movement_of(event: OrderEvent, order: Order) -> dict[str, Any] | None:
    """The report line of `event`, or None when it moved no money. Amounts in minor units."""
    if event.to_status == OrderStatus.PAID and event.from_status != OrderStatus.PAID:
        kind = LATE_PAYMENT if "late_payment" in event.flags else PAYMENT
        value, reference = order.amount.value, order.provider_reference
    elif event.type == "refund_succeeded" and event.refund is not None:
        kind, value = REFUND, int(event.refund["amount"]["value"])
        reference = event.refund.get("provider_reference") or order.provider_reference
    elif event.to_status == OrderStatus.CHARGED_BACK:
        # What the payer takes back: what was paid and not refunded before.
        kind, value = CHARGEBACK, order.amount.value - order.refunded_value
        reference = order.provider_reference
    else:
        return None
    line: dict[str, Any] = {
        "at": event.at,
        "order_id": order.order_id,
        "provider": order.provider,
        "provider_reference": reference,
        "wallet": order.wallet,
        "type": kind,
        "amount": {"value": value, "currency": order.amount.currency},
    }
    if event.occurred_at is not None:
        line["occurred_at"] = event.occurred_at
    return line
