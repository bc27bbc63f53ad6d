"""RefundFlow (payments/flows/refunds.py) below DynamoDB: the engine over the fake store with leases
(tests/support/fake_store.py) and a scripted provider. Reservation, release on refusal, and the paths
of a request that comes again (identical, concurrent, after an unknown outcome)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from payments.api import RefundRequest
from payments.engine import Engine, event
from payments.errors import Conflict, ProviderRejected, ProviderUnavailable, ValidationFailed
from payments.facts import RefundFact, RefundStatus, Statement
from payments.flows import gate
from payments.flows.refunds import RefundFlow
from payments.ledger import Refund
from payments.orders import Order, OrderStatus
from payments.providers.base import RefundContext
from tests.support.fake_store import LeasingStore, order_in
from tests.support.providers import ANY_PROVIDER
from tests.support.scripted_provider import OneProvider, ScriptedProvider

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
BASE = "https://api.example"


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
