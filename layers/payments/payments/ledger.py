"""The refund ledger: each refund is an item of its own (`sk = REFUND#<refund_id>`), and the order
carries the totals (`refunded_value`: succeeded; `reserved_value`: merchant refunds in flight).

Both kinds of refund live here: the merchant's (reserved before the provider is called) and those the
provider reports on its own (dashboard refunds), each recorded once by its provider-facing key.
Every change to a refund is written in the same transaction as its effect on the order
(payments/engine.py), so the totals and the items can never disagree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from payments.facts import FINAL_REFUND_STATUSES, RefundStatus
from payments.money import Money

MERCHANT = "merchant"
PROVIDER = "provider"
PROVIDER_REFUND_PREFIX = "provider:"  # merchant refund ids cannot contain ':'
# Statuses whose amount is held back from what may still be refunded.
IN_FLIGHT = frozenset({RefundStatus.PENDING, RefundStatus.UNKNOWN})


def provider_refund_key(order_id: str, refund_id: str) -> str:
    """The id we send the provider for a merchant refund (the refund's own id in the provider's
    request): derived, so a retry sends the same one, and short and plain enough for every provider
    (41 characters of [0-9a-zR])."""
    digest = hashlib.sha256(f"{order_id}\n{refund_id}".encode()).hexdigest()
    return "R" + digest[:40]


@dataclass(slots=True)
class Refund:
    refund_id: str
    order_id: str
    amount: Money
    status: RefundStatus
    origin: str  # MERCHANT | PROVIDER
    provider_key: str
    created_at: str
    updated_at: str
    reason: str | None = None
    provider_reference: str | None = None
    request_hash: str | None = None  # merchant refunds: identity of the request, for idempotent retries
    version: int = 1
    lease_until: int | None = None  # epoch seconds: a request is talking to the provider about it
    checks: int = 0  # times reconciliation asked the provider about it (payments/schedule.py)

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT

    @property
    def final(self) -> bool:
        return self.status in FINAL_REFUND_STATUSES

    def to_public(self) -> dict[str, Any]:
        return {
            "refund_id": self.refund_id,
            "order_id": self.order_id,
            "status": str(self.status),
            "amount": self.amount.to_dict(),
            "reason": self.reason,
            "origin": self.origin,
            "provider_reference": self.provider_reference,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def provider_refund(order_id: str, key: str, amount: Money, status: RefundStatus, at: str) -> Refund:
    """A refund the provider reported that no merchant request of ours made."""
    return Refund(
        refund_id=PROVIDER_REFUND_PREFIX + key,
        order_id=order_id,
        amount=amount,
        status=status,
        origin=PROVIDER,
        provider_key=key,
        created_at=at,
        updated_at=at,
    )


def match_in_flight(in_flight: list[Refund], delta: int) -> list[Refund]:
    """Which in-flight merchant refunds, oldest first, a growth of the provider's cumulative refunded
    total by `delta` completes: the longest prefix that fits. What it leaves over was refunded
    elsewhere. A cumulative total cannot say which refund finished when several are in flight; taking
    them in the order they were made is the reading that never counts one refund twice."""
    matched: list[Refund] = []
    left = delta
    for refund in sorted(in_flight, key=lambda item: (item.created_at, item.refund_id)):
        if refund.amount.value > left:
            break
        matched.append(refund)
        left -= refund.amount.value
    return matched
