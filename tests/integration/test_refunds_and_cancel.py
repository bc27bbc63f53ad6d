"""POST /orders/{order_id}/refunds and /cancel through the real handlers, for every provider, against
the sandboxes (written from the providers' notes, not from our adapters)."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from local.testing import kit_of, kits
from payments.providers.capabilities import RefundReporting
from tests.conftest import Stack
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.providers import ANY_PROVIDER, mount
from tests.support.shop_kit import Shop

# Refunds that stay in flight until the provider reports them: one that does not answer them at once.
REPORTS_REFUNDS_LATER = next(
    name for name in kits() if kit_of(name).capabilities.refunds_reported is not RefundReporting.WHEN_ASKED
)


def money(value: int) -> dict[str, Any]:
    return {"value": value, "currency": "EUR"}


def shop_of(provider: str, stack: Stack, wire: responses.RequestsMock, link: ProviderLink, api: Api) -> Shop:
    """The merchant's backend with `provider` alone: for what does not depend on the provider."""
    return Shop(provider, mount(kit_of(provider), stack, wire, link), api)


@pytest.fixture
def any_shop(stack: Stack, wire: responses.RequestsMock, link: ProviderLink, api: Api) -> Shop:
    return shop_of(ANY_PROVIDER, stack, wire, link, api)


# -- refunds ---------------------------------------------------------------------------------------
def test_a_partial_refund_then_the_rest_leaves_the_order_refunded(shop: Shop) -> None:
    shop.paid("rf-1")
    first = shop.refund("rf-1", "r-1", amount=money(400), reason="one cup broken")
    assert first.status == 201, first.body
    refund = first.json()
    assert (refund["refund_id"], refund["order_id"], refund["amount"]) == ("r-1", "rf-1", money(400))
    assert refund["status"] in ("pending", "succeeded")
    assert refund["reason"] == "one cup broken"
    shop.deliver()  # a provider that reports the result later does so now
    order = shop.read("rf-1")
    assert order["status"] == "partially_refunded"
    assert (order["refunded_amount"], order["refundable_amount"]) == (money(400), money(600))
    assert [(r["refund_id"], r["status"]) for r in order["refunds"]] == [("r-1", "succeeded")]

    rest = shop.refund("rf-1", "r-2")  # no amount: everything still refundable
    assert rest.status == 201, rest.body
    assert rest.json()["amount"] == money(600)
    shop.deliver()
    order = shop.read("rf-1")
    assert order["status"] == "refunded"
    assert (order["refunded_amount"], order["refundable_amount"]) == (money(1000), money(0))
    assert sorted(r.amount for r in shop.provider_refunds("rf-1")) == [400, 600]
    assert [(r["refund_id"], r["origin"]) for r in order["refunds"]] == [
        ("r-1", "merchant"),
        ("r-2", "merchant"),
    ]


def test_the_same_refund_request_again_answers_the_same_refund_and_calls_nobody(shop: Shop) -> None:
    shop.paid("rf-2")
    first = shop.refund("rf-2", "r-1", amount=money(300))
    assert first.status == 201
    shop.deliver()
    again = shop.refund("rf-2", "r-1", amount=money(300))
    assert again.status == 200, again.body
    assert again.json()["refund_id"] == "r-1"
    assert len(shop.provider_refunds("rf-2")) == 1
    other = shop.refund("rf-2", "r-1", amount=money(200))
    assert (other.status, other.json()["error"]["code"]) == (409, "refund_id_conflict")
    assert other.json()["error"]["field"] == "refund_id"


def test_a_refund_the_provider_refuses_fails_and_frees_its_amount(shop: Shop) -> None:
    shop.paid("rf-3")
    shop.sandbox.refuse_next_refund("rf-3")
    refused = shop.refund("rf-3", "r-1", amount=money(300))
    assert refused.status == 502, refused.body
    error = refused.json()["error"]
    assert error["code"] == "provider_rejected"
    assert error["provider_code"]
    assert error["provider_message"]
    order = shop.read("rf-3")
    assert [(r["refund_id"], r["status"]) for r in order["refunds"]] == [("r-1", "failed")]
    assert order["refundable_amount"] == money(1000)
    assert order["status"] == "paid"


