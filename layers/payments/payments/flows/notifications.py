"""POST|GET /notify/{provider}: verify a provider's notification, pass its facts through the gate, and
answer the way that provider expects.

What we refuse (unverified, malformed, or about an order we do not hold) is never written into an
order's history: it is kept apart, per provider and day (payments/store/rejected.py), and counted.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics, single_metric
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
from payments.records import frozen
from payments.redact import summarize_raw_body
from payments.refusals import MALFORMED, REASON_CODES, SIGNATURE_INVALID, Diagnosis, default_explanation
from payments.store.notification_marks import NotificationMarks
from payments.store.orders import OrdersStore
from payments.store.rejected import KeptRequest, RejectedNotifications

if TYPE_CHECKING:
    from payments.providers.directory import ProviderDirectory

logger = Logger()
metrics = Metrics()


MARK_EVERY_S = 60.0
APPLIED, DUPLICATE, REFUSED, UNAVAILABLE = "applied", "duplicate", "refused", "unavailable"


@frozen
class Delivery:
    """What became of one delivery: its outcome, the answer the provider gets, and for a refusal why."""

    result: str  # APPLIED, DUPLICATE (nothing changed), REFUSED, UNAVAILABLE (ours: the provider retries)
    response: RawResponse
    diagnosis: Diagnosis | None
    order_id: str | None


class NotificationFlow(Flow):
    def __init__(self, store: OrdersStore, providers: ProviderDirectory, engine: Engine) -> None:
        super().__init__(store, providers, engine)
        self.rejected = RejectedNotifications(store.table)  # over the same table and client
        self.marks = NotificationMarks(store.table)
        self._marked: dict[str, float] = {}  # provider -> when this flow last marked one accepted (monotonic)

    def receive(self, provider_name: str, raw: RawRequest) -> RawResponse:
        return self.deliver(provider_name, raw).response

    def deliver(self, provider_name: str, raw: RawRequest, *, replay: bool = False) -> Delivery:
        """One delivery of a notification, fresh or replayed (`replay`: a kept request sent again by
        the merchant, whose refusal is answered, not filed again)."""
        try:
            provider = self.providers.get(provider_name)
        except ProviderNotConfigured:
            raise NotFound(
                f"no notification endpoint for '{provider_name}'", code="unknown_provider"
            ) from None
        if len(raw.body) > MAX_REQUEST_BODY_BYTES:  # not worth parsing: no provider sends that much
            verified: Statement | NotificationRejected = NotificationRejected(
                "request_too_large", f"the body is over {MAX_REQUEST_BODY_BYTES} bytes", status=413
            )
        else:
            provider, verified = self._verify(provider, raw)
        if isinstance(verified, NotificationRejected):
            diagnosis = self._refused(provider, raw, verified, verified=False, file=not replay)
            return Delivery(
                REFUSED, provider.acknowledge(None, verified), diagnosis, verified.claimed_order_id
            )
        statement = verified
        try:
            response, applied = self._apply(provider, statement)
        except NotificationRejected as rejection:  # verified, but not about an order of ours
            diagnosis = self._refused(provider, raw, rejection, verified=True, file=not replay)
            return Delivery(
                REFUSED, provider.acknowledge(statement, rejection), diagnosis, rejection.claimed_order_id
            )
        except PaymentsError as error:
            # The store or the provider is unavailable: the provider's own "try again later".
            logger.warning(
                "notification not applied", extra={"provider": provider.name, "reason": error.code}
            )
            if replay:
                raise
            return Delivery(UNAVAILABLE, provider.acknowledge(statement, error), None, statement.order_id)
        self._mark_accepted(provider.name)
        return Delivery(APPLIED if applied else DUPLICATE, response, None, statement.order_id)

    def _verify(
        self, provider: Provider, raw: RawRequest
    ) -> tuple[Provider, Statement | NotificationRejected]:
        """The notification's statement, or its refusal, and the adapter that decided. A signature that
        fails may be signed with a key rotated since the secret was read: the secret is read again
        (once a minute per process at most, so that forgeries cost no more) and, if this provider's
        entry changed, the notification verified again under it. A notification that verifies is never
        delayed by any of this."""
        try:
            return provider, provider.parse_notification(raw)
        except NotificationRejected as rejection:
            refused = rejection
        if REASON_CODES.get(refused.reason) != SIGNATURE_INVALID or not self.providers.refresh_secret():
            return provider, refused
        fresh = self.providers.get(provider.name)
        if fresh is provider:  # the same entry: the same key refuses it again
            return provider, refused
        logger.info("provider settings changed since the secret was read", extra={"provider": provider.name})
        try:
            return fresh, fresh.parse_notification(raw)
        except NotificationRejected as rejection:
            return fresh, rejection

    def _mark_accepted(self, provider_name: str) -> None:
        """For the doctor's "last accepted": once a minute per process at most, never failing a delivery."""
        now = time.monotonic()
        if now - self._marked.get(provider_name, -MARK_EVERY_S) < MARK_EVERY_S:
            return
        self._marked[provider_name] = now
        try:
            self.marks.mark_accepted(provider_name, self.clock())
        except PaymentsError:
            logger.warning("accepted notification not marked", extra={"provider": provider_name})

    def _apply(self, provider: Provider, statement: Statement) -> tuple[RawResponse, bool]:
        """The acknowledgement, and whether anything changed."""
        if statement.no_op_reason:
            logger.info("notification acknowledged without action", extra={"reason": statement.no_op_reason})
            return provider.acknowledge(statement, None), False
        found = (
            self.store.get_with_refunds(statement.order_id) if ORDER_ID_RE.match(statement.order_id) else None
        )
        order, refunds = found if found else (None, [])
        source = "notification"
        if statement.needs_query:
            # An unsigned hint: only worth a call to the provider for an open order of ours. Whether
            # we hold the order or not, the answer is the same: nothing to learn from it.
            if order is None or order.provider != provider.name or not _open(order, refunds):
                return provider.acknowledge(statement, None), False
            asked = provider.query(order)
            if asked is None:
                return provider.acknowledge(statement, None), False
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
                return provider.acknowledge(statement, None), False
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
        return provider.acknowledge(statement, None), not committed.plan.empty

    def _refused(
        self,
        provider: Provider,
        raw: RawRequest,
        rejection: NotificationRejected,
        *,
        verified: bool,
        file: bool,
    ) -> Diagnosis:
        """Why (the slow path: only ever after a refusal), counted by code and, unless it is a replay,
        filed with its request."""
        diagnosis = _diagnosis(provider, raw, rejection)
        if not file:
            return diagnosis
        metrics.add_metric(name="NotificationsRejected", unit=MetricUnit.Count, value=1)
        with single_metric(name="NotificationsRejectedByCode", unit=MetricUnit.Count, value=1) as by_code:
            by_code.add_dimension(name="code", value=diagnosis.code)
        # By provider: the dashboard counts this log line's `provider` (no metric dimension needed).
        logger.warning(
            "notification rejected",
            extra={"provider": provider.name, "reason": rejection.reason, "code": diagnosis.code},
        )
        try:
            self.rejected.record(
                provider.name,
                self.clock(),
                reason=rejection.reason,
                claimed_order_id=rejection.claimed_order_id,
                verified=verified,
                payload={
                    "method": raw.method,
                    "content_type": raw.content_type,
                    "body": summarize_raw_body(raw.body, raw.content_type),
                },
                code=diagnosis.code,
                explanation=diagnosis.explanation,
                source_ip=raw.source_ip,
                request=_kept(provider, raw),
            )
        except PaymentsError:
            # The refusal stands whether or not it could be filed; the metric above still counts it.
            logger.warning("rejected notification not recorded", extra={"provider": provider.name})
        return diagnosis


def _diagnosis(provider: Provider, raw: RawRequest, rejection: NotificationRejected) -> Diagnosis:
    try:
        return provider.diagnose(raw, rejection)
    except Exception:  # a fault in explaining must never change the refusal or its answer
        logger.exception("refusal not diagnosed", extra={"provider": provider.name})
        code = REASON_CODES.get(rejection.reason, MALFORMED)
        return Diagnosis(code, default_explanation(code, provider.label, rejection.message))


def _kept(provider: Provider, raw: RawRequest) -> KeptRequest:
    """What a replay needs of the request: method, where it came, the headers its provider reads (and
    the content type), the query and the exact body."""
    wanted = {"content-type", *provider.notification_headers}
    return KeptRequest(
        method=raw.method,
        url=raw.url,
        received_path=raw.received_path,
        headers={name: value for name, value in raw.headers.items() if name in wanted},
        query={name: list(values) for name, values in raw.query.items()},
        body=raw.body,
        received_at=raw.now,
        source_ip=raw.source_ip,
    )


def _open(order: Order, refunds: list[Refund]) -> bool:
    """Still waiting for the provider: an unpaid open order, or a refund in flight."""
    return order.status in OPEN or any(refund.in_flight for refund in refunds)
