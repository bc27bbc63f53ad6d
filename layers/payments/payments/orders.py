"""The order, its unified status and the transition table every provider's events go through."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from payments.money import Money

ORDER_ID_PATTERN = r"^[A-Za-z0-9._-]{1,50}$"
ORDER_ID_RE = re.compile(ORDER_ID_PATTERN)


class OrderStatus(StrEnum):
    CREATED = "created"
    PENDING = "pending"
    UNKNOWN = "unknown"
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    CHARGED_BACK = "charged_back"


S = OrderStatus
OPEN = frozenset({S.CREATED, S.PENDING, S.UNKNOWN})
UNPAID_FINAL = frozenset({S.FAILED, S.CANCELLED, S.EXPIRED})

# target status -> the statuses it may be applied from. Anything else is ignored (and recorded).
ALLOWED_PREDECESSORS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.CREATED, S.UNKNOWN}),
    S.UNKNOWN: frozenset({S.CREATED}),  # only "we could not tell" at creation; never a step back
    # The provider is the source of truth on money: a late payment is applied (and flagged).
    S.PAID: OPEN | UNPAID_FINAL,
    S.FAILED: OPEN,
    S.CANCELLED: OPEN,
    S.EXPIRED: OPEN,
    S.PARTIALLY_REFUNDED: frozenset({S.UNKNOWN, S.PAID}),
    S.REFUNDED: frozenset({S.UNKNOWN, S.PAID, S.PARTIALLY_REFUNDED}),
    S.CHARGED_BACK: frozenset({S.UNKNOWN, S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.CREATED: frozenset(),
}


class Outcome(StrEnum):
    APPLY = "apply"
    DUPLICATE = "duplicate"  # already in that status: nothing to write
    IGNORE = "ignore"  # would move the order backwards or sideways: recorded, not applied


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    flags: tuple[str, ...] = ()
    reason: str | None = None


def decide(current: OrderStatus, target: OrderStatus) -> Decision:
    """What to do with a verified report that the order is now `target`."""
    if target == current:
        return Decision(Outcome.DUPLICATE)
    if current not in ALLOWED_PREDECESSORS[target]:
        return Decision(Outcome.IGNORE, reason=f"not_allowed_from_{current}")
    if target == S.PAID and current in UNPAID_FINAL:
        return Decision(Outcome.APPLY, flags=("late_payment",))
    return Decision(Outcome.APPLY)


@dataclass(slots=True)
class Order:
    order_id: str
    provider: str
    status: OrderStatus
    amount: Money
    description: str
    return_url: str
    cancel_url: str
    flow: str
    terminal_type: str
    request_hash: str
    created_at: str
    updated_at: str
    expires_at: str
    version: int = 1
    metadata: dict[str, str] = field(default_factory=dict)
    payment_url: str | None = None
    payment_action: dict[str, Any] | None = None
    provider_reference: str | None = None
    provider_status: str | None = None

    def to_public(self) -> dict[str, Any]:
        """The order as the merchant API shows it."""
        return {
            "order_id": self.order_id,
            "provider": self.provider,
            "status": str(self.status),
            "amount": self.amount.to_dict(),
            "description": self.description,
            "payment_url": self.payment_url,
            "payment_action": self.payment_action,
            "provider_reference": self.provider_reference,
            "metadata": self.metadata,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "expires_at": self.expires_at,
        }


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One line of an order's audit history."""

    type: str
    at: str
    source: str
    from_status: OrderStatus | None = None
    to_status: OrderStatus | None = None
    provider_status: str | None = None
    verified: bool | None = None
    flags: tuple[str, ...] = ()
    reason: str | None = None
    payload: dict[str, Any] | None = None

    def to_public(self) -> dict[str, Any]:
        public: dict[str, Any] = {"type": self.type, "at": self.at, "source": self.source}
        optional = {
            "from_status": self.from_status and str(self.from_status),
            "to_status": self.to_status and str(self.to_status),
            "provider_status": self.provider_status,
            "verified": self.verified,
            "flags": list(self.flags) or None,
            "reason": self.reason,
            "payload": self.payload,
        }
        public.update({key: value for key, value in optional.items() if value is not None})
        return public
