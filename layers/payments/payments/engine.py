"""The transition engine: every change to an order goes through here.

A `Plan` is a working copy of an order and its refunds plus the audit events that explain each change;
the gate (payments/flows/gate.py) and the flows fill it by deciding, and `Engine.run` commits it as one
DynamoDB transaction (the order conditional on the version read, each refund on its own, the events
with their sequence numbers). On a lost race the order is read again and the decision made afresh.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import field, replace
from datetime import datetime
from typing import Any, Protocol

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from payments.clock import iso, utc_now
from payments.errors import ConcurrentUpdateError, StoreUnavailable
from payments.facts import Statement
from payments.ledger import Refund
from payments.orders import Order, OrderEvent, OrderStatus, Outcome, decide
from payments.records import frozen, mutable

logger = Logger()
metrics = Metrics()

# A lost race re-reads and decides again, after a jittered, growing pause: many writers on one order
# (a provider's burst of retries) take turns instead of colliding again at once.
MAX_WRITE_ATTEMPTS = 8
RACE_BACKOFF_S = 0.01
# Reports recorded once per order (refused moves, flagged facts): a provider's retries and each
# reconciler check reading the same answer again add nothing. Bounded, so an order item stays small.
MAX_IGNORED_REPORTS = 64
# Order fields a provider statement may set besides status and the ledger totals.
MUTABLE_FIELDS = ("payment_url", "payment_action", "provider_reference", "provider_status")


class Store(Protocol):
    """What the engine needs of the store (payments/store/orders.py; a fake in the unit tests)."""

    def get_with_refunds(self, order_id: str) -> tuple[Order, list[Refund]] | None: ...

    def commit(self, plan: Plan) -> Order: ...


def event(type_: str, source: str, at: datetime, **fields: Any) -> OrderEvent:
    """An audit event template: the plan fills in its time, statuses and sequence number."""
    return OrderEvent(type=type_, at=iso(at), source=source, **fields)


def statement_event(type_: str, source: str, statement: Statement, at: datetime) -> OrderEvent:
    """The audit event template for a verified provider statement."""
    payload = dict(statement.payload)
    payload["verified_by"] = statement.verified_by
    return event(type_, source, at, provider_status=statement.provider_status, verified=True, payload=payload)


@mutable
class Plan:
    """What one transaction will do. Decisions read `order`/`refunds` (the working copies) and record
    every change with an audit event; a plan without events changes nothing."""

    original: Order
    now: str
    template: OrderEvent  # type, source, provider status, verification and payload of the statement
    order: Order = field(init=False)
    refunds: dict[str, Refund] = field(init=False)
    original_refunds: dict[str, Refund] = field(init=False)
    events: list[OrderEvent] = field(default_factory=list)
    metric_names: list[str] = field(default_factory=list)
    release_lease: bool = False
    initial_refunds: Iterable[Refund] = ()
    # The provider's word for what it reported: an applied move records it as the order's
    # provider_status, whichever fact of the statement made the move.
    status_word: str | None = None
    # The provider's time of the fact being decided (payments/facts.py `occurred_at`, as `iso`): the
    # events it records keep it. Set by the gate per fact; it changes no decision.
    occurred_at: str | None = None

    def __post_init__(self) -> None:
        self.order = replace(self.original)
        self.original_refunds = {refund.refund_id: refund for refund in self.initial_refunds}
        self.refunds = {refund_id: replace(refund) for refund_id, refund in self.original_refunds.items()}

    # -- reading ---------------------------------------------------------------------------------
    @property
    def changed_refunds(self) -> list[Refund]:
        return [
            refund
            for refund_id, refund in self.refunds.items()
            if self.original_refunds.get(refund_id) != refund
        ]

    def refund_by_key(self, key: str) -> Refund | None:
        return next((refund for refund in self.refunds.values() if refund.provider_key == key), None)

    @property
    def empty(self) -> bool:
        return not self.events

    # -- deciding --------------------------------------------------------------------------------
    def move(
        self,
        target: OrderStatus,
        *,
        changes: Mapping[str, Any] | None = None,
        flags: tuple[str, ...] = (),
        event_type: str | None = None,
        reason: str | None = None,
        refund: Refund | None = None,
        record_ignored: bool = False,
    ) -> Outcome:
        """Move the order to `target` if the transition table allows it. A refused move may still fill
        in a field the order lacks (a payment URL that lost the race to a notification), but never
        overwrites the provider facts that go with the order's status."""
        current = self.order.status
        decision = decide(current, target)
        proposed = {"provider_status": self.status_word, **(changes or {})}
        wanted = {
            key: value
            for key, value in proposed.items()
            if key in MUTABLE_FIELDS and value is not None and getattr(self.order, key) != value
        }
        if decision.outcome == Outcome.APPLY:
            all_flags = tuple(dict.fromkeys(flags + decision.flags))  # each once, in order
            self._set(status=target, **wanted)
            self.add_flags(all_flags)
            self.record(
                event_type,
                from_status=current,
                to_status=target,
                flags=all_flags,
                reason=reason,
                refund=refund,
            )
            self.metric_names.append("OrderTransitions")
            if target == OrderStatus.PAID:
                self.metric_names.append("OrdersPaid")
        elif decision.outcome == Outcome.IGNORE:
            missing = {
                key: value
                for key, value in wanted.items()
                # provider_status is the word for the order's status: never the refused report's
                if getattr(self.order, key) is None and key != "provider_status"
            }
            # Each kind of refused report is recorded once: a provider's retries, or a replayed
            # genuine message, neither grow the history nor contend for the order.
            seen = f"{current}:{self.template.provider_status or target}"
            first_time = seen not in self.order.ignored_reports
            if (record_ignored and first_time) or missing:
                self._set(**missing)
                if first_time and len(self.order.ignored_reports) < MAX_IGNORED_REPORTS:
                    self.order.ignored_reports = (*self.order.ignored_reports, seen)
                base = event_type or self.template.type
                self.record(f"{base}_ignored", from_status=current, reason=decision.reason)
        return decision.outcome

    def flag(
        self, flag: str, *, event_type: str, reason: str, metric: str | None = None, about: object = None
    ) -> None:
        """Record something a person must look at, without applying it: once per fact (`about`, and the
        reason). The same report again — a provider's retry, the reconciler reading the same answer, the
        query saying what the notification said — records, counts and announces nothing more."""
        if not self.first_report(event_type, reason, about):
            return
        self.add_flags((flag,))
        self.record(event_type, flags=(flag,), reason=reason)
        if metric:
            self.metric_names.append(metric)

    def note(self, event_type: str, *, reason: str, about: object = None) -> None:
        """Record, once per fact, something that changes nothing yet (e.g. a total that does not say
        which refunds completed)."""
        if self.first_report(event_type, reason, about):
            self.record(event_type, reason=reason)

    def first_report(self, event_type: str, reason: str, about: object = None) -> bool:
        """True the first time this report is made about the order; remembers it (bounded: past
        MAX_IGNORED_REPORTS reports, each is recorded again rather than forgotten)."""
        text = f"{event_type}\n{reason}\n{about!r}"
        seen = "once:" + hashlib.sha256(text.encode()).hexdigest()[:16]
        if seen in self.order.ignored_reports:
            return False
        if len(self.order.ignored_reports) < MAX_IGNORED_REPORTS:
            self.order.ignored_reports = (*self.order.ignored_reports, seen)
        return True

    def add_flags(self, flags: Iterable[str]) -> None:
        self.order.flags = tuple(sorted(set(self.order.flags) | set(flags)))

    def put_refund(self, refund: Refund) -> None:
        self.refunds[refund.refund_id] = refund

    def count_check(self) -> None:
        """Reconciliation asked the provider about the order once more (payments/schedule.py)."""
        self.order.checks += 1

    def count_refund_check(self, refund_id: str, *, count: bool = True) -> Refund | None:
        """Reconciliation asked about a refund (counted unless `count` is False): its lease given back
        in the same write. None if the plan holds no such refund."""
        current = self.refunds.get(refund_id)
        if current is None:
            return None
        self.refunds[refund_id] = replace(current, lease_until=None, checks=current.checks + int(count))
        return self.refunds[refund_id]

    def record(
        self,
        event_type: str | None = None,
        *,
        from_status: OrderStatus | None = None,
        to_status: OrderStatus | None = None,
        flags: tuple[str, ...] = (),
        reason: str | None = None,
        refund: Refund | None = None,
    ) -> None:
        """An audit event. The statement's payload goes with the first event only."""
        self.events.append(
            replace(
                self.template,
                type=event_type or self.template.type,
                at=self.now,
                from_status=from_status,
                to_status=to_status,
                flags=flags,
                reason=reason or self.template.reason,
                payload=self.template.payload if not self.events else None,
                refund=refund.to_public() if refund else None,
                occurred_at=self.occurred_at,
            )
        )

    def _set(self, **values: Any) -> None:
        for key, value in values.items():
            setattr(self.order, key, value)


