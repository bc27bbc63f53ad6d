"""POST|GET /notify/{provider}: verify a provider's notification, pass its facts through the gate, and
answer the way that provider expects.

What we refuse (unverified, malformed, or about an order we do not hold) is never written into an
order's history: it is kept apart, per provider and day (payments/store/rejected.py), and counted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from payments.engine import Engine, Plan, statement_event
from payments.errors import (
    MAX_REQUEST_BODY_BYTES,
    NotFound,
    NotificationRejected,
    PaymentsError,
    ProviderNotConfigured,
)
from payments.facts import Statement
from payments.flows import gate
from payments.flows.base import Flow
from payments.ledger import Refund
from payments.orders import OPEN, ORDER_ID_RE, Order, OrderStatus
from payments.providers.base import Provider, RawRequest, RawResponse
from payments.redact import summarize_raw_body
from payments.store.orders import OrdersStore
from payments.store.rejected import RejectedNotifications

if TYPE_CHECKING:
    from payments.providers.directory import ProviderDirectory

logger = Logger()
metrics = Metrics()


class NotificationFlow(Flow):
    def __init__(self, store: OrdersStore, providers: ProviderDirectory, engine: Engine) -> None:
        super().__init__(store, providers, engine)
        self.rejected = RejectedNotifications(store.table)  # over the same table and client

    def receive(self, provider_name: str, raw: RawRequest) -> RawResponse:
        try:
            provider = self.providers.get(provider_name)
        except ProviderNotConfigured:
            raise NotFound(
                f"no notification endpoint for '{provider_name}'", code="unknown_provider"
            ) from None
        try:
            if len(raw.body) > MAX_REQUEST_BODY_BYTES:  # not worth parsing: no provider sends that much
                raise NotificationRejected(
                    "request_too_large", f"the body is over {MAX_REQUEST_BODY_BYTES} bytes", status=413
                )
            statement = provider.parse_notification(raw)
        except NotificationRejected as rejection:
            self._record_rejection(provider.name, raw, rejection, verified=False)
            return provider.acknowledge(None, rejection)
        try:
            return self._apply(provider, statement)
        except NotificationRejected as rejection:  # verified, but not about an order of ours
            self._record_rejection(provider.name, raw, rejection, verified=True)
            return provider.acknowledge(statement, rejection)
        except PaymentsError as error:
            # The store or the provider is unavailable: the provider's own "try again later".
            logger.warning(
                "notification not applied", extra={"provider": provider.name, "reason": error.code}
            )
            return provider.acknowledge(statement, error)

    def _apply(self, provider: Provider, statement: Statement) -> RawResponse:
        if statement.no_op_reason:
            logger.info("notification acknowledged without action", extra={"reason": statement.no_op_reason})
            return provider.acknowledge(statement, None)
        found = (
            self.store.get_with_refunds(statement.order_id) if ORDER_ID_RE.match(statement.order_id) else None
        )
        order, refunds = found if found else (None, [])
        source = "notification"
        if statement.needs_query:
            # An unsigned hint: only worth a call to the provider for an open order of ours. Whether
            # we hold the order or not, the answer is the same: nothing to learn from it.
            if order is None or order.provider != provider.name or not _open(order, refunds):
                return provider.acknowledge(statement, None)
            asked = provider.query(order)
            if asked is None:
                return provider.acknowledge(statement, None)
            statement, source = asked, "provider_query"
        order = gate.check_owner(order, provider.name, statement)
        if (
            provider.capabilities.confirms_payment_after_cancel
            and order.status == OrderStatus.CANCELLED
            and statement.status == OrderStatus.PAID
        ):
            # We withdrew this order at the provider: a payment notified now is confirmed by asking.
            asked = provider.query(order)
            if asked is None:
                return provider.acknowledge(statement, None)
            statement, source = asked, "provider_query"
        evidence = None
        if gate.needs_payment_proof(order, statement):
            # A refund or chargeback of an order we hold unpaid, that does not say what was paid: the
            # provider's own account of the payment comes first (a provider error: retried later).
            evidence = provider.query(order)
            if evidence is not None:
                answered = self.engine.run(
                    order,
                    refunds,
                    statement_event("provider_query", "provider_query", evidence, self.clock()),
                    lambda plan: gate.admit(plan, evidence, provider=provider.name),
                )
                order, refunds = answered.order, answered.refunds
        template = statement_event(source, source, statement, self.clock())

        def decide(plan: Plan) -> None:
            gate.admit(plan, statement, provider=provider.name, record_ignored=True, evidence=evidence)

        committed = self.engine.run(order, refunds, template, decide)
        if committed.plan.empty:
            metrics.add_metric(name="DuplicateNotifications", unit=MetricUnit.Count, value=1)
        return provider.acknowledge(statement, None)

    def _record_rejection(
        self, provider_name: str, raw: RawRequest, rejection: NotificationRejected, *, verified: bool
    ) -> None:
        metrics.add_metric(name="NotificationsRejected", unit=MetricUnit.Count, value=1)
        # By provider: the dashboard counts this log line's `provider` (no metric dimension needed).
        logger.warning("notification rejected", extra={"provider": provider_name, "reason": rejection.reason})
        try:
            self.rejected.record(
                provider_name,
                self.clock(),
                reason=rejection.reason,
                claimed_order_id=rejection.claimed_order_id,
                verified=verified,
                payload={
                    "method": raw.method,
                    "content_type": raw.content_type,
                    "body": summarize_raw_body(raw.body, raw.content_type),
                },
            )
        except PaymentsError:
            # The refusal stands whether or not it could be filed; the metric above still counts it.
            logger.warning("rejected notification not recorded", extra={"provider": provider_name})


def _open(order: Order, refunds: list[Refund]) -> bool:
    """Still waiting for the provider: an unpaid open order, or a refund in flight."""
    return order.status in OPEN or any(refund.in_flight for refund in refunds)
