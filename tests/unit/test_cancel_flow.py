"""CancelFlow (payments/flows/cancellation.py) below DynamoDB: the engine over the fake store with
leases (tests/support/fake_store.py) and a scripted provider. A cancel withdrawn once, watched where the
provider has no cancel call, refused for a paid order, refused by the provider because the order was
paid meanwhile, told to retry while another request holds the lease, and a provider error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from payments.clock import iso
from payments.engine import Engine
from payments.errors import Conflict, ProviderRejected, ProviderUnavailable
from payments.facts import CancelResult, PaymentFact, Statement
from payments.flows.cancellation import CancelFlow
from payments.money import Money
from payments.orders import OrderStatus
from tests.support.fake_store import LeasingStore, order_in
from tests.support.providers import capabilities_with
from tests.support.scripted_provider import OneProvider, ScriptedProvider

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


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
    store, provider = LeasingStore(order_in(OrderStatus.PAID)), ScriptedProvider()
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
