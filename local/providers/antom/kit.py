"""Antom's kit: fresh key pairs (the merchant's and Antom's), its secret entry, its sandbox and cashier
pages, its result words."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from local.providers.antom.checkout import AntomCheckout
from local.providers.antom.sandbox import AntomSandbox, now, signature_header, signed_content
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
SAMPLE_KEYS = Path(__file__).resolve().parents[3] / "events" / "antom"
TEST_CLIENT_ID = "SANDBOX_5YBC2Z2ZJ4KJ06"  # a sandbox client id: paths under /ams/sandbox/api
SAMPLE_CLIENT_ID = "SANDBOX_SAMPLE000000001"


# The broken notifications Antom's scheme allows (SHA256withRSA over "POST <path>\n<client-id>.<time>.
# <body>"), and the refusal code each gets.
BROKEN_KINDS = {
    "other_hash": "signed_with_other_hash",
    "your_key": "signed_with_your_key",
    "wrong_path": "path_mismatch",
    "plus_as_space": "body_altered",
    "reserialised": "body_altered",
    "other_account": "other_account",
    "unsigned": "unsigned",
    "wrong_key": "signature_invalid",
    "malformed": "malformed",
}
RESULT_STATUS = {"paid": "S", "failed": "F", "unmapped": "U"}  # notifyPayment's result.resultStatus


@cache  # loading checks the key, which takes a while: once per process
def sample_key(name: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key((SAMPLE_KEYS / f"{name}.pem").read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"{name}.pem is not an RSA private key")
    return key


@dataclass(frozen=True, slots=True)
class Credentials:
    client_id: str
    merchant_key: rsa.RSAPrivateKey  # signs our requests
    antom_key: rsa.RSAPrivateKey  # signs Antom's replies and notifications


class AntomKit(ProviderKit[Credentials, AntomSandbox]):
    name = "antom"
    test_base_url = "https://open-sea-global.alipay.com"
    api_path_pattern = "/ams/(sandbox/)?api/v1/payments/.*"
    sample_order_id = "sample-order-4"
    notification_source_ip = "110.75.1.20"
    notify_cpu_target_ms = {"": 2.0}
    cancel_provider_calls = 2  # inquiryPayment first: Antom's cancel of a paid payment refunds it
    # PAYMENT_RESULT's resultCode; its resultStatus (RESULT_STATUS above) says what it means.
    outcomes = {
        "paid": ("SUCCESS", S.PAID),
        "failed": ("USER_BALANCE_NOT_ENOUGH", S.FAILED),
        "unmapped": ("PAYMENT_IN_PROCESS", S.UNKNOWN),  # U: not a result PAYMENT_RESULT defines
    }

    @property
    def shop_label(self) -> str:
        return "Antom (Alipay and Alipay+ wallets)"

    @property
    def payment_method(self) -> str:
        return "Alipay via Antom"

    def new_credentials(self, variant: str = "") -> Credentials:
        return Credentials(TEST_CLIENT_ID, new_rsa_key(), new_rsa_key())

    def sample_credentials(self) -> Credentials:
        return Credentials(
            SAMPLE_CLIENT_ID,
            sample_key("sample_merchant_private_key"),
            sample_key("sample_antom_private_key"),
        )

    def new_sandbox(self, credentials: Credentials) -> AntomSandbox:
        return AntomSandbox(
            client_id=credentials.client_id,
            merchant_public_key=credentials.merchant_key.public_key(),
            antom_private_key=credentials.antom_key,
        )

    def secret_entry(self, credentials: Credentials, base_url: str) -> dict[str, Any]:
        return {
            "client_id": credentials.client_id,
            "private_key": pem_body(private_pem(credentials.merchant_key)),  # bare base64, PKCS#8
            "antom_public_key": pem_body(public_pem(credentials.antom_key)),  # as Antom hands it out
            "base_url": base_url,
        }

    def secret_texts(self, credentials: Credentials) -> list[str]:
        return [
            *key_fragments(private_pem(credentials.merchant_key)),
            *key_fragments(private_pem(credentials.merchant_key, "pkcs1")),
            *key_fragments(private_pem(credentials.antom_key)),
        ]

    def checkout(self, sandbox: AntomSandbox) -> AntomCheckout:
        return AntomCheckout(sandbox)

    def serve_pages_at(self, sandbox: AntomSandbox, base_url: str) -> None:
        sandbox.cashier_base = f"{base_url}/cashier"

    def statement(self, sandbox: AntomSandbox, order_id: str, outcome: str) -> SignedNotification:
        code, target = self.outcomes[outcome]
        payment = sandbox.payments[order_id]
        if outcome == "paid":
            payment.update({"status": "SUCCESS", "paymentTime": payment["paymentTime"] or now()})
        elif outcome == "failed":
            payment.update({"status": "FAIL", "resultCode": code})
        sent = sandbox.payment_notification(order_id, result=(RESULT_STATUS[outcome], code))
        return SignedNotification(sent.method, sent.url, dict(sent.headers), sent.body, code, target)

    def broken_kinds(self, sandbox: AntomSandbox) -> Mapping[str, str]:
        return BROKEN_KINDS

    def broken(
        self, credentials: Credentials, sandbox: AntomSandbox, order_id: str, kind: str
    ) -> SignedNotification:
        if kind not in BROKEN_KINDS:
            raise KeyError(kind)
        genuine = self.statement(sandbox, order_id, "paid")
        body, moment = genuine.body, genuine.headers["request-time"]
        path, client_id = urlsplit(genuine.url).path, sandbox.client_id
        key = credentials.antom_key
        hash_name: hashes.HashAlgorithm = hashes.SHA256()
        if kind == "other_hash":
            hash_name = hashes.SHA1()  # noqa: S303 - the mistake this kind shows
        elif kind == "your_key":
            key = credentials.merchant_key
        elif kind == "wrong_key":
            key = stranger_key()
        elif kind == "wrong_path":
            path = "/Prod" + path  # Antom called a stage our notify URL does not name
        elif kind == "other_account":
            client_id = "SANDBOX_OTHER0000000001"

        def signature(at: str) -> str:
            raw = key.sign(signed_content(path, client_id, at, body), padding.PKCS1v15(), hash_name)
            return base64.b64encode(raw).decode("ascii")

        value = signature(moment)
        if kind == "plus_as_space":  # sent without URL-encoding: needs a '+' in it to show
            start = datetime.fromisoformat(moment)
            for back in range(60):
                moment = (start - timedelta(seconds=back)).isoformat()
                value = signature(moment)
                if "+" in value:
                    break
        else:
            value = quote_plus(value)
        headers = {**genuine.headers, "client-id": client_id, "request-time": moment}
        headers["signature"] = signature_header(value)
        if kind == "reserialised":  # signed as Antom lays it out, compacted on the way
            body = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode()
        elif kind == "unsigned":
            del headers["signature"]
        elif kind == "malformed":
            body = b"{" + body
        return SignedNotification("POST", genuine.url, headers, body, genuine.word, genuine.target)

    def misconfigurations(self, credentials: Credentials) -> Mapping[str, tuple[str, str]]:
        return {
            "provider_key_is_yours": ("provider_key", "fail"),
            "wrong_key": ("credentials", "fail"),
            "unknown_host": ("environment", "warn"),
        }

    def misconfigured_entry(self, credentials: Credentials, base_url: str, mistake: str) -> dict[str, Any]:
        entry = self.secret_entry(credentials, base_url)
        if mistake == "provider_key_is_yours":
            return {**entry, "antom_public_key": pem_body(public_pem(credentials.merchant_key))}
        if mistake == "wrong_key":
            return {**entry, "private_key": pem_body(private_pem(stranger_key()))}
        if mistake == "unknown_host":
            return {**entry, "base_url": "https://antom.example.com"}
        raise KeyError(mistake)

    def create_calls(self, sandbox: AntomSandbox, order_id: str) -> int:
        return sum(
            1
            for call in sandbox.calls
            if call.operation == "pay" and call.body.get("paymentRequestId") == order_id
        )

    def holds_order(self, sandbox: AntomSandbox, order_id: str) -> bool:
        return order_id in sandbox.payments

    def restate_amount(self, sandbox: AntomSandbox, order_id: str, value: int) -> None:
        sandbox.payments[order_id]["paymentAmount"]["value"] = str(value)
        sandbox.pay_silently(order_id)

    def open_order(
        self, sandbox: AntomSandbox, order_id: str, *, notify_url: str, return_url: str, description: str
    ) -> str:
        amount = {"currency": "EUR", "value": "1250"}
        body = {
            "productCode": "CASHIER_PAYMENT",
            "paymentRequestId": order_id,
            "paymentAmount": amount,
            "paymentMethod": {"paymentMethodType": "ALIPAY_CN"},
            "order": {"referenceOrderId": order_id, "orderDescription": description, "orderAmount": amount},
            "paymentRedirectUrl": return_url,
            "paymentNotifyUrl": notify_url,
            "env": {"terminalType": "WEB"},
        }
        return str(sandbox._make(body)["normalUrl"])  # what a pay call makes, unrecorded


KIT = AntomKit()
