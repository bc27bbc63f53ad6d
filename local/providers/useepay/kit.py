"""UseePay's kit: fresh MD5 keys or RSA key pairs (its two sign types), its secret entry, its sandbox
and checkout, its status words and its refund events."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from local.providers.kit import (
    ProviderKit,
    SignedNotification,
    key_fragments,
    new_rsa_key,
    private_pem,
    public_pem,
)
from local.providers.useepay.checkout import UseePayCheckout
from local.providers.useepay.sandbox import UseePaySandbox
from payments.orders import OrderStatus as S

MERCHANT_NO = "500000000007264"
SAMPLE_MD5_KEY = "sample-useepay-md5-key-000000000000"  # signs the sample events (events/README.md)


@dataclass(frozen=True, slots=True)
class Credentials:
    sign_type: str  # "MD5" | "RSA"
    merchant_no: str
    md5_key: str = ""
    merchant_key: rsa.RSAPrivateKey | None = None  # signs our requests (RSA)
    useepay_key: rsa.RSAPrivateKey | None = None  # signs UseePay's replies and notifications (RSA)


class UseePayKit(ProviderKit[Credentials, UseePaySandbox]):
    name = "useepay"
    variants = ("MD5", "RSA")
    test_base_url = "https://pay-gateway1.uat.useepay.com"
    api_path_pattern = "/api"
    sample_order_id = "sample-order-2"
    notification_source_ip = "47.88.1.10"
    notify_cpu_target_ms = {"MD5": 2.0, "RSA": 5.0}
    outcomes = {
        "pending": ("pending", S.PENDING),
        "paid": ("succeed", S.PAID),
        "failed": ("failed", S.FAILED),
        "cancelled": ("cancelled", S.CANCELLED),
        "expired": ("closed", S.EXPIRED),
        "unmapped": ("mystery", S.UNKNOWN),
    }

    def new_credentials(self, variant: str = "") -> Credentials:
        if variant in ("", "MD5"):
            return Credentials("MD5", MERCHANT_NO, md5_key=secrets.token_hex(16))
        return Credentials("RSA", MERCHANT_NO, merchant_key=new_rsa_key(), useepay_key=new_rsa_key())

    def sample_credentials(self) -> Credentials:
        return Credentials("MD5", MERCHANT_NO, md5_key=SAMPLE_MD5_KEY)

    def new_sandbox(self, credentials: Credentials) -> UseePaySandbox:
        if credentials.sign_type == "MD5":
            return UseePaySandbox(
                merchant_no=credentials.merchant_no, sign_type="MD5", md5_key=credentials.md5_key
            )
        if credentials.merchant_key is None or credentials.useepay_key is None:
            raise ValueError("RSA credentials need both key pairs")
        return UseePaySandbox(
            merchant_no=credentials.merchant_no,
            sign_type="RSA",
            merchant_public_key=credentials.merchant_key.public_key(),
            useepay_private_key=credentials.useepay_key,
        )

    def secret_entry(self, credentials: Credentials, base_url: str) -> dict[str, Any]:
        entry = {"merchant_no": credentials.merchant_no, "app_id": "shop.example.com", "base_url": base_url}
        if credentials.sign_type == "MD5":
            return {**entry, "sign_type": "MD5", "md5_key": credentials.md5_key}
        if credentials.merchant_key is None or credentials.useepay_key is None:
            raise ValueError("RSA credentials need both key pairs")
        return {
            **entry,
            "sign_type": "RSA",
            "private_key": private_pem(credentials.merchant_key),
            "useepay_public_key": public_pem(credentials.useepay_key),
        }

    def secret_texts(self, credentials: Credentials) -> list[str]:
        texts = [credentials.md5_key] if credentials.md5_key else []
        for key in (credentials.merchant_key, credentials.useepay_key):
            if key is not None:
                texts += key_fragments(private_pem(key))
        return texts

    def checkout(self, sandbox: UseePaySandbox) -> UseePayCheckout:
        return UseePayCheckout(sandbox)

    def serve_pages_at(self, sandbox: UseePaySandbox, base_url: str) -> None:
        sandbox.checkout_base = f"{base_url}/checkout/"

    def statement(self, sandbox: UseePaySandbox, order_id: str, outcome: str) -> SignedNotification:
        word, target = self.outcomes[outcome]
        sandbox.settle(order_id, word)
        url, headers, body = sandbox.notification(order_id)
        return SignedNotification("POST", url, dict(headers), body, word, target)

    def refund_statement(
        self, sandbox: UseePaySandbox, order_id: str, refund_id: str, amount: int, *, pending: bool = False
    ) -> SignedNotification:
        code = "pending" if pending else "succeed"
        url, headers, body = sandbox.refund_notification(
            order_id, amount, result_code=code, refund_id=refund_id
        )
        paid = int(sandbox.transactions[order_id]["amount"])
        target = S.UNKNOWN if pending else S.PARTIALLY_REFUNDED if amount < paid else S.REFUNDED
        return SignedNotification(
            "POST",
            url,
            dict(headers),
            body,
            f"refund:{code}",
            target,
            refund_key=f"refund:{refund_id}:{code}",
        )

    def create_calls(self, sandbox: UseePaySandbox, order_id: str) -> int:
        return sum(
            1
            for call in sandbox.calls
            if call.get("transactionType") == "pay" and call.get("transactionId") == order_id
        )

    def holds_order(self, sandbox: UseePaySandbox, order_id: str) -> bool:
        return order_id in sandbox.transactions

    def restate_amount(self, sandbox: UseePaySandbox, order_id: str, value: int) -> None:
        sandbox.transactions[order_id]["amount"] = str(value)
        sandbox.pay_silently(order_id)

    def open_order(
        self, sandbox: UseePaySandbox, order_id: str, *, notify_url: str, return_url: str, description: str
    ) -> str:
        fields = {
            "version": "1.0",
            "signType": sandbox.sign_type,
            "merchantNo": sandbox.merchant_no,
            "transactionType": "pay",
            "transactionId": order_id,
            "appId": "shop.example.com",
            "amount": "1250",
            "currency": "EUR",
            "notifyUrl": notify_url,
            "redirectUrl": return_url,
            "payerInfo": json.dumps({"paymentMethod": "alipay", "terminalType": "WEB"}),
            "userInfo": json.dumps({"ip": "127.0.0.1"}),
            "orderInfo": json.dumps({"subject": description}),
        }
        sandbox._pay(fields)  # what a create call runs, unrecorded
        return sandbox.transactions[order_id]["checkout"]


KIT = UseePayKit()
