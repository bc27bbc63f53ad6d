"""The gate, the refund ledger and the engine, below DynamoDB: a fake store behind the engine's small
interface (tests/support/fake_store.py). Each audit finding about money facts has its regression test
here, at the lowest layer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.engine import Committed, Engine, Plan, event
from payments.errors import NotificationRejected, StoreUnavailable
from payments.facts import (
    ChargebackFact,
    Fact,
    PaymentFact,
    RefundedTotalFact,
    RefundFact,
    RefundStatus,
    Statement,
)
from payments.flows import gate
from payments.ledger import MERCHANT, Refund, provider_refund_key
from payments.money import Money
from payments.orders import Order, OrderStatus
from tests.support.fake_store import FakeStore, order_in
from tests.support.providers import ANOTHER_PROVIDER, ANY_PROVIDER

S = OrderStatus
EUR = "EUR"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def statement(*facts: Fact, word: str = "word") -> Statement:
    return Statement(order_id="g-1", facts=facts, provider_status=word, verified_by="test")


def apply(store: FakeStore, note: Statement) -> Committed:
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


# -- refunds and chargebacks reported while we hold the order as unpaid --------------------------------
def confirmed(status: OrderStatus) -> Order:
    """An unpaid order whose amount an earlier verified statement confirmed (e.g. a pending report)."""
    order = order_in(status)
    order.amount_confirmed = True
    return order


@pytest.mark.parametrize("status", [S.CREATED, S.PENDING, S.UNKNOWN])
def test_a_refund_reported_before_the_payment_proves_it_and_is_applied(status: OrderStatus) -> None:
    store = FakeStore(confirmed(status))
    apply(store, statement(refund("rf-1", 1000)))
    assert store.order.status == S.REFUNDED
    assert store.order.refunded_value == 1000
    assert "refund_before_payment" in store.order.flags
    assert [kind for _, kind in store.events] == ["payment_inferred", "refund_succeeded"]


@pytest.mark.parametrize("status", [S.FAILED, S.CANCELLED, S.EXPIRED])
def test_a_refund_of_an_order_we_hold_as_failed_is_a_late_payment_refunded(status: OrderStatus) -> None:
    store = FakeStore(confirmed(status))
    apply(store, statement(refund("rf-1", 400)))
    assert store.order.status == S.PARTIALLY_REFUNDED
    assert {"late_payment", "refund_before_payment"} <= set(store.order.flags)


def test_a_chargeback_reported_before_the_payment_is_applied_and_flagged() -> None:
    store = FakeStore(confirmed(S.UNKNOWN))
    apply(store, statement(ChargebackFact()))
    assert store.order.status == S.CHARGED_BACK
    assert "chargeback_before_payment" in store.order.flags


def test_a_refund_before_payment_redelivered_changes_nothing_more() -> None:
    store = FakeStore(confirmed(S.PENDING))
    apply(store, statement(refund("rf-1", 300)))
    before = (store.order.version, list(store.events))
    apply(store, statement(refund("rf-1", 300)))
    assert (store.order.version, store.events) == before


# -- a refund, refunded total or chargeback never proves an unchecked payment --------------------------
def unchanged_but_flagged(store: FakeStore, status: OrderStatus, flag: str) -> None:
    assert (store.order.status, store.order.refunded_value, store.order.reserved_value) == (status, 0, 0)
    assert flag in store.order.flags
    assert store.refunds == {}
    assert not any(kind == "payment_inferred" for _, kind in store.events)


def test_a_refunded_total_beside_a_payment_of_another_amount_applies_nothing() -> None:
    """A provider's "partially refunded" at 100 of our 1000, with 1 refunded: both parts flagged."""
    store = FakeStore(order_in(S.PENDING))
    apply(store, statement(PaymentFact(S.PAID, money(100)), RefundedTotalFact(money(1)), word="partial"))
    unchanged_but_flagged(store, S.PENDING, "amount_mismatch")
    assert [kind for _, kind in store.events] == ["amount_mismatch", "refund_not_applied"]


def test_a_chargeback_beside_a_payment_of_another_amount_applies_nothing() -> None:
    store = FakeStore(order_in(S.EXPIRED))
    apply(store, statement(PaymentFact(S.PAID, money(100)), ChargebackFact(), word="chargeback"))
    unchanged_but_flagged(store, S.EXPIRED, "amount_mismatch")
    assert [kind for _, kind in store.events] == ["amount_mismatch", "chargeback_not_applied"]


