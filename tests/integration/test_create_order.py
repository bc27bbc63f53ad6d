"""POST /orders through the real handler, moto built from template.yaml, and the MultiSafepay sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.apigw import proxy_event
from local.providers.multisafepay.sandbox import MultiSafepaySandbox
from payments.api import parse_create_order
from payments.creation import LEASE
from payments.orders import OrderEvent
from payments.store import OrdersStore, iso
from tests.conftest import Stack
from tests.providers.multisafepay.fixtures import MSP_API_KEY, MSP_BASE_URL
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.orders import order_body, stored_order
from tests.support.store import event_items, order_item


def creates(msp: MultiSafepaySandbox) -> int:
    return sum(1 for call in msp.calls if call.method == "POST" and call.path.endswith("/orders"))


def error_of(reply: Any) -> dict[str, Any]:
    body = reply.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    return dict(body["error"])


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


def test_same_body_again_returns_the_same_order_without_calling_the_provider(
    api: Api, msp: MultiSafepaySandbox
) -> None:
    first = api.request("POST", "/orders", body=order_body("c-idem", provider="multisafepay"))
    again = api.request("POST", "/orders", body=order_body("c-idem", provider="multisafepay"))
    assert (first.status, again.status) == (201, 200)
    assert again.json() == first.json()
    assert creates(msp) == 1


def test_same_order_id_different_body_is_a_conflict(api: Api, msp: MultiSafepaySandbox, stack: Stack) -> None:
    api.request("POST", "/orders", body=order_body("c-409", provider="multisafepay"))
    reply = api.request(
        "POST",
        "/orders",
        body=order_body("c-409", amount={"value": 999, "currency": "EUR"}, provider="multisafepay"),
    )
    assert reply.status == 409
    assert error_of(reply) | {} == {
        "code": "order_id_conflict",
        "message": "order_id was already used for a different order",
        "field": "order_id",
    }
    assert creates(msp) == 1
    stored = order_item(stack.table_name, "c-409")
    assert stored is not None
    assert stored["amount_value"] == 1000


def test_api_key_is_required(api: Api) -> None:
    assert (
        api.request("POST", "/orders", body=order_body(provider="multisafepay"), api_key=None).status == 403
    )
    assert (
        api.request("POST", "/orders", body=order_body(provider="multisafepay"), api_key="wrong").status
        == 403
    )


@pytest.mark.parametrize(
    ("raw", "status", "code", "field"),
    [
        (b"{not json", 400, "malformed_json", None),
        (b"", 400, "malformed_json", None),
        (
            json.dumps(
                order_body(amount={"value": 10.5, "currency": "EUR"}, provider="multisafepay")
            ).encode(),
            422,
            "invalid_amount",
            "amount.value",
        ),
        (
            json.dumps(
                order_body(amount={"value": 1000, "currency": "XXX"}, provider="multisafepay")
            ).encode(),
            422,
            "unknown_currency",
            "amount.currency",
        ),
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
        (json.dumps(order_body(provider="paypal")).encode(), 422, "unknown_provider", "provider"),
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
def test_bad_input_is_refused_and_changes_nothing(
    api: Api, msp: MultiSafepaySandbox, stack: Stack, raw: bytes, status: int, code: str, field: str | None
) -> None:
    reply = api.request("POST", "/orders", body=raw, headers={"Content-Type": "application/json"})
    assert reply.status == status
    error = error_of(reply)
    assert error["code"] == code
    assert error.get("field") == field
    assert creates(msp) == 0
    assert order_item(stack.table_name, "order-1") is None


def test_provider_not_in_the_secret_is_not_configured(
    api: Api, msp: MultiSafepaySandbox, stack: Stack
) -> None:
    stack.put_secret({})
    reply = api.request("POST", "/orders", body=order_body(provider="multisafepay"))
    assert reply.status == 422
    assert error_of(reply)["code"] == "provider_not_configured"
    assert error_of(reply)["field"] == "provider"


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


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("read_timeout_after_processing", 504, "provider_timeout"),
        ("connect_timeout", 504, "provider_timeout"),
        ("reset", 502, "provider_unavailable"),
        ("http_500", 502, "provider_unavailable"),
        ("garbage", 502, "provider_bad_reply"),
    ],
)
def test_provider_fault_keeps_the_order_as_unknown(
    api: Api, msp: MultiSafepaySandbox, link: ProviderLink, fault: str, status: int, code: str
) -> None:
    link.inject(fault)
    reply = api.request("POST", "/orders", body=order_body("c-fault", provider="multisafepay"))
    assert reply.status == status
    assert error_of(reply)["code"] == code
    read = api.request("GET", "/orders/c-fault").json()
    assert read["status"] == "unknown"
    assert read["events"][-1]["type"] == "provider_outcome_unknown"


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


def test_retry_after_a_failed_connection_creates_the_order(
    api: Api, msp: MultiSafepaySandbox, link: ProviderLink
) -> None:
    link.inject("reset")
    assert api.request("POST", "/orders", body=order_body("c-never", provider="multisafepay")).status == 502
    assert "c-never" not in msp.orders
    retry = api.request("POST", "/orders", body=order_body("c-never", provider="multisafepay"))
    assert retry.status == 200
    assert retry.json()["status"] == "pending"
    assert creates(msp) == 1


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


def test_get_unknown_order_is_404(api: Api) -> None:
    reply = api.request("GET", "/orders/nope")
    assert reply.status == 404
    assert error_of(reply)["code"] == "order_not_found"


def test_unknown_route_is_404_in_our_error_shape(api: Api) -> None:
    function = api.functions["CreateOrderFunction"]
    reply = function.invoke(proxy_event(method="GET", path="/elsewhere", resource="/elsewhere"))
    assert reply.status == 404
    assert error_of(reply)["code"] == "route_not_found"


def _abandoned(stack: Stack, order_id: str, age_seconds: int) -> None:
    """An order whose creating request died after its first write (e.g. Lambda timed out)."""
    started = datetime.now(UTC) - timedelta(seconds=age_seconds)
    order = stored_order(order_id, at=started, provider="multisafepay")
    order.request_hash = parse_create_order(
        json.dumps(order_body(order_id, provider="multisafepay"))
    ).fingerprint()
    order.lease_until = int((started + LEASE).timestamp())  # as the creating request took it
    OrdersStore(stack.table_name).create(
        order, OrderEvent(type="order_created", at=iso(datetime.now(UTC)), source="merchant")
    )


def test_identical_request_while_the_first_is_in_flight_is_409(
    api: Api, msp: MultiSafepaySandbox, stack: Stack
) -> None:
    _abandoned(stack, "c-inflight", age_seconds=5)
    reply = api.request("POST", "/orders", body=order_body("c-inflight", provider="multisafepay"))
    assert reply.status == 409
    assert error_of(reply)["code"] == "request_in_progress"
    assert creates(msp) == 0


def test_abandoned_creation_is_resumed_by_a_retry(api: Api, msp: MultiSafepaySandbox, stack: Stack) -> None:
    _abandoned(stack, "c-abandoned", age_seconds=120)
    reply = api.request("POST", "/orders", body=order_body("c-abandoned", provider="multisafepay"))
    assert reply.status == 200
    assert reply.json()["status"] == "pending"
    assert creates(msp) == 1  # asked MultiSafepay first (unknown there), then created it
    assert [c.method for c in msp.calls] == ["GET", "POST"]
