"""Refunds and cancel end to end over real HTTP, for every provider: the local stack's API, each
sandbox's wire API and knobs, and the notifications the sandboxes send on their own (a finished
refund arrives a moment after the refund's reply, as at the providers).

A lost reply here is the sandbox closing the connection without an answer (`timeout_once` without
hang_seconds): the adapter cannot tell whether the provider acted, exactly as after a read timeout,
without waiting out its 10 s read timeout.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from local.testing import kit_of
from tests.e2e.conftest import LocalStack
from tests.e2e.provider_facts import facts_of, notifies_refunds, providers

_ids = itertools.count()


def eur(value: int) -> dict[str, Any]:
    return {"value": value, "currency": "EUR"}


def control(stack: LocalStack, provider: str, order_id: str, action: str) -> requests.Response:
    return requests.post(f"{stack.sandboxes[provider]}/_control/{order_id}/{action}", timeout=60)


def sandbox_view(stack: LocalStack, provider: str, order_id: str) -> dict[str, Any]:
    reply = requests.get(f"{stack.sandboxes[provider]}/_control/{order_id}", timeout=30)
    reply.raise_for_status()
    view: dict[str, Any] = reply.json()
    return view


def new_order(stack: LocalStack, provider: str, what: str) -> str:
    order_id = f"e2e-{what}-{provider}-{next(_ids)}"
    reply = stack.create(order_id, provider)
    assert reply.status_code == 201, reply.text
    return order_id


def paid_order(stack: LocalStack, provider: str, what: str) -> str:
    order_id = new_order(stack, provider, what)
    assert [d["status"] for d in stack.control(provider, order_id, "pay")["delivered"]] == [200]
    assert stack.order(order_id)["status"] == "paid"
    return order_id


def refund(stack: LocalStack, order_id: str, refund_id: str, value: int | None = None) -> requests.Response:
    body: dict[str, Any] = {"refund_id": refund_id}
    if value is not None:
        body["amount"] = eur(value)
    return stack.http.post(
        f"{stack.api}/orders/{order_id}/refunds", json=body, headers={"x-api-key": stack.api_key}, timeout=60
    )


def cancel(stack: LocalStack, order_id: str) -> requests.Response:
    return stack.http.post(
        f"{stack.api}/orders/{order_id}/cancel", headers={"x-api-key": stack.api_key}, timeout=60
    )


def settled(stack: LocalStack, order_id: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The order once `done` holds: a provider's notification arrives a moment after its reply."""
    deadline = time.monotonic() + 10
    while True:
        order = stack.order(order_id)
        if done(order) or time.monotonic() > deadline:
            return order
        time.sleep(0.1)


def refund_states(order: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(r["refund_id"], r["status"], r["amount"]["value"]) for r in order["refunds"]]


