"""Money as integer minor units of an ISO 4217 currency. Floats never enter."""

from __future__ import annotations

import re
from typing import Any

from payments.records import frozen

# ISO 4217 active codes and their minor-unit exponents (list one, 2025 amendments included).
# Codes whose minor unit is "N.A." (precious metals, testing and fund codes without units) are absent
# on purpose: they cannot be charged.
_EXPONENT_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND"
_EXPONENT_4 = "CLF UYW"
_EXPONENT_2 = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS "
    "GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL "
    "MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK "
    "PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS "
    "TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)

CURRENCY_EXPONENTS: dict[str, int] = {
    code: exponent
    for exponent, codes in ((0, _EXPONENT_0), (2, _EXPONENT_2), (3, _EXPONENT_3), (4, _EXPONENT_4))
    for code in codes.split()
}


class MoneyError(ValueError):
    """An amount or currency that cannot be money."""


def currency_exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise MoneyError(f"'{currency}' is not an ISO 4217 currency code") from None


@frozen
class Money:
    """An amount in minor units (cents for EUR, yen for JPY, fils for KWD)."""

    value: int
    currency: str

    def __post_init__(self) -> None:
        # bool is an int subclass; True is not an amount.
        if type(self.value) is not int:
            raise MoneyError("amount must be an integer number of minor units")
        currency_exponent(self.currency)

    @property
    def exponent(self) -> int:
        return CURRENCY_EXPONENTS[self.currency]

    def major_units_text(self) -> str:
        """Exact decimal text in major units ("10.00" for 1000 EUR cents), for display only."""
        sign = "-" if self.value < 0 else ""
        digits = str(abs(self.value)).rjust(self.exponent + 1, "0")
        if self.exponent == 0:
            return sign + digits
        return f"{sign}{digits[: -self.exponent]}.{digits[-self.exponent :]}"

    def to_dict(self) -> dict[str, int | str]:
        return {"value": self.value, "currency": self.currency}

    def __str__(self) -> str:
        return f"{self.major_units_text()} {self.currency}"


# Some providers' APIs write an amount as {"currency", "value"} with the
# value in minor units as a string of ASCII digits (str.isdigit() would also take "²" and "١٢٣").
_STRING_UNITS = re.compile(r"[0-9]{1,19}")


def string_amount(money: Money) -> dict[str, str]:
    """`{"currency": "EUR", "value": "1000"}`."""
    return {"currency": money.currency, "value": str(money.value)}


def read_string_amount(value: Any) -> Money | None:
    """The Money a `{"currency", "value": "<minor units>"}` object states; None when absent. ValueError
    when it is there but not that."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("amount")
    units, currency = value.get("value"), value.get("currency")
    if not isinstance(units, str) or not _STRING_UNITS.fullmatch(units) or not isinstance(currency, str):
        raise ValueError("amount")
    try:
        return Money(int(units), currency)
    except MoneyError:
        raise ValueError("amount") from None
