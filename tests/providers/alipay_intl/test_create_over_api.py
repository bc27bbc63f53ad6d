"""POST /orders with provider alipay_intl through the real handler, moto from template.yaml, and the
Alipay sandbox behind the adapter's real HTTP client."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.providers.alipay_intl.sandbox import AlipayIntlSandbox
from local.testing import Reply
from tests.conftest import Stack
from tests.providers.alipay_intl.fixtures import MERCHANT_KEY, private_text, settings_entry, use_sha1
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.orders import order_body
from tests.support.secrets import PROVIDER_SECRET
from tests.support.store import event_items, order_item

TITLE = '茶具 {"set"} \\"x\\"'


def post(api: Api, order_id: str, **overrides: Any) -> Reply:
    return api.request("POST", "/orders", body=order_body(order_id, provider="alipay_intl", **overrides))


def prepares(alipay: AlipayIntlSandbox) -> list[str]:
    return [c.answer for c in alipay.calls if c.function.endswith("prepareForRedirect")]


def queries(alipay: AlipayIntlSandbox) -> list[str]:
    return [c.answer for c in alipay.calls if c.function.endswith("payQuery")]


def events(api: Api, order_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.request("GET", f"/orders/{order_id}").json()["events"]
    return found


def test_created_order_is_pending_with_alipays_cashier(
    api: Api, alipay: AlipayIntlSandbox, stack: Stack
) -> None:
    reply = post(api, "al-1", description=TITLE, expires_in_seconds=1800)
    assert reply.status == 201, reply.body
    order = reply.json()
    assert order["status"] == "pending"
    assert order["provider"] == "alipay_intl"
    assert order["description"] == TITLE
    assert order["payment_url"] == alipay.orders["al-1"]["paymentSiteUrl"]
    assert order["payment_action"] == {"type": "redirect", "url": order["payment_url"], "method": "GET"}
    [call] = alipay.calls
    assert call.answer == "SUCCESS"
    assert call.body["order"]["orderTitle"] == TITLE  # arrived intact, braces, quotes and all
    assert call.body["expireTime"] == "30min"
    assert (
        call.body["notifyUrl"] == "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/notify/alipay_intl"
    )
    assert call.body["riskInfo"]["deviceInfo"]["clientIp"] == "89.20.162.110"
    stored = json.dumps(
        [order_item(stack.table_name, "al-1"), *event_items(stack.table_name, "al-1")], default=str
    )
    assert "89.20.162.110" not in stored  # the payer's IP went to Alipay, not into our table
    assert "mei.wang@example.com" not in stored


def test_default_expiry_is_ten_minutes(api: Api, alipay: AlipayIntlSandbox) -> None:
    order = post(api, "al-exp").json()
    assert alipay.calls[-1].body["expireTime"] == "10min"
    assert order["expires_at"][:16] > order["created_at"][:16]


def test_f_fails_the_order_with_alipays_code(api: Api, alipay: AlipayIntlSandbox) -> None:
    alipay.force("PARAM_ILLEGAL")
    reply = post(api, "al-f")
    assert reply.status == 502
    error = reply.json()["error"]
    assert (error["code"], error["provider_code"], error["provider_message"]) == (
        "provider_rejected",
        "PARAM_ILLEGAL",
        "scripted by the test",
    )
    assert api.request("GET", "/orders/al-f").json()["status"] == "failed"
    assert events(api, "al-f")[-1]["reason"] == "PARAM_ILLEGAL: scripted by the test"


def test_u_leaves_the_order_unknown_and_a_retry_asks_alipay(api: Api, alipay: AlipayIntlSandbox) -> None:
    alipay.force("UNKNOWN_EXCEPTION", processed=True)  # Alipay did create it
    first = post(api, "al-u")
    assert first.status == 502
    assert first.json()["error"]["code"] == "provider_result_unknown"
    assert api.request("GET", "/orders/al-u").json()["status"] == "unknown"
    again = post(api, "al-u")
    # Alipay holds the order unpaid; payQuery returns no cashier URL to send the payer to again.
    assert again.status == 409, again.body
    assert again.json()["error"]["code"] == "payment_action_unavailable"
    assert api.request("GET", "/orders/al-u").json()["status"] == "pending"
    assert queries(alipay) == ["SUCCESS"]
    assert prepares(alipay) == ["UNKNOWN_EXCEPTION"]  # never created twice


def test_u_that_created_nothing_is_created_on_retry(api: Api, alipay: AlipayIntlSandbox) -> None:
    alipay.force("UNKNOWN_EXCEPTION", processed=False)
    assert post(api, "al-u2").status == 502
    again = post(api, "al-u2")
    assert again.status == 200, again.body
    assert again.json()["status"] == "pending"
    assert again.json()["payment_url"] == alipay.orders["al-u2"]["paymentSiteUrl"]
    assert queries(alipay) == ["ORDER_NOT_EXIST"]
    assert prepares(alipay) == ["UNKNOWN_EXCEPTION", "SUCCESS"]


@pytest.mark.parametrize(
    ("fault", "retried"),
    [
        ("connect_timeout", (200, None)),  # Alipay never saw it: created on the retry
        # Alipay holds it, but payQuery gives no cashier URL: the merchant is told, not left waiting.
        ("read_timeout_after_processing", (409, "payment_action_unavailable")),
    ],
)
def test_timeouts_leave_the_order_unknown(
    api: Api, alipay: AlipayIntlSandbox, link: ProviderLink, fault: str, retried: tuple[int, str | None]
) -> None:
    link.inject(fault)
    reply = post(api, "al-t")
    assert reply.status == 504
    assert api.request("GET", "/orders/al-t").json()["status"] == "unknown"
    # Resolved by payQuery on the merchant's retry, whichever side of Alipay the timeout fell on.
    again = post(api, "al-t")
    assert (again.status, again.json().get("error", {}).get("code")) == retried
    assert api.request("GET", "/orders/al-t").json()["status"] == "pending"
    assert len(alipay.orders) == 1


@pytest.mark.parametrize("fault", ["unsigned", "bad_signature", "foreign_key", "tampered"])
def test_an_unverifiable_reply_leaves_the_order_unknown(
    api: Api, alipay: AlipayIntlSandbox, fault: str
) -> None:
    alipay.reply_faults.append(fault)
    reply = post(api, "al-sig")
    assert reply.status == 502
    assert reply.json()["error"]["code"] == "provider_bad_signature"
    order = api.request("GET", "/orders/al-sig").json()
    assert order["status"] == "unknown"
    assert order["payment_url"] is None  # an unverified URL is never handed to the payer
    assert order["events"][-1]["reason"] == "provider_bad_signature"


@pytest.mark.parametrize("fault", ["http_500", "garbage", "reset"])
def test_a_broken_gateway_leaves_the_order_unknown(
    api: Api, alipay: AlipayIntlSandbox, link: ProviderLink, fault: str
) -> None:
    link.inject(fault)
    assert post(api, "al-down").status == 502
    assert api.request("GET", "/orders/al-down").json()["status"] == "unknown"


def test_sha1_merchants(api: Api, alipay: AlipayIntlSandbox, stack: Stack) -> None:
    use_sha1(stack, alipay)
    assert post(api, "al-sha1").json()["status"] == "pending"
    assert alipay.calls[-1].answer == "SUCCESS"


def test_a_key_alipay_does_not_know_fails_the_order(
    api: Api, alipay: AlipayIntlSandbox, stack: Stack
) -> None:
    other = private_text(alipay.alipay_private_key, "pkcs1 base64")
    stack.put_secret({**PROVIDER_SECRET, "alipay_intl": settings_entry(private_key=other)})
    reply = post(api, "al-key")
    assert reply.status == 502
    assert reply.json()["error"]["provider_code"] == "INVALID_SIGNATURE"


def test_invalid_secret_names_the_field_not_the_key(
    api: Api, alipay: AlipayIntlSandbox, stack: Stack
) -> None:
    broken = private_text(MERCHANT_KEY, "pkcs8 base64")[:300]
    stack.put_secret({**PROVIDER_SECRET, "alipay_intl": settings_entry(private_key=broken)})
    reply = post(api, "al-cfg")
    assert reply.status == 500
    error = reply.json()["error"]
    assert error["code"] == "configuration_error"
    assert "alipay_intl.private_key" in error["message"]
    assert broken[40:80] not in reply.body
    assert alipay.calls == []


def test_alipays_documented_limits_are_checked_before_calling(api: Api, alipay: AlipayIntlSandbox) -> None:
    reply = post(api, "al-long", return_url="https://shop.example.com/" + "r" * 600)
    assert reply.status == 422
    assert reply.json()["error"]["field"] == "return_url"
    assert alipay.calls == []


def test_same_body_again_does_not_call_alipay_again(api: Api, alipay: AlipayIntlSandbox) -> None:
    first = post(api, "al-idem")
    again = post(api, "al-idem")
    assert (first.status, again.status) == (201, 200)
    assert again.json() == first.json()
    assert len(alipay.calls) == 1
