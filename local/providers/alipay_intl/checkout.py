"""Alipay's hosted cashier page, as its sandbox serves it (local/checkout.py draws it)."""

from __future__ import annotations

from urllib.parse import parse_qs

from local.checkout import Checkout, OrderView
from local.providers.alipay_intl.sandbox import AlipayIntlSandbox


class AlipayIntlCheckout(Checkout[AlipayIntlSandbox]):
    provider = "alipay_intl"
    page_name = "international cashier"

    def order_of(self, path: str, query: str) -> str | None:
        found = parse_qs(query).get("merchant_trans_id")
        return found[0] if found and found[0] in self.sandbox.orders else None

    def view(self, order_id: str) -> OrderView:
        order = self.sandbox.orders[order_id]
        amount = order["orderAmount"]
        return OrderView(
            order_id,
            int(amount["value"]),
            amount["currency"],
            order["request"]["order"]["orderTitle"],
            order["payStatus"],
            self.sandbox.is_open(order_id),
            self.sandbox.refunds(order_id),
        )

    def browser_goes_to(self, order_id: str, outcome: str) -> str:
        return str(self.sandbox.orders[order_id]["request"].get("merchantRedirectUrl", ""))
