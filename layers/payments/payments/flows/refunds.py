"""POST /orders/{order_id}/refunds: the merchant gives money back, through the refund ledger.

The amount is reserved on the order in the same transaction that writes the refund (so concurrent
requests never reserve more than was paid), then the provider is called under the refund's
provider-facing id, and its answer goes through the gate like any provider fact. A refund whose outcome
is unknown is resolved, when the same request comes again, by asking the provider — never by a second
refund there. One request at a time talks to the provider about a refund (its lease).

Sending a refund and applying the provider's answer (`send_refund`) is shared with reconciliation,
which finishes a refund whose outcome was unknown by sending it again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from payments import ledger
from payments.clock import iso
from payments.engine import Plan, event, statement_event
from payments.errors import (
    Conflict,
    PaymentsError,
    ProviderError,
    ProviderRejected,
    ValidationFailed,
)
from payments.facts import RefundStatus, Statement
from payments.flows import gate
from payments.flows.base import Flow, lease_until
from payments.ledger import MERCHANT, Refund
from payments.money import Money
from payments.orders import Order, OrderStatus
from payments.providers.base import Provider, RefundContext
from payments.records import frozen

if TYPE_CHECKING:
    from payments.api import RefundRequest

logger = Logger()
metrics = Metrics()

REFUNDABLE = frozenset({OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED})


@frozen
class RefundResult:
    """A refund request's outcome: the refund, and whether this request created it."""

    refund: Refund
    created: bool  # False: the same request again


class RefundFlow(Flow):
    def refund(self, order_id: str, request: RefundRequest, public_base_url: str) -> RefundResult:
        order, refunds = self.read(order_id)
        provider = self.providers.get(order.provider)
        ctx = RefundContext(notify_url=f"{public_base_url}/notify/{provider.name}", now=self.clock())
        existing = next((r for r in refunds if r.refund_id == request.refund_id), None)
        if existing is not None:
            return RefundResult(self._again(order, refunds, existing, request, provider, ctx), False)
        amount = _amount_of(request, order)
        now = self.clock()
        refund = Refund(
            refund_id=request.refund_id,
            order_id=order.order_id,
            amount=amount,
            status=RefundStatus.UNKNOWN,  # until the provider answers, we cannot tell
            origin=MERCHANT,
            provider_key=provider.refund_key(order.order_id, request.refund_id),
            created_at=iso(now),
            updated_at=iso(now),
            reason=request.reason,
            request_hash=request.fingerprint(),
            lease_until=lease_until(now),
        )

        def reserve(plan: Plan) -> None:
            if request.refund_id in plan.refunds:
                raise _Raced  # an identical request reserved it first
            _check_refundable(plan.order, amount)
            ledger.reserve(plan, refund)

        try:
            committed = self.engine.run(order, refunds, event("refund_requested", "merchant", now), reserve)
        except _Raced:
            order, refunds = self.read(order_id)
            raced = next(r for r in refunds if r.refund_id == request.refund_id)
            return RefundResult(self._again(order, refunds, raced, request, provider, ctx), False)
        metrics.add_metric(name="RefundsRequested", unit=MetricUnit.Count, value=1)
        stored = next(r for r in committed.refunds if r.refund_id == refund.refund_id)
        return RefundResult(
            send_refund(self, committed.order, committed.refunds, stored, provider, ctx), True
        )

    # -- the same request again ------------------------------------------------------------------
    def _again(
        self,
        order: Order,
        refunds: list[Refund],
        refund: Refund,
        request: RefundRequest,
        provider: Provider,
        ctx: RefundContext,
    ) -> Refund:
        if refund.origin != MERCHANT or refund.request_hash != request.fingerprint():
            raise Conflict(
                "refund_id was already used for a different refund",
                field="refund_id",
                code="refund_id_conflict",
            )
        if refund.status != RefundStatus.UNKNOWN:
            return refund
        now_s = int(ctx.now.timestamp())
        held = self.store.acquire_refund_lease(refund, now_s, lease_until(ctx.now))
        if held is None:
            fresh = self.read(order.order_id)[1]
            current = next(r for r in fresh if r.refund_id == refund.refund_id)
            if current.status != RefundStatus.UNKNOWN:
                return current
            raise Conflict(
                "the same refund request is still talking to the provider; retry shortly",
                field="refund_id",
                code="request_in_progress",
            )
        refunds = [held if r.refund_id == held.refund_id else r for r in refunds]
        try:
            found = provider.resolve_refund(order, held, ctx)
        except ProviderError:
            _unchanged(self, order, refunds, held)
            raise
        if found is None:  # the provider never got it: sending it (under the same id) is safe
            return send_refund(self, order, refunds, held, provider, ctx, resending=True)
        return _apply(self, order, refunds, held, found, provider, "provider_query")


