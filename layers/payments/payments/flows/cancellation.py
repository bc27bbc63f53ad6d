"""POST /orders/{order_id}/cancel: withdraw an unpaid order at the provider, where it can, and close it.

An order that is `created`, `pending` or `unknown` is cancelled; one already `cancelled` is answered as
it is; anything else is not cancellable (a paid order takes a refund). The provider is asked under the
order's lease (no create or resume talks to it at the same time). If it refuses because the order was
paid meanwhile, what it says goes through the gate: the order becomes `paid`, and the cancel is refused.
A provider without a cancel call keeps its checkout open until it expires: the order is cancelled here
and watched until that checkout has surely closed (`watch_until`: reconciliation and `sync` keep asking
the provider, and a payment found is applied as a late payment, flagged).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from payments.clock import iso
from payments.engine import Plan, event, statement_event
from payments.errors import Conflict, ProviderError, ProviderRejected
from payments.facts import CancelResult
from payments.flows import gate
from payments.flows.base import Flow, lease_until
from payments.ledger import Refund
from payments.orders import OPEN, Order, OrderStatus, Outcome

metrics = Metrics()


class CancelFlow(Flow):
    def cancel(self, order_id: str) -> Order:
        order, refunds = self.read(order_id)
        if order.status == OrderStatus.CANCELLED:
            return order
        _check_cancellable(order)
        now = self.clock()
        until = lease_until(now)
        leased = self.store.acquire_lease(order_id, OPEN, int(now.timestamp()), until)
        if leased is None:
            order, refunds = self.read(order_id)
            if order.status == OrderStatus.CANCELLED:
                return order
            _check_cancellable(order)
            raise Conflict(
                "another request is talking to the provider about this order; retry shortly",
                field="order_id",
                code="request_in_progress",
            )
        if leased.version == order.version:
            order = leased  # nothing changed since the read (the lease is no change): no second read
        else:
            order, refunds = self.read(order_id)
        provider = self.providers.get(order.provider)
        try:
            outcome = provider.cancel(order)
        except ProviderRejected as refused:
            return self._refused(order, refunds, refused)
        except ProviderError:
            self.store.release_lease(order_id, until)
            raise
        reason = {
            CancelResult.WITHDRAWN: "withdrawn at the provider",
            CancelResult.NOT_AT_PROVIDER: "the provider never had it",
            CancelResult.NO_CANCEL_CALL: "the provider has no cancel call: its checkout closes on expiry",
        }[outcome]

        watch_until = None
        if outcome == CancelResult.NO_CANCEL_CALL:
            watch_until = _checkout_closes(order, provider.capabilities.expiry_grace_seconds, now)
            if watch_until is not None:
                reason += f"; asked again until {watch_until}"

        def decide(plan: Plan) -> None:
            moved = plan.move(OrderStatus.CANCELLED, event_type="merchant_cancelled", reason=reason)
            if moved == Outcome.APPLY and watch_until is not None:
                # Its checkout may still take a payment until it closes: reconciliation keeps asking.
                plan.order.watch_until = watch_until
            plan.release_lease = True

        committed = self.engine.run(
            order, refunds, event("merchant_cancelled", "merchant", self.clock()), decide
        )
        result = committed.order
        if result.status != OrderStatus.CANCELLED:
            # A notification moved the order first (e.g. paid while we asked): the cancel did not win.
            if committed.plan.empty:
                self.store.release_lease(order_id, until)
            _check_cancellable(result)
        metrics.add_metric(name="OrdersCancelled", unit=MetricUnit.Count, value=1)
        return result

    def _refused(self, order: Order, refunds: list[Refund], refused: ProviderRejected) -> Order:
        """The provider would not withdraw it: most likely paid meanwhile. Ask, apply what it says."""
        provider = self.providers.get(order.provider)
        until = order.lease_until
        try:
            found = provider.query(order)
        except ProviderError:
            if until is not None:
                self.store.release_lease(order.order_id, until)
            raise
        if found is None:
            if until is not None:
                self.store.release_lease(order.order_id, until)
            raise refused
        template = statement_event("provider_query", "provider_query", found, self.clock())

        def decide(plan: Plan) -> None:
            gate.admit(plan, found, provider=provider.name)
            plan.release_lease = True

        committed = self.engine.run(order, refunds, template, decide)
        if committed.plan.empty and until is not None:
            self.store.release_lease(order.order_id, until)
        _check_cancellable(committed.order)
        raise refused  # still open at the provider, yet it refused: say what it said


def _checkout_closes(order: Order, grace_seconds: int, now: datetime) -> str | None:
    """When the provider's checkout for `order` has surely closed (its expiry plus the provider's
    grace), if that is still to come."""
    closes = datetime.fromisoformat(order.expires_at) + timedelta(seconds=grace_seconds)
    return iso(closes) if closes > now else None


def _check_cancellable(order: Order) -> None:
    if order.status not in OPEN:
        raise Conflict(
            f"order_id: an order that is {order.status} cannot be cancelled"
            + (" (a paid order takes a refund)" if order.status != OrderStatus.CANCELLED else ""),
            field="order_id",
            code="order_not_cancellable",
        )
