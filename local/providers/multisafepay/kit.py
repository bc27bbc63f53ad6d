"""MultiSafepay's kit: fresh API keys, its secret entry, its sandbox and checkout, its status words."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from local.providers.kit import ProviderKit, SignedNotification
from local.providers.multisafepay.checkout import MultiSafepayCheckout
from local.providers.multisafepay.sandbox import MultiSafepaySandbox
from payments.orders import OrderStatus as S

# The order's cumulative refunded total (of a 1000 order), as MultiSafepay reports it with these words.
REFUNDED_TOTALS = {"partially_refunded": 300, "refunded": 1000}
SAMPLE_API_KEY = "sample-msp-api-key-0000000000000000000000"  # signs the sample events (events/README.md)


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
