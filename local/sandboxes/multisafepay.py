"""A MultiSafepay JSON API v1 sandbox, written from the provider notes in docs/providers/multisafepay.md.

It must not import the adapter or its signing code: the sandbox and the adapter check each other.
Transport-agnostic: `handle()` takes a request and returns (status, headers, body), so tests can
mount it on `responses` and the local stack can serve it over HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

JSON_HEADERS = {"Content-Type": "application/json"}
ORDER_ID_RE = re.compile(r"^.{1,50}$", re.S)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class MultiSafepaySandbox:
    api_key: str
    checkout_base: str = "https://payv2.multisafepay.com/connect/"
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Recorded] = field(default_factory=list)
    next_transaction_id: int = 2379429850

    # -- HTTP API --------------------------------------------------------------------------------
    def handle(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        lowered = {name.lower(): value for name, value in headers.items()}
        path = urlsplit(url).path
        parsed_body: Any = None
        if body:
            try:
                parsed_body = json.loads(body)
            except ValueError:
                parsed_body = body
        self.calls.append(Recorded(method, path, lowered, parsed_body))
        key = lowered.get("api_key") or lowered.get("authorization", "").removeprefix("Bearer ")
        if key != self.api_key:
            return self._error(401, 1032, "Invalid API key")
        tail = path.split("/v1/json/", 1)[-1]
        if method == "POST" and tail == "orders":
            return self._create(parsed_body)
        match = re.fullmatch(r"orders/([^/]+)", tail)
        if method == "GET" and match:
            order = self.orders.get(unquote(match.group(1)))
            if order is None:
                return self._error(404, 1006, "Invalid transaction ID")
            public = self._public(order)
            if order["status"] == "initialized":  # the payer can still use the payment link
                public["payment_url"] = order["_payment_url"]
            return self._ok(public)
        return self._error(404, 9999, "Unknown endpoint")

    def _create(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        if not isinstance(request, dict):
            return self._error(400, 1016, "Missing data")
        for name in ("type", "gateway", "order_id", "currency", "amount", "description"):
            if request.get(name) in (None, ""):
                return self._error(400, 1016, f"Missing data: {name}")
        if request["gateway"] not in ("ALIPAY", "ALIPAYPLUS"):
            return self._error(400, 1023, "No gateway available")
        if type(request["amount"]) is not int or request["amount"] <= 0:
            return self._error(400, 1001, "Invalid amount")
        if not re.fullmatch(r"[A-Z]{3}", str(request["currency"])) or request["currency"] not in (
            "EUR",
            "USD",
        ):
            return self._error(400, 1002, "Invalid currency")
        description = str(request["description"])
        if len(description) > 200 or "<" in description:
            return self._error(400, 1008, "Invalid description")
        order_id = str(request["order_id"])
        if not ORDER_ID_RE.fullmatch(order_id):
            return self._error(400, 1006, "Invalid order ID")
        if order_id in self.orders:
            return self._error(409, 1006, "Invalid order ID: already used")
        customer = request.get("customer") or {}
        for name in ("first_name", "last_name"):
            if name in customer and len(str(customer[name])) < 2:
                return self._error(400, 1016, f"Missing data: customer.{name}")
        options = request.get("payment_options") or {}
        payment_url = f"{self.checkout_base}{secrets.token_urlsafe(24)}/?lang=en_US"
        transaction_id = self.next_transaction_id
        self.next_transaction_id += 1
        now = time.strftime("%Y-%m-%dT%H:%M:%S")
        order = {
            "transaction_id": transaction_id,
            "order_id": order_id,
            "created": now,
            "currency": request["currency"],
            "amount": request["amount"],
            "description": description,
            "items": None,
            "amount_refunded": 0,
            "status": "initialized",
            "financial_status": "initialized",
            "reason": "",
            "reason_code": "",
            "fastcheckout": "NO",
            "modified": now,
            "customer": {
                k: customer.get(k) for k in ("first_name", "last_name", "email", "locale", "country")
            },
            "payment_details": {
                "type": request["gateway"],
                "account_holder_name": None,
                "account_id": "",
                "external_transaction_id": None,
                "recurring_id": None,
            },
            "payment_methods": [
                {
                    "amount": request["amount"],
                    "currency": request["currency"],
                    "description": description,
                    "status": "initialized",
                    "type": request["gateway"],
                }
            ],
            "_options": options,
            "_payment_url": payment_url,
        }
        self.orders[order_id] = order
        if request["type"] == "direct":
            reply = self._public(order)
            reply["payment_details"]["payment_url"] = payment_url
            return self._ok(reply)
        return self._ok(
            {"order_id": order_id, "payment_url": payment_url, "session_id": secrets.token_hex(8)}
        )

    # -- what MultiSafepay sends back to the merchant ---------------------------------------------
    def set_status(self, order_id: str, status: str) -> dict[str, Any]:
        order = self.orders[order_id]
        order["status"] = status
        order["financial_status"] = status
        order["modified"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        return self._public(order)

    def notification(
        self,
        order_id: str,
        *,
        timestamp: int | None = None,
        key: str | None = None,
        body: bytes | None = None,
    ) -> tuple[str, dict[str, str], bytes]:
        """(url, headers, body) of the POST notification MultiSafepay would send for the order now."""
        order = self.orders[order_id]
        raw = body if body is not None else json.dumps(self._public(order), separators=(",", ":")).encode()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        digest = hmac.new((key or self.api_key).strip().encode(), stamp.encode() + b":" + raw, hashlib.sha512)
        auth = base64.b64encode(f"{stamp}:{digest.hexdigest()}".encode()).decode()
        url = self._notify_url(order)
        return url, {"Auth": auth, "Content-Type": "application/json"}, raw

    def legacy_notification_url(self, order_id: str) -> str:
        return self._notify_url(self.orders[order_id])

    def _notify_url(self, order: dict[str, Any]) -> str:
        base = order["_options"].get("notification_url", "")
        separator = "&" if "?" in base else "?"
        return f"{base}{separator}transactionid={order['order_id']}&timestamp={int(time.time())}"

    @staticmethod
    def _public(order: dict[str, Any]) -> dict[str, Any]:
        public: dict[str, Any] = json.loads(
            json.dumps({k: v for k, v in order.items() if not k.startswith("_")})
        )
        return public

    @staticmethod
    def _ok(data: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        return 200, dict(JSON_HEADERS), json.dumps({"success": True, "data": data}).encode()

    @staticmethod
    def _error(status: int, code: int, info: str) -> tuple[int, dict[str, str], bytes]:
        body = {"success": False, "data": {}, "error_code": code, "error_info": info}
        return status, dict(JSON_HEADERS), json.dumps(body).encode()
