"""Alipay international gateway's kit: fresh key pairs (the merchant's and Alipay's), its secret
entry, its sandbox and cashier page, its result codes."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from local.providers.alipay_intl.checkout import AlipayIntlCheckout
from local.providers.alipay_intl.sandbox import RESULT_CODES, AlipayIntlSandbox
from local.providers.kit import (
    ProviderKit,
    SignedNotification,
    key_fragments,
    new_rsa_key,
    pem_body,
    private_pem,
    public_pem,
    stranger_key,
)
from payments.orders import OrderStatus as S

# The sample events' key pairs: published with them, so never anyone's real keys (events/README.md).
SAMPLE_KEYS = Path(__file__).resolve().parents[3] / "events" / "alipay_intl"
SAMPLE_CLIENT_ID = "SAMPLE_CLIENT_ID_01"


@cache  # loading checks the key, which takes a while: once per process
def sample_key(name: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key((SAMPLE_KEYS / f"{name}.pem").read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"{name}.pem is not an RSA private key")
    return key


# The broken notifications the envelope scheme allows (RSA or RSA2 over the `request` value's text), and
# the refusal code each gets.
BROKEN_KINDS = {
    "other_hash": "signed_with_other_hash",
    "your_key": "signed_with_your_key",
    "reserialised": "body_altered",
    "bom": "body_altered",
    "other_account": "other_account",
    "unsigned": "unsigned",
    "wrong_key": "signature_invalid",
    "malformed": "malformed",
}


@dataclass(frozen=True, slots=True)
class Credentials:
    client_id: str
    merchant_id: str
    merchant_key: rsa.RSAPrivateKey  # signs our requests and our replies to notifications
    alipay_key: rsa.RSAPrivateKey  # signs Alipay's responses and notifications
    product_code: str = "CASHIER_PAYMENT"  # issued at onboarding; any value the sandbox is told
    sign_hash: str = "SHA256"


class AlipayIntlKit(ProviderKit[Credentials, AlipayIntlSandbox]):
    name = "alipay_intl"
    test_base_url = "https://open-sea.alipay.com"
    api_path_pattern = "/api/alipay/intl/.*"
    sample_order_id = "sample-order-3"
    notification_source_ip = "110.75.1.10"
    notify_cpu_target_ms = {"": 2.0}
    outcomes = {
        "paid": ("SUCCESS", S.PAID),
        "failed": ("PROCESS_FAIL", S.FAILED),
        "unmapped": ("UNKNOWN_EXCEPTION", S.UNKNOWN),
    }

    @property
    def shop_label(self) -> str:
        return "Alipay (international gateway)"

    @property
    def payment_method(self) -> str:
        return "Alipay, international gateway"  # Alipay itself: no provider in between

    def new_credentials(self, variant: str = "") -> Credentials:
        return Credentials(
            client_id="211020000000000000044",
            merchant_id="218820000000000000023",
            merchant_key=new_rsa_key(),
            alipay_key=new_rsa_key(),
        )

    def sample_credentials(self) -> Credentials:
        return Credentials(
            client_id=SAMPLE_CLIENT_ID,
            merchant_id="218820000000000000023",
            merchant_key=sample_key("sample_merchant_private_key"),
            alipay_key=sample_key("sample_alipay_private_key"),
        )

    def new_sandbox(self, credentials: Credentials) -> AlipayIntlSandbox:
        return AlipayIntlSandbox(
            client_id=credentials.client_id,
            merchant_id=credentials.merchant_id,
            merchant_public_key=credentials.merchant_key.public_key(),
            alipay_private_key=credentials.alipay_key,
            sign_hash=credentials.sign_hash,
        )

    def secret_entry(self, credentials: Credentials, base_url: str) -> dict[str, Any]:
        return {
            "client_id": credentials.client_id,
            "merchant_id": credentials.merchant_id,
            "product_code": credentials.product_code,
            "payment_site": "ALIPAY_CN",
            "sign_hash": credentials.sign_hash,
            "private_key": private_pem(credentials.merchant_key),
            "alipay_public_key": pem_body(public_pem(credentials.alipay_key)),  # as Alipay hands it out
            "base_url": base_url,
        }

    def secret_texts(self, credentials: Credentials) -> list[str]:
        return [
            *key_fragments(private_pem(credentials.merchant_key)),
            *key_fragments(private_pem(credentials.merchant_key, "pkcs1")),
            *key_fragments(private_pem(credentials.alipay_key)),
        ]

    def checkout(self, sandbox: AlipayIntlSandbox) -> AlipayIntlCheckout:
        return AlipayIntlCheckout(sandbox)

    def serve_pages_at(self, sandbox: AlipayIntlSandbox, base_url: str) -> None:
        sandbox.cashier_url = f"{base_url}/cashier"

    def statement(self, sandbox: AlipayIntlSandbox, order_id: str, outcome: str) -> SignedNotification:
        word, target = self.outcomes[outcome]
        sent = sandbox.notification(order_id, word)
        recorded = f"{RESULT_CODES[word][1]}:{word}"  # Alipay's resultStatus:resultCode
        return SignedNotification("POST", sent.url, dict(sent.headers), sent.body, recorded, target)

    def broken_kinds(self, sandbox: AlipayIntlSandbox) -> Mapping[str, str]:
        return BROKEN_KINDS

    def broken(
        self, credentials: Credentials, sandbox: AlipayIntlSandbox, order_id: str, kind: str
    ) -> SignedNotification:
        other_hash = "SHA1" if sandbox.sign_hash == "SHA256" else "SHA256"
        variations: dict[str, dict[str, Any]] = {
            "other_hash": {"hash_name": other_hash},
            "your_key": {"key": credentials.merchant_key},
            "reserialised": {"style": "compact"},
            "other_account": {"head_changes": {"clientId": "211020000000000099999"}},
            "wrong_key": {"key": stranger_key()},
        }
        options = variations.get(kind, {})
        sent = sandbox.notification(order_id, "SUCCESS", **options)
        body = sent.body
        if kind == "reserialised":  # signed compact, pretty-printed on the way
            body = json.dumps(json.loads(body), indent=2, ensure_ascii=False).encode()
        elif kind == "bom":
            body = b"\xef\xbb\xbf" + body
        elif kind == "unsigned":
            body = re.sub(rb'"signature": "[^"]*"', b'"signature": ""', body)
        elif kind == "malformed":
            body = b"request=" + body
        elif kind not in BROKEN_KINDS:
            raise KeyError(kind)
        word, target = self.outcomes["paid"]
        recorded = f"{RESULT_CODES[word][1]}:{word}"
        return SignedNotification("POST", sent.url, dict(sent.headers), body, recorded, target)

    def misconfigurations(self, credentials: Credentials) -> Mapping[str, tuple[str, str]]:
        return {
            "provider_key_is_yours": ("provider_key", "fail"),
            "other_hash": ("signing", "warn"),
            "wrong_key": ("credentials", "fail"),
        }

    def misconfigured_entry(self, credentials: Credentials, base_url: str, mistake: str) -> dict[str, Any]:
        entry = self.secret_entry(credentials, base_url)
        if mistake == "provider_key_is_yours":
            return {**entry, "alipay_public_key": pem_body(public_pem(credentials.merchant_key))}
        if mistake == "other_hash":
            return {**entry, "sign_hash": "RSA" if credentials.sign_hash == "SHA256" else "RSA2"}
        if mistake == "wrong_key":
            return {**entry, "private_key": private_pem(stranger_key())}
        raise KeyError(mistake)

    def create_calls(self, sandbox: AlipayIntlSandbox, order_id: str) -> int:
        return sum(
            1
            for call in sandbox.calls
            if call.function.endswith("prepareForRedirect") and call.body.get("merchantTransId") == order_id
        )

    def holds_order(self, sandbox: AlipayIntlSandbox, order_id: str) -> bool:
        return order_id in sandbox.orders

    def restate_amount(self, sandbox: AlipayIntlSandbox, order_id: str, value: int) -> None:
        sandbox.orders[order_id]["orderAmount"]["value"] = str(value)
        sandbox.pay_silently(order_id)

    def open_order(
        self,
        sandbox: AlipayIntlSandbox,
        order_id: str,
        *,
        notify_url: str,
        return_url: str,
        description: str,
    ) -> str:
        body = {
            "merchantId": sandbox.merchant_id,
            "productCode": "CASHIER_PAYMENT",
            "merchantTransId": order_id,
            "order": {"orderAmount": {"currency": "EUR", "value": "1250"}, "orderTitle": description},
            "paymentSite": "ALIPAY_CN",
            "terminalType": "WEB",
            "merchantRedirectUrl": return_url,
            "notifyUrl": notify_url,
        }
        answer = sandbox._prepare(body)  # what a prepareForRedirect call runs, unrecorded
        return str(answer["paymentSiteUrl"])


KIT = AlipayIntlKit()