def test_a_refund_whose_reply_is_lost_is_resolved_by_the_same_request_never_made_twice(
    shop: Shop, link: ProviderLink
) -> None:
    shop.paid("rf-4")
    link.inject("read_timeout_after_processing")
    lost = shop.refund("rf-4", "r-1", amount=money(300))
    assert lost.status == 504, lost.body
    assert lost.json()["error"]["code"] == "provider_timeout"
    order = shop.read("rf-4")
    assert [(r["refund_id"], r["status"]) for r in order["refunds"]] == [("r-1", "unknown")]
    assert order["refundable_amount"] == money(700)  # still reserved: it may have gone through
    shop.deliver()  # whatever the provider reported meanwhile
    again = shop.refund("rf-4", "r-1", amount=money(300))
    assert again.status == 200, again.body
    assert again.json()["status"] in ("pending", "succeeded")
    shop.deliver()
    assert len(shop.provider_refunds("rf-4")) == 1  # one refund at the provider, whatever happened
    final = shop.read("rf-4")
    assert final["refunded_amount"] == money(300)
    assert final["status"] == "partially_refunded"


def test_a_refund_that_never_reached_the_provider_is_sent_by_the_same_request(
    shop: Shop, link: ProviderLink
) -> None:
    shop.paid("rf-5")
    link.inject("connect_timeout")
    assert shop.refund("rf-5", "r-1", amount=money(300)).status == 504
    assert shop.provider_refunds("rf-5") == []
    again = shop.refund("rf-5", "r-1", amount=money(300))
    if not kit_of(shop.provider).capabilities.looks_up_a_refund:
        # No lookup by refund: until the provider's order shows it, the refund stays unknown rather
        # than risk a second one.
        assert (again.status, again.json()["status"]) == (200, "unknown")
        assert shop.provider_refunds("rf-5") == []
    else:
        assert again.status == 200, again.body
        shop.deliver()
        assert len(shop.provider_refunds("rf-5")) == 1
        assert shop.read("rf-5")["refunded_amount"] == money(300)


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"amount": money(1001)}, 422, "refund_exceeds_refundable", "amount.value"),
        ({"amount": {"value": 100, "currency": "USD"}}, 422, "currency_mismatch", "amount.currency"),
        ({"amount": money(0)}, 422, "invalid_amount", "amount.value"),
        ({"amount": money(-5)}, 422, "invalid_amount", "amount.value"),
        ({"amount": {"value": 1.5, "currency": "EUR"}}, 422, "invalid_amount", "amount.value"),
        ({"amount": {"value": "100", "currency": "EUR"}}, 422, "invalid_amount", "amount.value"),
        ({"reason": "<b>x</b>"}, 422, "html_not_allowed", "reason"),
        ({"reason": "x" * 201}, 422, "invalid_field", "reason"),
        ({"extra": 1}, 422, "unknown_field", "extra"),
    ],
)
def test_bad_refund_requests_are_refused_and_change_nothing(
    any_shop: Shop, body: dict[str, Any], status: int, code: str, field: str
) -> None:
    shop = any_shop
    shop.paid("rf-bad")
    before = shop.read("rf-bad")
    reply = shop.refund("rf-bad", "r-1", **body)
    assert reply.status == status, reply.body
    error = reply.json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert shop.read("rf-bad") == before
    assert shop.provider_refunds("rf-bad") == []


def test_refund_ids_and_orders_are_checked(api: Api, any_shop: Shop) -> None:
    shop = any_shop
    missing = shop.refund("no-such-order", "r-1")
    assert (missing.status, missing.json()["error"]["code"]) == (404, "order_not_found")
    shop.create("rf-unpaid")
    unpaid = shop.refund("rf-unpaid", "r-1")
    assert (unpaid.status, unpaid.json()["error"]["code"]) == (409, "order_not_refundable")
    shop.paid("rf-ids")
    bad_id = shop.refund("rf-ids", "not valid!")
    assert (bad_id.status, bad_id.json()["error"]["field"]) == (422, "refund_id")
    assert api.request("POST", "/orders/rf-ids/refunds", body="{").status == 400
    assert api.request("POST", "/orders/rf-ids/refunds", body={"refund_id": "r"}, api_key=None).status == 403


