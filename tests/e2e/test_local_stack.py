"""End to end over real HTTP, for every provider: create -> sandbox checkout -> signed notification
-> GET /orders/{id}; plus cancel, fail, expire and a notification delivered twice."""

from __future__ import annotations

import itertools

import pytest
import requests

from tests.e2e.conftest import LocalStack

PROVIDERS = ["multisafepay", "useepay", "alipay_intl"]
# What each provider's sandbox reports for a checkout outcome, as our unified status.
# Alipay's notify.pay has only S or F, so a cancelled or expired cashier arrives as a failed payment.
EXPECTED = {
    "multisafepay": {"pay": "paid", "cancel": "cancelled", "fail": "failed", "expire": "expired"},
    "useepay": {"pay": "paid", "cancel": "cancelled", "fail": "failed", "expire": "expired"},
    "alipay_intl": {"pay": "paid", "cancel": "failed", "fail": "failed", "expire": "failed"},
}
_ids = itertools.count()


def new_order(stack: LocalStack, provider: str) -> str:
    order_id = f"e2e-{provider}-{next(_ids)}"
    reply = stack.create(order_id, provider)
    assert reply.status_code == 201, reply.text
    assert reply.json()["status"] == "pending"
    return order_id


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("outcome", ["pay", "cancel", "fail", "expire"])
def test_checkout_outcome_reaches_the_order(local_stack: LocalStack, provider: str, outcome: str) -> None:
    order_id = new_order(local_stack, provider)
    [delivery] = local_stack.control(provider, order_id, outcome)["delivered"]
    assert delivery["status"] == 200, delivery
    order = local_stack.order(order_id)
    assert order["status"] == EXPECTED[provider][outcome]
    assert order["events"][-1]["verified"] is True


@pytest.mark.parametrize("provider", PROVIDERS)
def test_duplicated_notification_applies_once(local_stack: LocalStack, provider: str) -> None:
    order_id = new_order(local_stack, provider)
    local_stack.control(provider, order_id, "pay")
    replies = local_stack.control(provider, order_id, "deliver_twice")["delivered"]
    assert [reply["status"] for reply in replies] == [200, 200]
    order = local_stack.order(order_id)
    assert order["status"] == "paid"
    applied = [e for e in order["events"] if e.get("to_status") == "paid"]
    assert len(applied) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_checkout_page_buttons_notify_then_send_the_browser_back(
    local_stack: LocalStack, provider: str
) -> None:
    order_id = new_order(local_stack, provider)
    payment_url = local_stack.order(order_id)["payment_url"]
    page = requests.get(payment_url, timeout=30)
    assert page.status_code == 200
    for button in ("pay", "cancel", "fail", "expire"):
        assert f'id="{button}"' in page.text
    base = local_stack.sandboxes[provider]
    clicked = requests.post(f"{base}/_checkout/{order_id}/pay", allow_redirects=False, timeout=30)
    assert clicked.status_code == 303
    assert clicked.headers["Location"].startswith(f"{local_stack.api}/shop/return?order_id={order_id}")
    assert local_stack.order(order_id)["status"] == "paid"


def test_api_key_is_enforced_and_notify_is_public(local_stack: LocalStack) -> None:
    assert requests.get(f"{local_stack.api}/orders/x", timeout=30).status_code == 403
    assert (
        requests.get(f"{local_stack.api}/orders/x", headers={"x-api-key": "wrong"}, timeout=30).status_code
        == 403
    )
    forged = requests.post(
        f"{local_stack.api}/notify/multisafepay?transactionid=x&timestamp=1",
        data=b"{}",
        headers={"Auth": "Zm9yZ2Vk"},
        timeout=30,
    )
    assert forged.status_code == 401


def test_bad_input_gets_the_error_shape_over_http(local_stack: LocalStack) -> None:
    reply = local_stack.create("e2e-bad", "multisafepay", amount={"value": 10.5, "currency": "EUR"})
    assert reply.status_code == 422
    assert reply.json()["error"]["field"] == "amount.value"
