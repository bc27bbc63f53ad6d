"""POST /orders: store the order, create it at the provider, and resume an order whose creation did
not finish (a timeout, an unclear reply, a crash) without ever creating it twice at the provider.

Whatever the provider answers — its create reply, or a status query while resuming — goes through the
gate and the engine like a notification. One request at a time talks to the provider about an order:
it holds the order's lease (`lease_until`), taken with a conditional write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from payments.clock import iso
from payments.engine import Committed, Plan, event, statement_event
from payments.errors import (
    Conflict,
    PaymentActionUnavailable,
    ProviderDuplicateOrder,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    StoreUnavailable,
)
from payments.facts import Statement
from payments.flows import gate
from payments.flows.base import Flow, lease_until
from payments.ledger import Refund
from payments.money import Money
from payments.orders import DEFAULT_WALLET, Order, OrderEvent, OrderStatus
from payments.providers.base import CallContext, Provider
from payments.providers.capabilities import check_capabilities, order_wallet
from payments.records import frozen

if TYPE_CHECKING:
    from payments.api import CreateOrderRequest

logger = Logger()
metrics = Metrics()

RESUMABLE = frozenset({OrderStatus.CREATED, OrderStatus.UNKNOWN})


def new_order(
    request: CreateOrderRequest, now: datetime, expires_in_seconds: int, wallet: str | None = None
) -> Order:
    """The order as first stored for a create request: `created`, held by this request. `wallet`: the
    one the provider takes it with (the request's, else the provider's default)."""
    return Order(
        order_id=request.order_id,
        provider=request.provider,
        status=OrderStatus.CREATED,
        amount=Money(request.amount.value, request.amount.currency),
        description=request.description,
        return_url=request.return_url,
        cancel_url=request.cancel_url,
        flow=request.flow,
        terminal_type=request.terminal_type,
        wallet=wallet or request.wallet or DEFAULT_WALLET,
        request_hash=request.fingerprint(),
        created_at=iso(now),
        updated_at=iso(now),
        expires_at=iso(now + timedelta(seconds=expires_in_seconds)),
        metadata=dict(request.metadata or {}),
        lease_until=lease_until(now),
    )


@frozen
class CreateResult:
    """POST /orders' outcome: the order, and whether this request created it."""

    order: Order
    created: bool  # False: an idempotent repeat of an earlier request


