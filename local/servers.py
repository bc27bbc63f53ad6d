"""The local stack's HTTP servers: one per provider sandbox, and the API gateway with the demo shop.

Everything talks real HTTP on loopback: the adapters call the sandboxes, the sandboxes POST their
signed notifications to the gateway's notify routes, the browser follows the providers' redirects.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, quote, urlsplit

import requests

from local.apigw import match_route, proxy_event
from local.checkout import OUTCOMES, Checkout, Delivery
from local.inprocess import Reply
from local.template import FunctionSpec, Route

PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "button{font-size:1rem;padding:.5rem 1rem;margin:.25rem}table{border-collapse:collapse;width:100%}"
    "td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;font-size:.9rem}"
    ".status{font-size:1.6rem;font-weight:bold}"
)


def page(title: str, body: str, refresh: int | None = None) -> bytes:
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>{meta}'
        f"<style>{PAGE_STYLE}</style></head><body>{body}</body></html>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    """Hands every request to the server's `route` and writes back (status, headers, body)."""

    server: _Server
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = [(name, value) for name, value in self.headers.items()]
        status, reply_headers, reply_body = self.server.route(self.command, self.path, headers, body)
        self.send_response(status)
        for name, value in reply_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply_body)))
        self.end_headers()
        self.wfile.write(reply_body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        self.server.log(f"{self.command} {self.path.split('?')[0]} -> {args[1] if len(args) > 1 else ''}")


Response = tuple[int, dict[str, str], bytes]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, log: Callable[[str], None]) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.log = log

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def route(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Response:
        raise NotImplementedError

    def start(self) -> None:
        threading.Thread(target=self.serve_forever, daemon=True).start()


def _json(status: int, value: Any) -> Response:
    return status, {"Content-Type": "application/json"}, json.dumps(value).encode()


class Sandbox(Protocol):
    def handle(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Response: ...


class SandboxServer(_Server):
    """A provider's API, its hosted checkout page, and a JSON control API for tests:
    `POST /_control/{order_id}/{pay|cancel|fail|expire|redeliver|deliver_twice}`."""

    def __init__(self, sandbox: Sandbox, checkout: Checkout, port: int, log: Callable[[str], None]) -> None:
        super().__init__(port, log)
        self.sandbox = sandbox
        self.checkout = checkout
        self.lock = threading.Lock()
        self.last: dict[str, Delivery] = {}
        self.http = requests.Session()

    def route(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Response:
        parts = urlsplit(target)
        segments = parts.path.strip("/").split("/")
        if method == "POST" and len(segments) == 3 and segments[0] in ("_checkout", "_control"):
            return self._act(segments[0], segments[1], segments[2])
        with self.lock:
            order_id = self.checkout.order_of(parts.path, parts.query) if method == "GET" else None
            if order_id is not None:
                return 200, {"Content-Type": "text/html; charset=utf-8"}, self._checkout_page(order_id)
            return self.sandbox.handle(method, self.base_url + target, dict(headers), body)

    def _checkout_page(self, order_id: str) -> bytes:
        view = self.checkout.view(order_id)
        buttons = "".join(
            f'<form method="post" action="/_checkout/{quote(order_id)}/{outcome}" style="display:inline">'
            f'<button id="{outcome}" type="submit">{outcome.title()}</button></form>'
            for outcome in OUTCOMES
        )
        return page(
            self.checkout.title,
            (
                f"<h1>{html.escape(self.checkout.title)}</h1><p>Sandbox checkout — no money moves.</p>"
                f"<p>Order <b>{html.escape(order_id)}</b>: {html.escape(view.description)}</p>"
                f'<p class="status">{html.escape(view.amount)} (minor units) {html.escape(view.currency)}</p>'
                f"{buttons}"
            ),
        )

    def _act(self, kind: str, order_id: str, action: str) -> Response:
        with self.lock:
            if not self._known(order_id):
                return _json(404, {"error": "unknown order"})
            if action in OUTCOMES:
                delivery = self.checkout.finish(order_id, action)
                self.last[order_id] = delivery
            elif action in ("redeliver", "deliver_twice") and order_id in self.last:
                delivery = self.last[order_id]
            else:
                return _json(400, {"error": f"unknown action {action}"})
        times = 2 if action == "deliver_twice" else 1
        answers = [self._deliver(delivery) for _ in range(times)]
        if kind == "_checkout":  # the browser goes where the provider sends it
            return 303, {"Location": delivery.browser_url or "/"}, b""
        return _json(200, {"delivered": [{"status": status, "body": text[:500]} for status, text in answers]})

    def _known(self, order_id: str) -> bool:
        try:
            self.checkout.view(order_id)
        except KeyError:
            return False
        return True

    def _deliver(self, delivery: Delivery) -> tuple[int, str]:
        try:
            reply = self.http.post(delivery.url, data=delivery.body, headers=delivery.headers, timeout=30)
        except requests.RequestException as exc:
            self.log(f"notification to {delivery.url} failed: {type(exc).__name__}")
            return 0, type(exc).__name__
        self.log(f"notification -> {delivery.url.split('?')[0]}: {reply.status_code}")
        return reply.status_code, reply.text


class Backend(Protocol):
    def invoke(self, spec: FunctionSpec, event: dict[str, Any]) -> Reply: ...


class Gateway(_Server):
    """Like `sam local start-api`: the template's routes, API keys and functions, over HTTP.
    Also serves the demo shop at `/`."""

    def __init__(
        self,
        specs: list[FunctionSpec],
        api_key: str,
        port: int,
        log: Callable[[str], None],
    ) -> None:
        # Binds now, before anything else starts: the port is ours (or this fails) from the outset.
        super().__init__(port, log)
        self.routes: list[tuple[Route, FunctionSpec]] = [
            (route, spec) for spec in specs for route in spec.routes
        ]
        self.backend: Backend | None = None
        self.api_key = api_key
        self.providers: list[str] = []

    def serve(self, backend: Backend, providers: list[str]) -> None:
        """Start answering, with the functions behind `backend`; the shop offers `providers`."""
        self.backend = backend
        self.providers = providers
        self.start()

    def route(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Response:
        parts = urlsplit(target)
        if parts.path in ("/", "/shop") and method == "GET":
            return 200, {"Content-Type": "text/html; charset=utf-8"}, self._shop()
        if parts.path == "/shop/pay" and method == "POST":
            return self._shop_pay(body)
        if parts.path == "/shop/return" and method == "GET":
            return self._shop_return(parse_qs(parts.query))
        reply = self.call(method, target, headers, body)
        return (
            reply.status,
            {"Content-Type": reply.headers.get("content-type", "application/json")},
            reply.body.encode(),
        )

    def call(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes | None) -> Reply:
        parts = urlsplit(target)
        found = match_route((route for route, _ in self.routes), method, parts.path)
        if found is None:
            return Reply(
                403 if method != "GET" else 404,
                {"content-type": "application/json"},
                json.dumps({"message": "Missing Authentication Token"}),
            )
        route, params = found
        spec = next(spec for candidate, spec in self.routes if candidate is route)
        given = next((value for name, value in headers if name.lower() == "x-api-key"), None)
        if route.api_key_required and given != self.api_key:
            return Reply(403, {"content-type": "application/json"}, json.dumps({"message": "Forbidden"}))
        query = [
            (name, value)
            for name, values in parse_qs(parts.query, keep_blank_values=True).items()
            for value in values
        ]
        event = proxy_event(
            method=method,
            path=parts.path,
            resource=route.path,
            path_parameters=params,
            query=query,
            headers=headers,
            body=body if body else None,
            stage="v1",
            domain_name=urlsplit(self.base_url).netloc,
            source_ip="127.0.0.1",
            api_key=given if route.api_key_required else None,
            api_key_id="localkey" if route.api_key_required else None,
        )
        if self.backend is None:
            raise RuntimeError("Gateway.serve() was not called")
        return self.backend.invoke(spec, event)

    # -- the demo shop ---------------------------------------------------------------------------
    def _api(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Reply:
        headers = [("x-api-key", self.api_key), ("Content-Type", "application/json")]
        return self.call(method, path, headers, json.dumps(body).encode() if body is not None else None)

    def _shop(self, message: str = "") -> bytes:
        options = "".join(f'<option value="{p}">{p}</option>' for p in self.providers)
        return page(
            "Tea shop",
            (
                "<h1>Tea shop</h1><p>A demo merchant on the local stack.</p>"
                f"{message}"
                '<form method="post" action="/shop/pay">'
                f'<p><label>Provider <select id="provider" name="provider">{options}</select></label></p>'
                '<p><label>Amount <input id="amount" name="amount" value="10.00" size="8"></label> '
                '<select name="currency"><option>EUR</option><option>USD</option></select></p>'
                '<p><button id="pay" type="submit">Pay with Alipay</button></p></form>'
            ),
        )

    def _shop_pay(self, body: bytes) -> Response:
        form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        try:
            minor = Decimal(form.get("amount", "")) * 100
            if minor != minor.to_integral_value() or minor <= 0:
                raise InvalidOperation
        except InvalidOperation:
            return (
                400,
                {"Content-Type": "text/html; charset=utf-8"},
                self._shop("<p>Enter an amount like 10.00</p>"),
            )
        order_id = f"shop-{time.strftime('%H%M%S')}-{secrets.token_hex(3)}"
        back = f"{self.base_url}/shop/return?order_id={order_id}"
        reply = self._api(
            "POST",
            "/orders",
            {
                "order_id": order_id,
                "provider": form.get("provider", ""),
                "amount": {"value": int(minor), "currency": form.get("currency", "EUR")},
                "description": "Tea set",
                "return_url": back,
                "cancel_url": back + "&cancelled=1",
                "customer": {"ip_address": "127.0.0.1", "locale": "zh_CN"},
            },
        )
        if reply.status not in (200, 201):
            error = html.escape(reply.body)
            return (
                reply.status,
                {"Content-Type": "text/html; charset=utf-8"},
                self._shop(f"<pre>{error}</pre>"),
            )
        action = json.loads(reply.body).get("payment_action") or {}
        if action.get("type") == "redirect" and action.get("method") == "POST":
            fields = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                for k, v in (action.get("form") or {}).items()
            )
            return (
                200,
                {"Content-Type": "text/html; charset=utf-8"},
                page(
                    "Redirecting",
                    (
                        f'<form id="go" method="post" action="{html.escape(action["url"])}">{fields}'
                        '<button type="submit">Continue to Alipay</button></form>'
                        "<script>document.getElementById('go').submit()</script>"
                    ),
                ),
            )
        if action.get("type") == "qr_code":
            return (
                200,
                {"Content-Type": "text/html; charset=utf-8"},
                page(
                    "Scan to pay",
                    (
                        f"<h1>Scan with Alipay</h1><pre>{html.escape(action.get('code', ''))}</pre>"
                        f'<p><a href="{html.escape(back)}">I have paid</a></p>'
                    ),
                ),
            )
        return 303, {"Location": action.get("url", "/")}, b""

    def _shop_return(self, query: Mapping[str, list[str]]) -> Response:
        order_id = (query.get("order_id") or [""])[0]
        reply = self._api("GET", f"/orders/{quote(order_id, safe='')}")
        if reply.status != 200:
            return (
                reply.status,
                {"Content-Type": "text/html; charset=utf-8"},
                page("Order", "<p>No such order</p>"),
            )
        order = json.loads(reply.body)

        def cell(value: Any) -> str:
            return f"<td>{html.escape(str(value))}</td>"

        rows = "".join(
            "<tr>"
            + cell(e["at"])
            + cell(e["type"])
            + cell(f"{e.get('from_status', '')} → {e.get('to_status', '')}")
            + cell(e.get("provider_status", ""))
            + cell(", ".join(e.get("flags", [])))
            + "</tr>"
            for e in order["events"]
        )
        status = order["status"]
        return (
            200,
            {"Content-Type": "text/html; charset=utf-8"},
            page(
                f"Order {order_id}",
                (
                    f"<h1>Order {html.escape(order_id)}</h1>"
                    f'<p>Status: <span id="status" class="status">{html.escape(status)}</span></p>'
                    f"<p>{order['amount']['value']} minor units {html.escape(order['amount']['currency'])}"
                    f" via {html.escape(order['provider'])}</p><h2>History</h2><table><tr><th>at</th>"
                    "<th>event</th><th>status</th><th>provider said</th>"
                    f"<th>flags</th></tr>{rows}</table>"
                    '<p><a href="/">Back to the shop</a></p>'
                ),
                refresh=2 if status in ("created", "pending", "unknown") else None,
            ),
        )
