"""The demo shop's money and error wording (local/shop.py): exact, integer, readable."""

from __future__ import annotations

import json

import pytest

from local.shop import AmountError, api_errors, minor_units, money_text, order_page, shop_page


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.50", "EUR", 1250),
        ("12.5", "EUR", 1250),
        ("12", "EUR", 1200),
        ("12.", "EUR", 1200),
        (" 0.01 ", "USD", 1),
        ("1000", "JPY", 1000),
        ("1.250", "KWD", 1250),
        ("999999999999999.99", "EUR", 99999999999999999),  # beyond a float's exact integers
    ],
)
def test_major_units_become_exact_minor_units(text: str, currency: str, minor: int) -> None:
    value = minor_units(text, currency)
    assert type(value) is int
    assert value == minor


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("12.50", "JPY", "JPY has no smaller unit: enter whole JPY, like 1000."),
        ("12.505", "EUR", "EUR has 2 decimals at most, like 12.50."),
        ("0", "EUR", "Enter an amount above zero."),
        ("0.00", "EUR", "Enter an amount above zero."),
        ("12,50", "EUR", "Enter the amount in EUR as digits, like 12.50."),
        ("-5", "EUR", "Enter the amount in EUR as digits, like 12.50."),
        ("1e3", "EUR", "Enter the amount in EUR as digits, like 12.50."),
        ("", "EUR", "Enter the amount in EUR as digits, like 12.50."),
        ("١٢", "EUR", "Enter the amount in EUR as digits, like 12.50."),  # other scripts' digits
        ("10", "XXX", "Choose a currency"),
    ],
)
def test_amounts_that_are_not_money_say_why(text: str, currency: str, message: str) -> None:
    with pytest.raises(AmountError, match=message.replace(".", r"\.").replace("(", r"\(")):
        minor_units(text, currency)


@pytest.mark.parametrize(
    ("value", "currency", "shown"),
    [
        (1250, "EUR", "12.50 EUR"),
        (1000, "JPY", "1000 JPY"),
        (5, "USD", "0.05 USD"),
        (1250, "KWD", "1.250 KWD"),
    ],
)
def test_amounts_are_shown_in_major_units_with_the_currency(value: int, currency: str, shown: str) -> None:
    assert money_text(value, currency) == shown


def test_api_errors_become_sentences_per_field() -> None:
    body = json.dumps(
        {
            "error": {
                "code": "invalid_amount",
                "message": "amount.value: Input should be greater than 0",
                "field": "amount.value",
                "details": [
                    {"field": "amount.value", "message": "Input should be greater than 0"},
                    {"field": "description", "message": "must be plain text: '<' and '>' are not allowed"},
                ],
            }
        }
    )
    errors = api_errors(422, body)
    assert errors.messages == [
        "Amount: Input should be greater than 0.",
        "Description: must be plain text: '<' and '>' are not allowed.",
    ]
    assert errors.inputs == {"amount", "description"}


def test_provider_refusals_and_gateway_errors_are_readable() -> None:
    refused = {
        "error": {
            "code": "provider_rejected",
            "message": "the payment provider refused the order",
            "provider_code": "1032",
            "provider_message": "Invalid API key",
        }
    }
    assert api_errors(502, json.dumps(refused)).messages == [
        "The payment provider refused the order (the provider said 1032 “Invalid API key”)"
    ]
    assert "HTTP 502" in api_errors(502, '{"message": "Internal server error"}').messages[0]
    assert "HTTP 500" in api_errors(500, "<html>").messages[0]


def test_what_was_typed_is_escaped_when_shown_again() -> None:
    from local.shop import FormErrors, OrderForm

    form = OrderForm(provider="useepay", amount='"><script>', currency="JPY", description="<b>tea</b>")
    body = shop_page(["multisafepay", "useepay"], form, FormErrors(["x"], {"amount"})).body
    assert "<script>" not in body
    assert 'value="&quot;&gt;&lt;script&gt;"' in body
    assert '<option value="useepay" selected>UseePay</option>' in body
    assert '<option value="JPY" selected>JPY</option>' in body


def test_order_page_shows_money_names_and_a_way_back_while_unpaid() -> None:
    order = {
        "order_id": "o-1",
        "provider": "useepay",
        "status": "pending",
        "amount": {"value": 1250, "currency": "EUR"},
        "description": "Tea",
        "payment_url": "http://127.0.0.1:1/checkout/x",
        "created_at": "2026-11-22T10:00:00.000000Z",
        "expires_at": "2026-11-22T10:10:00.000000Z",
        "events": [{"type": "order_created", "at": "2026-11-22T10:00:00.000000Z", "to_status": "created"}],
    }
    page = order_page(order, left_checkout=True)
    assert "12.50 EUR" in page.body
    assert "Alipay via UseePay" in page.body
    assert "You left the payment page without paying." in page.body
    assert "until 2026-11-22 10:10 UTC" in page.body
    assert 'href="http://127.0.0.1:1/checkout/x"' in page.body
    assert page.refresh == 3
    assert order_page({**order, "status": "paid"}, left_checkout=False).refresh is None
