"""What a provider can take and how it behaves, as one record per adapter, checked generically.

The record is the one statement of what the provider's protocol does: the flows read its behaviour
from it, and the kits, the demo shop and the tests derive theirs from it (docs/adding-a-provider.md).
Each adapter declares `documented_capabilities` (its documentation's defaults: what the OpenAPI
document shows); its instance's `capabilities` is what this merchant's settings allow (the same record
unless a value comes from the provider's secret entry). `check_capabilities` runs before the adapter's
own `check_order`, which keeps only what no record can say.
"""

from __future__ import annotations

from dataclasses import fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from payments.errors import ValidationFailed
from payments.money import CURRENCY_EXPONENTS
from payments.orders import DEFAULT_WALLET, WALLETS, Wallet
from payments.records import frozen

if TYPE_CHECKING:
    from payments.api import CreateOrderRequest

__all__ = [
    "ANY_CURRENCY",
    "DEFAULT_WALLET",
    "PAYER_URLS",
    "TERMINAL_TYPES",
    "WALLETS",
    "Capabilities",
    "RefundReporting",
    "Wallet",
    "check_capabilities",
]

ANY_CURRENCY: Literal["any"] = "any"
TERMINAL_TYPES = ("WEB", "WAP", "APP")  # every terminal_type of the API, in the order messages name them
# The merchant's pages a provider may send the payer to, as the API names them, and when it does.
PAYER_URLS = {
    "return_url": "sends the payer back there after the payment",
    "cancel_url": "sends a payer who cancels there",
}
# How a required customer field is named in a message, when its name does not say it well enough.
_CUSTOMER_FIELD_WORDS = {"ip_address": "IP address", "email": "email address", "phone": "phone number"}


class RefundReporting(StrEnum):
    """How the provider tells us what became of a refund, after its reply to the refund request."""

    # A signed notification for each refund, naming it.
    EVENT_PER_REFUND = "event_per_refund"
    # The order's cumulative refunded total, in the order's notifications and status queries.
    ORDER_REFUNDED_TOTAL = "order_refunded_total"
    # Nothing unasked: the reply to the refund request (asked again under the same id when unclear).
    WHEN_ASKED = "when_asked"


@frozen(kw_only=True)
class Capabilities:
    """One provider's limits (what a merchant's request may ask) and its protocol's behaviour."""

    # ISO 4217 codes accepted, or ANY_CURRENCY: any the API takes (left to the merchant's contract).
    currencies: frozenset[str] | Literal["any"]
    max_amount: int | None  # the largest amount.value in minor units; None: the API's own limit
    max_expiry_seconds: int | None  # the longest expires_in_seconds; None: the API's own limit
    default_expiry_seconds: int  # when the request gives no expires_in_seconds
    terminal_types: frozenset[str]  # a subset of TERMINAL_TYPES
    required_customer_fields: frozenset[str] = frozenset()  # fields of `customer` that must be given
    # The merchant's pages the provider sends the payer to (keys of PAYER_URLS): the API asks for
    # exactly these; one it does not use is accepted and goes nowhere.
    payer_urls: frozenset[str]
    # False: no cancel call; the provider's checkout closes on its own and a payment it reports after
    # our cancel is applied and flagged late. True: a cancel shows at the provider, which refuses a
    # payment racing it.
    cancels_unpaid_orders: bool
    # A payment the provider notifies after our cancel is confirmed by a status query first.
    confirms_payment_after_cancel: bool
    # A create whose outcome stays unclear is withdrawn with a cancel (the provider's rule), so that
    # it can never be paid later, rather than left to the merchant's retry or its expiry.
    withdraws_unclear_creates: bool
    # How long after an order's expires_at the provider may still report a payment (its checkout
    # closes, or its last expiry notification comes, within it).
    expiry_grace_seconds: int
    # The status query gives the payment link back: a create resumed by a query can still send the
    # payer to pay.
    query_gives_payment_link: bool
    refunds_reported: RefundReporting
    # The provider can be asked about one refund, so it shows a refund it never received and the
    # refund can be sent again. Without that lookup a refund whose outcome is unclear stays unknown
    # rather than risk a second one.
    looks_up_a_refund: bool
    wallets: frozenset[str]  # a subset of WALLETS
    default_wallet: str = DEFAULT_WALLET  # for a request that names none; one of `wallets`
    # The fields above whose value comes from the merchant's entry in the provider secret (the
    # documented record shows their defaults).
    set_by_settings: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.currencies != ANY_CURRENCY and (
            not self.currencies or not self.currencies <= CURRENCY_EXPONENTS.keys()
        ):
            raise ValueError(f"currencies: not ISO 4217 codes, or none: {sorted(self.currencies)}")
        if self.max_amount is not None and self.max_amount <= 0:
            raise ValueError("max_amount: must be positive")
        limit = self.max_expiry_seconds
        if limit is not None and limit < 60:
            raise ValueError("max_expiry_seconds: below the API's minimum of 60")
        if self.default_expiry_seconds < 60 or (limit is not None and self.default_expiry_seconds > limit):
            raise ValueError("default_expiry_seconds: not between 60 and max_expiry_seconds")
        if not self.terminal_types or not self.terminal_types <= set(TERMINAL_TYPES):
            raise ValueError(f"terminal_types: not a subset of {TERMINAL_TYPES}")
        if not self.payer_urls <= PAYER_URLS.keys():
            raise ValueError(f"payer_urls: not a subset of {sorted(PAYER_URLS)}")
        if not self.cancels_unpaid_orders and self.confirms_payment_after_cancel:
            raise ValueError("confirms_payment_after_cancel: the provider has no cancel call")
        if not self.cancels_unpaid_orders and self.withdraws_unclear_creates:
            raise ValueError("withdraws_unclear_creates: the provider has no cancel call")
        if self.expiry_grace_seconds < 0:
            raise ValueError("expiry_grace_seconds: must not be negative")
        if not self.wallets or not self.wallets <= set(WALLETS):
            raise ValueError(f"wallets: not a subset of {WALLETS}, or none")
        if self.default_wallet not in self.wallets:
            raise ValueError("default_wallet: not one of the record's wallets")
        names = {item.name for item in fields(self)} - {"set_by_settings"}
        if not self.set_by_settings <= names:
            unknown = sorted(self.set_by_settings - names)
            raise ValueError(f"set_by_settings: not fields of the record: {unknown}")

    def accepts_currency(self, currency: str) -> bool:
        return self.currencies == ANY_CURRENCY or currency in self.currencies

    def to_json(self) -> dict[str, Any]:
        """The record as the OpenAPI document shows it (sets sorted; None as null)."""
        return {
            "currencies": ANY_CURRENCY if self.currencies == ANY_CURRENCY else sorted(self.currencies),
            "max_amount": self.max_amount,
            "max_expiry_seconds": self.max_expiry_seconds,
            "default_expiry_seconds": self.default_expiry_seconds,
            "terminal_types": _terminal_order(self.terminal_types),
            "required_customer_fields": sorted(self.required_customer_fields),
            "payer_urls": [name for name in PAYER_URLS if name in self.payer_urls],
            "cancels_unpaid_orders": self.cancels_unpaid_orders,
            "confirms_payment_after_cancel": self.confirms_payment_after_cancel,
            "withdraws_unclear_creates": self.withdraws_unclear_creates,
            "expiry_grace_seconds": self.expiry_grace_seconds,
            "query_gives_payment_link": self.query_gives_payment_link,
            "refunds_reported": str(self.refunds_reported),
            "looks_up_a_refund": self.looks_up_a_refund,
            "wallets": wallet_order(self.wallets),
            "default_wallet": self.default_wallet,
            "set_by_settings": sorted(self.set_by_settings),
        }


