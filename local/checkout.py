"""The sandboxes' hosted checkout pages: which order a page is for, what it shows, where the browser goes.

What a payer's click means (the status words and the notifications each provider really sends) is the
sandbox's own business: each button runs the sandbox's control action of the same name (`pay`,
`cancel`, `fail`, `expire`), which queues the provider's notifications, if any, in its outbox.
This module adds what a page needs around that: the order's description and amount in major units,
the refunds made on it, the provider's display name (its adapter's label), its language, and where the
provider sends the browser afterwards. Each provider's page (local/providers/<name>/checkout.py) is a
`Checkout` that says only how its sandbox holds an order and where its browser goes.
"""

from __future__ import annotations

import html
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote

from local.http_server import page
from local.providers.controls import RefundView, SandboxControls
from payments.providers import provider_class

OUTCOMES = ("pay", "cancel", "fail", "expire")  # the buttons; their ids are what the browser test clicks

# ISO 4217 minor-unit exponents that are not 2 (ISO 4217 list one, 2024).
EXPONENTS = {
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["CLF", "UYW"], 4),
}


def major_units(minor: int, currency: str) -> str:
    """`1250, "EUR"` -> "12.50 EUR"; `1000, "JPY"` -> "1000 JPY". Integer arithmetic only. The code, not
    a symbol, follows the number: ¥ alone would not tell yuan from yen."""
    exponent = EXPONENTS.get(currency, 2)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**exponent)
    number = f"{whole}.{fraction:0{exponent}d}" if exponent else str(whole)
    return f"{sign}{number} {currency}"


LABELS: dict[str, dict[str, str]] = {
    "en": {
        "notice": "Sandbox checkout — no money moves.",
        "order": "Order",
        "amount": "Amount",
        "status": "Status",
        "refunds": "Refunds",
        "no_refunds": "No refunds.",
        "refund": "Refund",
        "closed": "This order can no longer be paid.",
        "pay": "Pay",
        "cancel": "Cancel",
        "fail": "Fail",
        "expire": "Expire",
    },
    "zh": {
        "notice": "沙盒收银台——不会产生真实扣款。",
        "order": "订单",
        "amount": "金额",
        "status": "状态",
        "refunds": "退款",
        "no_refunds": "暂无退款。",
        "refund": "退款单",
        "closed": "此订单已无法支付。",
        "pay": "支付",
        "cancel": "取消",
        "fail": "支付失败",
        "expire": "过期",
    },
}


@dataclass(frozen=True)
class OrderView:
    order_id: str
    amount: int  # minor units
    currency: str
    description: str
    status: str  # the provider's word
    payable: bool
    refunds: list[RefundView]
    payment_method: str | None = None  # what the page takes, for a provider with a page per method


class Checkout[Sandbox: SandboxControls](ABC):
    """One provider's hosted checkout page over its sandbox."""

    provider: ClassVar[str]  # the provider's name (its folders' name)
    page_name: ClassVar[str] = "Alipay"  # what the page's title calls it, after the provider's name

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    @property
    def display_name(self) -> str:
        """The provider as it calls itself: its adapter's label."""
        return provider_class(self.provider).label

    @property
    def title(self) -> str:
        return f"{self.display_name} — {self.page_name}"

    @abstractmethod
    def order_of(self, path: str, query: str) -> str | None:
        """The order a checkout page URL belongs to."""

    @abstractmethod
    def view(self, order_id: str) -> OrderView: ...

    def language(self, order_id: str, query: str) -> str:
        """ "en" or "zh": the page's language (English unless the provider's page says otherwise)."""
        return "en"

    def finish(self, order_id: str, outcome: str) -> str:
        """Run the payer's `outcome` at the sandbox; the URL the provider then sends the browser to.
        Raises the sandbox's OrderClosed when the order can no longer take it."""
        self.sandbox.control(order_id, outcome)
        return self.browser_goes_to(order_id, outcome)

    @abstractmethod
    def browser_goes_to(self, order_id: str, outcome: str) -> str:
        """Where the provider sends the browser after the payer's `outcome`: a merchant's URL given at
        create ("" when none was)."""


def label(key: str, language: str) -> str:
    """A page's word in English, with the provider's own beside it where the page's language is
    another: every page reads in any browser, one without the fonts for Chinese included."""
    english = html.escape(LABELS["en"][key])
    if language == "en":
        return english
    return f'{english} <span class="locale" lang="{language}">{html.escape(LABELS[language][key])}</span>'


def checkout_page(checkout: Checkout[Any], order_id: str, language: str, message: str = "") -> bytes:
    """The checkout page of `order_id`: the order, a button per outcome while the order can still take
    one (none once it is closed: paid, cancelled, failed or expired), its refunds; `message` (HTML)
    above the buttons."""
    view = checkout.view(order_id)

    def word(key: str) -> str:
        return label(key, language)

    buttons = (
        "".join(
            f'<form method="post" action="/_checkout/{quote(order_id, safe="")}/{outcome}" '
            f'style="display:inline"><button id="{outcome}" type="submit">{word(outcome)}</button></form>'
            for outcome in OUTCOMES
        )
        if view.payable
        else f'<p id="closed">{word("closed")}</p>'
    )
    refund_rows = "".join(
        f"<tr><td>{html.escape(r.merchant_refund_id or r.refund_id)}</td>"
        f"<td>{html.escape(major_units(r.amount, r.currency))}</td>"
        f"<td>{html.escape(r.status)}</td></tr>"
        for r in view.refunds
    )
    refunds = (
        f'<table id="refunds"><tr><th>{word("refund")}</th><th>{word("amount")}</th>'
        f"<th>{word('status')}</th></tr>{refund_rows}</table>"
        if view.refunds
        else f'<p id="refunds">{word("no_refunds")}</p>'
    )
    name = html.escape(checkout.display_name)
    method = f'<p id="payment-method">{html.escape(view.payment_method)}</p>' if view.payment_method else ""
    return page(
        f"{checkout.display_name} — {LABELS['en']['order']} {order_id}",
        (
            f"<h1>{html.escape(checkout.title)}</h1>{method}<p>{name} · {word('notice')}</p>"
            f'<p id="description">{html.escape(view.description or "—")}</p>'
            f'<p>{word("amount")}: <span id="amount" class="status">'
            f"{html.escape(major_units(view.amount, view.currency))}</span></p>"
            f"<p>{word('order')} <b>{html.escape(order_id)}</b> · {word('status')}: "
            f'<span id="provider-status">{html.escape(view.status)}</span></p>'
            f"{message}{buttons}<h2>{word('refunds')}</h2>{refunds}"
        ),
    )
