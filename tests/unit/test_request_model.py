"""POST /orders body validation: each bad field is named, with a machine-readable code."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from payments.api import parse_create_order
from payments.errors import MalformedRequest, ValidationFailed
from payments.providers import provider_names
from tests.support.messages import pydantic_phrases_in
from tests.support.orders import order_body
from tests.support.providers import ANY_PROVIDER


def parse(body: dict[str, Any]) -> Any:
    return parse_create_order(json.dumps(body))


def test_valid_body_gets_defaults() -> None:
    request = parse(order_body(provider=ANY_PROVIDER))
    assert request.flow == "redirect"
    assert request.terminal_type == "WEB"
    assert request.amount.value == 1000


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "malformed_json"),
        (b"{", "malformed_json"),
        (b"[]", "malformed_json"),
        (b"null", "malformed_json"),
        (b'"x"', "malformed_json"),
        (b"\xff\xfe", "malformed_json"),
        (b'{"order_id":"a","order_id":"b"}', "malformed_json"),
    ],
)
def test_malformed_json_is_400(raw: bytes, code: str) -> None:
    with pytest.raises(MalformedRequest) as caught:
        parse_create_order(raw)
    assert caught.value.status == 400
    assert caught.value.code == code


def test_duplicate_nested_keys_are_refused() -> None:
    raw = json.dumps(order_body(provider=ANY_PROVIDER)).replace('"value": 1000', '"value": 1, "value": 1000')
    with pytest.raises(MalformedRequest, match="repeats the key 'value'"):
        parse_create_order(raw)


INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("order_id", {"order_id": ""}, "order_id", "invalid_field"),
    ("order_id", {"order_id": "a" * 51}, "order_id", "invalid_field"),
    ("order_id", {"order_id": "has space"}, "order_id", "invalid_field"),
    ("order_id", {"order_id": "ünïcode"}, "order_id", "invalid_field"),
    ("order_id", {"order_id": 123}, "order_id", "invalid_field"),
    ("amount", {"amount": {"value": 10.5, "currency": "EUR"}}, "amount.value", "invalid_amount"),
    ("amount", {"amount": {"value": 10.0, "currency": "EUR"}}, "amount.value", "invalid_amount"),
    ("amount", {"amount": {"value": "1000", "currency": "EUR"}}, "amount.value", "invalid_amount"),
    ("amount", {"amount": {"value": True, "currency": "EUR"}}, "amount.value", "invalid_amount"),
    ("amount", {"amount": {"value": 0, "currency": "EUR"}}, "amount.value", "invalid_amount"),
    ("amount", {"amount": {"value": -5, "currency": "EUR"}}, "amount.value", "invalid_amount"),
    ("amount", {"amount": {"value": 2**53, "currency": "EUR"}}, "amount.value", "invalid_amount"),
    ("amount", {"amount": {"value": 1000, "currency": "eur"}}, "amount.currency", "unknown_currency"),
    ("amount", {"amount": {"value": 1000, "currency": "XYZ"}}, "amount.currency", "unknown_currency"),
    ("amount", {"amount": {"value": 1000}}, "amount.currency", "missing_field"),
    ("amount", {"amount": 1000}, "amount", "invalid_field"),
    ("description", {"description": ""}, "description", "invalid_field"),
    ("description", {"description": "x" * 201}, "description", "invalid_field"),
    ("description", {"description": "<b>Tea</b>"}, "description", "html_not_allowed"),
    ("description", {"description": "Tea\x00"}, "description", "control_characters"),
    ("return_url", {"return_url": "http://shop.example.com/r"}, "return_url", "invalid_url"),
    ("return_url", {"return_url": "javascript:alert(1)"}, "return_url", "invalid_url"),
    ("return_url", {"return_url": "/relative"}, "return_url", "invalid_url"),
    ("cancel_url", {"cancel_url": "ftp://shop.example.com"}, "cancel_url", "invalid_url"),
    ("flow", {"flow": "embedded"}, "flow", "invalid_field"),
    ("terminal_type", {"terminal_type": "web"}, "terminal_type", "invalid_field"),
    ("expires_in_seconds", {"expires_in_seconds": 10}, "expires_in_seconds", "invalid_field"),
    ("customer", {"customer": {"ip_address": "999.1.1.1"}}, "customer.ip_address", "invalid_ip_address"),
    ("customer", {"customer": {"email": "not-an-email"}}, "customer.email", "invalid_field"),
    ("customer", {"customer": {"country": "Netherlands"}}, "customer.country", "invalid_field"),
    ("customer", {"customer": {"shoe_size": "42"}}, "customer.shoe_size", "unknown_field"),
    (
        "items",
        {"items": [{"name": "Tea", "quantity": 0, "unit_price": 1000}]},
        "items.0.quantity",
        "invalid_field",
    ),
    (
        "items",
        {"items": [{"name": "Tea", "quantity": 1, "unit_price": 999}]},
        "items",
        "items_total_mismatch",
    ),
    ("metadata", {"metadata": {"k": 1}}, "metadata.k", "invalid_field"),
    ("metadata", {"metadata": {f"k{i}": "v" for i in range(21)}}, "metadata", "invalid_field"),
    ("unknown", {"retrun_url": "https://x.example"}, "retrun_url", "unknown_field"),
]


@pytest.mark.parametrize(
    ("name", "change", "field", "code"), INVALID, ids=[f"{i[0]}-{n}" for n, i in enumerate(INVALID)]
)
def test_invalid_field_is_named(name: str, change: dict[str, Any], field: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(order_body(**{"provider": ANY_PROVIDER, **change}))
    error = caught.value
    assert error.status == 422
    assert (error.field, error.code) == (field, code)
    assert error.message.startswith(field)
    assert error.details
    for message in [error.message, *(detail["message"] for detail in error.details)]:
        assert pydantic_phrases_in(message) == [], message


@pytest.mark.parametrize("name", ["order_id", "provider", "amount", "description"])
def test_missing_required_field(name: str) -> None:
    body = order_body(provider=ANY_PROVIDER)
    del body[name]
    with pytest.raises(ValidationFailed) as caught:
        parse(body)
    assert (caught.value.field, caught.value.code) == (name, "missing_field")
    assert caught.value.message == f"{name}: is required"


def test_the_payers_pages_are_left_to_the_provider_to_ask_for() -> None:
    """return_url and cancel_url are required where the provider sends the payer there (its
    capabilities: tests/unit/test_capabilities.py), not by the request model."""
    body = order_body(provider=ANY_PROVIDER)
    del body["return_url"], body["cancel_url"]
    request = parse(body)
    assert (request.return_url, request.cancel_url) == (None, None)


def test_an_unknown_provider_is_reported_first() -> None:
    """What else is wrong depends on which provider was meant ("paypal" once got only a complaint
    about a missing cancel_url)."""
    body = order_body(provider="paypal", order_id="has space", amount={"value": 0, "currency": "EUR"})
    del body["cancel_url"]
    with pytest.raises(ValidationFailed) as caught:
        parse(body)
    error = caught.value
    assert (error.field, error.code) == ("provider", "unknown_provider")
    assert error.message == "provider: must be one of: " + ", ".join(provider_names())
    assert [detail["field"] for detail in error.details or []] == ["provider", "order_id", "amount.value"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"order_id": "has space"}, "order_id: must be 1-50 characters of A-Z a-z 0-9 . _ -"),
        ({"flow": "embedded"}, "flow: must be 'redirect' or 'direct'"),
        ({"amount": {"value": 0, "currency": "EUR"}}, "amount.value: must be greater than 0"),
        ({"amount": {"value": 10.5, "currency": "EUR"}}, "amount.value: must be a whole number"),
        ({"description": "x" * 201}, "description: must be at most 200 characters long"),
        (
            {"customer": {"email": "not-an-email"}},
            "customer.email: must be an email address, e.g. mei@example.com",
        ),
        ({"customer": {"shoe_size": "42"}}, "customer.shoe_size: is not a field of this request"),
        ({"metadata": {f"k{i}": "v" for i in range(21)}}, "metadata: must have at most 20 items"),
    ],
)
def test_messages_are_in_the_projects_words(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse(order_body(**{"provider": ANY_PROVIDER, **change}))
    assert caught.value.message == message


def test_error_messages_never_echo_values() -> None:
    secretish = "4111111111111111-secret@example"
    with pytest.raises(ValidationFailed) as caught:
        parse(order_body(customer={"email": secretish + " x", "phone": secretish}, provider=ANY_PROVIDER))
    assert secretish not in json.dumps(caught.value.to_body())


def test_http_is_allowed_for_localhost_only() -> None:
    assert parse(
        order_body(
            return_url="http://localhost:8000/r", cancel_url="http://127.0.0.1/c", provider=ANY_PROVIDER
        )
    )


def test_fingerprint_ignores_defaults_and_key_order() -> None:
    explicit = order_body(flow="redirect", terminal_type="WEB", provider=ANY_PROVIDER)
    reordered = dict(reversed(list(order_body(provider=ANY_PROVIDER).items())))
    assert parse(explicit).fingerprint() == parse(reordered).fingerprint()
    assert (
        parse(order_body(description="Other", provider=ANY_PROVIDER)).fingerprint()
        != parse(order_body(provider=ANY_PROVIDER)).fingerprint()
    )


def test_a_request_naming_no_wallet_keeps_the_fingerprint_it_had_before_the_field() -> None:
    """Orders stored before `wallet` existed: the same request sent again still matches them (the
    fingerprint of its fields then: all but `wallet`); a request naming a wallet is another request."""
    body = order_body("fp-1", provider=ANY_PROVIDER)
    before = {key: value for key, value in parse(body).model_dump(mode="json").items() if key != "wallet"}
    canonical = json.dumps(before, sort_keys=True, separators=(",", ":"))
    assert parse(body).fingerprint() == hashlib.sha256(canonical.encode()).hexdigest()
    assert parse({**body, "wallet": "alipay_cn"}).fingerprint() != parse(body).fingerprint()
