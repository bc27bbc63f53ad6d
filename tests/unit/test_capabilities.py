"""The capabilities record: each field checked generically (the right field and code, the provider
named by its label), a provider without a restriction accepting, every registered adapter declaring
a consistent record, and the OpenAPI document showing every registered provider's."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from docs.openapi import DOC_PATH, provider_capabilities
from local.testing import kit_of
from payments.api import CreateOrderRequest, CustomerIn
from payments.errors import ValidationFailed
from payments.http import HttpClient
from payments.providers import provider_class, provider_names
from payments.providers.capabilities import (
    ANY_CURRENCY,
    TERMINAL_TYPES,
    WALLETS,
    Capabilities,
    RefundReporting,
    check_capabilities,
)
from tests.support.orders import order_body
from tests.support.providers import ANY_PROVIDER

# A provider that restricts everything a record can restrict.
STRICT = Capabilities(
    currencies=frozenset({"EUR", "USD"}),
    max_amount=5000,
    max_expiry_seconds=900,
    default_expiry_seconds=600,
    terminal_types=frozenset({"WEB", "WAP"}),
    required_customer_fields=frozenset({"ip_address", "email"}),
    payer_urls=frozenset({"return_url", "cancel_url"}),
    cancels_unpaid_orders=False,
    confirms_payment_after_cancel=False,
    withdraws_unclear_creates=False,
    expiry_grace_seconds=600,
    query_gives_payment_link=False,
    refunds_reported=RefundReporting.EVENT_PER_REFUND,
    looks_up_a_refund=True,
    wallets=frozenset({"alipay_cn", "gcash"}),
)
# One that restricts nothing a record can restrict.
OPEN = Capabilities(
    currencies=ANY_CURRENCY,
    max_amount=None,
    max_expiry_seconds=None,
    default_expiry_seconds=600,
    terminal_types=frozenset(TERMINAL_TYPES),
    payer_urls=frozenset(),
    cancels_unpaid_orders=True,
    confirms_payment_after_cancel=True,
    withdraws_unclear_creates=True,
    expiry_grace_seconds=900,
    query_gives_payment_link=True,
    refunds_reported=RefundReporting.WHEN_ASKED,
    looks_up_a_refund=False,
    wallets=frozenset(WALLETS),
)


def request(**overrides: Any) -> CreateOrderRequest:
    body = order_body("cap-1", provider=ANY_PROVIDER, **overrides)
    return CreateOrderRequest.model_validate({key: value for key, value in body.items() if value is not OMIT})


OMIT = object()  # an override that leaves the field out


@pytest.mark.parametrize(
    ("overrides", "field", "code", "message"),
    [
        (
            {"wallet": "dana"},
            "wallet",
            "wallet_not_supported",
            "wallet: Acme offers alipay_cn, gcash, not dana",
        ),
        (
            {"amount": {"value": 1000, "currency": "JPY"}},
            "amount.currency",
            "currency_not_supported",
            "amount.currency: Acme takes Alipay payments in EUR, USD",
        ),
        (
            {"amount": {"value": 5001, "currency": "EUR"}},
            "amount.value",
            "amount_over_limit",
            "amount.value: above Acme's limit of 5000 minor units",
        ),
        (
            {"return_url": OMIT},
            "return_url",
            "missing_field",
            "return_url: Acme sends the payer back there after the payment, so it is required",
        ),
        (
            {"cancel_url": OMIT},
            "cancel_url",
            "missing_field",
            "cancel_url: Acme sends a payer who cancels there, so it is required",
        ),
        (
            {"terminal_type": "APP"},
            "terminal_type",
            "invalid_field",
            "terminal_type: Acme takes Alipay payments from WEB or WAP terminals",
        ),
        (
            {"customer": {"email": "mei@example.com"}},
            "customer.ip_address",
            "missing_field",
            "customer.ip_address: Acme requires the payer's IP address",
        ),
        (
            {"customer": None},
            "customer.email",  # required fields are checked in the order of their names
            "missing_field",
            "customer.email: Acme requires the payer's email address",
        ),
        (
            {"expires_in_seconds": 901},
            "expires_in_seconds",
            "invalid_field",
            "expires_in_seconds: Acme orders expire after at most 900 seconds",
        ),
    ],
)
def test_each_capability_refuses_with_its_field_and_code(
    overrides: dict[str, Any], field: str, code: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_capabilities(request(**overrides), STRICT, "Acme")
    assert (caught.value.field, caught.value.code, caught.value.message) == (field, code, message)
    assert caught.value.status == 422


def test_what_a_record_allows_passes() -> None:
    check_capabilities(
        request(
            amount={"value": 5000, "currency": "USD"},
            terminal_type="WAP",
            expires_in_seconds=900,
            wallet="gcash",
        ),
        STRICT,
        "Acme",
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": {"value": 2**53 - 1, "currency": "JPY"}},
        {"terminal_type": "APP"},
        {"customer": None},
        {"expires_in_seconds": 7 * 24 * 3600},
        {"return_url": OMIT, "cancel_url": OMIT},
    ],
)
def test_a_provider_without_a_restriction_accepts(overrides: dict[str, Any]) -> None:
    check_capabilities(request(**overrides), OPEN, "Acme")


def test_the_first_refused_field_in_the_requests_order_is_named() -> None:
    everything_wrong = request(
        amount={"value": 9999, "currency": "JPY"}, terminal_type="APP", customer=None, expires_in_seconds=999
    )
    with pytest.raises(ValidationFailed) as caught:
        check_capabilities(everything_wrong, STRICT, "Acme")
    assert caught.value.field == "amount.currency"
    with pytest.raises(ValidationFailed) as caught:  # the wallet comes right after the provider
        check_capabilities(everything_wrong.model_copy(update={"wallet": "alipay_plus"}), STRICT, "Acme")
    assert caught.value.field == "wallet"


def test_a_request_naming_no_wallet_takes_the_providers_default() -> None:
    gcash_only = replace(STRICT, wallets=frozenset({"gcash"}), default_wallet="gcash")
    check_capabilities(request(), gcash_only, "Acme")
    with pytest.raises(ValidationFailed) as caught:
        check_capabilities(request(wallet="alipay_cn"), gcash_only, "Acme")
    assert (caught.value.field, caught.value.code) == ("wallet", "wallet_not_supported")


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"currencies": frozenset({"EURO"})}, "currencies"),
        ({"currencies": frozenset()}, "currencies"),
        ({"max_amount": 0}, "max_amount"),
        ({"max_expiry_seconds": 30, "default_expiry_seconds": 60}, "max_expiry_seconds"),
        ({"default_expiry_seconds": 901}, "default_expiry_seconds"),
        ({"default_expiry_seconds": 59}, "default_expiry_seconds"),
        ({"terminal_types": frozenset({"POS"})}, "terminal_types"),
        ({"terminal_types": frozenset()}, "terminal_types"),
        ({"set_by_settings": frozenset({"gateway"})}, "set_by_settings"),
        ({"payer_urls": frozenset({"success_url"})}, "payer_urls"),
        # Without a cancel call there is no cancel to confirm a payment after, nor to withdraw with.
        ({"confirms_payment_after_cancel": True}, "confirms_payment_after_cancel"),
        ({"withdraws_unclear_creates": True}, "withdraws_unclear_creates"),
        ({"expiry_grace_seconds": -1}, "expiry_grace_seconds"),
        ({"wallets": frozenset()}, "wallets"),
        ({"wallets": frozenset({"alipay_cn", "wechat"})}, "wallets"),
        ({"default_wallet": "dana"}, "default_wallet"),
    ],
)
def test_an_impossible_record_is_refused_when_declared(changes: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        replace(STRICT, **changes)


@pytest.mark.parametrize("name", provider_names())
def test_every_registered_adapter_declares_a_consistent_record(name: str) -> None:
    factory = provider_class(name)
    record = factory.documented_capabilities
    assert isinstance(record, Capabilities)
    assert isinstance(record.refunds_reported, RefundReporting)
    assert factory.label.strip()
    # Required customer fields are fields the API takes (a typo would refuse every request).
    assert record.required_customer_fields <= CustomerIn.model_fields.keys()


@pytest.mark.parametrize("name", provider_names())
def test_with_its_default_settings_an_adapter_takes_what_its_record_documents(name: str) -> None:
    """The test secret entry sets credentials and the sandbox's URL only: the instance's record is the
    documented one (a value from the settings shows its default)."""
    factory = provider_class(name)
    settings = factory.settings_model.model_validate(kit_of(name).test_secret_entry())
    adapter = factory(settings, HttpClient())
    assert adapter.capabilities == factory.documented_capabilities
    assert adapter.default_expiry_seconds(request()) == factory.documented_capabilities.default_expiry_seconds


def test_the_openapi_document_shows_every_registered_providers_capabilities() -> None:
    document = json.loads(DOC_PATH.read_text())
    shown = document["x-provider-capabilities"]
    assert list(shown) == provider_names()
    assert shown == provider_capabilities()
    for name in provider_names():
        factory = provider_class(name)
        assert shown[name] == {"label": factory.label, **factory.documented_capabilities.to_json()}
    provider_field = document["components"]["schemas"]["CreateOrderRequest"]["properties"]["provider"]
    assert provider_field["enum"] == provider_names()
    for name in provider_names():
        assert f"- `{name}` ({provider_class(name).label}): " in provider_field["description"]
