"""MultiSafepay's kit: fresh API keys, its secret entry, its sandbox and checkout, its status words."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from local.providers.kit import ProviderKit, SignedNotification
from local.providers.multisafepay.checkout import MultiSafepayCheckout
from local.providers.multisafepay.sandbox import MultiSafepaySandbox
from payments.orders import OrderStatus as S

# The order's cumulative refunded total (of a 1000 order), as MultiSafepay reports it with these words.
REFUNDED_TOTALS = {"partially_refunded": 300, "refunded": 1000}
SAMPLE_API_KEY = "sample-msp-api-key-0000000000000000000000"  # signs the sample events (events/README.md)


# The broken notifications MultiSafepay's scheme allows (HMAC-SHA512 over "<ts>:<body>" with the API
# key), and the refusal code each gets.
BROKEN_KINDS = {
    "other_hash": "signed_with_other_hash",
    "reserialised": "body_altered",
    "bom": "body_altered",
    "stale": "stale_timestamp",
    "unsigned": "unsigned",
    "wrong_key": "signature_invalid",
    "malformed": "malformed",
}


@dataclass(frozen=True, slots=True)
class Credentials:
    api_key: str


class MultiSafepayKit(ProviderKit[Credentials, MultiSafepaySandbox]):
    name = "multisafepay"
    test_base_url = "https://testapi.multisafepay.com"
    api_path_pattern = "/v1/json/.*"
    api_methods = ("GET", "POST", "PATCH")
    sample_order_id = "sample-order-1"
    notification_source_ip = "185.110.48.12"
    notify_cpu_target_ms = {"": 2.0}
    outcomes = {
        "pending": ("initialized", S.PENDING),
        "paid": ("completed", S.PAID),
        "failed": ("declined", S.FAILED),
        "cancelled": ("void", S.CANCELLED),
        "expired": ("expired", S.EXPIRED),
        "refunded": ("refunded", S.REFUNDED),
        "partially_refunded": ("partial_refunded", S.PARTIALLY_REFUNDED),
        "charged_back": ("chargeback", S.CHARGED_BACK),
        "unmapped": ("teleported", S.UNKNOWN),
    }

    def new_credentials(self, variant: str = "") -> Credentials:
        return Credentials(api_key=secrets.token_hex(20))

    def sample_credentials(self) -> Credentials:
        return Credentials(api_key=SAMPLE_API_KEY)

    def new_sandbox(self, credentials: Credentials) -> MultiSafepaySandbox:
        return MultiSafepaySandbox(api_key=credentials.api_key)

    def secret_entry(self, credentials: Credentials, base_url: str) -> dict[str, Any]:
        return {"api_key": credentials.api_key, "base_url": f"{base_url}/v1/json/", "gateway": "ALIPAY"}

    def secret_texts(self, credentials: Credentials) -> list[str]:
        return [credentials.api_key]

    def checkout(self, sandbox: MultiSafepaySandbox) -> MultiSafepayCheckout:
        return MultiSafepayCheckout(sandbox)

    def serve_pages_at(self, sandbox: MultiSafepaySandbox, base_url: str) -> None:
        sandbox.checkout_base = f"{base_url}/connect/"

    def statement(self, sandbox: MultiSafepaySandbox, order_id: str, outcome: str) -> SignedNotification:
        word, target = self.outcomes[outcome]
        sandbox.set_status(order_id, word)
        sandbox.orders[order_id]["amount_refunded"] = REFUNDED_TOTALS.get(outcome, 0)
        url, headers, body = sandbox.notification(order_id)
        return SignedNotification("POST", url, dict(headers), body, word, target)

    def broken_kinds(self, sandbox: MultiSafepaySandbox) -> Mapping[str, str]:
        return BROKEN_KINDS

    def broken(
        self, credentials: Credentials, sandbox: MultiSafepaySandbox, order_id: str, kind: str
    ) -> SignedNotification:
        genuine = self.statement(sandbox, order_id, "paid")
        body, now = genuine.body, int(time.time())

        def auth(
            signed: bytes,
            *,
            at: int = now,
            key: str = sandbox.api_key,
            digest: Callable[..., Any] = hashlib.sha512,
        ) -> str:
            mac = hmac.new(key.strip().encode(), f"{at}:".encode() + signed, digest).hexdigest()
            return base64.b64encode(f"{at}:{mac}".encode()).decode()

        headers = {"Content-Type": "application/json", "Auth": auth(body)}
        if kind == "other_hash":
            headers["Auth"] = auth(body, digest=hashlib.sha256)
        elif kind == "reserialised":
            body = json.dumps(json.loads(body), indent=2).encode()
        elif kind == "bom":
            body = b"\xef\xbb\xbf" + body
        elif kind == "stale":
            headers["Auth"] = auth(body, at=now - 3600)
        elif kind == "unsigned":
            del headers["Auth"]
        elif kind == "wrong_key":
            headers["Auth"] = auth(body, key="not-" + sandbox.api_key)
        elif kind == "malformed":
            headers["Auth"] = "not base64!"
        else:
            raise KeyError(kind)
        return SignedNotification("POST", genuine.url, headers, body, genuine.word, genuine.target)

    def misconfigurations(self, credentials: Credentials) -> Mapping[str, tuple[str, str]]:
        return {"wrong_api_key": ("credentials", "fail"), "unknown_host": ("environment", "warn")}

    def misconfigured_entry(self, credentials: Credentials, base_url: str, mistake: str) -> dict[str, Any]:
        entry = self.secret_entry(credentials, base_url)
        if mistake == "wrong_api_key":
            return {**entry, "api_key": "not-" + credentials.api_key}
        if mistake == "unknown_host":
            return {**entry, "base_url": "https://api.example.com/v1/json/"}
        raise KeyError(mistake)

    def sample_notifications(self, sandbox: MultiSafepaySandbox, order_id: str) -> list[SignedNotification]:
        """The signed POST, and the legacy unsigned GET to the same URL (resolved by asking MultiSafepay)."""
        signed = self.statement(sandbox, order_id, "paid")
        return [signed, SignedNotification("GET", signed.url, {}, b"", signed.word, signed.target)]

    def create_calls(self, sandbox: MultiSafepaySandbox, order_id: str) -> int:
        return sum(
            1
            for call in sandbox.calls
            if call.method == "POST"
            and call.path.endswith("/orders")
            and isinstance(call.body, dict)
            and call.body.get("order_id") == order_id
        )

    def holds_order(self, sandbox: MultiSafepaySandbox, order_id: str) -> bool:
        return order_id in sandbox.orders

    def restate_amount(self, sandbox: MultiSafepaySandbox, order_id: str, value: int) -> None:
        sandbox.orders[order_id]["amount"] = value
        sandbox.pay_silently(order_id)

    def open_order(
        self,
        sandbox: MultiSafepaySandbox,
        order_id: str,
        *,
        notify_url: str,
        return_url: str,
        description: str,
    ) -> str:
        request = {
            "type": "redirect",
            "gateway": "ALIPAY",
            "order_id": order_id,
            "currency": "EUR",
            "amount": 1250,
            "description": description,
            "payment_options": {"notification_url": notify_url, "redirect_url": return_url},
        }
        status, _, body = sandbox._create(request)  # what a create call runs, unrecorded
        if status != 200:
            raise ValueError(body.decode())
        return str(json.loads(body)["data"]["payment_url"])


KIT = MultiSafepayKit()
