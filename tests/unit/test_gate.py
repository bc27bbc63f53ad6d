"""The gate, the refund ledger and the engine, below DynamoDB: a fake store behind the engine's small
interface. Each audit finding about money facts has its regression test here, at the lowest layer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from payments import gate
from payments.engine import Committed, Engine, Plan, event
from payments.errors import ConcurrentUpdateError, NotificationRejected, StoreUnavailable
from payments.facts import (
    ChargebackFact,
    Fact,
    Notification,
    PaymentFact,
    RefundedTotalFact,
    RefundFact,
    RefundStatus,
)
from payments.ledger import MERCHANT, Refund, provider_refund_key
from payments.money import Money
from payments.orders import Order, OrderStatus
from tests.support.orders import stored_order
from tests.support.providers import ANOTHER_PROVIDER, ANY_PROVIDER

S = OrderStatus
EUR = "EUR"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class FakeStore:
    """The engine's store, in memory, with the same conditional-write rules as DynamoDB's."""

    def __init__(self, order: Order, refunds: list[Refund] | None = None) -> None:
        self.order = order
        self.refunds = {refund.refund_id: refund for refund in refunds or []}
        self.events: list[tuple[int, str]] = []
        self.fail_next: Exception | None = None

    def get_with_refunds(self, order_id: str) -> tuple[Order, list[Refund]] | None:
        return replace(self.order), [replace(r) for r in self.refunds.values()]

    def commit(self, plan: Plan) -> Order:
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        if plan.original.version != self.order.version:
            raise ConcurrentUpdateError(None)
        for refund in plan.changed_refunds:
            before = plan.original_refunds.get(refund.refund_id)
            stored = self.refunds.get(refund.refund_id)
            if (before is None) != (stored is None) or (
                before and stored and before.version != stored.version
            ):
                raise ConcurrentUpdateError(None)
        for refund in plan.changed_refunds:
            before = plan.original_refunds.get(refund.refund_id)
            self.refunds[refund.refund_id] = replace(refund, version=before.version + 1 if before else 1)
        seq = plan.original.event_seq
        for line in plan.events:
            seq += 1
            self.events.append((seq, line.type))
        self.order = replace(plan.order, version=plan.original.version + 1, event_seq=seq)
        return self.order


def order_in(status: OrderStatus, amount: int = 1000, currency: str = EUR) -> Order:
    order = stored_order("g-1", provider=ANY_PROVIDER)
    order.status = status
    order.amount = Money(amount, currency)
    return order


def statement(*facts: Fact, word: str = "word") -> Notification:
    return Notification(order_id="g-1", facts=facts, provider_status=word, verified_by="test")


def apply(store: FakeStore, note: Notification) -> Committed:
    order, refunds = store.get_with_refunds("g-1") or (None, [])
    assert order is not None
    template = event("notification", "notification", NOW)
    return Engine(store, clock=lambda: NOW).run(
        order,
        refunds,
        template,
        lambda plan: gate.admit(plan, note, provider=ANY_PROVIDER, record_ignored=True),
    )


def refund(key: str, value: int, status: RefundStatus = RefundStatus.SUCCEEDED, currency: str = EUR) -> Fact:
    return RefundFact(key, Money(value, currency), status)


def money(value: int) -> Money:
    return Money(value, EUR)


# -- payments --------------------------------------------------------------------------------------
def test_a_payment_for_another_amount_is_flagged_and_never_applied() -> None:
    store = FakeStore(order_in(S.PENDING))
    apply(store, statement(PaymentFact(S.PAID, money(1))))
    assert store.order.status == S.PENDING
    assert store.order.flags == ("amount_mismatch",)
    assert store.events == [(1, "amount_mismatch")]


def test_a_payment_in_another_currency_is_flagged_and_never_applied() -> None:
    store = FakeStore(order_in(S.PENDING))
    apply(store, statement(PaymentFact(S.PAID, Money(1000, "USD"))))
    assert (store.order.status, store.order.flags) == (S.PENDING, ("amount_mismatch",))


def test_a_payment_without_its_amount_is_not_applied() -> None:
    store = FakeStore(order_in(S.PENDING))
    apply(store, statement(PaymentFact(S.PAID, None)))
    assert (store.order.status, store.order.flags) == (S.PENDING, ("amount_missing",))


def test_a_pending_report_without_an_amount_moves_a_created_order() -> None:
    store = FakeStore(order_in(S.CREATED))
    apply(store, statement(PaymentFact(S.PENDING, None)))
    assert store.order.status == S.PENDING


def test_a_repeat_writes_nothing() -> None:
    store = FakeStore(order_in(S.PENDING))
    apply(store, statement(PaymentFact(S.PAID, money(1000))))
    committed = apply(store, statement(PaymentFact(S.PAID, money(1000))))
    assert committed.plan.empty
    assert store.order.version == 2


# -- refunds and chargebacks reported while we hold the order as unpaid (finding 2) ----------------
@pytest.mark.parametrize("status", [S.CREATED, S.PENDING, S.UNKNOWN])
def test_a_refund_reported_before_the_payment_proves_it_and_is_applied(status: OrderStatus) -> None:
    store = FakeStore(order_in(status))
    apply(store, statement(refund("rf-1", 1000)))
    assert store.order.status == S.REFUNDED
    assert store.order.refunded_value == 1000
    assert "refund_before_payment" in store.order.flags
    assert [kind for _, kind in store.events] == ["payment_inferred", "refund_succeeded"]


@pytest.mark.parametrize("status", [S.FAILED, S.CANCELLED, S.EXPIRED])
def test_a_refund_of_an_order_we_hold_as_failed_is_a_late_payment_refunded(status: OrderStatus) -> None:
    store = FakeStore(order_in(status))
    apply(store, statement(refund("rf-1", 400)))
    assert store.order.status == S.PARTIALLY_REFUNDED
    assert {"late_payment", "refund_before_payment"} <= set(store.order.flags)


def test_a_chargeback_reported_before_the_payment_is_applied_and_flagged() -> None:
    store = FakeStore(order_in(S.UNKNOWN))
    apply(store, statement(ChargebackFact()))
    assert store.order.status == S.CHARGED_BACK
    assert "chargeback_before_payment" in store.order.flags


def test_a_refund_before_payment_redelivered_changes_nothing_more() -> None:
    store = FakeStore(order_in(S.PENDING))
    apply(store, statement(refund("rf-1", 300)))
    before = (store.order.version, list(store.events))
    apply(store, statement(refund("rf-1", 300)))
    assert (store.order.version, store.events) == before


# -- refund amounts are summed (finding 4) -----------------------------------------------------------
def test_refunds_add_up_to_the_amount() -> None:
    store = FakeStore(order_in(S.PAID))
    apply(store, statement(refund("rf-1", 600)))
    assert (store.order.status, store.order.refunded_value) == (S.PARTIALLY_REFUNDED, 600)
    apply(store, statement(refund("rf-2", 400)))
    assert (store.order.status, store.order.refunded_value) == (S.REFUNDED, 1000)


def test_a_refund_beyond_what_was_paid_is_flagged_not_applied() -> None:
    store = FakeStore(order_in(S.PAID))
    apply(store, statement(refund("rf-1", 600)))
    apply(store, statement(refund("rf-2", 600)))
    assert (store.order.status, store.order.refunded_value) == (S.PARTIALLY_REFUNDED, 600)
    assert "refund_exceeds_amount" in store.order.flags
    assert len(store.refunds) == 1


def test_a_refund_in_another_currency_is_flagged_not_applied() -> None:
    """1 JPY of a 10.00 EUR order is not a full refund."""
    store = FakeStore(order_in(S.PAID))
    apply(store, statement(refund("rf-1", 1, currency="JPY")))
    assert (store.order.status, store.order.refunded_value) == (S.PAID, 0)
    assert store.order.flags == ("currency_mismatch",)


def test_the_same_refund_counts_once_however_often_it_is_reported() -> None:
    store = FakeStore(order_in(S.PAID))
    for _ in range(3):
        apply(store, statement(refund("rf-1", 300)))
    assert store.order.refunded_value == 300
    assert [kind for _, kind in store.events] == ["refund_succeeded"]


def test_a_pending_refund_holds_its_amount_until_it_succeeds_or_fails() -> None:
    store = FakeStore(order_in(S.PAID))
    apply(store, statement(refund("rf-1", 300, RefundStatus.PENDING)))
    assert (store.order.reserved_value, store.order.refunded_value, store.order.status) == (300, 0, S.PAID)
    apply(store, statement(refund("rf-1", 300, RefundStatus.FAILED)))
    assert (store.order.reserved_value, store.order.refunded_value) == (0, 0)
    apply(store, statement(refund("rf-2", 300, RefundStatus.PENDING)))
    apply(store, statement(refund("rf-2", 300, RefundStatus.SUCCEEDED)))
    assert (store.order.reserved_value, store.order.refunded_value) == (0, 300)
    assert store.order.status == S.PARTIALLY_REFUNDED


def test_a_refund_reported_with_another_amount_than_ours_is_flagged() -> None:
    ours = Refund(
        "m-1", "g-1", money(300), RefundStatus.PENDING, MERCHANT, provider_refund_key("g-1", "m-1"), "t", "t"
    )
    order = order_in(S.PAID)
    order.reserved_value = 300
    store = FakeStore(order, [ours])
    apply(store, statement(refund(ours.provider_key, 900)))
    assert store.order.refunded_value == 0
    assert "refund_amount_mismatch" in store.order.flags


# -- cumulative refunded totals (a provider that reports the order's total refunded) ------------------
def test_a_growing_refunded_total_records_what_grew_once() -> None:
    store = FakeStore(order_in(S.PAID))
    apply(store, statement(RefundedTotalFact(money(300))))
    apply(store, statement(RefundedTotalFact(money(300))))
    apply(store, statement(RefundedTotalFact(money(1000))))
    assert (store.order.status, store.order.refunded_value) == (S.REFUNDED, 1000)
    assert sorted(r.amount.value for r in store.refunds.values()) == [300, 700]


def test_a_shrinking_refunded_total_is_flagged_not_applied() -> None:
    store = FakeStore(order_in(S.PAID))
    apply(store, statement(RefundedTotalFact(money(600))))
    apply(store, statement(RefundedTotalFact(money(300))))
    assert store.order.refunded_value == 600
    assert "refund_total_decreased" in store.order.flags


def test_a_refunded_total_completes_our_refunds_in_flight_oldest_first() -> None:
    first = Refund("m-1", "g-1", money(300), RefundStatus.PENDING, MERCHANT, "K1", "2026-01-01", "t")
    second = Refund("m-2", "g-1", money(200), RefundStatus.PENDING, MERCHANT, "K2", "2026-01-02", "t")
    order = order_in(S.PAID)
    order.reserved_value = 500
    store = FakeStore(order, [first, second])
    apply(store, statement(RefundedTotalFact(money(300))))
    assert store.refunds["m-1"].status == RefundStatus.SUCCEEDED
    assert store.refunds["m-2"].status == RefundStatus.PENDING
    assert (store.order.refunded_value, store.order.reserved_value) == (300, 200)
    apply(store, statement(RefundedTotalFact(money(700))))  # ours (200) and one made elsewhere (200)
    assert store.refunds["m-2"].status == RefundStatus.SUCCEEDED
    assert (store.order.refunded_value, store.order.reserved_value) == (700, 0)
    assert sorted(r.origin for r in store.refunds.values()) == ["merchant", "merchant", "provider"]


# -- the record-once marker and its effect are one write (finding 3) ---------------------------------
def test_a_refund_whose_write_failed_is_applied_when_the_provider_retries() -> None:
    store = FakeStore(order_in(S.PAID))
    store.fail_next = StoreUnavailable("down")
    with pytest.raises(StoreUnavailable):
        apply(store, statement(refund("rf-1", 1000)))
    assert (store.order.status, store.refunds) == (S.PAID, {})  # nothing half-written
    apply(store, statement(refund("rf-1", 1000)))  # the provider's retry is not taken for a repeat
    assert (store.order.status, store.order.refunded_value) == (S.REFUNDED, 1000)


# -- the engine ----------------------------------------------------------------------------------------
def test_the_engine_decides_again_on_what_is_really_there_after_a_lost_race() -> None:
    store = FakeStore(order_in(S.PENDING))
    stale, _ = store.get_with_refunds("g-1") or (None, [])
    assert stale is not None
    apply(store, statement(PaymentFact(S.FAILED, money(1000))))  # someone else got there first
    template = event("notification", "notification", NOW)
    committed = Engine(store, clock=lambda: NOW).run(
        stale,
        [],
        template,
        lambda plan: gate.admit(plan, statement(PaymentFact(S.PAID, money(1000))), provider=ANY_PROVIDER),
    )
    assert committed.order.status == S.PAID
    assert committed.plan.events[0].from_status == S.FAILED
    assert committed.plan.events[0].flags == ("late_payment",)


def test_events_are_numbered_in_commit_order_without_gaps() -> None:
    store = FakeStore(order_in(S.PENDING))
    apply(store, statement(refund("rf-1", 400)))
    apply(store, statement(PaymentFact(S.PENDING, money(1000))))  # backwards: recorded as ignored
    assert [seq for seq, _ in store.events] == [1, 2, 3]
    assert store.order.event_seq == 3


def test_a_statement_about_an_order_of_another_provider_is_refused() -> None:
    order = order_in(S.PENDING)
    with pytest.raises(NotificationRejected) as refused:
        gate.check_owner(order, ANOTHER_PROVIDER, statement(PaymentFact(S.PAID, money(1000))))
    assert refused.value.status == 404
    with pytest.raises(NotificationRejected):
        gate.check_owner(None, ANY_PROVIDER, statement(PaymentFact(S.PAID, money(1000))))


# -- ownership: every statement, whatever route brought it (create reply, query, refund reply) -------
def test_a_statement_naming_another_order_is_refused_by_the_gate() -> None:
    store = FakeStore(order_in(S.PENDING))
    note = Notification(
        order_id="g-2",
        facts=(PaymentFact(S.PAID, money(1000)),),
        provider_status="completed",
        verified_by="t",
    )
    apply(store, note)
    assert store.order.status == S.PENDING
    assert store.order.flags == ("foreign_statement",)
    assert store.events == [(1, "statement_refused")]


def test_a_statement_from_another_provider_is_refused_by_the_gate() -> None:
    store = FakeStore(order_in(S.PENDING))  # an order of ANY_PROVIDER
    order, refunds = store.get_with_refunds("g-1") or (None, [])
    assert order is not None
    note = statement(PaymentFact(S.PAID, money(1000)))
    Engine(store, clock=lambda: NOW).run(
        order,
        refunds,
        event("provider_query", "provider_query", NOW),
        lambda plan: gate.admit(plan, note, provider=ANOTHER_PROVIDER),
    )
    assert (store.order.status, store.order.flags) == (S.PENDING, ("foreign_statement",))
    assert store.events == [(1, "statement_refused")]


# -- a refund status we do not map: acknowledged only once its report is recorded ---------------------
def test_a_refund_reported_with_an_unmapped_status_is_recorded_flagged_once() -> None:
    order = order_in(S.PAID)
    order.reserved_value = 400
    key = provider_refund_key("g-1", "r-1")
    held = Refund(
        refund_id="r-1",
        order_id="g-1",
        amount=money(400),
        status=RefundStatus.PENDING,
        origin=MERCHANT,
        provider_key=key,
        created_at="2026-11-26T11:00:00Z",
        updated_at="2026-11-26T11:00:00Z",
    )
    store = FakeStore(order, [held])
    odd = statement(refund(key, 400, RefundStatus.UNKNOWN), word="refund:pending_review")
    apply(store, odd)
    assert store.events == [(1, "refund_status_unknown")]
    assert store.order.flags == ("refund_status_unknown",)
    # Nothing applied: the refund stays in flight (reconciliation asks again), its amount reserved.
    assert (store.order.status, store.order.reserved_value, store.order.refunded_value) == (S.PAID, 400, 0)
    assert store.refunds["r-1"].status == RefundStatus.PENDING
    apply(store, odd)  # the provider's retry: recorded once
    assert len(store.events) == 1
    apply(store, statement(refund(key, 400, RefundStatus.SUCCEEDED), word="refund:succeed"))
    assert (store.order.status, store.order.refunded_value, store.order.reserved_value) == (
        S.PARTIALLY_REFUNDED,
        400,
        0,
    )


def test_a_provider_refund_with_an_unmapped_status_is_recorded_for_a_person() -> None:
    store = FakeStore(order_in(S.PAID))
    apply(store, statement(refund("provider-tx-9", 300, RefundStatus.UNKNOWN), word="refund:mystery"))
    assert store.events == [(1, "refund_status_unknown")]
    assert store.order.flags == ("refund_status_unknown",)
    assert (store.order.status, store.refunds) == (S.PAID, {})