class CreateFlow(Flow):
    def create_order(self, request: CreateOrderRequest, public_base_url: str) -> CreateResult:
        provider = self.providers.get(request.provider)
        check_capabilities(request, provider.capabilities, provider.label)  # the record's limits
        provider.check_order(request)  # then what only the adapter can tell
        now = self.clock()
        expires_in = request.expires_in_seconds or provider.default_expiry_seconds(request)
        order = new_order(request, now, expires_in, order_wallet(request, provider.capabilities))
        ctx = CallContext(notify_url=f"{public_base_url}/notify/{provider.name}", now=now, request=request)
        created = event("order_created", "merchant", now, to_status=order.status)
        existing = self.store.create(order, created)
        if existing is None:
            metrics.add_metric(name="OrdersCreated", unit=MetricUnit.Count, value=1)
            stored = replace(order, event_seq=1)
            return CreateResult(self._create_at_provider(stored, [], provider, ctx, resumed=False), True)
        if existing.request_hash != order.request_hash:
            raise Conflict(
                "order_id was already used for a different order", field="order_id", code="order_id_conflict"
            )
        return CreateResult(self._resume(existing, provider, ctx), created=False)

    # -- resuming an identical repeat ------------------------------------------------------------
    def _resume(self, order: Order, provider: Provider, ctx: CallContext) -> Order:
        if order.status not in RESUMABLE:
            return usable(order)
        now_s = int(ctx.now.timestamp())
        until = lease_until(ctx.now)
        if not self.store.acquire_lease(order.order_id, RESUMABLE, now_s, until):
            fresh = self.store.get(order.order_id)
            if fresh is not None and fresh.status not in RESUMABLE:
                return usable(fresh)
            raise Conflict(
                "an identical request for this order is still in progress; retry shortly",
                field="order_id",
                code="request_in_progress",
            )
        found = self.store.get_with_refunds(order.order_id)
        if found is None:
            raise StoreUnavailable("the order disappeared while being resumed")
        order, refunds = found
        # The first attempt may have reached the provider: ask before creating again.
        statement = self._ask(order, refunds, provider)
        if statement is None:
            return self._create_at_provider(order, refunds, provider, ctx, resumed=True)
        return self._apply_found(order, refunds, statement, provider)

    def _ask(self, order: Order, refunds: list[Refund], provider: Provider) -> Statement | None:
        """The provider's account of the order; None when it does not know it. On no clear answer
        the order is (kept) `unknown`, the lease released, and the error raised."""
        try:
            return provider.query(order)
        except ProviderError as error:
            self._outcome_unknown(order, refunds, error.code)
            raise

    def _apply_found(
        self, order: Order, refunds: list[Refund], statement: Statement, provider: Provider
    ) -> Order:
        template = statement_event("provider_query", "provider_query", statement, self.clock())

        def decide(plan: Plan) -> None:
            gate.admit(plan, statement, provider=provider.name)
            if plan.order.status == OrderStatus.CREATED:
                plan.move(OrderStatus.UNKNOWN, event_type="provider_outcome_unknown")
            plan.release_lease = True

        committed = self._commit(order, refunds, template, decide)
        result = committed.order
        if result.status in RESUMABLE:
            if any("amount_mismatch" in line.flags for line in committed.plan.events):
                raise ProviderUnavailable(
                    "the provider holds an order with this id for a different amount; nothing was applied "
                    "and the order is flagged amount_mismatch",
                    code="provider_amount_mismatch",
                )
            raise ProviderUnavailable(
                "the provider could not say what became of this order; retry later",
                code="provider_result_unknown",
            )
        return usable(result)

    # -- talking to the provider -----------------------------------------------------------------
    def _create_at_provider(
        self, order: Order, refunds: list[Refund], provider: Provider, ctx: CallContext, *, resumed: bool
    ) -> Order:
        try:
            statement = provider.create_payment(order, ctx)
        except ProviderDuplicateOrder:
            # The id is taken at the provider: an earlier attempt went through. Ask, never fail.
            found = self._ask(order, refunds, provider)
            if found is None:
                self._outcome_unknown(order, refunds, "provider_duplicate_order")
                raise ProviderUnavailable(
                    "the provider reports this order id as taken but does not return the order",
                    code="provider_duplicate_order",
                ) from None
            return self._apply_found(order, refunds, found, provider)
        except ProviderRejected as rejected:
            if resumed:
                # A refusal of a repeated create may be of the id our first attempt used: ask first.
                found = self._ask(order, refunds, provider)
                if found is not None:
                    return self._apply_found(order, refunds, found, provider)
            self._commit(
                order,
                refunds,
                event(
                    "provider_rejected",
                    "provider",
                    self.clock(),
                    reason=f"{rejected.provider_code}: {rejected.provider_message}",
                ),
                _move_and_release(OrderStatus.FAILED),
            )
            metrics.add_metric(name="ProviderRejected", unit=MetricUnit.Count, value=1)
            raise
        except ProviderError as error:
            self._outcome_unknown(order, refunds, error.code)
            raise
        except Exception:
            # A bug or an unexpected reply: the provider may have acted, so the order is kept unknown.
            self._outcome_unknown(order, refunds, "internal_error")
            raise
        template = statement_event("provider_accepted", "provider", statement, self.clock())

        def decide(plan: Plan) -> None:
            gate.admit(plan, statement, provider=provider.name)
            plan.release_lease = True

        committed = self._commit(order, refunds, template, decide)
        if committed.order.status in RESUMABLE:  # the reply said something the gate refused
            raise ProviderUnavailable(
                "the provider's reply could not be applied; the order is flagged for a person to check",
                code="provider_bad_reply",
            )
        return usable(committed.order)

    def _outcome_unknown(self, order: Order, refunds: list[Refund], reason: str) -> None:
        self._commit(
            order,
            refunds,
            event("provider_outcome_unknown", "provider", self.clock(), reason=reason),
            _move_and_release(OrderStatus.UNKNOWN),
        )
        metrics.add_metric(name="ProviderOutcomeUnknown", unit=MetricUnit.Count, value=1)

    def _commit(
        self, order: Order, refunds: list[Refund], template: OrderEvent, decide: Callable[[Plan], None]
    ) -> Committed:
        committed = self.engine.run(order, refunds, template, decide)
        if committed.plan.empty and order.lease_until is not None:
            # Nothing to write (e.g. an unknown order stays unknown): give the lease back on its own.
            self.store.release_lease(order.order_id, order.lease_until)
        return committed


def _move_and_release(target: OrderStatus) -> Callable[[Plan], None]:
    def decide(plan: Plan) -> None:
        plan.move(target)
        plan.release_lease = True

    return decide


def usable(order: Order) -> Order:
    """An order the merchant can act on: an unpaid one comes with a way to pay it."""
    if order.status == OrderStatus.PENDING and order.payment_url is None and order.payment_action is None:
        raise PaymentActionUnavailable(
            "the provider holds this order unpaid but gave no way to send the payer to it again; "
            "cancel it (POST /orders/{order_id}/cancel) and create a new order with a new order_id",
            field="order_id",
        )
    return order
