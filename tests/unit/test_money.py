from __future__ import annotations

import pytest

from payments.money import (
    CURRENCY_EXPONENTS,
    Money,
    MoneyError,
    currency_exponent,
    read_string_amount,
    string_amount,
)


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [
        ("EUR", 2),
        ("USD", 2),
        ("CNY", 2),
        ("HKD", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("ISK", 0),
        ("VND", 0),
        ("KWD", 3),
        ("BHD", 3),
        ("TND", 3),
        ("CLF", 4),
        ("UYW", 4),
        ("MGA", 2),
        ("HUF", 2),
    ],
)
def test_iso_4217_exponents(currency: str, exponent: int) -> None:
    assert currency_exponent(currency) == exponent


def test_table_has_only_chargeable_three_letter_codes() -> None:
    assert len(CURRENCY_EXPONENTS) > 150
    assert all(len(code) == 3 and code.isupper() for code in CURRENCY_EXPONENTS)
    for not_money in ("XAU", "XAG", "XXX", "XTS", "XDR"):  # metals, testing, no minor unit
        assert not_money not in CURRENCY_EXPONENTS


@pytest.mark.parametrize("currency", ["eur", "EURO", "", "ABC", "RMB"])
def test_unknown_currency_is_refused(currency: str) -> None:
    with pytest.raises(MoneyError):
        Money(100, currency)


@pytest.mark.parametrize("value", [10.0, 10.5, True, "1000", None])
def test_only_integers_are_money(value: object) -> None:
    with pytest.raises(MoneyError):
        Money(value, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (1000, "EUR", "10.00"),
        (5, "EUR", "0.05"),
        (1000, "JPY", "1000"),
        (1, "KWD", "0.001"),
        (12345, "CLF", "1.2345"),
        (-250, "USD", "-2.50"),
    ],
)
def test_major_units_text_is_exact(value: int, currency: str, text: str) -> None:
    assert Money(value, currency).major_units_text() == text


def test_equality_needs_same_value_and_currency() -> None:
    assert Money(1000, "EUR") == Money(1000, "EUR")
    assert Money(1000, "EUR") != Money(1000, "USD")
    assert Money(1000, "EUR") != Money(1001, "EUR")


@pytest.mark.parametrize(
    "value",
    [
        {"currency": "EUR", "value": 1000},
        {"currency": "EUR", "value": "1²"},
        {"currency": "EURO", "value": "1"},
        {"currency": "EUR", "value": "-1"},
        {"value": "1"},
        "1000 EUR",
        {"currency": "EUR", "value": "1" * 20},
    ],
)
def test_a_string_amount_is_currency_and_ascii_minor_units_or_refused(value: object) -> None:
    with pytest.raises(ValueError, match="amount"):
        read_string_amount(value)


def test_a_string_amount_reads_back_what_was_written() -> None:
    assert string_amount(Money(1000, "JPY")) == {"currency": "JPY", "value": "1000"}
    assert read_string_amount(string_amount(Money(1000, "JPY"))) == Money(1000, "JPY")
    assert read_string_amount(None) is None
