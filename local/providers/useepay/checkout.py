"""UseePay's hosted checkout page, as its sandbox serves it (local/checkout.py draws it)."""

from __future__ import annotations

from urllib.parse import urlsplit

from local.checkout import Checkout, OrderView
from local.providers.useepay.sandbox import UseePaySandbox


class UseePayCheckout(Checkout[UseePaySandbox]):
    provider = "useepay"

    def order_of(self, path: str, query: str) -> str | None:
        return next(
            (
                tid
                for tid, t in self.sandbox.transactions.items()
                if "checkout" in t and urlsplit(t["checkout"]).path == path
            ),
            None,
        )

    def view(self, order_id: str) -> OrderView:
        txn = self.sandbox.transactions[order_id]
        return OrderView(
            order_id,
            int(txn["amount"]),
            txn["currency"],
            txn.get("subject", ""),  # orderInfo.subject: what the merchant called the order
            txn["resultCode"],
            self.sandbox.is_open(order_id),
            self.sandbox.refunds(order_id),
        )

    def browser_goes_to(self, order_id: str, outcome: str) -> str:
        # UseePay knows one merchant URL (redirectUrl): every outcome goes back there.
        return self.sandbox.transactions[order_id]["redirectUrl"]
