"""The refund ledger: each refund is an item of its own (`sk = REFUND#<refund_id>`), and the order
carries the totals (`refunded_value`: succeeded; `reserved_value`: merchant refunds in flight).

Both kinds of refund live here: the merchant's (reserved before the provider is called) and those the
provider reports on its own (dashboard refunds), each recorded once by its provider-facing key.
Every change to a refund is written in the same transaction as its effect on the order
(payments/engine.py), so the totals and the items can never disagree.

The ledger's verbs — `reserve`, `release`, `settle`, `record_provider_refund`, `match_refunded_total`
— are the only code that changes the totals (a test holds every other module to it): each changes a
plan's working copy and records its audit event, and the order's status follows the totals. What
may be applied at all (ownership, amounts, currencies, the payment a refund implies) is the gate's
to decide before it calls them (payments/flows/gate.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any, Protocol

from payments.facts import FINAL_REFUND_STATUSES, RefundStatus
from payments.money import Money
from payments.orders import LEDGER_STATUSES, Order, OrderStatus, Outcome, ledger_status
from payments.records import frozen, mutable

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


@mutable
class Refund:
    """One refund of an order, as the ledger holds it: asked by the merchant or made at the provider."""

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


@frozen
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


class Plan(Protocol):
    """What the verbs need of the engine's plan (payments/engine.py `Plan`, which fills it): a working
    copy of the order and its refunds, and the audit events that explain each change. A protocol, so
    that the ledger sits below the engine that commits it."""

    order: Order
    refunds: dict[str, Refund]

    @property
    def now(self) -> str: ...

    def put_refund(self, refund: Refund) -> None: ...

    def record(self, event_type: str | None = None, *, refund: Refund | None = None) -> None: ...

    def note(self, event_type: str, *, reason: str, about: object = None) -> None: ...

    def move(
        self, target: OrderStatus, *, event_type: str | None = None, refund: Refund | None = None
    ) -> Outcome: ...


# -- the verbs: every change to the totals --------------------------------------------------------
def reserve(plan: Plan, refund: Refund) -> None:
    """A merchant refund, before the provider is called: its amount is held back from what may still
    be refunded (so concurrent requests never reserve more than was paid)."""
    plan.put_refund(refund)
    plan.order.reserved_value += refund.amount.value
    plan.record("refund_requested", refund=refund)


def release(plan: Plan, refund: Refund) -> Refund:
    """A refund in flight the provider refused: failed, its amount given back."""
    _unhold(plan, refund)
    failed = replace(refund, status=RefundStatus.FAILED, updated_at=plan.now, lease_until=None)
    plan.put_refund(failed)
    plan.record("refund_failed", refund=failed)
    return failed


def settle(plan: Plan, refund: Refund, status: RefundStatus, reference: str | None = None) -> Refund:
    """A refund we hold is now `status`: a success counts in the refunded total, and a final status
    gives back what it held; the order's status follows the totals."""
    if status == RefundStatus.SUCCEEDED:
        plan.order.refunded_value += refund.amount.value
    if status in FINAL_REFUND_STATUSES:
        _unhold(plan, refund)
    updated = replace(
        refund, status=status, updated_at=plan.now, provider_reference=reference or refund.provider_reference
    )
    plan.put_refund(updated)
    _follow(plan, updated, f"refund_{status}")
    return updated


def record_provider_refund(
    plan: Plan, key: str, amount: Money, status: RefundStatus, reference: str | None = None
) -> Refund:
    """A refund the provider reported that no merchant request of ours made (e.g. from its dashboard),
    recorded under its provider-facing `key`: succeeded, it counts; pending, it is held; failed, it is
    only recorded."""
    refund = provider_refund(plan.order.order_id, key, amount, status, plan.now)
    refund.provider_reference = reference
    plan.put_refund(refund)
    if status == RefundStatus.FAILED:
        plan.record("refund_failed", refund=refund)
        return refund
    if status == RefundStatus.SUCCEEDED:
        plan.order.refunded_value += amount.value
    else:
        plan.order.reserved_value += amount.value
    _follow(plan, refund, f"refund_{status}")
    return refund


def match_refunded_total(plan: Plan, total: Money) -> None:
    """The provider's cumulative refunded total grew to `total`: the growth completes the set of our
    merchant refunds in flight that it exactly is (`match_growth`), in whatever order the provider
    completed them; what no such set explains was refunded elsewhere. When several sets fit, none
    completes (noted once) until a later total tells."""
    order = plan.order
    in_flight = [r for r in plan.refunds.values() if r.in_flight and r.origin == MERCHANT]
    growth = match_growth(in_flight, total.value - order.refunded_value)
    for refund in growth.completed:
        settle(plan, refund, RefundStatus.SUCCEEDED)
    if growth.ambiguous:
        plan.note(
            "refund_total_unmatched",
            reason=f"the refunded total is {total}; {growth.ambiguous}: kept pending until a later total"
            " tells which completed",
            about=total,
        )
    if growth.unexplained > 0:
        record_provider_refund(
            plan, f"total:{total.value}", Money(growth.unexplained, total.currency), RefundStatus.SUCCEEDED
        )


def _unhold(plan: Plan, refund: Refund) -> None:
    if refund.in_flight:
        plan.order.reserved_value = max(0, plan.order.reserved_value - refund.amount.value)


def _follow(plan: Plan, refund: Refund, event_type: str) -> None:
    """The status the refunded total implies, with the refund's event (or just the event, where the
    status does not move)."""
    order = plan.order
    if order.status in LEDGER_STATUSES:
        target = ledger_status(order.amount, order.refunded_value)
        if target != order.status:
            plan.move(target, event_type=event_type, refund=refund)
            return
    plan.record(event_type, refund=refund)
