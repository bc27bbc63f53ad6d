"""Reconciliation in the local stack, over HTTP: the scheduled function runs every second against the
provider sandboxes (their checks compressed 100-fold: the first one 1.2 s after an item is made)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.conftest import LocalStack, start_stack
from tests.e2e.provider_facts import example_provider, notifies_refunds, providers


@pytest.fixture(scope="module")
def reconciling_stack() -> Iterator[LocalStack]:
    yield from start_stack(
        ["--in-process", "--quiet", "--schedule-every", "1"], env={"RECONCILE_SCHEDULE_SCALE": "0.01"}
    )


def eventually(check: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


@pytest.mark.parametrize("provider", providers())
def test_what_notifications_never_said_is_found_by_the_scheduled_runs(
    reconciling_stack: LocalStack, provider: str
) -> None:
    stack = reconciling_stack
    # A payment whose notification is lost: paid within a run or two.
    created = stack.create(f"e2e-rc-{provider}-1", provider)
    assert created.status_code == 201, created.text
    stack.control(provider, f"e2e-rc-{provider}-1", "pay_silently")
    paid = eventually(lambda: stack.order(f"e2e-rc-{provider}-1")["status"] == "paid")
    assert paid, stack.order(f"e2e-rc-{provider}-1")
    assert "reconcile" in {e["source"] for e in stack.order(f"e2e-rc-{provider}-1")["events"]}

    # A refund whose result is never notified (a provider that answers refunds at once, in the
    # refund's reply, answers "unknown yet" instead while its refunds are held).
    answers_refunds_at_once = not notifies_refunds(provider)
    order_id = f"e2e-rc-{provider}-1"
    stack.control(provider, order_id, "drop_next_notification")
    if answers_refunds_at_once:
        stack.control(provider, order_id, "hold_refunds")
    refund = stack.http.post(
        f"{stack.api}/orders/{order_id}/refunds",
        json={"refund_id": "r-1", "amount": {"value": 400, "currency": "EUR"}},
        headers={"x-api-key": stack.api_key},
        timeout=60,
    )
    assert refund.status_code in (201, 502), refund.text
    if answers_refunds_at_once:
        stack.control(provider, order_id, "release_refunds")
    refunded = eventually(lambda: stack.order(order_id)["status"] == "partially_refunded")
    assert refunded, stack.order(order_id)
    assert [r["status"] for r in stack.order(order_id)["refunds"]] == ["succeeded"]

    # A create whose reply was lost: resolved without the merchant retrying.
    lost_id = f"e2e-rc-{provider}-2"
    stack.control(provider, lost_id, "timeout_once")
    lost = stack.create(lost_id, provider)
    assert lost.status_code in (502, 504), lost.text
    resolved = eventually(lambda: stack.order(lost_id)["status"] != "unknown")
    assert resolved, stack.order(lost_id)
    assert stack.order(lost_id)["status"] == "pending"


@pytest.mark.parametrize("provider", providers())
def test_an_order_the_provider_closed_unpaid_becomes_expired_without_a_notification(
    reconciling_stack: LocalStack, provider: str
) -> None:
    """The payer never paid and the provider closed the order at its expiry, saying nothing (some
    providers never notify an expiry; the others' notification is lost here): a run finds it expired."""
    stack = reconciling_stack
    order_id = f"e2e-rc-{provider}-3"
    assert stack.create(order_id, provider).status_code == 201
    stack.control(provider, order_id, "drop_next_notification")
    stack.control(provider, order_id, "expire")
    expired = eventually(lambda: stack.order(order_id)["status"] == "expired")
    assert expired, stack.order(order_id)
    assert ("reconcile", "expired") in {
        (e["source"], e.get("to_status")) for e in stack.order(order_id)["events"]
    }


def test_the_demo_shop_receives_the_merchant_events_signed_in_order(reconciling_stack: LocalStack) -> None:
    """The stream-to-function step against moto's stream records, the webhook queue, and the demo
    shop as the merchant's receiver (it refuses a bad signature): what it received shows on its page."""
    stack = reconciling_stack
    provider = example_provider()  # the merchant events are the same whichever provider took the payment
    assert stack.create("e2e-wh-1", provider).status_code == 201
    stack.control(provider, "e2e-wh-1", "pay")

    def shown() -> str:
        page = stack.http.get(f"{stack.api}/shop/return?order_id=e2e-wh-1", timeout=30).text
        return page if "order.paid" in page else ""

    page = eventually(shown)
    assert "Webhooks received" in page
    assert page.index("order.pending") < page.index("order.paid")  # in sequence
    forged = stack.http.post(
        f"{stack.api}/shop/webhooks", data=b'{"id":"evt_x"}', headers={"Payments-Signature": "t=1,v1=00"}
    )
    assert forged.status_code == 400
