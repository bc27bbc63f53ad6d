"""POST /orders with MultiSafepay through the real handler, moto built from template.yaml, and the
MultiSafepay sandbox: what MultiSafepay is sent, and how its own answers are taken. What does not depend
on the provider: tests/integration/test_create_order.py."""

from __future__ import annotations

import json

import pytest

from local.providers.multisafepay.sandbox import MultiSafepaySandbox
from tests.conftest import Stack
from tests.providers.multisafepay.fixtures import MSP_API_KEY, MSP_BASE_URL
from tests.support.creation import abandoned_creation, error_of
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.orders import order_body
from tests.support.store import event_items, order_item


def creates(msp: MultiSafepaySandbox) -> int:
    return sum(1 for call in msp.calls if call.method == "POST" and call.path.endswith("/orders"))


def test_created_order_reply(api: Api, msp: MultiSafepaySandbox, stack: Stack) -> None:
    reply = api.request(
        "POST",
        "/orders",
        body=order_body("c-1", expires_in_seconds=900, metadata={"cart": "42"}, provider="multisafepay"),
    )
    assert reply.status == 201
    assert reply.headers["content-type"] == "application/json"
    order = reply.json()
    assert {
        "order_id",
        "provider",
        "status",
        "amount",
        "payment_url",
        "provider_reference",
        "created_at",
        "expires_at",
    } <= set(order)
    assert order["order_id"] == "c-1"
    assert order["provider"] == "multisafepay"
    assert order["status"] == "pending"
    assert order["metadata"] == {"cart": "42"}
    assert order["created_at"].endswith("Z")
    sent = msp.calls[-1].body
    assert sent["type"] == "redirect"
    assert sent["seconds_active"] in (899, 900)
    assert sent["payment_options"]["redirect_url"] == "https://shop.example.com/return"
    assert sent["payment_options"]["cancel_url"] == "https://shop.example.com/cancel"
    assert sent["payment_options"]["notification_method"] == "POST"
    assert sent["customer"]["locale"] == "zh_CN"
    assert sent["customer"]["ip_address"] == "89.20.162.110"
    stored = order_item(stack.table_name, "c-1")
    assert stored is not None
    assert stored["status"] == "pending"
    assert "customer" not in stored  # personal data goes to the provider, not into our table
    assert "mei.wang@example.com" not in json.dumps(
        [stored, *event_items(stack.table_name, "c-1")], default=str
    )


def test_direct_flow_reads_payment_url_from_payment_details(api: Api, msp: MultiSafepaySandbox) -> None:
    reply = api.request(
        "POST", "/orders", body=order_body("c-direct", flow="direct", provider="multisafepay")
    )
    assert reply.status == 201, reply.body
    order = reply.json()
    assert order["payment_url"].startswith("https://payv2.multisafepay.com/")
    assert order["provider_reference"] == str(msp.orders["c-direct"]["transaction_id"])
    assert msp.calls[-1].body["type"] == "direct"


def test_alipay_plus_gateway_comes_from_settings(api: Api, msp: MultiSafepaySandbox, stack: Stack) -> None:
    stack.put_secret(
        {"multisafepay": {"api_key": MSP_API_KEY, "base_url": MSP_BASE_URL, "gateway": "ALIPAYPLUS"}}
    )
    assert api.request("POST", "/orders", body=order_body("c-plus", provider="multisafepay")).status == 201
    assert msp.calls[-1].body["gateway"] == "ALIPAYPLUS"
    assert msp.calls[-1].body["seconds_active"] == 3600


@pytest.mark.parametrize(
    ("raw", "status", "code", "field"),
    [
        (
            json.dumps(
                order_body(amount={"value": 1000, "currency": "JPY"}, provider="multisafepay")
            ).encode(),
            422,
            "currency_not_supported",
            "amount.currency",
        ),
        (
            json.dumps(
                order_body(amount={"value": 2**31, "currency": "EUR"}, provider="multisafepay")
            ).encode(),
            422,
            "amount_over_limit",
            "amount.value",
        ),
        (
            json.dumps(order_body(expires_in_seconds=6 * 3600, provider="multisafepay")).encode(),
            422,
            "invalid_field",
            "expires_in_seconds",
        ),
        (
            json.dumps(order_body(customer={"first_name": "M"}, provider="multisafepay")).encode(),
            422,
            "invalid_field",
            "customer.first_name",
        ),
    ],
)
def test_what_multisafepay_cannot_take_is_refused_and_changes_nothing(
    api: Api, msp: MultiSafepaySandbox, stack: Stack, raw: bytes, status: int, code: str, field: str | None
) -> None:
    reply = api.request("POST", "/orders", body=raw, headers={"Content-Type": "application/json"})
    assert reply.status == status
    error = error_of(reply)
    assert error["code"] == code
    assert error.get("field") == field
    assert creates(msp) == 0
    assert order_item(stack.table_name, "order-1") is None


