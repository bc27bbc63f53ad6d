"""MultiSafepay's capabilities follow its secret entry: currencies, max_amount and the gateway (the
default wallet, whose expiry is the default); an order's wallet picks its gateway, whose expiry is
that order's longest."""

from __future__ import annotations

from typing import Any

import pytest

from local.testing import kit_of
from payments.api import CreateOrderRequest
from payments.errors import ValidationFailed
from payments.http import HttpClient
from payments.providers.capabilities import check_capabilities
from payments.providers.multisafepay.adapter import MultiSafepay, MultiSafepaySettings
from tests.support.orders import order_body


def adapter(**settings: object) -> MultiSafepay:
    entry = {**kit_of("multisafepay").test_secret_entry(), **settings}
    return MultiSafepay(MultiSafepaySettings.model_validate(entry), HttpClient())


def refusal(provider: MultiSafepay, **overrides: Any) -> ValidationFailed:
    request = CreateOrderRequest.model_validate(order_body(provider="multisafepay", **overrides))
    with pytest.raises(ValidationFailed) as caught:
        check_capabilities(request, provider.capabilities, provider.label)
    return caught.value


def test_the_documented_record_shows_the_settings_defaults() -> None:
    documented = MultiSafepay.documented_capabilities
    assert documented.currencies == frozenset({"EUR", "USD"})
    assert documented.max_amount == 2**31 - 1
    assert (documented.max_expiry_seconds, documented.default_expiry_seconds) == (5 * 3600, 5 * 3600)
    assert (documented.wallets, documented.default_wallet) == (
        frozenset({"alipay_cn", "alipay_plus"}),
        "alipay_cn",
    )
    assert documented.set_by_settings == {
        "currencies",
        "max_amount",
        "default_expiry_seconds",
        "default_wallet",
    }


def test_currencies_and_max_amount_come_from_the_settings() -> None:
    narrowed = adapter(currencies=["USD"], max_amount=500)
    assert narrowed.capabilities.currencies == frozenset({"USD"})
    refused = refusal(narrowed, amount={"value": 100, "currency": "EUR"})
    assert (refused.field, refused.code) == ("amount.currency", "currency_not_supported")
    assert refused.message == "amount.currency: MultiSafepay takes Alipay payments in USD"
    refused = refusal(narrowed, amount={"value": 501, "currency": "USD"})
    assert (refused.field, refused.code) == ("amount.value", "amount_over_limit")
    assert refused.message == "amount.value: above MultiSafepay's limit of 500 minor units"


def refused_by_the_adapter(provider: MultiSafepay, **overrides: Any) -> ValidationFailed:
    request = CreateOrderRequest.model_validate(order_body(provider="multisafepay", **overrides))
    check_capabilities(request, provider.capabilities, provider.label)
    with pytest.raises(ValidationFailed) as caught:
        provider.check_order(request)
    return caught.value


@pytest.mark.parametrize(("gateway", "wallet"), [("ALIPAYPLUS", None), ("ALIPAY", "alipay_plus")])
def test_alipayplus_orders_expire_after_an_hour(gateway: str, wallet: str | None) -> None:
    """The Alipay+ gateway: the default wallet of a gateway ALIPAYPLUS entry, or asked for."""
    provider = adapter(gateway=gateway)
    chosen = {"wallet": wallet} if wallet else {}
    request = CreateOrderRequest.model_validate(order_body(provider="multisafepay", **chosen))
    assert provider.default_expiry_seconds(request) == 3600
    refused = refused_by_the_adapter(provider, expires_in_seconds=3601, **chosen)
    assert (refused.field, refused.code) == ("expires_in_seconds", "invalid_field")
    assert (
        refused.message
        == "expires_in_seconds: MultiSafepay's alipay_plus orders expire after at most 3600 seconds"
    )
    alipay = CreateOrderRequest.model_validate(
        order_body(provider="multisafepay", wallet="alipay_cn", expires_in_seconds=5 * 3600)
    )
    provider.check_order(alipay)  # Alipay's gateway: five hours
    assert provider.default_expiry_seconds(alipay) == 5 * 3600


@pytest.mark.parametrize("currencies", [[], ["EURO"], ["eur"]])
def test_currencies_in_the_settings_are_iso_4217_codes(currencies: list[str]) -> None:
    with pytest.raises(ValueError, match="currencies"):
        adapter(currencies=currencies)