@pytest.mark.parametrize(
    "fact",
    [refund("rf-1", 1), RefundedTotalFact(money(1)), ChargebackFact()],
    ids=["refund", "refunded_total", "chargeback"],
)
def test_without_the_payments_amount_nothing_is_inferred_from_a_refund(fact: Fact) -> None:
    """No amount stated, none confirmed, nothing asked: flagged for a person, never applied."""
    store = FakeStore(order_in(S.PENDING))
    apply(store, statement(fact))
    unchanged_but_flagged(store, S.PENDING, "payment_unverified")


def test_the_providers_answer_to_a_query_is_the_payments_amount() -> None:
    """A refund notification that states no payment: the query's answer (evidence) does."""
    for paid_at, applied in ((money(100), False), (money(1000), True)):
        store = FakeStore(order_in(S.PENDING))
        order, refunds = store.get_with_refunds("g-1") or (None, [])
        assert order is not None
        asked = statement(PaymentFact(S.PAID, paid_at), word="asked")

        def admit_with_evidence(plan: Plan, asked: Statement = asked) -> None:
            gate.admit(plan, statement(refund("rf-1", 1)), provider=ANY_PROVIDER, evidence=asked)

        Engine(store, clock=lambda: NOW).run(
            order, refunds, event("notification", "notification", NOW), admit_with_evidence
        )
        if applied:
            assert (store.order.status, store.order.refunded_value) == (S.PARTIALLY_REFUNDED, 1)
        else:
            unchanged_but_flagged(store, S.PENDING, "amount_mismatch")


def test_a_verified_matching_amount_is_remembered_for_a_later_refund() -> None:
    store = FakeStore(order_in(S.CREATED))
    apply(store, statement(PaymentFact(S.PENDING, money(1000))))
    assert store.order.amount_confirmed
    apply(store, statement(refund("rf-1", 1)))
    assert (store.order.status, store.order.refunded_value) == (S.PARTIALLY_REFUNDED, 1)


def test_an_amount_once_disputed_is_never_taken_as_confirmed_again() -> None:
    """A payment reported at 100 of our 1000 (flagged), then a refund that states no payment: the
    amount the create reply confirmed no longer proves anything; only a query's answer could."""
    store = FakeStore(confirmed(S.PENDING))
    apply(store, statement(PaymentFact(S.PAID, money(100)), word="paid"))
    assert not store.order.amount_confirmed
    apply(store, statement(PaymentFact(S.PENDING, money(1000)), word="pending"))
    assert gate.needs_payment_proof(store.order, statement(refund("rf-1", 1)))
    apply(store, statement(refund("rf-1", 1)))
    unchanged_but_flagged(store, S.PENDING, "payment_unverified")


def test_a_refund_needs_the_payment_proven_only_for_an_unpaid_order_without_its_amount() -> None:
    unpaid, paid = order_in(S.PENDING), order_in(S.PAID)
    assert gate.needs_payment_proof(unpaid, statement(refund("rf-1", 1)))
    assert gate.needs_payment_proof(unpaid, statement(RefundedTotalFact(money(1))))
    assert gate.needs_payment_proof(unpaid, statement(ChargebackFact()))
    assert not gate.needs_payment_proof(unpaid, statement(refund("rf-1", 1, RefundStatus.FAILED)))
    assert not gate.needs_payment_proof(unpaid, statement(PaymentFact(S.PAID, money(1)), ChargebackFact()))
    assert not gate.needs_payment_proof(paid, statement(refund("rf-1", 1)))
    assert not gate.needs_payment_proof(confirmed(S.PENDING), statement(refund("rf-1", 1)))


# -- a repeat of a flagged fact is a repeat ------------------------------------------------------------
@pytest.mark.parametrize(
    "facts",
    [
        (PaymentFact(S.PAID, Money(100, EUR)),),
        (PaymentFact(S.PAID, Money(100, EUR)), RefundedTotalFact(Money(1, EUR))),
        (refund("rf-1", 1, currency="JPY"),),
    ],
    ids=["payment", "payment_and_refunded_total", "refund_in_another_currency"],
)
def test_a_mismatched_report_delivered_again_changes_nothing(facts: tuple[Fact, ...]) -> None:
    store = FakeStore(order_in(S.PENDING))
    first = apply(store, statement(*facts))
    recorded = (store.order.version, list(store.events))
    for _ in range(2):
        again = apply(store, statement(*facts))
        assert again.plan.empty
        assert again.plan.metric_names == []
    assert (store.order.version, store.events) == recorded
    assert first.plan.metric_names  # counted once, the first time


