"""MultiSafepay's refund replies, at the adapter: only a documented refusal proves that no refund was
made (the refund fails, its amount is freed); any other error leaves the outcome unknown."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import responses

from payments.errors import ProviderRejected, ProviderUnavailable
from payments.facts import RefundStatus
from payments.http import HttpClient
from payments.ledger import MERCHANT, Refund, provider_refund_key
from payments.money import Money
from payments.providers.base import RefundContext
from payments.providers.multisafepay.adapter import MultiSafepay, MultiSafepaySettings
from tests.support.orders import stored_order

SETTINGS = MultiSafepaySettings.model_validate({"api_key": "k" * 40})
URL = f"{SETTINGS.base_url}orders/o-1/refunds"
CTX = RefundContext(notify_url="", now=datetime(2026, 11, 26, 12, 0, tzinfo=UTC))


def a_refund() -> Refund:
    return Refund(
        refund_id="r-1",
        order_id="o-1",
        amount=Money(300, "EUR"),
        status=RefundStatus.UNKNOWN,
        origin=MERCHANT,
        provider_key=provider_refund_key("o-1", "r-1"),
        created_at="2026-11-26T12:00:00Z",
        updated_at="2026-11-26T12:00:00Z",
    )


def send(status: int, body: Any) -> None:
    with responses.RequestsMock() as wire:
        if isinstance(body, str):
            wire.add(responses.POST, URL, status=status, body=body)
        else:
            wire.add(responses.POST, URL, status=status, json=body)
        MultiSafepay(SETTINGS, HttpClient()).refund(
            stored_order("o-1", provider="multisafepay"), a_refund(), CTX
        )


def error(code: int) -> dict[str, Any]:
    return {"success": False, "data": {}, "error_code": code, "error_info": "text"}


@pytest.mark.parametrize("code", [1001, 1002, 1016, 1032, 1034])
def test_a_documented_refusal_fails_the_refund(code: int) -> None:
    with pytest.raises(ProviderRejected) as refused:
        send(400, error(code))
    assert refused.value.provider_code == str(code)


def test_a_validation_error_naming_the_attributes_is_a_refusal() -> None:
    body = {"success": False, "message": "invalid", "errors": [{"attribute": "amount", "message": "bad"}]}
    with pytest.raises(ProviderRejected):
        send(422, body)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, error(9999)),  # "unknown"
        (409, error(1006)),
        (400, error(1234)),  # a code the notes do not list
        (403, "<html>Forbidden</html>"),
        (429, {"success": False}),
    ],
)
def test_an_error_that_does_not_prove_a_refusal_leaves_the_refund_unknown(status: int, body: Any) -> None:
    with pytest.raises(ProviderUnavailable) as unclear:
        send(status, body)
    assert not isinstance(unclear.value, ProviderRejected)
