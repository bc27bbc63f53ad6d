"""Alipay's own time of a money fact (`occurred_at`): notify.pay's and payQuery's `paymentTime`,
common.refund's `refundTime` — DateTime with an offset, ISO 8601 (documented example:
`2001-07-04T12:08:56+05:30`). A time that is missing, has no offset or is more than a day ahead of our
clock is None, and the notification is taken all the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from local.providers.alipay_intl import sandbox as sandbox_module
from payments.facts import RefundFact, RefundStatus
from payments.ledger import MERCHANT, Refund
from payments.money import Money
from payments.orders import OrderStatus
from payments.providers.alipay_intl.adapter import AlipayIntl
from payments.providers.base import RefundContext
from tests.providers.alipay_intl.fixtures import (
    NOTIFY_URL,
    NOW,
    context_for,
    create_request,
    make_adapter,
    order_for,
)
from tests.providers.alipay_intl.test_alipay_intl_notifications import raw
from tests.support.sandbox_client import SandboxHttp

DOCUMENTED = "2001-07-04T12:08:56+05:30"  # Alipay's documented example of its DateTime
MADE = "2026-11-22T19:55:00+08:00"  # five minutes before NOW, in China time


def created(order_id: str = "t-1") -> tuple[AlipayIntl, SandboxHttp]:
    adapter, http = make_adapter()
    request = create_request(order_id)
    adapter.create_payment(order_for(request), context_for(request))
    return adapter, http


@pytest.mark.parametrize(
    ("stated", "expected"),
    [
        (MADE, datetime(2026, 11, 22, 11, 55, tzinfo=UTC)),
        (DOCUMENTED, datetime(2001, 7, 4, 6, 38, 56, tzinfo=UTC)),
        ("2026-11-22 19:55:00", None),  # no offset: which instant is not said
        ("soon", None),
        ((NOW + timedelta(days=2)).isoformat(), None),  # more than a day ahead of our clock
        (None, None),
    ],
)
def test_a_notified_payment_carries_its_payment_time(stated: str | None, expected: datetime | None) -> None:
    adapter, http = created()
    delivery = http.sandbox.notification("t-1", body_changes={"paymentTime": stated})
    note = adapter.parse_notification(raw(delivery))
    assert (note.status, note.amount) == (OrderStatus.PAID, Money(1000, "EUR"))  # taken all the same
    assert note.payment is not None
    assert note.payment.occurred_at == expected


def test_a_queried_payment_carries_its_payment_time() -> None:
    adapter, http = created()
    http.sandbox.notification("t-1")  # paid at Alipay (not delivered)
    http.sandbox.orders["t-1"]["paymentTime"] = MADE
    found = adapter.query(order_for(create_request("t-1")))
    assert found is not None
    assert found.payment is not None
    assert (found.status, found.payment.occurred_at) == (
        OrderStatus.PAID,
        datetime(2026, 11, 22, 11, 55, tzinfo=UTC),
    )
    unpaid, _ = created("t-2")
    still = unpaid.query(order_for(create_request("t-2")))
    assert still is not None
    assert still.payment is not None
    assert still.payment.occurred_at is None  # no paymentTime before a payment


def test_a_refund_carries_its_refund_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_module, "_now", lambda: "2026-11-22T19:58:00+08:00")
    adapter, http = created()
    http.sandbox.notification("t-1")
    order = order_for(create_request("t-1"))
    order.provider_reference = http.sandbox.orders["t-1"]["acquirementId"]
    key = adapter.refund_key("t-1", "r-1")
    refund = Refund("r-1", "t-1", Money(300, "EUR"), RefundStatus.UNKNOWN, MERCHANT, key, "t", "t")
    answer = adapter.refund(order, refund, RefundContext(NOTIFY_URL, NOW))
    [fact] = answer.facts
    assert isinstance(fact, RefundFact)
    assert (fact.status, fact.occurred_at) == (
        RefundStatus.SUCCEEDED,
        datetime(2026, 11, 22, 11, 58, tzinfo=UTC),
    )