def test_another_mismatched_report_is_recorded_again() -> None:
    store = FakeStore(order_in(S.PENDING))
    apply(store, statement(PaymentFact(S.PAID, money(100))))
    apply(store, statement(PaymentFact(S.PAID, money(200))))
    apply(store, statement(PaymentFact(S.PENDING, money(100)), word="other"))
    assert [kind for _, kind in store.events] == ["amount_mismatch"] * 3


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
    # one tuple: mypy would keep m-2's status narrowed to PENDING past the next apply()
    assert (store.refunds["m-1"].status, store.refunds["m-2"].status) == (
        RefundStatus.SUCCEEDED,
        RefundStatus.PENDING,
    )
    assert (store.order.refunded_value, store.order.reserved_value) == (300, 200)
    apply(store, statement(RefundedTotalFact(money(700))))  # ours (200) and one made elsewhere (200)
    assert store.refunds["m-2"].status == RefundStatus.SUCCEEDED
    assert (store.order.refunded_value, store.order.reserved_value) == (700, 0)
    assert sorted(r.origin for r in store.refunds.values()) == ["merchant", "merchant", "provider"]


def in_flight(order: Order, *amounts: int) -> FakeStore:
    """`order` with merchant refunds m-1, m-2, … of `amounts` in flight (made in that order)."""
    refunds = [
        Refund(
            f"m-{index}",
            "g-1",
            money(value),
            RefundStatus.PENDING,
            MERCHANT,
            f"K{index}",
            f"2026-01-0{index}",
            "t",
        )
        for index, value in enumerate(amounts, 1)
    ]
    order.reserved_value = sum(amounts)
    return FakeStore(order, refunds)


def test_refunds_completed_in_another_order_than_asked_are_each_matched() -> None:
    """A (300) then B (100) in flight; B completes first: the total of 100 is B, not a refund of
    the provider's own, and A stays held until it completes."""
    store = in_flight(order_in(S.PAID), 300, 100)
    apply(store, statement(RefundedTotalFact(money(100))))
    assert [store.refunds[r].status for r in ("m-1", "m-2")] == [RefundStatus.PENDING, RefundStatus.SUCCEEDED]
    assert (store.order.refunded_value, store.order.reserved_value) == (100, 300)
    assert all(r.origin == MERCHANT for r in store.refunds.values())
    apply(store, statement(RefundedTotalFact(money(400))))
    assert store.refunds["m-1"].status == RefundStatus.SUCCEEDED
    assert (store.order.refunded_value, store.order.reserved_value, store.order.refundable.value) == (
        400,
        0,
        600,
    )


def test_when_several_sets_of_refunds_fit_none_completes_until_a_later_total_tells() -> None:
    store = in_flight(order_in(S.PAID), 100, 100, 300)
    for _ in range(3):  # the same total again and again (retries, reconciler checks)
        apply(store, statement(RefundedTotalFact(money(100))))
    assert all(r.status == RefundStatus.PENDING for r in store.refunds.values())
    assert (store.order.refunded_value, store.order.reserved_value) == (0, 500)
    assert [kind for _, kind in store.events] == ["refund_total_unmatched"]
    apply(store, statement(RefundedTotalFact(money(200))))  # both refunds of 100 are done
    statuses = {r.refund_id: r.status for r in store.refunds.values()}
    assert statuses == {"m-1": "succeeded", "m-2": "succeeded", "m-3": "pending"}
    assert (store.order.refunded_value, store.order.reserved_value) == (200, 300)


def test_growth_no_refund_in_flight_explains_is_a_refund_made_elsewhere() -> None:
    store = in_flight(order_in(S.PAID), 300)
    apply(store, statement(RefundedTotalFact(money(250))))  # not ours: ours is 300
    assert store.refunds["m-1"].status == RefundStatus.PENDING
    made_elsewhere = [r for r in store.refunds.values() if r.origin == "provider"]
    assert [r.amount.value for r in made_elsewhere] == [250]
    assert (store.order.refunded_value, store.order.reserved_value) == (250, 300)


