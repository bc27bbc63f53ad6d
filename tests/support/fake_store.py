"""The engine's store in memory, for the flows' and the gate's tests below DynamoDB: `FakeStore` keeps
DynamoDB's conditional-write rules for orders and refunds, `LeasingStore` adds the leases a refund or
a cancel takes (payments/store/orders.py holds the real ones)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from payments.engine import Plan
from payments.errors import ConcurrentUpdateError
from payments.facts import RefundStatus
from payments.ledger import Refund
from payments.money import Money
from payments.orders import Order, OrderStatus
from tests.support.orders import stored_order
from tests.support.providers import ANY_PROVIDER


class FakeStore:
    """The engine's store, in memory, with the same conditional-write rules as DynamoDB's."""

    def __init__(self, order: Order, refunds: list[Refund] | None = None) -> None:
        self.order = order
        self.refunds = {refund.refund_id: refund for refund in refunds or []}
        self.events: list[tuple[int, str]] = []
        self.fail_next: Exception | None = None

    def get_with_refunds(self, order_id: str) -> tuple[Order, list[Refund]] | None:
        return replace(self.order), [replace(r) for r in self.refunds.values()]

    def commit(self, plan: Plan) -> Order:
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        if plan.original.version != self.order.version:
            raise ConcurrentUpdateError(None)
        for refund in plan.changed_refunds:
            before = plan.original_refunds.get(refund.refund_id)
            stored = self.refunds.get(refund.refund_id)
            if (before is None) != (stored is None) or (
                before and stored and before.version != stored.version
            ):
                raise ConcurrentUpdateError(None)
        for refund in plan.changed_refunds:
            before = plan.original_refunds.get(refund.refund_id)
            self.refunds[refund.refund_id] = replace(refund, version=before.version + 1 if before else 1)
        seq = plan.original.event_seq
        for line in plan.events:
            seq += 1
            self.events.append((seq, line.type))
        self.order = replace(plan.order, version=plan.original.version + 1, event_seq=seq)
        return self.order


class LeasingStore(FakeStore):
    """The fake store with the refund lease's conditional update; `before_commit` lets a test act as
    a concurrent request between our read and our write."""

    def __init__(self, order: Order) -> None:
        super().__init__(order)
        self.before_commit: Callable[[], None] | None = None

    def commit(self, plan: Plan) -> Order:
        hook, self.before_commit = self.before_commit, None
        if hook is not None:
            hook()
        committed = super().commit(plan)
        if plan.release_lease:  # as OrdersStore.commit: the lease goes in the same write
            self.order = replace(self.order, lease_until=None)
            committed = replace(self.order)
        return committed

    def acquire_refund_lease(
        self,
        refund: Refund,
        now: int,
        until: int,
        statuses: frozenset[RefundStatus] = frozenset({RefundStatus.UNKNOWN}),
    ) -> Refund | None:
        stored = self.refunds.get(refund.refund_id)
        if (
            stored is None
            or stored.version != refund.version
            or stored.status not in statuses
            or (stored.lease_until is not None and stored.lease_until >= now)
        ):
            return None
        leased = replace(stored, version=stored.version + 1, lease_until=until)
        self.refunds[refund.refund_id] = leased
        return replace(leased)

    def acquire_lease(
        self, order_id: str, statuses: frozenset[OrderStatus], now: int, until: int
    ) -> Order | None:
        held = self.order.lease_until is not None and self.order.lease_until >= now
        if self.order.status not in statuses or held:
            return None
        self.order = replace(self.order, lease_until=until)  # not a change: no version
        return replace(self.order)

    def release_lease(self, order_id: str, until: int) -> None:
        if self.order.lease_until == until:
            self.order = replace(self.order, lease_until=None)

    def release_refund_lease(self, refund: Refund) -> None:
        stored = self.refunds.get(refund.refund_id)
        if stored is not None and stored.version == refund.version:
            self.refunds[refund.refund_id] = replace(stored, lease_until=None, version=stored.version + 1)


def order_in(status: OrderStatus, amount: int = 1000, currency: str = "EUR") -> Order:
    """Order g-1 of ANY_PROVIDER, stored in `status`, of `amount` minor units of `currency`."""
    order = stored_order("g-1", provider=ANY_PROVIDER)
    order.status = status
    order.amount = Money(amount, currency)
    return order