@pytest.mark.parametrize("provider", providers())
def test_refund_partly_then_the_rest_and_a_lost_reply_never_refunds_twice(
    local_stack: LocalStack, provider: str
) -> None:
    facts = facts_of(provider)
    # Pay, refund 4.00, then the rest (no amount: everything still refundable).
    order_id = paid_order(local_stack, provider, "refund")
    first = refund(local_stack, order_id, "r-1", 400)
    assert first.status_code == 201, first.text
    assert first.json()["status"] == ("pending" if notifies_refunds(provider) else "succeeded")
    order = settled(local_stack, order_id, lambda o: o["status"] == "partially_refunded")
    assert refund_states(order) == [("r-1", "succeeded", 400)]
    assert (order["refunded_amount"], order["refundable_amount"]) == (eur(400), eur(600))
    rest = refund(local_stack, order_id, "r-2")
    assert rest.status_code == 201, rest.text
    assert rest.json()["amount"] == eur(600)
    order = settled(local_stack, order_id, lambda o: o["status"] == "refunded")
    assert order["status"] == "refunded"
    assert refund_states(order) == [("r-1", "succeeded", 400), ("r-2", "succeeded", 600)]
    assert (order["refunded_amount"], order["refundable_amount"]) == (eur(1000), eur(0))
    assert [r["origin"] for r in order["refunds"]] == ["merchant", "merchant"]
    # The same request again is answered from our ledger: no third call to the provider.
    again = refund(local_stack, order_id, "r-2")
    assert (again.status_code, again.json()["refund_id"], again.json()["status"]) == (200, "r-2", "succeeded")
    view = sandbox_view(local_stack, provider, order_id)
    assert sorted((r["amount"], r["status"]) for r in view["refunds"]) == [
        (400, "succeeded"),
        (600, "succeeded"),
    ]
    assert [c["operation"] for c in view["calls"]].count("refund") == 2

    # Another order: the refund is made at the provider, but its reply never arrives. Where the
    # provider would also notify the result, that notification is held back, so that it is the same
    # request again, not the notification, that finds out.
    lost_id = paid_order(local_stack, provider, "lost")
    assert control(local_stack, provider, lost_id, "timeout_once").status_code == 200
    if notifies_refunds(provider):
        assert control(local_stack, provider, lost_id, "drop_next_notification").status_code == 200
    started = time.monotonic()
    lost = refund(local_stack, lost_id, "r-1", 300)
    assert time.monotonic() - started < 5  # a closed connection, not a wait for the read timeout
    assert lost.status_code == 502, lost.text
    assert lost.json()["error"]["code"] == "provider_unavailable"
    order = local_stack.order(lost_id)
    assert order["status"] == "paid"
    assert refund_states(order) == [("r-1", "unknown", 300)]
    assert order["refundable_amount"] == eur(700)  # reserved: it may have gone through
    retry = refund(local_stack, lost_id, "r-1", 300)
    assert retry.status_code == 200, retry.text
    assert retry.json()["status"] == "succeeded"
    order = local_stack.order(lost_id)
    assert (order["status"], order["refunded_amount"], order["refundable_amount"]) == (
        "partially_refunded",
        eur(300),
        eur(700),
    )
    view = sandbox_view(local_stack, provider, lost_id)
    assert [(r["amount"], r["status"]) for r in view["refunds"]] == [(300, "succeeded")]
    calls = [(c["operation"], c["reply_lost"]) for c in view["calls"]]
    assert calls == [("create", False), ("refund", True), (facts.lost_refund_resolved_by, False)]
    if notifies_refunds(provider):
        # The held-back notification arrives after all: the refund it reports is not counted twice.
        [late] = control(local_stack, provider, lost_id, "redeliver").json()["delivered"]
        assert late["status"] == 200, late
        order = local_stack.order(lost_id)
        assert (order["refunded_amount"], refund_states(order)) == (eur(300), [("r-1", "succeeded", 300)])


@pytest.mark.parametrize("provider", providers())
def test_cancel_withdraws_an_unpaid_order_and_a_payment_racing_it_is_never_lost(
    local_stack: LocalStack, provider: str
) -> None:
    has_cancel_call = kit_of(provider).capabilities.cancels_unpaid_orders
    order_id = new_order(local_stack, provider, "cancel")
    reply = cancel(local_stack, order_id)
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "cancelled"
    assert cancel(local_stack, order_id).json()["status"] == "cancelled"  # again: the same answer
    view = sandbox_view(local_stack, provider, order_id)
    if has_cancel_call:
        assert view["status"] == facts_of(provider).cancelled_word
        # (A provider whose cancel would refund a paid payment is asked about it first.)
        assert [c["operation"] for c in view["calls"] if c["operation"] != "query"] == ["create", "cancel"]
        # Withdrawn at the provider: the payer can no longer pay it.
        assert control(local_stack, provider, order_id, "pay").status_code == 409
    else:
        assert [c["operation"] for c in view["calls"]] == ["create"]  # nothing to call
    if view["notifications"]["made"]:
        # A provider that notifies the cancel too: delivered now (with the first delivery, if that has not
        # left yet), and the order stays cancelled.
        notified = control(local_stack, provider, order_id, "redeliver").json()["delivered"]
        assert notified, "the redelivered notification"
        assert {n["status"] for n in notified} == {200}, notified
    assert local_stack.order(order_id)["status"] == "cancelled"

    # The payer pays; the provider's notification has not arrived when the merchant cancels.
    racing_id = new_order(local_stack, provider, "race")
    assert control(local_stack, provider, racing_id, "drop_next_notification").status_code == 200
    assert control(local_stack, provider, racing_id, "pay").json() == {"delivered": [], "dropped": 1}
    reply = cancel(local_stack, racing_id)
    if has_cancel_call:
        # Its cancel call refuses a paid order; asked, the provider says paid: the payment wins.
        assert reply.status_code == 409, reply.text
        assert reply.json()["error"]["code"] == "order_not_cancellable"
        assert local_stack.order(racing_id)["status"] == "paid"
    else:
        # No cancel call to refuse it: cancelled here, while the provider holds the payment.
        assert reply.status_code == 200, reply.text
        assert local_stack.order(racing_id)["status"] == "cancelled"
    [late] = control(local_stack, provider, racing_id, "redeliver").json()["delivered"]
    assert late["status"] == 200, late
    order = local_stack.order(racing_id)
    assert order["status"] == "paid"  # the money is real: applied, never dropped
    assert [e["to_status"] for e in order["events"] if e.get("to_status") == "paid"] == ["paid"]
    expected_flags = [] if has_cancel_call else ["late_payment"]
    assert order["flags"] == expected_flags


