"""POST /orders through the real handler and moto built from template.yaml: our API's validation,
idempotency and faults, which do not depend on the provider (one stands in for all, its sandbox behind
the adapter's real HTTP client). Each provider's own: tests/providers/<name>/test_create_over_api.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses

from local.testing import proxy_event
from payments.orders import WALLETS
from payments.providers import provider_class
from tests.conftest import Stack
from tests.support.creation import abandoned_creation, error_of
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.orders import order_body
from tests.support.providers import ANY_KIT, ANY_PROVIDER, mount
from tests.support.shop_kit import Shop
from tests.support.store import order_item


@pytest.fixture
def sandbox(stack: Stack, wire: responses.RequestsMock, link: ProviderLink) -> Any:
    """The provider's sandbox, answering the adapter."""
    return mount(ANY_KIT, stack, wire, link)


def test_same_body_again_returns_the_same_order_without_calling_the_provider(api: Api, sandbox: Any) -> None:
    first = api.request("POST", "/orders", body=order_body("c-idem", provider=ANY_PROVIDER))
    again = api.request("POST", "/orders", body=order_body("c-idem", provider=ANY_PROVIDER))
    assert (first.status, again.status) == (201, 200)
    assert again.json() == first.json()
    assert ANY_KIT.create_calls(sandbox, "c-idem") == 1


def test_same_order_id_different_body_is_a_conflict(api: Api, sandbox: Any, stack: Stack) -> None:
    api.request("POST", "/orders", body=order_body("c-409", provider=ANY_PROVIDER))
    reply = api.request(
        "POST",
        "/orders",
        body=order_body("c-409", amount={"value": 999, "currency": "EUR"}, provider=ANY_PROVIDER),
    )
    assert reply.status == 409
    assert error_of(reply) | {} == {
        "code": "order_id_conflict",
        "message": "order_id was already used for a different order",
        "field": "order_id",
    }
    assert ANY_KIT.create_calls(sandbox, "c-409") == 1
    stored = order_item(stack.table_name, "c-409")
    assert stored is not None
    assert stored["amount_value"] == 1000


def test_api_key_is_required(api: Api) -> None:
    assert api.request("POST", "/orders", body=order_body(provider=ANY_PROVIDER), api_key=None).status == 403
    assert (
        api.request("POST", "/orders", body=order_body(provider=ANY_PROVIDER), api_key="wrong").status == 403
    )


