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


@dataclass(frozen=True, slots=True)
class Growth:
    """What a growth of the provider's cumulative refunded total says about our refunds in flight."""

    completed: tuple[Refund, ...] = ()  # the one set of in-flight refunds it is: they succeeded
    unexplained: int = 0  # growth that no set of in-flight refunds explains: refunded elsewhere
    ambiguous: str = ""  # several sets fit (named here, for the record): none is completed yet


# Partial sums tracked while matching (each at most the growth): past this, nothing is completed and a
# later total, or a person, decides. Far above what a few refunds in flight need.
MAX_SUMS = 50_000


def match_growth(in_flight: list[Refund], delta: int) -> Growth:
    """Which in-flight merchant refunds a growth of `delta` in the provider's cumulative refunded total
    completes, whatever order the provider completed them in. A total cannot name refunds, so:

    - the growth is first explained by the largest sum of in-flight refunds that fits in it; what is
      left over was refunded elsewhere (a dashboard refund) and is recorded as such;
    - when exactly one set of refunds makes that sum, those refunds succeeded;
    - when several sets make it (two refunds of 100, one done), none is completed and nothing is
      released: each stays pending until a later total fits one set only (all of them done, say).

    So a refund is never counted twice, nor one recorded that nobody made, whatever the order."""
    ordered = sorted(in_flight, key=lambda item: (item.created_at, item.refund_id))
    # sum -> (how many sets make it, capped at 2; one such set, as indexes into `ordered`)
    sums: dict[int, tuple[int, tuple[int, ...]]] = {0: (1, ())}
    for index, refund in enumerate(ordered):
        for reached, (ways, chosen) in list(sums.items()):
            total = reached + refund.amount.value
            if total > delta:
                continue
            before = sums.get(total)
            sums[total] = (min(2, ways + before[0]), before[1]) if before else (ways, (*chosen, index))
        if len(sums) > MAX_SUMS:
            return Growth(ambiguous=f"{len(ordered)} refunds in flight: too many to tell which completed")
    best = max(sums)
    ways, chosen = sums[best]
    if ways > 1:
        names = ", ".join(refund.refund_id for refund in ordered)
        return Growth(
            unexplained=delta - best,
            ambiguous=f"several sets of the refunds in flight ({names}) make {best} minor units",
        )
    return Growth(completed=tuple(ordered[index] for index in chosen), unexplained=delta - best)
