"""UseePay's kit: fresh MD5 keys or RSA key pairs (its two sign types), its secret entry, its sandbox
and checkout, its status words and its refund events."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from local.providers.kit import (
    ProviderKit,
    SignedNotification,
    key_fragments,
    new_rsa_key,
    private_pem,
    public_pem,
    stranger_key,
)
from local.providers.useepay.checkout import UseePayCheckout
from local.providers.useepay.sandbox import UseePaySandbox, useepay_base_string
from payments.orders import OrderStatus as S

MERCHANT_NO = "500000000007264"
SAMPLE_MD5_KEY = "sample-useepay-md5-key-000000000000"  # signs the sample events (events/README.md)


# The broken notifications UseePay's scheme allows (MD5 with the key, or SHA256withRSA, over the sorted
# fields), and the refusal code each gets; RSA adds the key-pair mistakes.
BROKEN_KINDS = {
    "plus_as_space": "body_altered",
    "encoded_twice": "body_altered",
    "other_account": "other_account",
    "unsigned": "unsigned",
    "wrong_key": "signature_invalid",
    "malformed": "malformed",
}
BROKEN_RSA_KINDS = {
    **BROKEN_KINDS,
    "other_hash": "signed_with_other_hash",
    "your_key": "signed_with_your_key",
}


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
    notify_cpu_target_ms = {"MD5": 2.0, "RSA": 2.0}
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

    def broken_kinds(self, sandbox: UseePaySandbox) -> Mapping[str, str]:
        return BROKEN_RSA_KINDS if sandbox.sign_type == "RSA" else BROKEN_KINDS

    def broken(
        self, credentials: Credentials, sandbox: UseePaySandbox, order_id: str, kind: str
    ) -> SignedNotification:
        genuine = self.statement(sandbox, order_id, "paid")
        fields = dict(parse_qsl(genuine.body.decode(), keep_blank_values=True))

        def signed(
            values: dict[str, str], key: rsa.RSAPrivateKey | None = None, hash_name: str = "SHA256"
        ) -> str:
            text = useepay_base_string(values)
            if sandbox.sign_type == "MD5":
                secret = "not-" + sandbox.md5_key if key is not None else sandbox.md5_key
                return hashlib.md5(f"{text}&pkey={secret}".encode()).hexdigest()
            algorithm = hashes.SHA256() if hash_name == "SHA256" else hashes.SHA1()  # noqa: S303 - a mistake shown
            signer = key or sandbox.useepay_private_key
            if signer is None:
                raise ValueError("an RSA sandbox needs UseePay's private key")
            return base64.b64encode(signer.sign(text.encode(), padding.PKCS1v15(), algorithm)).decode()

        body = genuine.body
        if kind == "plus_as_space":
            # A time with its offset, its '+' sent unescaped: it arrives as a space.
            fields["reserved"] = "2026-12-06T10:00:00+08:00"
            fields["sign"] = signed(fields)
            body = urlencode(fields).replace("%2B", "+").encode()
        elif kind == "encoded_twice":
            body = urlencode({name: quote(value, safe="") for name, value in fields.items()}).encode()
        elif kind == "other_account":
            fields["merchantNo"] = "500000000009999"
            fields["sign"] = signed(fields)
            body = urlencode(fields).encode()
        elif kind == "unsigned":
            del fields["sign"]
            body = urlencode(fields).encode()
        elif kind == "wrong_key":
            fields["sign"] = signed(fields, key=stranger_key())
            body = urlencode(fields).encode()
        elif kind == "malformed":
            body = genuine.body + b"&transactionId=" + order_id.encode()
        elif kind == "other_hash":
            fields["sign"] = signed(fields, hash_name="SHA1")
            body = urlencode(fields).encode()
        elif kind == "your_key":
            fields["sign"] = signed(fields, key=credentials.merchant_key)
            body = urlencode(fields).encode()
        else:
            raise KeyError(kind)
        return SignedNotification(
            "POST", genuine.url, dict(genuine.headers), body, genuine.word, genuine.target
        )

    def misconfigurations(self, credentials: Credentials) -> Mapping[str, tuple[str, str]]:
        if credentials.sign_type == "MD5":
            return {"wrong_key": ("credentials", "fail")}
        return {"wrong_key": ("credentials", "fail"), "provider_key_is_yours": ("provider_key", "fail")}

    def misconfigured_entry(self, credentials: Credentials, base_url: str, mistake: str) -> dict[str, Any]:
        entry = self.secret_entry(credentials, base_url)
        if mistake == "wrong_key" and credentials.sign_type == "MD5":
            return {**entry, "md5_key": "not-" + credentials.md5_key}
        if mistake == "wrong_key":
            return {**entry, "private_key": private_pem(stranger_key())}
        if mistake == "provider_key_is_yours" and credentials.merchant_key is not None:
            return {**entry, "useepay_public_key": public_pem(credentials.merchant_key)}
        raise KeyError(mistake)

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
