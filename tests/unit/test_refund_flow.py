"""RefundFlow (payments/flows/refunds.py) and CancelFlow (payments/flows/cancellation.py) below
DynamoDB: the engine over the fake store of test_gate.py, with leases, and a scripted provider.
Reservation, release on refusal, the paths of a request that comes again (identical, concurrent, after
an unknown outcome), and a cancel that the provider refuses because the order was paid meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from payments.api import RefundRequest
from payments.clock import iso
from payments.engine import Engine, Plan, event
from payments.errors import Conflict, ProviderRejected, ProviderUnavailable, ValidationFailed
from payments.facts import CancelResult, PaymentFact, RefundFact, RefundStatus, Statement
from payments.flows import gate
from payments.flows.cancellation import CancelFlow
from payments.flows.refunds import RefundFlow
from payments.ledger import Refund, provider_refund_key
from payments.money import Money
from payments.orders import Order, OrderStatus
from payments.providers.base import Provider, RefundContext
from payments.providers.directory import ProviderDirectory
from tests.support.providers import ANY_PROVIDER, capabilities_with
from tests.unit.test_gate import FakeStore, order_in

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
BASE = "https://api.example"


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


class ScriptedProvider:
    """Answers refund calls from a script: a status for the RefundFact, or an exception to raise."""

    name = ANY_PROVIDER  # the provider of `order_in`'s orders

    def __init__(self, *answers: RefundStatus | Exception, resolved: RefundStatus | None = None) -> None:
        self.answers = list(answers)
        self.resolved = resolved
        self.refund_calls: list[str] = []
        self.resolve_calls: list[str] = []

    def refund_key(self, order_id: str, refund_id: str) -> str:
        return provider_refund_key(order_id, refund_id)

    def _statement(self, refund: Refund, status: RefundStatus) -> Statement:
        fact = RefundFact(refund.provider_key, refund.amount, status)
        return Statement(
            order_id=refund.order_id, facts=(fact,), provider_status=f"refund:{status}", verified_by="t"
        )

    def refund(self, order: Order, refund: Refund, ctx: RefundContext) -> Statement:
        self.refund_calls.append(refund.refund_id)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return self._statement(refund, answer)

    def resolve_refund(self, order: Order, refund: Refund, ctx: RefundContext) -> Statement | None:
        self.resolve_calls.append(refund.refund_id)
        return None if self.resolved is None else self._statement(refund, self.resolved)

    # -- cancel ------------------------------------------------------------------------------------
    cancel_answer: CancelResult | Exception = CancelResult.WITHDRAWN
    query_answer: Statement | None = None

    def cancel(self, order: Order) -> CancelResult:
        self.cancel_calls = getattr(self, "cancel_calls", 0) + 1
        if isinstance(self.cancel_answer, Exception):
            raise self.cancel_answer
        return self.cancel_answer

    def query(self, order: Order) -> Statement | None:
        return self.query_answer


class OneProvider(ProviderDirectory):
    def __init__(self, provider: ScriptedProvider) -> None:
        super().__init__()
        self.provider = provider

    def get(self, name: str) -> Provider:
        return cast(Provider, self.provider)


def flow(store: LeasingStore, provider: ScriptedProvider) -> RefundFlow:
    return RefundFlow(store, OneProvider(provider), Engine(store, clock=lambda: NOW))  # type: ignore[arg-type]


def request(refund_id: str = "r-1", value: int | None = 300) -> RefundRequest:
    body: dict[str, Any] = {"refund_id": refund_id}
    if value is not None:
        body["amount"] = {"value": value, "currency": "EUR"}
    return RefundRequest.model_validate(body)


def paid_store() -> LeasingStore:
    return LeasingStore(order_in(OrderStatus.PAID))


def test_a_refund_reserves_its_amount_until_the_provider_settles_it() -> None:
    store, provider = paid_store(), ScriptedProvider(RefundStatus.PENDING)
    result = flow(store, provider).refund("g-1", request(), BASE)
    assert (result.created, result.refund.status) == (True, RefundStatus.PENDING)
    assert (store.order.reserved_value, store.order.refundable.value) == (300, 700)
    assert store.refunds["r-1"].lease_until is None  # the lease goes with the provider's answer
    assert [kind for _, kind in store.events] == ["refund_requested", "refund_pending"]


def test_a_refund_beyond_what_remains_is_refused_before_the_provider_is_called() -> None:
    store, provider = paid_store(), ScriptedProvider(RefundStatus.PENDING)
    flow(store, provider).refund("g-1", request("r-1", 700), BASE)
    with pytest.raises(ValidationFailed) as over:
        flow(store, provider).refund("g-1", request("r-2", 301), BASE)
    assert (over.value.code, over.value.field) == ("refund_exceeds_refundable", "amount.value")
    assert provider.refund_calls == ["r-1"]


def test_a_refusal_fails_the_refund_and_releases_its_amount() -> None:
    store = paid_store()
    provider = ScriptedProvider(
        ProviderRejected("no", provider_code="1034", provider_message="Cannot refund")
    )
    with pytest.raises(ProviderRejected):
        flow(store, provider).refund("g-1", request(), BASE)
    assert store.refunds["r-1"].status == RefundStatus.FAILED
    assert (store.order.reserved_value, store.order.refundable.value) == (0, 1000)


def test_an_unknown_outcome_is_resolved_by_the_same_request_never_refunded_twice() -> None:
    """The reservation stays while the outcome is unknown; the same request asks, never resends."""
    store = paid_store()
    provider = ScriptedProvider(ProviderUnavailable("timeout"), resolved=RefundStatus.SUCCEEDED)
    with pytest.raises(ProviderUnavailable):
        flow(store, provider).refund("g-1", request(), BASE)
    assert (store.refunds["r-1"].status, store.order.reserved_value) == (RefundStatus.UNKNOWN, 300)
    assert store.refunds["r-1"].lease_until is None
    again = flow(store, provider).refund("g-1", request(), BASE)
    assert (again.created, again.refund.status) == (False, RefundStatus.SUCCEEDED)
    assert (provider.refund_calls, provider.resolve_calls) == (["r-1"], ["r-1"])
    assert (store.order.status, store.order.refunded_value, store.order.reserved_value) == (
        OrderStatus.PARTIALLY_REFUNDED,
        300,
        0,
    )


def test_the_same_request_while_the_first_talks_to_the_provider_is_told_to_retry() -> None:
    store = paid_store()
    first = ScriptedProvider(RefundStatus.PENDING)
    second = ScriptedProvider()

    def meanwhile(order: Order, refund: Refund, ctx: RefundContext) -> Statement:
        # The identical request arrives while the first holds the refund's lease.
        with pytest.raises(Conflict) as busy:
            flow(store, second).refund("g-1", request(), BASE)
        assert busy.value.code == "request_in_progress"
        return ScriptedProvider.refund(first, order, refund, ctx)

    first.refund = meanwhile  # type: ignore[method-assign]
    assert flow(store, first).refund("g-1", request(), BASE).refund.status == RefundStatus.PENDING
    assert (first.refund_calls, second.refund_calls, second.resolve_calls) == (["r-1"], [], [])
    assert store.order.reserved_value == 300


def test_an_identical_request_that_reserved_first_is_answered_without_a_second_provider_call() -> None:
    store = paid_store()
    winner, loser = ScriptedProvider(RefundStatus.PENDING), ScriptedProvider(RefundStatus.PENDING)

    def winner_first() -> None:
        # The loser read the order, then the winner reserved and sent the same refund before its write.
        flow(store, winner).refund("g-1", request(), BASE)

    store.before_commit = winner_first
    answered = flow(store, loser).refund("g-1", request(), BASE)
    assert (answered.created, answered.refund.status) == (False, RefundStatus.PENDING)
    assert (winner.refund_calls, loser.refund_calls) == (["r-1"], [])
    assert store.order.reserved_value == 300  # reserved once


def test_a_refund_id_used_for_another_refund_is_a_conflict() -> None:
    store, provider = paid_store(), ScriptedProvider(RefundStatus.PENDING)
    flow(store, provider).refund("g-1", request("r-1", 300), BASE)
    with pytest.raises(Conflict) as clash:
        flow(store, provider).refund("g-1", request("r-1", 200), BASE)
    assert clash.value.code == "refund_id_conflict"
    assert store.order.reserved_value == 300


def test_a_refund_settled_meanwhile_is_answered_as_it_stands_not_as_unknown() -> None:
    """The provider's result notification can be applied between its reply and our write of the reply
    (a provider that notifies refund results may be that quick): the request answers the refund as
    stored, never a stale `unknown`."""
    store = paid_store()
    provider = ScriptedProvider(RefundStatus.PENDING)
    answer_pending = provider.refund

    def notified_meanwhile(order: Order, refund: Refund, ctx: RefundContext) -> Statement:
        reply = answer_pending(order, refund, ctx)
        fact = RefundFact(refund.provider_key, refund.amount, RefundStatus.SUCCEEDED)
        note = Statement(order_id="g-1", facts=(fact,), provider_status="refund:succeed", verified_by="t")
        current, refunds = store.get_with_refunds("g-1") or (order, [])
        Engine(store, clock=lambda: NOW).run(
            current,
            refunds,
            event("notification", "notification", NOW),
            lambda plan: gate.admit(plan, note, provider=ANY_PROVIDER, record_ignored=True),
        )
        return reply

    provider.refund = notified_meanwhile  # type: ignore[method-assign]
    result = flow(store, provider).refund("g-1", request(), BASE)
    assert result.refund.status == RefundStatus.SUCCEEDED
    assert (store.order.refunded_value, store.order.reserved_value) == (300, 0)


# -- cancel ----------------------------------------------------------------------------------------
def canceller(store: LeasingStore, provider: ScriptedProvider) -> CancelFlow:
    return CancelFlow(store, OneProvider(provider), Engine(store, clock=lambda: NOW))  # type: ignore[arg-type]


def test_a_pending_order_is_withdrawn_and_cancelled_once() -> None:
    store, provider = LeasingStore(order_in(OrderStatus.PENDING)), ScriptedProvider()
    assert canceller(store, provider).cancel("g-1").status == OrderStatus.CANCELLED
    assert store.order.lease_until is None
    assert canceller(store, provider).cancel("g-1").status == OrderStatus.CANCELLED  # answered as it is
    assert provider.cancel_calls == 1
    assert [kind for _, kind in store.events] == ["merchant_cancelled"]


def test_an_order_cancelled_at_a_provider_without_a_cancel_call_is_watched_until_its_checkout_closes() -> (
    None
):
    order = order_in(OrderStatus.PENDING)
    order.expires_at = iso(NOW + timedelta(minutes=10))
    store, provider = LeasingStore(order), ScriptedProvider()
    provider.cancel_answer = CancelResult.NO_CANCEL_CALL
    provider.capabilities = capabilities_with(expiry_grace_seconds=900)
    assert canceller(store, provider).cancel("g-1").status == OrderStatus.CANCELLED
    assert store.order.watch_until == iso(NOW + timedelta(minutes=25))  # its expiry, then the grace
    withdrawn = LeasingStore(order_in(OrderStatus.PENDING))
    canceller(withdrawn, ScriptedProvider()).cancel("g-1")  # withdrawn at the provider: nothing to watch
    assert withdrawn.order.watch_until is None


def test_a_paid_order_is_not_cancellable_and_the_provider_is_not_asked() -> None:
    store, provider = paid_store(), ScriptedProvider()
    with pytest.raises(Conflict) as refused:
        canceller(store, provider).cancel("g-1")
    assert refused.value.code == "order_not_cancellable"
    assert getattr(provider, "cancel_calls", 0) == 0


def test_a_cancel_refused_because_the_order_was_paid_meanwhile_applies_the_payment() -> None:
    store, provider = LeasingStore(order_in(OrderStatus.PENDING)), ScriptedProvider()
    provider.cancel_answer = ProviderRejected("paid", provider_code="1024", provider_message="completed")
    provider.query_answer = Statement(
        order_id="g-1",
        facts=(PaymentFact(OrderStatus.PAID, Money(1000, "EUR")),),
        provider_status="completed",
        verified_by="provider-query",
    )
    with pytest.raises(Conflict) as refused:
        canceller(store, provider).cancel("g-1")
    assert refused.value.code == "order_not_cancellable"
    assert (store.order.status, store.order.lease_until) == (OrderStatus.PAID, None)


def test_a_cancel_while_another_request_holds_the_lease_is_told_to_retry() -> None:
    order = order_in(OrderStatus.PENDING)
    order.lease_until = int(NOW.timestamp()) + 30
    store, provider = LeasingStore(order), ScriptedProvider()
    with pytest.raises(Conflict) as busy:
        canceller(store, provider).cancel("g-1")
    assert busy.value.code == "request_in_progress"
    assert getattr(provider, "cancel_calls", 0) == 0


def test_a_provider_error_leaves_the_order_open_and_gives_the_lease_back() -> None:
    store, provider = LeasingStore(order_in(OrderStatus.PENDING)), ScriptedProvider()
    provider.cancel_answer = ProviderUnavailable("timeout")
    with pytest.raises(ProviderUnavailable):
        canceller(store, provider).cancel("g-1")
    assert (store.order.status, store.order.lease_until, store.events) == (OrderStatus.PENDING, None, [])