def test_a_refund_beyond_what_remains_after_refunds_in_flight_is_refused(
    stack: Stack, wire: responses.RequestsMock, link: ProviderLink, api: Api
) -> None:
    shop = shop_of(REPORTS_REFUNDS_LATER, stack, wire, link, api)
    shop.paid("rf-6")
    shop.sandbox.hold_refunds("rf-6")
    assert shop.refund("rf-6", "r-1", amount=money(700)).json()["status"] == "pending"
    over = shop.refund("rf-6", "r-2", amount=money(301))
    assert (over.status, over.json()["error"]["code"]) == (422, "refund_exceeds_refundable")
    assert shop.refund("rf-6", "r-3", amount=money(300)).status == 201
    shop.sandbox.release_refunds("rf-6")
    shop.deliver()
    order = shop.read("rf-6")
    assert (order["status"], order["refunded_amount"]) == ("refunded", money(1000))
    assert {r["refund_id"]: r["status"] for r in order["refunds"]} == {"r-1": "succeeded", "r-3": "succeeded"}


# -- cancel ----------------------------------------------------------------------------------------
def test_cancel_a_pending_order(shop: Shop) -> None:
    shop.create("c-1")
    reply = shop.cancel("c-1")
    assert reply.status == 200, reply.body
    assert reply.json()["status"] == "cancelled"
    shop.deliver()  # a provider may notify the cancel too: nothing changes
    assert shop.read("c-1")["status"] == "cancelled"
    assert shop.cancel("c-1", {}).status == 200  # already cancelled: the same answer, unchanged
    if kit_of(shop.provider).capabilities.cancels_unpaid_orders:  # else its checkout closes on its own
        assert shop.sandbox.status_of("c-1").lower() in ("cancelled", "void")


def test_a_cancel_reads_the_order_once(shop: Shop) -> None:
    """Read, lease (which answers the order as leased), ask the provider, commit: no second read
    when the lease finds the version that was read."""
    shop.create("c-5")
    client = shop.api.functions["OrderActionsFunction"].module.service.store.table.client
    calls: list[str] = []

    def record(**kwargs: Any) -> None:
        calls.append(kwargs["event_name"].rsplit(".", 1)[-1])

    client.meta.events.register("before-send.dynamodb", record)
    try:
        assert shop.cancel("c-5").status == 200
    finally:
        client.meta.events.unregister("before-send.dynamodb", record)
    assert calls == ["Query", "UpdateItem", "TransactWriteItems"]


def test_cancel_is_refused_for_a_paid_order(shop: Shop) -> None:
    shop.paid("c-2")
    reply = shop.cancel("c-2")
    assert (reply.status, reply.json()["error"]["code"]) == (409, "order_not_cancellable")
    assert shop.read("c-2")["status"] == "paid"


def test_cancel_racing_a_payment_ends_paid(shop: Shop) -> None:
    """The payer paid; the notification has not arrived when the merchant cancels."""
    shop.create("c-3")
    shop.sandbox.pay_silently("c-3")
    reply = shop.cancel("c-3")
    order = shop.read("c-3")
    if not kit_of(shop.provider).capabilities.cancels_unpaid_orders:
        # No cancel call to refuse it: cancelled here; the payment, when the provider reports it, is
        # applied and flagged late (the money is real).
        assert reply.status == 200
        url, headers, body = shop.sandbox.notification("c-3")  # the provider reports the payment
        assert shop.api.request("POST", url, body=body, headers=headers, api_key=None).status == 200
        order = shop.read("c-3")
        assert order["status"] == "paid"
        assert "late_payment" in order["flags"]
    else:
        assert (reply.status, reply.json()["error"]["code"]) == (409, "order_not_cancellable")
        assert order["status"] == "paid"


def test_a_cancel_takes_no_input(any_shop: Shop) -> None:
    shop = any_shop
    shop.create("c-4")
    reply = shop.cancel("c-4", {"reason": "x"})
    assert (reply.status, reply.json()["error"]["code"]) == (422, "unknown_field")
    assert shop.read("c-4")["status"] == "pending"
    missing = shop.cancel("no-such-order")
    assert (missing.status, missing.json()["error"]["code"]) == (404, "order_not_found")