def shop_refund_form(stack: LocalStack, order_id: str) -> dict[str, str]:
    """The refund form's fields as the demo shop's order page renders them."""
    page = stack.http.get(f"{stack.api}/shop/return?order_id={order_id}", timeout=60)
    assert page.status_code == 200
    form = page.text[page.text.index('id="refund-form"') :]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))


def test_the_shops_refund_form_sent_twice_or_after_a_lost_reply_refunds_once(local_stack: LocalStack) -> None:
    # The shop's form is the same for every provider: one stands for them all (running it for each
    # would triple a slow test), one whose refund results come later by notification, so that the
    # form sent twice meets a refund still in flight, and the lost reply's notification is held back.
    provider = next(name for name in providers() if notifies_refunds(name))
    order_id = paid_order(local_stack, provider, "shop")
    form = {**shop_refund_form(local_stack, order_id), "how": "amount", "amount": "2.50", "reason": "broken"}
    assert form["refund_id"] == "shop-refund-1"
    # A double click: the same form twice. Both end on the order's page; the provider refunds once.
    for _ in range(2):
        sent = local_stack.http.post(
            f"{local_stack.api}/shop/refund", data=form, allow_redirects=False, timeout=60
        )
        assert sent.status_code == 303, sent.text
        location = urlsplit(sent.headers["Location"])
        assert parse_qs(location.query) == {"order_id": [order_id], "refund": ["shop-refund-1"]}
    order = settled(local_stack, order_id, lambda o: o["status"] == "partially_refunded")
    assert refund_states(order) == [("shop-refund-1", "succeeded", 250)]
    assert order["refunds"][0]["reason"] == "broken"
    assert len(sandbox_view(local_stack, provider, order_id)["refunds"]) == 1

    # The next form refunds the rest, and its reply is lost: the page says so and keeps the form.
    rest = {**shop_refund_form(local_stack, order_id), "how": "everything"}
    assert (rest["refund_id"], rest["value"]) == ("shop-refund-2", "750")
    control(local_stack, provider, order_id, "timeout_once")
    control(local_stack, provider, order_id, "drop_next_notification")
    lost = local_stack.http.post(
        f"{local_stack.api}/shop/refund", data=rest, allow_redirects=False, timeout=60
    )
    assert lost.status_code == 502
    assert "The refund is not confirmed yet." in lost.text
    assert 'id="ask-shop-refund-2"' in lost.text
    # "Ask again": the same request, from the refund's own row.
    ask = {"order_id": order_id, "refund_id": "shop-refund-2", "value": "750", "reason": "", "how": "again"}
    asked = local_stack.http.post(
        f"{local_stack.api}/shop/refund", data=ask, allow_redirects=False, timeout=60
    )
    assert asked.status_code == 303, asked.text
    order = local_stack.order(order_id)
    assert order["status"] == "refunded"
    assert refund_states(order) == [("shop-refund-1", "succeeded", 250), ("shop-refund-2", "succeeded", 750)]
    assert sorted(r["amount"] for r in sandbox_view(local_stack, provider, order_id)["refunds"]) == [250, 750]