def _emit_metrics(plan: Plan) -> None:
    """What a committed plan did, counted. Literal names: the template's alarms and dashboard read
    them (tests/unit/test_template_operations.py checks both sides)."""
    counts = Counter(plan.metric_names)
    counts["RefundsRecorded"] = sum(
        1 for r in plan.changed_refunds if r.refund_id not in plan.original_refunds
    )
    if counts["OrderTransitions"]:
        metrics.add_metric(name="OrderTransitions", unit=MetricUnit.Count, value=counts["OrderTransitions"])
    if counts["OrdersPaid"]:
        metrics.add_metric(name="OrdersPaid", unit=MetricUnit.Count, value=counts["OrdersPaid"])
    if counts["NotificationAmountMismatch"]:
        metrics.add_metric(
            name="NotificationAmountMismatch",
            unit=MetricUnit.Count,
            value=counts["NotificationAmountMismatch"],
        )
    if counts["RefundMismatch"]:
        metrics.add_metric(name="RefundMismatch", unit=MetricUnit.Count, value=counts["RefundMismatch"])
    if counts["RefundsRecorded"]:
        metrics.add_metric(name="RefundsRecorded", unit=MetricUnit.Count, value=counts["RefundsRecorded"])
    if counts["NeedsAttention"]:
        metrics.add_metric(name="NeedsAttention", unit=MetricUnit.Count, value=counts["NeedsAttention"])


