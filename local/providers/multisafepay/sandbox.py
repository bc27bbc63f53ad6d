"""A MultiSafepay JSON API v1 sandbox, written from the provider notes in docs/providers/multisafepay.md.

It must not import the adapter or its signing code: the sandbox and the adapter check each other.
Transport-agnostic: `handle()` takes a request and returns (status, headers, body), so tests can
mount it on `responses` and the local stack can serve it over HTTP. Knobs, the outbox of
notifications and the test queries come from `controls.SandboxControls`.

Calls (header `api_key`, or `Authorization: Bearer`; JSON):
- `POST orders` create; `GET orders/{id}` the order (with `payment_url` while unpaid).
- `POST orders/{id}/refunds` `{currency, amount, description, refund_order_id}` ->
  `{"success":true,"data":{"transaction_id":…,"refund_id":…}}`: accepted. The refund then completes
  (at once, or on `release_refunds` when held): `amount_refunded` grows, `status` becomes
  `partial_refunded` or `refunded`, and the order is notified (the usual signed POST of the order JSON).
- `PATCH orders/{id}` `{"status":"cancelled","exclude_order":true}`: an `initialized` order becomes
  `cancelled` and is notified -> `{"success":true,"data":{}}`.
- Errors: `{"success":false,"data":{},"error_code":…,"error_info":…}`.

Payer actions (the checkout page's buttons; `control()` by name): `pay` -> completed, `cancel` -> void,
`fail` -> declined, `expire` -> expired, each notified; `pay_silently` -> completed, not notified. They
act only on an `initialized` order (`OrderClosed` otherwise).

Choices where the notes are silent (inferences, the strict reading where there is one):
- Refund refusals answer HTTP 400 with a code from the notes: 1016 missing currency, 1002 currency not
  the order's, 1001 amount not a non-negative integer, 1008 description over 200 characters or with
  HTML, 1016 refund_order_id not a string of at most 50, 1006 (HTTP 404) no such order, and 1034
  "cannot refund" for: an order not paid (only completed / shipped / partial_refunded are), nothing left
  or more than what is left (what is left = amount - amount_refunded - refunds still held), a second
  identical refund within `duplicate_window_seconds` (300), and the `refuse_next_refund` knob.
  "Identical" is read strictly: the same order, currency and amount, whatever the description or
  refund_order_id (a retry of a refund whose reply was lost is refused; ask `GET orders/{id}`).
- A refund held by `hold_refunds` changes nothing visible on the order (status and `amount_refunded`
  stay) until it completes; its own status is `reserved` meanwhile, `completed` after.
- `financial_status` stays `completed` through refunds (the notes' list for it has no refund words).
- `PATCH` on an order already `cancelled` answers success again and notifies nothing; on any other
  status than `initialized` it answers HTTP 400, error 9999 "cannot cancel" (no code in the notes
  fits); a `status` other than `cancelled` is refused with 1016.
- The payment link honours the customer's `locale` sent at create as `?lang=<locale>` (the
  documentation's sample link carries `?lang=nl_NL`); without one it is `en_US`.
- A notification retry (`redeliver`) carries a new timestamp and signature over the same body, as
  MultiSafepay's retries do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from local.providers.controls import (
    Notification,
    OrderClosed,
    RefundView,
    Reply,
    SandboxControls,
)

JSON_HEADERS = {"Content-Type": "application/json"}
ORDER_ID_RE = re.compile(r"^.{1,50}$", re.S)
REFUNDABLE = ("completed", "shipped", "partial_refunded")
PAYER_STATUSES = {"pay": "completed", "cancel": "void", "fail": "declined", "expire": "expired"}
DEFAULT_LOCALE = "en_US"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class MultiSafepaySandbox(SandboxControls):
    api_key: str
    checkout_base: str = "https://payv2.multisafepay.com/connect/"
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Recorded] = field(default_factory=list)
    next_transaction_id: int = 2379429850
    next_refund_id: int = 5810001
    duplicate_window_seconds: int = 300
    clock: Callable[[], float] = time.time

    # -- HTTP API --------------------------------------------------------------------------------
    def handle(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Reply:
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
            order_id = parsed_body.get("order_id") if isinstance(parsed_body, dict) else None
            return self._answer(str(order_id) if order_id else None, "create", self._create(parsed_body))
        match = re.fullmatch(r"orders/([^/]+)(/refunds)?", tail)
        if match is None:
            return self._error(404, 9999, "Unknown endpoint")
        order_id, refunds = unquote(match.group(1)), match.group(2)
        if method == "GET" and not refunds:
            return self._answer(order_id, "get", self._get(order_id))
        if method == "POST" and refunds:
            return self._answer(order_id, "refund", self._refund(order_id, parsed_body))
        if method == "PATCH" and not refunds:
            return self._answer(order_id, "cancel", self._update(order_id, parsed_body))
        return self._error(404, 9999, "Unknown endpoint")

    def _answer(self, order_id: str | None, operation: str, reply: Reply) -> Reply:
        outcome = "ok"
        if reply[0] != 200:
            outcome = str(json.loads(reply[2]).get("error_code", reply[0]))
        return self._answered(order_id, operation, outcome, reply)

    def _get(self, order_id: str) -> Reply:
        order = self.orders.get(order_id)
        if order is None:
            return self._error(404, 1006, "Invalid transaction ID")
        public = self._public(order)
        if order["status"] == "initialized":  # the payer can still use the payment link
            public["payment_url"] = order["_payment_url"]
        return self._ok(public)

    def _create(self, request: Any) -> Reply:
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
        locale = str(customer.get("locale") or DEFAULT_LOCALE)
        payment_url = f"{self.checkout_base}{secrets.token_urlsafe(24)}/?lang={quote(locale)}"
        transaction_id = self._new_transaction_id()
        now = self._stamp()
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
            "_refunds": [],
        }
        self.orders[order_id] = order
        if request["type"] == "direct":
            reply = self._public(order)
            reply["payment_details"]["payment_url"] = payment_url
            return self._ok(reply)
        return self._ok(
            {"order_id": order_id, "payment_url": payment_url, "session_id": secrets.token_hex(8)}
        )

    # -- refunds ---------------------------------------------------------------------------------
    def _refund(self, order_id: str, request: Any) -> Reply:
        order = self.orders.get(order_id)
        if order is None:
            return self._error(404, 1006, "Invalid transaction ID")
        if not isinstance(request, dict):
            return self._error(400, 1016, "Missing data")
        currency = request.get("currency")
        if currency in (None, ""):
            return self._error(400, 1016, "Missing data: currency")
        if currency != order["currency"]:
            return self._error(400, 1002, "Invalid currency: a refund is in the order's currency")
        asked = request.get("amount")
        if asked is None:
            asked = 0  # omitted: everything still refundable
        if type(asked) is not int or asked < 0:
            return self._error(400, 1001, "Invalid amount")
        description = request.get("description", "")
        if not isinstance(description, str) or len(description) > 200 or "<" in description:
            return self._error(400, 1008, "Invalid description")
        refund_order_id = request.get("refund_order_id", "")
        if not isinstance(refund_order_id, str) or len(refund_order_id) > 50:
            return self._error(400, 1016, "Invalid data: refund_order_id")
        if order["status"] not in REFUNDABLE:
            return self._error(400, 1034, f"Cannot refund: the order is {order['status']}")
        refunds: list[dict[str, Any]] = order.setdefault("_refunds", [])
        held = sum(r["amount"] for r in refunds if r["status"] == "reserved")
        remaining = order["amount"] - order["amount_refunded"] - held
        amount = asked or remaining
        if amount <= 0 or amount > remaining:
            return self._error(400, 1034, f"Cannot refund: {remaining} remains refundable")
        now = self.clock()
        if any(r["amount"] == amount and now - r["_at"] < self.duplicate_window_seconds for r in refunds):
            return self._error(400, 1034, "Cannot refund: an identical refund was made in the last 5 minutes")
        knobs = self.knob(order_id)
        if knobs.refuse_next_refund:
            knobs.refuse_next_refund = False
            return self._error(400, 1034, "Cannot refund (refused by the sandbox: refuse_next_refund)")
        refund = {
            "refund_id": self._new_refund_id(),
            "transaction_id": self._new_transaction_id(),
            "amount": amount,
            "currency": currency,
            "description": description,
            "refund_order_id": refund_order_id,
            "status": "reserved",
            "_at": now,
        }
        refunds.append(refund)
        if not knobs.refunds_held:
            self._complete_refund(order, refund)
        return self._ok({"transaction_id": refund["transaction_id"], "refund_id": refund["refund_id"]})

    def _complete_refund(self, order: dict[str, Any], refund: dict[str, Any]) -> None:
        refund["status"] = "completed"
        order["amount_refunded"] += refund["amount"]
        order["status"] = "refunded" if order["amount_refunded"] >= order["amount"] else "partial_refunded"
        order["modified"] = self._stamp()
        self._notify(order["order_id"], f"refund {refund['refund_id']} completed ({order['status']})")

    def release_refunds(self, order_id: str) -> None:
        """Held refunds complete now, oldest first, each notified; later refunds are no longer held."""
        order = self.orders[order_id]
        self.knob(order_id).refunds_held = False
        for refund in order.get("_refunds", []):
            if refund["status"] == "reserved":
                self._complete_refund(order, refund)

    def release_refund(self, order_id: str, merchant_refund_id: str) -> None:
        order = self.orders[order_id]
        for refund in order.get("_refunds", []):
            if refund["refund_order_id"] == merchant_refund_id and refund["status"] == "reserved":
                self._complete_refund(order, refund)

    def refunds(self, order_id: str) -> list[RefundView]:
        order = self.orders.get(order_id) or {}
        return [
            RefundView(
                refund_id=str(r["refund_id"]),
                merchant_refund_id=r["refund_order_id"],
                amount=r["amount"],
                currency=r["currency"],
                status="succeeded" if r["status"] == "completed" else "pending",
                provider_status=r["status"],
            )
            for r in order.get("_refunds", [])
        ]

    # -- cancel ----------------------------------------------------------------------------------
    def _update(self, order_id: str, request: Any) -> Reply:
        order = self.orders.get(order_id)
        if order is None:
            return self._error(404, 1006, "Invalid transaction ID")
        if not isinstance(request, dict) or request.get("status") in (None, ""):
            return self._error(400, 1016, "Missing data: status")
        if request["status"] != "cancelled":
            return self._error(400, 1016, "Invalid data: status (the sandbox only cancels)")
        if order["status"] == "cancelled":
            return self._ok({})
        if order["status"] != "initialized":
            return self._error(400, 9999, f"Cannot cancel an order with status {order['status']}")
        self._move(order, "cancelled")
        self._notify(order_id, "order cancelled by the merchant")
        return self._ok({})

    # -- the payer's actions at the checkout -------------------------------------------------------
    def payer_action(self, order_id: str, action: str, *, notify: bool) -> None:
        """The order's status becomes MultiSafepay's word for the action (`PAYER_STATUSES`); a payer's
        cancel is `void` on its pages."""
        order = self.orders[order_id]
        if order["status"] != "initialized":
            raise OrderClosed(f"the order is {order['status']}")
        status = PAYER_STATUSES[action]
        self._move(order, status)
        if notify:
            self._notify(order_id, f"order {status}")

    def is_open(self, order_id: str) -> bool:
        return bool(self.orders[order_id]["status"] == "initialized")

    def knows(self, order_id: str) -> bool:
        return order_id in self.orders

    def status_of(self, order_id: str) -> str:
        status: str = self.orders[order_id]["status"]
        return status

    # -- what MultiSafepay sends back to the merchant ---------------------------------------------
    def set_status(self, order_id: str, status: str) -> dict[str, Any]:
        order = self.orders[order_id]
        self._move(order, status)
        return self._public(order)

    def _move(self, order: dict[str, Any], status: str) -> None:
        order["status"] = status
        order["financial_status"] = status
        order["modified"] = self._stamp()

    def _notify(self, order_id: str, what: str) -> None:
        url, headers, body = self.notification(order_id)
        self._send(Notification(order_id, url, headers, body, what))

    def _again(self, notification: Notification) -> Notification:
        url, headers, body = self.notification(notification.order_id, body=notification.body)
        return Notification(notification.order_id, url, headers, body, notification.what + " (retry)")

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

    def _new_transaction_id(self) -> int:
        self.next_transaction_id += 1
        return self.next_transaction_id - 1

    def _new_refund_id(self) -> int:
        self.next_refund_id += 1
        return self.next_refund_id - 1

    @staticmethod
    def _stamp() -> str:
        # The moment through time.time(), which events/generate.py fixes to make the samples.
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time()))

    @staticmethod
    def _public(order: dict[str, Any]) -> dict[str, Any]:
        public: dict[str, Any] = json.loads(
            json.dumps({k: v for k, v in order.items() if not k.startswith("_")})
        )
        return public

    @staticmethod
    def _ok(data: dict[str, Any]) -> Reply:
        return 200, dict(JSON_HEADERS), json.dumps({"success": True, "data": data}).encode()

    @staticmethod
    def _error(status: int, code: int, info: str) -> Reply:
        body = {"success": False, "data": {}, "error_code": code, "error_info": info}
        return status, dict(JSON_HEADERS), json.dumps(body).encode()
