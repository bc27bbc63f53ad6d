"""Antom's hosted cashier, a page per wallet (`<cashier>/<wallet>?paymentId=…`), as its sandbox serves
it (local/checkout.py draws it)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from local.checkout import Checkout, OrderView
from local.providers.antom.sandbox import AntomSandbox

# How each wallet's page names itself (paymentMethodType -> the wallet's own name).
WALLET_NAMES = {
    "ALIPAY_CN": "Alipay",
    "ALIPAY_HK": "AlipayHK",
    "GCASH": "GCash",
    "DANA": "DANA",
    "KAKAOPAY": "Kakao Pay",
    "TRUEMONEY": "TrueMoney",
    "TNG": "Touch 'n Go eWallet",
    "BKASH": "bKash",
    "EASYPAISA": "Easypaisa",
}
CHINESE_PAGES = frozenset({"ALIPAY_CN", "ALIPAY_HK"})


class AntomCheckout(Checkout[AntomSandbox]):
    provider = "antom"
    page_name = "cashier"

    def order_of(self, path: str, query: str) -> str | None:
        found = parse_qs(query).get("paymentId")
        if not found:
            return None
        payment = next((p for p in self.sandbox.payments.values() if p["paymentId"] == found[0]), None)
        if payment is None or urlsplit(payment["normalUrl"]).path != path:
            return None  # another wallet's page, or no such payment
        return str(payment["paymentRequestId"])

    def view(self, order_id: str) -> OrderView:
        payment = self.sandbox.payments[order_id]
        amount = payment["paymentAmount"]
        return OrderView(
            order_id,
            int(amount["value"]),
            amount["currency"],
            payment["request"]["order"]["orderDescription"],
            payment["status"],
            payment["status"] == "PROCESSING",
            self.sandbox.refunds(order_id),
            payment_method=WALLET_NAMES[payment["wallet"]],
        )

    def language(self, order_id: str, query: str) -> str:
        return "zh" if self.sandbox.payments[order_id]["wallet"] in CHINESE_PAGES else "en"

    def browser_goes_to(self, order_id: str, outcome: str) -> str:
        # paymentRedirectUrl, whatever the payer did.
        return str(self.sandbox.payments[order_id]["request"]["paymentRedirectUrl"])
