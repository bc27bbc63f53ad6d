"""MultiSafepay's hosted checkout page, as its sandbox serves it (local/checkout.py draws it)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from local.checkout import Checkout, OrderView
from local.providers.multisafepay.sandbox import MultiSafepaySandbox


def language_of(locale: str) -> str:
    """MultiSafepay's locales: zh_CN, and its own cn_CN, read as Chinese; everything else English."""
    return "zh" if locale.lower().startswith(("zh", "cn")) else "en"


class MultiSafepayCheckout(Checkout[MultiSafepaySandbox]):
    provider = "multisafepay"

    def order_of(self, path: str, query: str) -> str | None:
        return next(
            (oid for oid, o in self.sandbox.orders.items() if urlsplit(o["_payment_url"]).path == path), None
        )

    def view(self, order_id: str) -> OrderView:
        order = self.sandbox.orders[order_id]
        return OrderView(
            order_id,
            order["amount"],
            order["currency"],
            order["description"],
            order["status"],
            self.sandbox.is_open(order_id),
            self.sandbox.refunds(order_id),
        )

    def language(self, order_id: str, query: str) -> str:
        """The payment link's `lang` (the customer's locale at create), as MultiSafepay's pages do."""
        found = parse_qs(query).get("lang")
        locale = found[0] if found else self.sandbox.orders[order_id]["customer"].get("locale")
        return language_of(str(locale or ""))

    def browser_goes_to(self, order_id: str, outcome: str) -> str:
        options = self.sandbox.orders[order_id]["_options"]
        browser = options.get("cancel_url") if outcome == "cancel" else options.get("redirect_url")
        return str(browser or "")