@pytest.mark.parametrize(
    ("raw", "status", "code", "field"),
    [
        (b"{not json", 400, "malformed_json", None),
        (b"", 400, "malformed_json", None),
        (
            json.dumps(order_body(amount={"value": 10.5, "currency": "EUR"}, provider=ANY_PROVIDER)).encode(),
            422,
            "invalid_amount",
            "amount.value",
        ),
        (
            json.dumps(order_body(amount={"value": 1000, "currency": "XXX"}, provider=ANY_PROVIDER)).encode(),
            422,
            "unknown_currency",
            "amount.currency",
        ),
        (json.dumps(order_body(provider="paypal")).encode(), 422, "unknown_provider", "provider"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    api: Api, sandbox: Any, stack: Stack, raw: bytes, status: int, code: str, field: str | None
) -> None:
    reply = api.request("POST", "/orders", body=raw, headers={"Content-Type": "application/json"})
    assert reply.status == status
    error = error_of(reply)
    assert error["code"] == code
    assert error.get("field") == field
    assert ANY_KIT.create_calls(sandbox, "order-1") == 0
    assert order_item(stack.table_name, "order-1") is None


def test_provider_not_in_the_secret_is_not_configured(api: Api, sandbox: Any, stack: Stack) -> None:
    stack.put_secret({})
    reply = api.request("POST", "/orders", body=order_body(provider=ANY_PROVIDER))
    assert reply.status == 422
    assert error_of(reply)["code"] == "provider_not_configured"
    assert error_of(reply)["field"] == "provider"


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
    api: Api, sandbox: Any, link: ProviderLink, fault: str, status: int, code: str
) -> None:
    link.inject(fault)
    reply = api.request("POST", "/orders", body=order_body("c-fault", provider=ANY_PROVIDER))
    assert reply.status == status
    assert error_of(reply)["code"] == code
    read = api.request("GET", "/orders/c-fault").json()
    assert read["status"] == "unknown"
    assert read["events"][-1]["type"] == "provider_outcome_unknown"


def test_retry_after_a_failed_connection_creates_the_order(
    api: Api, sandbox: Any, link: ProviderLink
) -> None:
    link.inject("reset")
    assert api.request("POST", "/orders", body=order_body("c-never", provider=ANY_PROVIDER)).status == 502
    assert not ANY_KIT.holds_order(sandbox, "c-never")
    retry = api.request("POST", "/orders", body=order_body("c-never", provider=ANY_PROVIDER))
    assert retry.status == 200
    assert retry.json()["status"] == "pending"
    assert ANY_KIT.create_calls(sandbox, "c-never") == 1


def test_get_unknown_order_is_404(api: Api) -> None:
    reply = api.request("GET", "/orders/nope")
    assert reply.status == 404
    assert error_of(reply)["code"] == "order_not_found"


def test_unknown_route_is_404_in_our_error_shape(api: Api) -> None:
    function = api.functions["CreateOrderFunction"]
    reply = function.invoke(proxy_event(method="GET", path="/elsewhere", resource="/elsewhere"))
    assert reply.status == 404
    assert error_of(reply)["code"] == "route_not_found"


def test_identical_request_while_the_first_is_in_flight_is_409(api: Api, sandbox: Any, stack: Stack) -> None:
    abandoned_creation(stack, "c-inflight", age_seconds=5, provider=ANY_PROVIDER)
    reply = api.request("POST", "/orders", body=order_body("c-inflight", provider=ANY_PROVIDER))
    assert reply.status == 409
    assert error_of(reply)["code"] == "request_in_progress"
    assert ANY_KIT.create_calls(sandbox, "c-inflight") == 0


def test_each_provider_asks_only_for_the_payers_pages_it_uses(shop: Shop, stack: Stack) -> None:
    """The capabilities record names the merchant's pages the provider sends the payer to: a create
    without one of those is refused naming it, and stores nothing; without one the provider does not
    use, the order is made, and reads back."""
    uses = provider_class(shop.provider).documented_capabilities.payer_urls
    for name in ("return_url", "cancel_url"):
        order_id = f"urls-{name.split('_')[0]}"
        body = order_body(order_id, provider=shop.provider)
        del body[name]
        reply = shop.api.request("POST", "/orders", body=body)
        if name in uses:
            assert (reply.status, error_of(reply)["code"], error_of(reply)["field"]) == (
                422,
                "missing_field",
                name,
            )
            assert order_item(stack.table_name, order_id) is None
        else:
            assert reply.status == 201, reply.body
            assert shop.read(order_id)["status"] == "pending"


def test_each_provider_takes_the_wallets_its_record_lists_and_refuses_the_others(
    shop: Shop, stack: Stack
) -> None:
    """`wallet`: one the provider offers makes the order (shown in the reply, GET and the order's
    events); another is `422 wallet_not_supported` before any provider call; none is the provider's
    default."""
    offered = provider_class(shop.provider).documented_capabilities.wallets
    for index, wallet in enumerate(WALLETS):
        order_id = f"wallet-{index}"
        reply = shop.api.request(
            "POST", "/orders", body=order_body(order_id, provider=shop.provider, wallet=wallet)
        )
        if wallet in offered:
            assert (reply.status, reply.json()["wallet"]) == (201, wallet), reply.body
            assert shop.read(order_id)["wallet"] == wallet
        else:
            assert (reply.status, error_of(reply)["code"], error_of(reply)["field"]) == (
                422,
                "wallet_not_supported",
                "wallet",
            )
            assert order_item(stack.table_name, order_id) is None
            assert shop.kit.create_calls(shop.sandbox, order_id) == 0
    default = shop.api.request("POST", "/orders", body=order_body("wallet-default", provider=shop.provider))
    assert default.json()["wallet"] == provider_class(shop.provider).documented_capabilities.default_wallet
    unknown = shop.api.request(
        "POST", "/orders", body=order_body("wallet-x", provider=shop.provider, wallet="paypal")
    )
    assert (unknown.status, error_of(unknown)["field"]) == (422, "wallet")