@frozen
class Committed:
    """What a committed change left: the order, its refunds, and the plan that was applied."""

    order: Order
    refunds: list[Refund]
    plan: Plan


Decider = Callable[[Plan], None]


class Engine:
    def __init__(self, store: Store, clock: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.clock = clock

    def run(
        self,
        order: Order,
        refunds: Iterable[Refund],
        template: OrderEvent,
        decide_changes: Decider,
    ) -> Committed:
        """Decide on the order as read, commit; on a lost race read again and decide afresh."""
        current_refunds = list(refunds)
        for attempt in range(MAX_WRITE_ATTEMPTS):
            plan = Plan(order, iso(self.clock()), template, initial_refunds=current_refunds)
            decide_changes(plan)
            if plan.empty:
                return Committed(order, current_refunds, plan)
            try:
                committed = self.store.commit(plan)
            except ConcurrentUpdateError:
                time.sleep(random.uniform(0, RACE_BACKOFF_S * 2**attempt))  # noqa: S311 - jitter, not a secret
                fresh = self.store.get_with_refunds(order.order_id)
                if fresh is None:
                    raise StoreUnavailable("the order disappeared while being updated") from None
                order, current_refunds = fresh
                continue
            _emit_metrics(plan)
            for line in plan.events:
                if line.to_status is not None:
                    logger.info(
                        "order transition",
                        extra={
                            "order_id": order.order_id,
                            "from": str(line.from_status),
                            "to": str(line.to_status),
                            "flags": list(line.flags),
                        },
                    )
            return Committed(committed, list(plan.refunds.values()), plan)
        raise StoreUnavailable("the order is being updated concurrently; retry")
