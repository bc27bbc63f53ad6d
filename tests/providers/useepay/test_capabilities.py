"""UseePay's capabilities record agrees with its adapter: no cancel call, the payer's IP required,
WEB and WAP terminals only, orders of at most ten minutes."""

from __future__ import annotations

from typing import Any

import pytest

from local.testing import kit_of
from payments.api import CreateOrderRequest
from payments.errors import ValidationFailed
from payments.facts import CancelResult
from payments.http import HttpClient
from payments.providers.capabilities import RefundReporting, check_capabilities
from payments.providers.useepay.adapter import UseePay, UseePaySettings
from tests.support.orders import order_body, stored_order


def adapter() -> UseePay:
    settings = UseePaySettings.model_validate(kit_of("useepay").test_secret_entry("MD5"))
    return UseePay(settings, HttpClient())


def test_the_record_says_what_the_adapter_does() -> None:
    useepay = adapter()
    record = useepay.capabilities
    assert record == UseePay.documented_capabilities
    assert record.cancels_unpaid_orders is False
    assert useepay.cancel(stored_order(provider="useepay")) == CancelResult.NO_CANCEL_CALL
    assert record.refunds_reported == RefundReporting.EVENT_PER_REFUND
    assert record.terminal_types == {"WEB", "WAP"}
    assert record.required_customer_fields == {"ip_address"}
    assert record.max_expiry_seconds == record.default_expiry_seconds == 600


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"customer": None}, "customer.ip_address: UseePay requires the payer's IP address"),
        ({"terminal_type": "APP"}, "terminal_type: UseePay takes Alipay payments from WEB or WAP terminals"),
        ({"expires_in_seconds": 601}, "expires_in_seconds: UseePay orders expire after at most 600 seconds"),
        (
            {"amount": {"value": 10**12, "currency": "EUR"}},
            "amount.value: above UseePay's limit of 999999999999 minor units",
        ),
    ],
)
def test_the_generic_check_names_useepay(overrides: dict[str, Any], message: str) -> None:
    useepay = adapter()
    request = CreateOrderRequest.model_validate(order_body(provider="useepay", **overrides))
    with pytest.raises(ValidationFailed) as caught:
        check_capabilities(request, useepay.capabilities, useepay.label)
    assert caught.value.message == message