@settings(max_examples=300, deadline=None)
@given(
    amounts=st.lists(st.integers(1, 120), min_size=1, max_size=6),
    data=st.data(),
)
def test_refunds_completed_in_any_order_add_up_and_release_everything(
    amounts: list[int], data: st.DataObject
) -> None:
    """Whatever order the provider completes our refunds in, each report being its cumulative total:
    the refunded total is always the sum of the refunds that succeeded, no refund nobody made is
    recorded, nothing stays held once all completed, and each refund succeeds once."""
    store = in_flight(order_in(S.PAID, amount=1000), *amounts)
    order_of_completion = data.draw(st.permutations(range(len(amounts))))
    done = 0
    for index in order_of_completion:
        done += amounts[index]
        for _ in range(data.draw(st.integers(1, 2))):  # sometimes delivered twice
            apply(store, statement(RefundedTotalFact(money(done))))
        succeeded = [r for r in store.refunds.values() if r.status == RefundStatus.SUCCEEDED]
        assert store.order.refunded_value == sum(r.amount.value for r in succeeded)
        assert store.order.refunded_value + store.order.reserved_value == sum(amounts)
        assert all(r.origin == MERCHANT for r in store.refunds.values())
    assert all(r.status == RefundStatus.SUCCEEDED for r in store.refunds.values())
    assert (store.order.refunded_value, store.order.reserved_value) == (sum(amounts), 0)
    assert sum(1 for _, kind in store.events if kind.startswith("refund_succeeded")) <= len(amounts)


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
    store = FakeStore(confirmed(S.PENDING))
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
    note = Statement(
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


# -- the provider's time of a fact: kept on its events for the daily report, deciding nothing ---------
MADE_AT = datetime(2026, 11, 25, 23, 55, tzinfo=UTC)  # the provider's time: the day before NOW
MADE_AT_TEXT = "2026-11-25T23:55:00.000000Z"


def times(committed: Committed) -> list[tuple[str, str | None]]:
    return [(line.type, line.occurred_at) for line in committed.plan.events]


@pytest.mark.parametrize(
    ("status", "fact_of"),
    [
        (S.PENDING, lambda at: PaymentFact(S.PAID, money(1000), at)),
        (S.PENDING, lambda at: PaymentFact(S.PAID, money(1), at)),  # flagged, never applied
        (S.PAID, lambda at: RefundFact("rf-1", money(300), RefundStatus.SUCCEEDED, None, at)),
        (S.PAID, lambda at: RefundFact("rf-1", money(3000), RefundStatus.SUCCEEDED, None, at)),
        (S.PAID, lambda at: ChargebackFact(None, at)),
        (S.PAID, lambda at: RefundedTotalFact(money(400), at)),
    ],
    ids=["payment", "payment_mismatch", "refund", "refund_beyond", "chargeback", "refunded_total"],
)
def test_the_providers_time_of_a_fact_changes_nothing_the_gate_decides(
    status: OrderStatus, fact_of: Any
) -> None:
    timed, untimed = FakeStore(order_in(status)), FakeStore(order_in(status))
    with_time = apply(timed, statement(fact_of(MADE_AT)))
    without = apply(untimed, statement(fact_of(None)))
    assert (timed.order, timed.refunds, timed.events) == (untimed.order, untimed.refunds, untimed.events)
    assert with_time.plan.metric_names == without.plan.metric_names
    assert [kind for kind, _ in times(with_time)] == [kind for kind, _ in times(without)]
    assert {at for _, at in times(with_time)} == {MADE_AT_TEXT}  # every event the fact recorded
    assert {at for _, at in times(without)} == {None}


def test_a_flagged_fact_reported_again_at_another_time_is_recorded_once() -> None:
    store = FakeStore(order_in(S.PENDING))
    apply(store, statement(PaymentFact(S.PAID, money(1), MADE_AT)))
    again = apply(store, statement(PaymentFact(S.PAID, money(1), MADE_AT + timedelta(seconds=1))))
    untimed = apply(store, statement(PaymentFact(S.PAID, money(1))))  # e.g. a query that gives no time
    assert again.plan.empty
    assert untimed.plan.empty
    assert store.events == [(1, "amount_mismatch")]


def test_a_time_in_another_offset_is_kept_in_utc() -> None:
    shanghai = MADE_AT.astimezone(timezone(timedelta(hours=8)))
    committed = apply(FakeStore(order_in(S.PENDING)), statement(PaymentFact(S.PAID, money(1000), shanghai)))
    assert times(committed) == [("notification", MADE_AT_TEXT)]


def test_a_payment_inferred_from_a_refund_has_no_time_of_its_own() -> None:
    store = FakeStore(confirmed(S.PENDING))
    committed = apply(store, statement(RefundFact("rf-1", money(300), RefundStatus.SUCCEEDED, None, MADE_AT)))
    assert times(committed) == [("payment_inferred", None), ("refund_succeeded", MADE_AT_TEXT)]


def test_each_fact_of_a_statement_gives_its_events_its_own_time() -> None:
    committed = apply(
        FakeStore(order_in(S.PAID)),
        statement(RefundFact("rf-1", money(300), RefundStatus.SUCCEEDED, None, MADE_AT), ChargebackFact()),
    )
    assert times(committed) == [("refund_succeeded", MADE_AT_TEXT), ("chargeback", None)]
