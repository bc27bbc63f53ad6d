"""What a payer's click on a sandbox checkout page means for each provider.

Each provider's sandbox already speaks its wire format; this maps the four buttons (Pay, Cancel,
Fail, Expire) onto the status words and signed notifications that provider really sends, and tells
where the provider sends the browser afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from local.sandboxes.alipay_intl import AlipayIntlSandbox
from local.sandboxes.multisafepay import MultiSafepaySandbox
from local.sandboxes.useepay import UseePaySandbox

OUTCOMES = ("pay", "cancel", "fail", "expire")


@dataclass(frozen=True)
class Delivery:
    """A notification to POST to the merchant, and where the browser goes next."""

    url: str
    headers: dict[str, str]
    body: bytes
    browser_url: str


@dataclass(frozen=True)
class OrderView:
    order_id: str
    amount: str
    currency: str
    description: str


class Checkout(Protocol):
    provider: str
    title: str

    def order_of(self, path: str, query: str) -> str | None:
        """The order a checkout page URL belongs to."""

    def view(self, order_id: str) -> OrderView: ...

    def finish(self, order_id: str, outcome: str) -> Delivery: ...


class MultiSafepayCheckout:
    provider = "multisafepay"
    title = "MultiSafepay — Alipay"
    WORDS = {"pay": "completed", "cancel": "void", "fail": "declined", "expire": "expired"}

    def __init__(self, sandbox: MultiSafepaySandbox) -> None:
        self.sandbox = sandbox

    def order_of(self, path: str, query: str) -> str | None:
        return next(
            (oid for oid, o in self.sandbox.orders.items() if urlsplit(o["_payment_url"]).path == path), None
        )

    def view(self, order_id: str) -> OrderView:
        order = self.sandbox.orders[order_id]
        return OrderView(order_id, str(order["amount"]), order["currency"], order["description"])

    def finish(self, order_id: str, outcome: str) -> Delivery:
        self.sandbox.set_status(order_id, self.WORDS[outcome])
        url, headers, body = self.sandbox.notification(order_id)
        options = self.sandbox.orders[order_id]["_options"]
        browser = options.get("cancel_url") if outcome == "cancel" else options.get("redirect_url")
        return Delivery(url, headers, body, str(browser or ""))


class UseePayCheckout:
    provider = "useepay"
    title = "UseePay — Alipay"
    CODES = {
        "pay": ("succeed", "0000"),
        "cancel": ("cancelled", "0000"),
        "fail": ("failed", "0053"),
        "expire": ("closed", "3300"),
    }

    def __init__(self, sandbox: UseePaySandbox) -> None:
        self.sandbox = sandbox

    def order_of(self, path: str, query: str) -> str | None:
        return next(
            (tid for tid, t in self.sandbox.transactions.items() if urlsplit(t["checkout"]).path == path),
            None,
        )

    def view(self, order_id: str) -> OrderView:
        txn = self.sandbox.transactions[order_id]
        return OrderView(order_id, txn["amount"], txn["currency"], order_id)

    def finish(self, order_id: str, outcome: str) -> Delivery:
        code, error = self.CODES[outcome]
        self.sandbox.settle(order_id, code, error)
        url, headers, body = self.sandbox.notification(order_id)
        # UseePay knows one merchant URL (redirectUrl): every outcome goes back there.
        return Delivery(url, headers, body, self.sandbox.transactions[order_id]["redirectUrl"])


class AlipayIntlCheckout:
    provider = "alipay_intl"
    title = "Alipay — international cashier"
    # notify.pay reports a payment's result: S + SUCCESS, or F. A cancelled or expired cashier is
    # reported as a failed payment (there is no other word for it in this notification).
    CODES = {"pay": "SUCCESS", "cancel": "PROCESS_FAIL", "fail": "PROCESS_FAIL", "expire": "PROCESS_FAIL"}

    def __init__(self, sandbox: AlipayIntlSandbox) -> None:
        self.sandbox = sandbox

    def order_of(self, path: str, query: str) -> str | None:
        found = parse_qs(query).get("merchant_trans_id")
        return found[0] if found and found[0] in self.sandbox.orders else None

    def view(self, order_id: str) -> OrderView:
        order = self.sandbox.orders[order_id]
        amount = order["orderAmount"]
        return OrderView(
            order_id, amount["value"], amount["currency"], order["request"]["order"]["orderTitle"]
        )

    def finish(self, order_id: str, outcome: str) -> Delivery:
        delivery = self.sandbox.notification(order_id, self.CODES[outcome])
        browser = self.sandbox.orders[order_id]["request"].get("merchantRedirectUrl", "")
        return Delivery(delivery.url, delivery.headers, delivery.body, str(browser))
