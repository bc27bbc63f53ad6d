"""What the handlers call: create an order, receive a notification, read an order.

Provider-neutral: everything provider-specific happens behind the `Provider` contract.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from payments.config import ProviderDirectory
from payments.errors import (
    Conflict,
    NotFound,
    NotificationRejected,
    ProviderError,
    ProviderNotConfigured,
    ProviderRejected,
    StoreUnavailable,
)
from payments.money import Money
from payments.orders import ORDER_ID_RE, Order, OrderEvent, OrderStatus, Outcome, decide
from payments.providers.base import CallContext, Notification, Provider, RawRequest, RawResponse
from payments.redact import summarize_raw_body
from payments.store import MUTABLE_FIELDS, REJECTED_ATTEMPT_TTL_S, ConcurrentUpdateError, OrdersStore, iso

if TYPE_CHECKING:
    from payments.api import CreateOrderRequest

logger = Logger()
metrics = Metrics()

MAX_WRITE_ATTEMPTS = 5
# A `created` order older than this lost its creating request (crash, timeout): a retry may resume it.
IN_FLIGHT_GRACE = timedelta(seconds=60)


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_order(request: CreateOrderRequest, now: datetime, expires_in_seconds: int) -> Order:
    """The order as first stored for a create request: `created`, nothing asked of the provider yet."""
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
        request_hash=request.fingerprint(),
        created_at=iso(now),
        updated_at=iso(now),
        expires_at=iso(now + timedelta(seconds=expires_in_seconds)),
        metadata=dict(request.metadata or {}),
    )


@dataclass(frozen=True, slots=True)
class CreateResult:
    order: Order
    created: bool  # False: an idempotent repeat of an earlier request


class PaymentsService:
    def __init__(
        self,
        store: OrdersStore,
        providers: ProviderDirectory,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.providers = providers
        self.clock = clock

    # -- POST /orders ---------------------------------------------------------------------------
    def create_order(self, request: CreateOrderRequest, public_base_url: str) -> CreateResult:
        provider = self.providers.get(request.provider)
        provider.check_order(request)
        now = self.clock()
        expires_in = request.expires_in_seconds or provider.default_expiry_seconds(request)
        order = new_order(request, now, expires_in)
        ctx = CallContext(notify_url=f"{public_base_url}/notify/{provider.name}", now=now, request=request)
        existing = self.store.create(order, self._event("order_created", "merchant", to_status=order.status))
        if existing is None:
            metrics.add_metric(name="OrdersCreated", unit=MetricUnit.Count, value=1)
            return CreateResult(self._call_provider(order, provider, ctx), created=True)

        if existing.request_hash != order.request_hash:
            raise Conflict(
                "order_id was already used for a different order", field="order_id", code="order_id_conflict"
            )
        return CreateResult(self._resume(existing, provider, ctx), created=False)

    def _resume(self, order: Order, provider: Provider, ctx: CallContext) -> Order:
        """An identical repeat. Only an order whose creation never finished needs work."""
        if order.status == OrderStatus.CREATED:
            if ctx.now - datetime.fromisoformat(order.created_at) < IN_FLIGHT_GRACE:
                raise Conflict(
                    "an identical request for this order is still in progress; retry shortly",
                    field="order_id",
                    code="request_in_progress",
                )
        elif order.status != OrderStatus.UNKNOWN:
            return order
        # The first attempt may have reached the provider: ask before creating again.
        found = provider.query(order)
        if found is None:
            return self._call_provider(order, provider, ctx)
        return self._apply(
            order,
            found.status,
            self._event_for(found, "provider_query"),
            changes=_changes_from(found),
        )

    def _call_provider(self, order: Order, provider: Provider, ctx: CallContext) -> Order:
        try:
            payment = provider.create_payment(order, ctx)
        except ProviderRejected as rejected:
            self._apply(
                order,
                OrderStatus.FAILED,
                self._event(
                    "provider_rejected",
                    "provider",
                    reason=f"{rejected.provider_code}: {rejected.provider_message}",
                ),
            )
            metrics.add_metric(name="ProviderRejected", unit=MetricUnit.Count, value=1)
            raise
        except ProviderError as error:
            self._apply(
                order,
                OrderStatus.UNKNOWN,
                self._event("provider_outcome_unknown", "provider", reason=error.code),
            )
            metrics.add_metric(name="ProviderOutcomeUnknown", unit=MetricUnit.Count, value=1)
            raise
        except Exception:
            # A bug or an unexpected reply: the provider may have acted, so the order is kept as unknown.
            self._apply(
                order,
                OrderStatus.UNKNOWN,
                self._event("provider_outcome_unknown", "provider", reason="internal_error"),
            )
            raise
        return self._apply(
            order,
            payment.status,
            self._event(
                "provider_accepted",
                "provider",
                provider_status=payment.provider_status,
                payload=payment.payload,
                verified=True,
            ),
            changes={
                "payment_url": payment.payment_url,
                "payment_action": payment.action.to_dict() if payment.action else None,
                "provider_reference": payment.provider_reference,
                "provider_status": payment.provider_status,
            },
        )

    # -- POST|GET /notify/{provider} ----------------------------------------------------------------
    def receive_notification(self, provider_name: str, raw: RawRequest) -> RawResponse:
        try:
            provider = self.providers.get(provider_name)
        except ProviderNotConfigured:
            raise NotFound(
                f"no notification endpoint for '{provider_name}'", code="unknown_provider"
            ) from None
        try:
            notification = provider.parse_notification(raw)
        except NotificationRejected as rejection:
            self._record_rejection(provider_name, raw, rejection)
            return provider.acknowledge(None, rejection)
        except ProviderError as error:
            # We could not check the notification with the provider: answer so that it retries.
            logger.warning(
                "notification not resolved", extra={"provider": provider_name, "reason": error.code}
            )
            return provider.acknowledge(None, error)

        if notification.no_op_reason:
            logger.info(
                "notification acknowledged without action", extra={"reason": notification.no_op_reason}
            )
            return provider.acknowledge(notification, None)

        order = self.store.get(notification.order_id)
        if order is None or order.provider != provider.name:
            unknown = NotificationRejected(
                "unknown_order",
                "no such order for this provider",
                status=404,
                claimed_order_id=notification.order_id,
                reply_context=notification.reply_context,
            )
            self._record_rejection(provider_name, raw, unknown, verified=True)
            return provider.acknowledge(None, unknown)

        event = self._event_for(notification, "notification")
        if notification.event_key:
            # Refunds and the like: each provider event is recorded once, whatever its effect.
            first = self.store.record_event_once(
                order.order_id, notification.event_key, replace(event, type=f"{notification.kind}_reported")
            )
            if not first or notification.status == OrderStatus.UNKNOWN:
                return provider.acknowledge(notification, None)
            event = self._event_for(notification, "notification")  # stamped after the report it follows
        if (
            notification.kind == "payment"
            and notification.amount is not None
            and notification.amount != order.amount
        ):
            # Verified, but not about the money we asked for: never applied, flagged for a human.
            self.store.record_event(
                order.order_id,
                replace(
                    event,
                    type="notification_amount_mismatch",
                    flags=("amount_mismatch",),
                    reason=f"expected {order.amount}, notified {notification.amount}",
                ),
            )
            metrics.add_metric(name="NotificationAmountMismatch", unit=MetricUnit.Count, value=1)
            logger.error("notification amount differs from order", extra={"order_id": order.order_id})
            return provider.acknowledge(notification, None)

        self._apply(
            order,
            _refund_aware(notification, order),
            event,
            changes=_changes_from(notification),
            record_ignored=notification.event_key is None,
        )
        return provider.acknowledge(notification, None)

    # -- the transition engine --------------------------------------------------------------------
    def _apply(
        self,
        order: Order,
        target: OrderStatus,
        event: OrderEvent,
        *,
        changes: Mapping[str, Any] | None = None,
        record_ignored: bool = False,
    ) -> Order:
        """Move `order` to `target` if the transition table allows it, with its audit event, atomically.

        On a lost race the order is read again and the decision made afresh. A move the table refuses
        leaves the order as it was, except that it may fill in a field the order lacks (e.g. the payment
        URL of a create reply that lost the race to a notification): a stale report never overwrites
        the provider facts that go with the order's status.
        """
        for _ in range(MAX_WRITE_ATTEMPTS):
            decision = decide(order.status, target)
            pending_changes = {
                key: value
                for key, value in (changes or {}).items()
                if key in MUTABLE_FIELDS and value is not None and getattr(order, key) != value
            }
            try:
                if decision.outcome == Outcome.APPLY:
                    # Stamped now, after the (re-)read it was decided on: a write that lost a race and
                    # went again must not sort before the one it lost to.
                    applied = replace(
                        event,
                        at=iso(self.clock()),
                        from_status=order.status,
                        to_status=target,
                        flags=event.flags + decision.flags,
                    )
                    updated = self.store.change(
                        order, applied, status=target, changes=pending_changes, now=self.clock()
                    )
                    metrics.add_metric(name="OrderTransitions", unit=MetricUnit.Count, value=1)
                    logger.info(
                        "order transition",
                        extra={
                            "order_id": order.order_id,
                            "from": str(order.status),
                            "to": str(target),
                            "flags": list(applied.flags),
                        },
                    )
                    return updated
                missing = {
                    key: value
                    for key, value in pending_changes.items()
                    # provider_status is the word for the order's status: never the refused report's
                    if getattr(order, key) is None and key != "provider_status"
                }
                if decision.outcome == Outcome.IGNORE and (record_ignored or missing):
                    ignored = replace(
                        event,
                        type=f"{event.type}_ignored",
                        at=iso(self.clock()),
                        from_status=order.status,
                        reason=decision.reason,
                    )
                    if missing:
                        return self.store.change(order, ignored, changes=missing, now=self.clock())
                    self.store.record_event(order.order_id, ignored)
                    return order
                if decision.outcome == Outcome.DUPLICATE:
                    metrics.add_metric(name="DuplicateNotifications", unit=MetricUnit.Count, value=1)
                return order
            except ConcurrentUpdateError:
                fresh = self.store.get(order.order_id)
                if fresh is None:
                    raise StoreUnavailable("the order disappeared while being updated") from None
                order = fresh
        raise StoreUnavailable("the order is being updated concurrently; retry")

    def _record_rejection(
        self, provider_name: str, raw: RawRequest, rejection: NotificationRejected, *, verified: bool = False
    ) -> None:
        claimed = rejection.claimed_order_id
        order_id = claimed if claimed and ORDER_ID_RE.match(claimed) else f"_unmatched_{provider_name}"
        event = self._event(
            "notification_rejected",
            "notification",
            reason=rejection.reason,
            verified=verified,
            payload={
                "method": raw.method,
                "content_type": raw.content_type,
                "body": summarize_raw_body(raw.body, raw.content_type),
            },
        )
        self.store.record_event(order_id, event, ttl_epoch=int(time.time()) + REJECTED_ATTEMPT_TTL_S)
        metrics.add_metric(name="NotificationsRejected", unit=MetricUnit.Count, value=1)
        logger.warning("notification rejected", extra={"provider": provider_name, "reason": rejection.reason})

    # -- events ----------------------------------------------------------------------------------
    def _event(self, type_: str, source: str, **fields: Any) -> OrderEvent:
        return OrderEvent(type=type_, at=iso(self.clock()), source=source, **fields)

    def _event_for(self, notification: Notification, source: str) -> OrderEvent:
        payload = dict(notification.payload)
        payload["verified_by"] = notification.verified_by
        if notification.kind != "payment":
            payload["kind"] = notification.kind
        return self._event(
            source,
            source,
            provider_status=notification.provider_status,
            verified=True,
            payload=payload,
        )


def _changes_from(notification: Notification) -> dict[str, Any]:
    """Order fields a verified provider statement may fill in (None: leave as is)."""
    return {
        "provider_reference": notification.provider_reference,
        "provider_status": notification.provider_status,
        "payment_url": notification.payment_url,
        "payment_action": notification.action.to_dict() if notification.action else None,
    }


def _refund_aware(notification: Notification, order: Order) -> OrderStatus:
    """A finished refund of less than the order's amount leaves it partially refunded."""
    amount = notification.amount
    if (
        notification.kind == "refund"
        and notification.status == OrderStatus.REFUNDED
        and amount is not None
        and amount.currency == order.amount.currency
        and amount.value < order.amount.value
    ):
        return OrderStatus.PARTIALLY_REFUNDED
    return notification.status
