"""Antom's own time of a money fact (`occurred_at`): `paymentTime` of notifyPayment and inquiryPayment,
`refundTime` of notifyRefund, the refund reply and inquiryRefund — ISO 8601 with an offset
(docs.antom.com's example: `2019-11-27T12:01:01+08:00`). A time that is missing, has no offset or is
more than a day ahead of our clock is None, and the notification is taken all the same."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from local.providers.antom import sandbox as sandbox_module
from payments.errors import PaymentsError
from payments.facts import RefundFact, RefundStatus
from payments.ledger import MERCHANT, Refund
from payments.money import Money
from payments.orders import Order, OrderStatus
from payments.providers.antom.adapter import Antom
from payments.providers.base import RefundContext
from tests.providers.antom.fixtures import (
    NOTIFY_URL,
    NOW,
    context_for,
    create_request,
    make_adapter,
    order_for,
    raw_request,
)
from tests.support.sandbox_client import SandboxHttp

DOCUMENTED = "2019-11-27T12:01:01+08:00"  # the example Antom's pages give for a Datetime
MADE = "2026-11-22T19:55:00+08:00"  # five minutes before NOW, in China time
MADE_UTC = datetime(2026, 11, 22, 11, 55, tzinfo=UTC)


def paid(order_id: str) -> tuple[Antom, SandboxHttp, Order]:
    adapter, http = make_adapter()
    request = create_request(order_id)
    statement = adapter.create_payment(order_for(request), context_for(request))
    http.sandbox.pay_silently(order_id)
    return adapter, http, replace(order_for(request), provider_reference=statement.provider_reference)


@pytest.mark.parametrize(
    ("stated", "expected"),
    [
        (MADE, MADE_UTC),
        (DOCUMENTED, datetime(2019, 11, 27, 4, 1, 1, tzinfo=UTC)),
        ("2026-11-22T19:55:00", None),  # no offset
        ("1795435200000", None),  # not the documented form
        ((NOW + timedelta(days=2)).isoformat(), None),  # more than a day ahead of our clock
        (None, None),
    ],
)
def test_a_notified_payment_carries_its_payment_time(stated: str | None, expected: datetime | None) -> None:
    adapter, http, _ = paid("t-1")
    sent = http.sandbox.payment_notification("t-1", changes={"paymentTime": stated})
    note = adapter.parse_notification(raw_request(sent.headers, sent.body, sent.url))
    assert (note.status, note.amount) == (OrderStatus.PAID, Money(1000, "EUR"))  # taken all the same
    assert note.payment is not None
    assert note.payment.occurred_at == expected


def test_a_queried_payment_carries_its_payment_time() -> None:
    adapter, http, order = paid("t-2")
    http.sandbox.payments["t-2"]["paymentTime"] = MADE
    found = adapter.query(order)
    assert found is not None
    assert found.payment is not None
    assert (found.status, found.payment.occurred_at) == (OrderStatus.PAID, MADE_UTC)


def test_a_refund_carries_its_refund_time_in_the_reply_the_inquiry_and_the_notification(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sandbox_module, "now", lambda: "2026-11-22T19:58:00+08:00")
    refunded = datetime(2026, 11, 22, 11, 58, tzinfo=UTC)
    adapter, http, order = paid("t-3")

    def refund(refund_id: str) -> Refund:
        key = adapter.refund_key("t-3", refund_id)
        return Refund(refund_id, "t-3", Money(100, "EUR"), RefundStatus.UNKNOWN, MERCHANT, key, "t", "t")

    def fact_of(facts: tuple[object, ...]) -> RefundFact:
        [fact] = facts
        assert isinstance(fact, RefundFact)
        return fact

    answered = fact_of(adapter.refund(order, refund("r-1"), RefundContext(NOTIFY_URL, NOW)).facts)
    assert (answered.status, answered.occurred_at) == (RefundStatus.SUCCEEDED, refunded)
    asked = adapter.resolve_refund(order, refund("r-1"), RefundContext(NOTIFY_URL, NOW))
    assert asked is not None
    assert fact_of(asked.facts).occurred_at == refunded
    http.sandbox.control("t-3", "hold_refunds")
    with pytest.raises(PaymentsError):  # in process: its result is notified
        adapter.refund(order, refund("r-2"), RefundContext(NOTIFY_URL, NOW))
    http.sandbox.release_refunds("t-3")
    [sent] = http.sandbox.take_notifications()
    notified = fact_of(adapter.parse_notification(raw_request(sent.headers, sent.body, sent.url)).facts)
    assert (notified.status, notified.occurred_at) == (RefundStatus.SUCCEEDED, refunded)
