"""Reconciliation: no order or refund stays stuck when a notification never comes.

A scheduled run (functions/reconcile) asks the providers about the work that is due — open orders,
orders cancelled here whose provider's checkout may still take a payment (`watched`), and refunds in
flight, found through the sparse, sharded `DueIndex` (payments/schedule.py), never a scan — and
`POST /orders/{order_id}/sync` asks about one order now. Every answer goes through the same gate and
engine as a notification, recorded with its source (`reconcile`, `sync`). Each item is claimed with
its lease (a conditional write), so overlapping runs, or a run racing a notification, never apply
anything twice. A provider error counts as a check (the item moves along its backoff); a provider that
keeps failing is skipped for the rest of the run, and its skipped items do not count against the run's
limit, so that it does not hold up the others. A run starts an item only while its time left covers the
worst case of one item. The check that spends the seven-day schedule without a final answer (whatever
that answer was, an error included) flags the item `needs_attention` and leaves it to a person: nothing
leaves the due index unflagged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from payments.engine import Plan, event, statement_event
from payments.errors import NotFound, PaymentsError, ProviderError, ProviderRejected, StoreUnavailable
from payments.facts import CancelResult, RefundStatus
from payments.flows import gate
from payments.flows.base import Flow, lease_until
from payments.flows.refunds import send_refund
from payments.http import worst_call_s
from payments.ledger import IN_FLIGHT, Refund
from payments.orders import OPEN, Order, OrderStatus, watched
from payments.providers.base import Provider, RefundContext
from payments.schedule import schedule_spent
from payments.store.orders import DueItem

logger = Logger()
metrics = Metrics()

FAILURES_BEFORE_SKIPPING = 2  # provider errors in one run after which its remaining items wait
# One item can make two provider calls (query then cancel, or resolve a refund then resend it), each up
# to its timeouts and retries (payments/http.py), plus its reads and writes: a run starts an item only
# while this much time is left.
PROVIDER_CALLS_PER_ITEM = 2
STORE_ALLOWANCE_S = 5.0
ITEM_WORST_CASE_S = PROVIDER_CALLS_PER_ITEM * worst_call_s() + STORE_ALLOWANCE_S
# A run reads at most this many index entries per item it may check: a long backlog of a provider that
# is down is walked past, boundedly, to reach the others' due items.
INDEX_READ_FACTOR = 10
# Orders the provider is asked about: open ones, and those cancelled here while watched (`watched`).
ASKED_ABOUT = OPEN | {OrderStatus.CANCELLED}


@dataclass
class RunReport:
    """What one run did, for its log line and its metrics."""

    checked: int = 0
    changed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    provider_errors: Counter[str] = field(default_factory=Counter)
    stopped_early: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "checked": self.checked,
            "changed": self.changed,
            "skipped": dict(self.skipped),
            "provider_errors": dict(self.provider_errors),
            "stopped_early": self.stopped_early,
        }


class ReconcileFlow(Flow):
    # -- the scheduled run -----------------------------------------------------------------------
    def run(
        self, max_items: int, time_left_s: Callable[[], float], reserve_s: float = ITEM_WORST_CASE_S
    ) -> RunReport:
        """Take up at most `max_items` due items, starting each only while `time_left_s()` is at least
        `reserve_s`. The items of a provider skipped as failing are not taken up: they do not count."""
        report = RunReport()
        failing: Counter[str] = Counter()
        seen: set[tuple[str, str | None]] = set()
        taken = 0

        def room() -> bool:
            return taken < max_items

        for item in self._due(self.clock(), max_items, room):
            if taken >= max_items:
                break
            key = (item.order_id, item.refund_id)
            if key in seen:  # checked this run, still due (an old item's backoff): once is enough
                continue
            seen.add(key)
            if failing[item.provider] >= FAILURES_BEFORE_SKIPPING:
                report.skipped["provider_failing"] += 1
                continue
            if time_left_s() < reserve_s:
                report.stopped_early = True
                break
            taken += 1
            try:
                changed = self._check_item(item, "reconcile")
            except ProviderError as error:
                failing[item.provider] += 1
                report.provider_errors[item.provider] += 1
                logger.warning(
                    "reconcile: provider error",
                    extra={
                        "provider": item.provider,
                        "order_id": item.order_id,
                        "reason": error.code,
                        "detail": error.message,
                    },
                )
                continue
            except _Skipped as skipped:
                report.skipped[skipped.reason] += 1
                continue
            except StoreUnavailable:
                report.stopped_early = True
                break
            report.checked += 1
            report.changed += int(changed)
        metrics.add_metric(name="ReconcileChecked", unit=MetricUnit.Count, value=report.checked)
        metrics.add_metric(name="ReconcileChanged", unit=MetricUnit.Count, value=report.changed)
        logger.info("reconcile run", extra=report.as_dict())
        return report

    def _due(self, now: datetime, page_size: int, more: Callable[[], bool]) -> Iterator[DueItem]:
        """Due items page by page (each page merged from every shard of the index, oldest due first),
        at most INDEX_READ_FACTOR pages; the next page only while `more()` (the run can still take
        items up)."""
        cursor = None
        for _ in range(INDEX_READ_FACTOR):
            page = self.store.due_items(now, page_size, cursor)
            yield from page.items
            if page.cursor is None or not more():
                return
            cursor = page.cursor

    def _check_item(self, item: DueItem, source: str) -> bool:
        found = self.store.get_with_refunds(item.order_id)
        if found is None:
            raise _Skipped("gone")
        order, refunds = found
        provider = self.providers.get(order.provider)
        if item.refund_id is None:
            return self._check_order(order, refunds, provider, source)
        refund = next((r for r in refunds if r.refund_id == item.refund_id), None)
        if refund is None or refund.status not in IN_FLIGHT:
            raise _Skipped("settled")
        return self._check_refund(order, refunds, refund, provider, source)

    # -- on demand -------------------------------------------------------------------------------
    def sync(self, order_id: str) -> Order:
        """POST /orders/{order_id}/sync: ask the provider now; the order as it then stands. A final
        order without refunds in flight is answered as it is, without a provider call, unless it was
        cancelled here and is still `watched` (its provider's checkout may have taken a payment)."""
        order, refunds = self.read(order_id)
        provider = self.providers.get(order.provider)
        try:
            if order.status in OPEN or watched(order):
                self._check_order(order, refunds, provider, "sync", count=False)
            for refund in refunds:
                if refund.status in IN_FLIGHT:
                    fresh = self.store.get_with_refunds(order_id)
                    if fresh is not None:
                        current = next(r for r in fresh[1] if r.refund_id == refund.refund_id)
                        self._check_refund(fresh[0], fresh[1], current, provider, "sync", count=False)
        except _Skipped:
            pass  # another request is asking right now: answer with what we hold
        result = self.store.get(order_id)
        if result is None:  # pragma: no cover - orders are never deleted
            raise NotFound("no such order", field="order_id", code="order_not_found")
        return result

    # -- one order -------------------------------------------------------------------------------
    def _check_order(
        self, order: Order, refunds: list[Refund], provider: Provider, source: str, *, count: bool = True
    ) -> bool:
        if order.status not in OPEN and not watched(order):
            raise _Skipped("settled")
        now = self.clock()
        until = lease_until(now)
        leased = self.store.acquire_lease(order.order_id, ASKED_ABOUT, int(now.timestamp()), until)
        if leased is None:
            raise _Skipped("busy")
        if leased.version == order.version:
            order = leased  # nothing changed since the read (the lease is no change): no second read
        else:
            fresh = self.store.get_with_refunds(order.order_id)
            if fresh is None:
                raise _Skipped("gone")
            order, refunds = fresh
        try:
            statement = provider.query(order)
            withdrawn = None
            if (
                statement is None
                and order.status == OrderStatus.UNKNOWN
                and provider.capabilities.withdraws_unclear_creates
            ):
                # The provider's rule for a create whose outcome stayed unclear: withdraw it for good.
                withdrawn = provider.cancel(order)
        except ProviderError:
            self._failed_check(order, refunds, source, count=count)
            raise
        template = (
            statement_event(source, source, statement, now)
            if statement is not None
            else event(source, source, now, reason="the provider does not know the order")
        )
        past_expiry = now > datetime.fromisoformat(order.expires_at) + timedelta(
            seconds=provider.capabilities.expiry_grace_seconds
        )

        def decide(plan: Plan) -> None:
            if statement is not None:
                gate.admit(plan, statement, provider=provider.name)
            if plan.order.status in OPEN:
                if withdrawn in (CancelResult.WITHDRAWN, CancelResult.NOT_AT_PROVIDER):
                    plan.move(
                        OrderStatus.CANCELLED,
                        event_type=f"{source}_withdrawn",
                        reason="an unclear create, withdrawn at the provider",
                    )
                elif past_expiry and (statement is None or statement.status in OPEN):
                    plan.move(
                        OrderStatus.EXPIRED,
                        event_type=f"{source}_expired",
                        reason="past expires_at and the provider's grace; the provider reports it unpaid"
                        if statement is not None
                        else "past expires_at and the provider's grace; the provider does not know it",
                    )
            if count:
                plan.count_check()
                if plan.order.status in OPEN and schedule_spent(plan.order.checks):
                    plan.flag(
                        "needs_attention",
                        event_type="needs_attention",
                        reason="still open after seven days of checks with the provider",
                        metric="NeedsAttention",
                    )
            plan.release_lease = True

        committed = self.engine.run(order, refunds, template, decide)
        if committed.plan.empty:  # nothing learnt: count the check, give the lease back
            if count:
                self.store.record_check(order)
            else:
                self.store.release_lease(order.order_id, until)
        return any(line.to_status is not None for line in committed.plan.events)

    def _failed_check(self, order: Order, refunds: list[Refund], source: str, *, count: bool) -> None:
        """A provider error: the item waits for its next check (counted, so it backs off); after the
        last one, a person does."""
        try:
            if count and schedule_spent(order.checks + 1):
                self._give_up(order, refunds, None, source, "the last check ended in a provider error")
            elif count:
                self.store.record_check(order)
            elif order.lease_until is not None:
                self.store.release_lease(order.order_id, order.lease_until)
        except PaymentsError:
            logger.warning("reconcile: could not record a failed check", extra={"order_id": order.order_id})

    # -- one refund ------------------------------------------------------------------------------
    def _check_refund(
        self,
        order: Order,
        refunds: list[Refund],
        refund: Refund,
        provider: Provider,
        source: str,
        *,
        count: bool = True,
    ) -> bool:
        now = self.clock()
        held = self.store.acquire_refund_lease(refund, int(now.timestamp()), lease_until(now), IN_FLIGHT)
        if held is None:
            raise _Skipped("busy")
        refunds = [held if r.refund_id == held.refund_id else r for r in refunds]
        ctx = RefundContext(notify_url="", now=now)
        try:
            statement = provider.resolve_refund(order, held, ctx)
        except ProviderRejected:
            statement = None  # a refused resend (e.g. a provider's answer to a refund it never took): unclear
        except ProviderError:
            self._failed_refund_check(order, refunds, held, source, "a provider error", count=count)
            raise
        if statement is None:
            # The provider never got it. A refund whose outcome we did not know may be sent now (under
            # its same id); one the provider once accepted is left for a person if it stays so.
            if held.status == RefundStatus.UNKNOWN:
                try:
                    send_refund(self, order, refunds, held, provider, ctx, resending=True)
                except ProviderError:
                    self._count_failed_resend(order.order_id, held.refund_id, source, count=count)
                    raise
                return True
            self._failed_refund_check(
                order, refunds, held, source, "the provider does not know it", count=count
            )
            return False
        template = statement_event(source, source, statement, now)

        def decide(plan: Plan) -> None:
            gate.admit(plan, statement, provider=provider.name)
            current = plan.count_refund_check(held.refund_id, count=count)
            if current is not None and current.in_flight and count and schedule_spent(current.checks):
                plan.flag(
                    "needs_attention",
                    event_type="needs_attention",
                    reason=f"refund {held.refund_id} still in flight after seven days of checks",
                    metric="NeedsAttention",
                )

        committed = self.engine.run(order, refunds, template, decide)
        if not committed.plan.events:
            self._failed_refund_check(order, refunds, held, source, "still in flight", count=count)
        return any(line.refund is not None for line in committed.plan.events)

    def _failed_refund_check(
        self, order: Order, refunds: list[Refund], refund: Refund, source: str, why: str, *, count: bool
    ) -> None:
        try:
            if count and schedule_spent(refund.checks + 1):
                refunds = [refund if r.refund_id == refund.refund_id else r for r in refunds]
                self._give_up(order, refunds, refund.refund_id, source, f"at its last check, {why}")
            elif count:
                self.store.record_refund_check(refund)
            else:
                self.store.release_refund_lease(refund)
        except PaymentsError:
            logger.warning("reconcile: could not record a refund check", extra={"order_id": refund.order_id})

    def _count_failed_resend(self, order_id: str, refund_id: str, source: str, *, count: bool) -> None:
        """A resend that failed left the refund unknown (its lease given back): count the check, so it
        moves along its backoff and, at the last one, is flagged."""
        fresh = self.store.get_with_refunds(order_id)
        current = next((r for r in fresh[1] if r.refund_id == refund_id), None) if fresh else None
        if fresh is not None and current is not None and current.in_flight and count:
            self._failed_refund_check(fresh[0], fresh[1], current, source, "a resend failed", count=count)

    def _give_up(
        self, order: Order, refunds: list[Refund], refund_id: str | None, source: str, why: str
    ) -> None:
        """The check that spends the schedule learnt nothing: count it and flag the order for a person
        in one write (the flag, its event and the NeedsAttention metric, as when an answer came)."""
        now = self.clock()

        def decide(plan: Plan) -> None:
            if refund_id is None:
                if plan.order.status not in OPEN:
                    return  # settled meanwhile
                plan.count_check()
                plan.release_lease = True
                what = "still open after seven days of checks with the provider"
            else:
                current = plan.refunds.get(refund_id)
                if current is None or not current.in_flight:
                    return
                plan.count_refund_check(refund_id)
                what = f"refund {refund_id} still in flight after seven days of checks"
            plan.flag(
                "needs_attention",
                event_type="needs_attention",
                reason=f"{what}; {why}",
                metric="NeedsAttention",
            )

        self.engine.run(order, refunds, event(source, source, now, reason=why), decide)


class _Skipped(Exception):
    """Not checked this time (another request holds it, or it settled meanwhile)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
