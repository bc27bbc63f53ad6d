"""The demo shop's requests: a merchant's backend on the orders API, served by the local gateway at
`/` and `/shop/*` (its pages are drawn in local/shop.py)."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from local import shop
from local.http_server import FAVICON_PATH, NO_ICON, Response, html_response, page
from local.inprocess import Reply

# The API as the shop calls it: (method, target, headers, body) -> the API's reply.
ApiCall = Callable[[str, str, list[tuple[str, str]], bytes | None], Reply]


class DemoShop:
    """The storefront, the order pages (refund, cancel) and the merchant's webhook receiver."""

    RECENT_ORDERS = 6  # how many the storefront lists

    def __init__(self, api: ApiCall, api_key: str, base_url: str, log: Callable[[str], None]) -> None:
        self.api = api
        self.api_key = api_key
        self.base_url = base_url
        self.log = log
        self.providers: list[str] = []
        self.recent_orders: list[str] = []  # the shop's latest order ids, newest first
        self.recent_lock = threading.Lock()
        # The shop as a merchant's webhook receiver: the key it checks signatures with, and what came.
        self.webhook_secret = ""
        self.webhooks: dict[str, list[dict[str, Any]]] = {}

    def route(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Response | None:
        """The shop's answer, or None: not one of the shop's requests."""
        parts = urlsplit(target)
        if parts.path in ("/", "/shop") and method == "GET":
            return self._html(shop.shop_page(self.providers, recent=self._recent()))
        if parts.path == FAVICON_PATH:
            return NO_ICON
        if parts.path == "/shop/pay" and method == "POST":
            return self._pay(body)
        if parts.path == "/shop/return" and method == "GET":
            return self._return(parse_qs(parts.query))
        if parts.path == "/shop/refund" and method == "POST":
            return self._refund(body)
        if parts.path == "/shop/cancel" and method == "POST":
            return self._cancel(body)
        if parts.path == "/shop/webhooks" and method == "POST":
            return self._webhook(headers, body)
        if parts.path == shop.REFUSED_PATH and method == "GET":
            return self._refused()
        if parts.path == shop.REFUSED_PATH + "/replay" and method == "POST":
            return self._replay(body)
        return None

    def _refused(self, verdict: Mapping[str, Any] | None = None, status: int = 200) -> Response:
        reply = self._api("GET", "/notifications/rejected?limit=50")
        entries = json.loads(reply.body)["rejected"] if reply.status == 200 else []
        return self._html(shop.refused_page(entries, verdict), status)

    def _replay(self, body: bytes) -> Response:
        attempt = self._form(body).get("id", "")
        reply = self._api("POST", f"/notifications/rejected/{quote(attempt, safe='')}/replay", {})
        if reply.status != 200:
            error = json.loads(reply.body).get("error", {}) if reply.body.startswith("{") else {}
            verdict = {
                "result": "refused",
                "code": error.get("code", ""),
                "explanation": error.get("message", ""),
            }
            return self._refused(verdict, reply.status)
        return self._refused(json.loads(reply.body))

    def _api(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Reply:
        headers = [("x-api-key", self.api_key), ("Content-Type", "application/json")]
        return self.api(method, path, headers, json.dumps(body).encode() if body is not None else None)

    @staticmethod
    def _html(shop_page: shop.Page, status: int = 200) -> Response:
        body = shop_page.body
        if shop_page.refresh:
            # Not a meta refresh: that would wipe a refund form the person is typing into.
            body += shop.refresh_script(shop_page.refresh, shop_page.refresh_url or "")
        return html_response(page(shop_page.title, body), status)

    def _remember(self, order_id: str) -> None:
        with self.recent_lock:
            self.recent_orders = [order_id, *(o for o in self.recent_orders if o != order_id)]
            del self.recent_orders[self.RECENT_ORDERS :]

    def _recent(self) -> list[dict[str, Any]]:
        with self.recent_lock:
            order_ids = list(self.recent_orders)
        return [order for order in map(self._order, order_ids) if order is not None]

    @staticmethod
    def _form(body: bytes) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(body.decode(errors="replace")).items()}

    def _order(self, order_id: str, events_before: str | None = None) -> dict[str, Any] | None:
        if not order_id:
            return None
        path = f"/orders/{quote(order_id, safe='')}"
        if events_before:
            path += f"?events_before={quote(events_before, safe='')}"
        reply = self._api("GET", path)
        if reply.status != 200:
            return None
        order: dict[str, Any] = json.loads(reply.body)
        return order

    @staticmethod
    def _see(order_id: str, refund_id: str | None = None) -> Response:
        """After a refund or cancel the API took: to the order's page (a reload asks nothing again)."""
        return 303, {"Location": shop.order_path(order_id, refund_id=refund_id)}, b""

    def _pay(self, body: bytes) -> Response:
        form = shop.OrderForm.from_fields(self._form(body))
        errors = shop.FormErrors()
        try:
            minor = shop.minor_units(form.amount, form.currency)
        except shop.AmountError as exc:
            errors.add(str(exc), "amount")
        if not form.description.strip():
            errors.add("Description: enter what the payment is for.", "description")
        if errors.messages:
            return self._html(shop.shop_page(self.providers, form, errors, self._recent()), 400)
        order_id = f"shop-{time.strftime('%H%M%S')}-{secrets.token_hex(3)}"
        back = self.base_url + shop.order_path(order_id)
        reply = self._api(
            "POST",
            "/orders",
            {
                "order_id": order_id,
                "provider": form.provider,
                "amount": {"value": minor, "currency": form.currency},
                "description": form.description.strip(),
                "return_url": back,
                # Where a provider with a cancel link sends the payer; the others use return_url.
                "cancel_url": self.base_url + shop.order_path(order_id, left_checkout=True),
                "customer": {"ip_address": "127.0.0.1", "locale": "zh_CN"},
                **({"wallet": form.wallet} if form.wallet else {}),
            },
        )
        if reply.status in (200, 201) or reply.status >= 500:
            self._remember(order_id)  # a 5xx may leave an order whose outcome is unknown: list it too
        if reply.status not in (200, 201):
            errors = shop.api_errors(reply.status, reply.body)
            return self._html(shop.shop_page(self.providers, form, errors, self._recent()), reply.status)
        action = json.loads(reply.body).get("payment_action") or {}
        if action.get("type") == "redirect" and action.get("method") == "POST":
            return self._html(shop.redirect_page(str(action["url"]), action.get("form") or {}))
        if action.get("type") == "qr_code":
            return self._html(shop.qr_page(str(action.get("code", "")), back))
        return 303, {"Location": action.get("url") or back}, b""

    def _webhook(self, headers: list[tuple[str, str]], body: bytes) -> Response:
        """A merchant event, as a merchant's backend receives it: signature checked first."""
        signature = next((value for name, value in headers if name.lower() == "payments-signature"), "")
        if not shop.webhook_signature_valid(self.webhook_secret, signature, body, time.time()):
            self.log("webhook refused: bad or stale signature")
            return 400, {"Content-Type": "text/plain"}, b"bad signature"
        event = json.loads(body)
        with self.recent_lock:
            received = self.webhooks.setdefault(str(event.get("order_id")), [])
            if all(seen["id"] != event.get("id") for seen in received):  # dedupe by id, as documented
                received.append(event)
            del received[:-50]
        return 200, {"Content-Type": "text/plain"}, b"ok"

    def _return(self, query: Mapping[str, list[str]]) -> Response:
        order_id = (query.get("order_id") or [""])[0]
        events_before = (query.get("events_before") or [""])[0] or None
        order = self._order(order_id, events_before)
        if order is None:
            return self._html(shop.missing_order_page(order_id), 404)
        left_checkout = (query.get("cancelled") or [""])[0] == "1"
        refund_done = (query.get("refund") or [""])[0] or None
        with self.recent_lock:
            webhooks = list(self.webhooks.get(order_id, []))
        return self._html(
            shop.order_page(
                order, left_checkout, events_before=events_before, refund_done=refund_done, webhooks=webhooks
            )
        )

    def _refund(self, body: bytes) -> Response:
        form = shop.RefundForm.from_fields(self._form(body))
        order = self._order(form.order_id)
        if order is None:
            return self._html(shop.missing_order_page(form.order_id), 404)
        try:
            request = form.request(str(order["amount"]["currency"]))
        except shop.AmountError as exc:
            errors = shop.FormErrors()
            errors.add(str(exc), "refund-amount")
            return self._html(shop.order_page(order, False, refund_form=form, refund_errors=errors), 400)
        reply = self._api("POST", f"/orders/{quote(form.order_id, safe='')}/refunds", request)
        if reply.status in (200, 201):  # 200: the same form again, answered with the refund it made
            return self._see(form.order_id, form.refund_id)
        if reply.status == 409 and '"request_in_progress"' in reply.body and form.how != "again":
            return self._see(form.order_id, form.refund_id)  # a double submit: the first one is at work
        errors = shop.refund_errors(reply.status, reply.body, form.refund_id)
        order = self._order(form.order_id) or order
        form = shop.form_after_error(form, order.get("refunds") or [])
        page_ = shop.order_page(order, False, refund_form=form, refund_errors=errors)
        return self._html(page_, reply.status)

    def _cancel(self, body: bytes) -> Response:
        order_id = self._form(body).get("order_id", "")
        if self._order(order_id) is None:
            return self._html(shop.missing_order_page(order_id), 404)
        reply = self._api("POST", f"/orders/{quote(order_id, safe='')}/cancel", {})
        if reply.status == 200:
            return self._see(order_id)
        order = self._order(order_id)
        if order is None:
            return self._html(shop.missing_order_page(order_id), 404)
        errors = shop.cancel_errors(reply.status, reply.body, str(order.get("status", "")))
        return self._html(shop.order_page(order, False, cancel_errors=errors), reply.status)