# -- talking to the provider (shared with reconciliation) ------------------------------------------
def send_refund(
    flow: Flow,
    order: Order,
    refunds: list[Refund],
    refund: Refund,
    provider: Provider,
    ctx: RefundContext,
    *,
    resending: bool = False,
) -> Refund:
    """Send a refund whose lease `flow` holds, under its provider-facing id, and apply the answer
    through the gate. Refused, it is released (on a resend, the provider is asked first: the first
    send may have arrived); no clear answer, it stays unknown with its amount reserved. The refund
    flow sends a new refund here; reconciliation, one the provider shows it never received."""
    try:
        statement = provider.refund(order, refund, ctx)
    except ProviderRejected as rejected:
        if resending:
            # Refused on a resend: perhaps because the first one did arrive. Ask, never fail it.
            found = provider.resolve_refund(order, refund, ctx)
            if found is not None:
                return _apply(flow, order, refunds, refund, found, provider, "provider_query")
        _failed(flow, order, refunds, refund, rejected)
        raise
    except ProviderError as error:
        _outcome_unknown(flow, order, refunds, refund, error)
        metrics.add_metric(name="ProviderOutcomeUnknown", unit=MetricUnit.Count, value=1)
        logger.warning("refund outcome unknown", extra={"order_id": order.order_id, "reason": error.code})
        raise
    return _apply(flow, order, refunds, refund, statement, provider, "provider")


def _apply(
    flow: Flow,
    order: Order,
    refunds: list[Refund],
    refund: Refund,
    statement: Statement,
    provider: Provider,
    source: str,
) -> Refund:
    kind = "refund_reply" if source == "provider" else source
    template = statement_event(kind, source, statement, flow.clock())

    def decide(plan: Plan) -> None:
        gate.admit(plan, statement, provider=provider.name)
        _release(plan, refund.refund_id)

    committed = flow.engine.run(order, refunds, template, decide)
    if committed.plan.empty:
        current = next((r for r in committed.refunds if r.refund_id == refund.refund_id), refund)
        if current.status != RefundStatus.UNKNOWN:
            # Settled meanwhile (its result notification came between the reply and our write):
            # answer it as it stands, not as the unknown we held.
            return current
        _release_alone(flow, refund)  # nothing learnt (still unknown): give the lease back alone
        return replace(refund, lease_until=None)
    return next(r for r in committed.refunds if r.refund_id == refund.refund_id)


def _failed(
    flow: Flow, order: Order, refunds: list[Refund], refund: Refund, rejected: ProviderRejected
) -> None:
    template = event(
        "refund_failed",
        "provider",
        flow.clock(),
        reason=f"{rejected.provider_code}: {rejected.provider_message}",
    )

    def decide(plan: Plan) -> None:
        current = plan.refunds[refund.refund_id]
        if current.in_flight:
            ledger.release(plan, current)

    flow.engine.run(order, refunds, template, decide)
    metrics.add_metric(name="RefundsRefused", unit=MetricUnit.Count, value=1)


def _outcome_unknown(
    flow: Flow, order: Order, refunds: list[Refund], refund: Refund, error: ProviderError
) -> None:
    """The provider may have refunded: the refund stays unknown, its amount reserved, and the
    history says so; the lease is given back in the same write."""

    def decide(plan: Plan) -> None:
        current = plan.refunds.get(refund.refund_id)
        if current is not None and current.status == RefundStatus.UNKNOWN:
            held = replace(current, lease_until=None, updated_at=plan.now)
            plan.put_refund(held)
            plan.record("refund_outcome_unknown", reason=error.code, refund=held)

    template = event("refund_outcome_unknown", "provider", flow.clock(), reason=error.code)
    try:
        committed = flow.engine.run(order, refunds, template, decide)
    except PaymentsError:
        logger.warning("refund outcome not recorded", extra={"order_id": order.order_id})
        return
    if committed.plan.empty:
        _unchanged(flow, order, refunds, refund)


def _unchanged(flow: Flow, order: Order, refunds: list[Refund], refund: Refund) -> None:
    """The outcome stays unknown: the reservation stays, the lease is given back."""
    fresh = flow.read(order.order_id)[1]
    current = next((r for r in fresh if r.refund_id == refund.refund_id), None)
    if current is not None:
        _release_alone(flow, current)


def _release_alone(flow: Flow, refund: Refund) -> None:
    if refund.lease_until is not None and refund.status == RefundStatus.UNKNOWN:
        flow.store.release_refund_lease(refund)


class _Raced(Exception):
    """An identical refund request reserved this refund_id between our read and our write."""


def _release(plan: Plan, refund_id: str) -> None:
    current = plan.refunds.get(refund_id)
    if current is not None and current.lease_until is not None:
        plan.put_refund(replace(current, lease_until=None))


def _amount_of(request: RefundRequest, order: Order) -> Money:
    if order.status not in REFUNDABLE:
        raise Conflict(
            f"order_id: an order that is {order.status} cannot be refunded (paid or partially_refunded only)",
            field="order_id",
            code="order_not_refundable",
        )
    if request.amount is None:
        amount = order.refundable
        if amount.value == 0:
            raise ValidationFailed(
                "amount: nothing is left to refund (refunds succeeded and in flight use it all)",
                field="amount.value",
                code="refund_exceeds_refundable",
            )
        return amount
    if request.amount.currency != order.amount.currency:
        raise ValidationFailed(
            f"amount.currency: the order is in {order.amount.currency}",
            field="amount.currency",
            code="currency_mismatch",
        )
    amount = Money(request.amount.value, request.amount.currency)
    _check_refundable(order, amount)
    return amount


def _check_refundable(order: Order, amount: Money) -> None:
    if order.status not in REFUNDABLE:
        raise Conflict(
            f"order_id: an order that is {order.status} cannot be refunded (paid or partially_refunded only)",
            field="order_id",
            code="order_not_refundable",
        )
    if amount.value > order.refundable.value:
        raise ValidationFailed(
            f"amount.value: more than is refundable ({order.refundable}: the amount minus refunds "
            "succeeded and in flight)",
            field="amount.value",
            code="refund_exceeds_refundable",
        )