def test_invalid_secret_names_the_field_not_the_value(
    api: Api, msp: MultiSafepaySandbox, stack: Stack
) -> None:
    stack.put_secret({"multisafepay": {"api_key": MSP_API_KEY, "gateway": "PAYPAL"}})
    reply = api.request("POST", "/orders", body=order_body(provider="multisafepay"))
    assert reply.status == 500
    error = error_of(reply)
    assert error["code"] == "configuration_error"
    assert "multisafepay.gateway" in error["message"]
    assert MSP_API_KEY not in reply.body
    assert "PAYPAL" not in reply.body


def test_provider_rejection_is_502_with_its_code_and_the_order_failed(
    api: Api, msp: MultiSafepaySandbox, stack: Stack
) -> None:
    stack.put_secret({"multisafepay": {"api_key": "revoked-key", "base_url": MSP_BASE_URL}})
    reply = api.request("POST", "/orders", body=order_body("c-rejected", provider="multisafepay"))
    assert reply.status == 502
    error = error_of(reply)
    assert (error["code"], error["provider_code"], error["provider_message"]) == (
        "provider_rejected",
        "1032",
        "Invalid API key",
    )
    assert "revoked-key" not in reply.body
    read = api.request("GET", "/orders/c-rejected").json()
    assert read["status"] == "failed"
    assert read["events"][-1]["type"] == "provider_rejected"
    assert read["events"][-1]["reason"] == "1032: Invalid API key"


def test_retry_after_a_lost_reply_finds_the_order_instead_of_creating_it_again(
    api: Api, msp: MultiSafepaySandbox, link: ProviderLink
) -> None:
    link.inject("read_timeout_after_processing")
    assert api.request("POST", "/orders", body=order_body("c-lost", provider="multisafepay")).status == 504
    assert "c-lost" in msp.orders  # it did go through

    retry = api.request("POST", "/orders", body=order_body("c-lost", provider="multisafepay"))
    assert retry.status == 200, retry.body
    order = retry.json()
    assert order["status"] == "pending"
    assert order["payment_url"] == msp.orders["c-lost"]["_payment_url"]
    assert creates(msp) == 1
    types = [event["type"] for event in api.request("GET", "/orders/c-lost").json()["events"]]
    assert types == ["order_created", "provider_outcome_unknown", "provider_query"]


def test_order_id_already_used_at_the_provider_is_resumed_not_failed(
    api: Api, msp: MultiSafepaySandbox
) -> None:
    # An earlier attempt reached MultiSafepay but its reply and our record of it were both lost.
    msp.handle(
        "POST",
        MSP_BASE_URL + "orders",
        {"api_key": MSP_API_KEY},
        json.dumps(
            {
                "type": "redirect",
                "gateway": "ALIPAY",
                "order_id": "c-1006",
                "currency": "EUR",
                "amount": 1000,
                "description": "Tea set",
            }
        ).encode(),
    )
    reply = api.request("POST", "/orders", body=order_body("c-1006", provider="multisafepay"))
    assert reply.status == 201
    assert reply.json()["status"] == "pending"
    assert reply.json()["payment_url"] == msp.orders["c-1006"]["_payment_url"]


def test_abandoned_creation_is_resumed_by_a_retry(api: Api, msp: MultiSafepaySandbox, stack: Stack) -> None:
    abandoned_creation(stack, "c-abandoned", age_seconds=120, provider="multisafepay")
    reply = api.request("POST", "/orders", body=order_body("c-abandoned", provider="multisafepay"))
    assert reply.status == 200
    assert reply.json()["status"] == "pending"
    assert creates(msp) == 1  # asked MultiSafepay first (unknown there), then created it
    assert [c.method for c in msp.calls] == ["GET", "POST"]


@pytest.mark.parametrize(("wallet", "gateway"), [("alipay_cn", "ALIPAY"), ("alipay_plus", "ALIPAYPLUS")])
def test_the_orders_wallet_is_the_gateway(
    api: Api, msp: MultiSafepaySandbox, wallet: str, gateway: str
) -> None:
    reply = api.request(
        "POST", "/orders", body=order_body("c-wallet", wallet=wallet, provider="multisafepay")
    )
    assert (reply.status, reply.json()["wallet"]) == (201, wallet)
    assert msp.calls[-1].body["gateway"] == gateway