def _terminal_order(terminals: frozenset[str]) -> list[str]:
    return [terminal for terminal in TERMINAL_TYPES if terminal in terminals]


def wallet_order(wallets: frozenset[str]) -> list[str]:
    """`wallets` in the order of WALLETS."""
    return [wallet for wallet in WALLETS if wallet in wallets]


def order_wallet(request: CreateOrderRequest, capabilities: Capabilities) -> str:
    """The wallet an order is for: the request's, else the provider's default."""
    return request.wallet or capabilities.default_wallet


def check_capabilities(request: CreateOrderRequest, capabilities: Capabilities, label: str) -> None:
    """Raise ValidationFailed for the first of the request's fields (in the request's order) that the
    provider cannot take; `label` names the provider in the message."""

    def refuse(field: str, message: str, code: str = "invalid_field") -> ValidationFailed:
        return ValidationFailed(f"{field}: {message}", field=field, code=code)

    wallet = order_wallet(request, capabilities)
    if wallet not in capabilities.wallets:
        offered = ", ".join(wallet_order(capabilities.wallets))
        raise refuse("wallet", f"{label} offers {offered}, not {wallet}", "wallet_not_supported")

    if not capabilities.accepts_currency(request.amount.currency):
        accepted = ", ".join(sorted(capabilities.currencies))
        raise refuse(
            "amount.currency", f"{label} takes Alipay payments in {accepted}", "currency_not_supported"
        )
    if capabilities.max_amount is not None and request.amount.value > capabilities.max_amount:
        raise refuse(
            "amount.value",
            f"above {label}'s limit of {capabilities.max_amount} minor units",
            "amount_over_limit",
        )
    for name, use in PAYER_URLS.items():
        if name in capabilities.payer_urls and getattr(request, name) is None:
            raise refuse(name, f"{label} {use}, so it is required", "missing_field")
    if request.terminal_type not in capabilities.terminal_types:
        accepted = " or ".join(_terminal_order(capabilities.terminal_types))
        raise refuse("terminal_type", f"{label} takes Alipay payments from {accepted} terminals")
    customer = request.customer
    for name in sorted(capabilities.required_customer_fields):
        if customer is None or getattr(customer, name) is None:
            words = _CUSTOMER_FIELD_WORDS.get(name, name.replace("_", " "))
            raise refuse(f"customer.{name}", f"{label} requires the payer's {words}", "missing_field")
    limit = capabilities.max_expiry_seconds
    if limit is not None and request.expires_in_seconds is not None and request.expires_in_seconds > limit:
        raise refuse("expires_in_seconds", f"{label} orders expire after at most {limit} seconds")
