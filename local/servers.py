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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, quote, unquote, urlsplit

import requests

from local import shop
from local.apigw import match_route, proxy_event
from local.checkout import LABELS, OUTCOMES, Checkout, major_units
from local.inprocess import Reply
from local.providers.controls import (
    NothingToRedeliver,
    Notification,
    OrderClosed,
    ReplyLost,
    UnknownAction,
)
from local.template import FunctionSpec, Route

# The local stack's one stylesheet: the demo shop and the sandboxes' checkout pages share it.
# Besides plain elements it offers: .primary (the main button; #pay gets it too), .muted, .notice,
# .error, .pill (a status; colour by status word: .pill.paid …), .price, dl.facts, .row, .invalid,
# .money (an input with its currency after it), .num (a right-aligned amount), button.small, button.danger.
PAGE_STYLE = (
    ":root{--ink:#1f2329;--muted:#646a73;--line:#e4e6eb;--bg:#f4f5f7;--brand:#1677ff;--ok:#1a7f37;"
    "--warn:#8a5a00;--bad:#c62828}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--ink);"
    'font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC",sans-serif}'
    "main{max-width:40rem;margin:2.5rem auto;padding:1.75rem 2rem 2rem;background:#fff;"
    "border:1px solid var(--line);border-radius:14px;box-shadow:0 2px 8px rgba(15,23,42,.05)}"
    "h1{font-size:1.55rem;line-height:1.25;margin:.25rem 0 .5rem}h2{font-size:1.05rem;margin:1.75rem 0 .5rem}"
    "p{margin:.6rem 0}a{color:var(--brand)}code{font-size:.9em}"
    ".muted{color:var(--muted);font-size:.9rem}"
    "header.brand{display:flex;align-items:baseline;gap:.75rem;padding-bottom:1rem;margin-bottom:1.25rem;"
    "border-bottom:1px solid var(--line)}"
    "header.brand a{font-weight:700;font-size:1.1rem;color:var(--ink);text-decoration:none}"
    "label{display:block;font-weight:600;font-size:.9rem;margin:1rem 0 .35rem}"
    "input,select{font:inherit;width:100%;padding:.55rem .7rem;border:1px solid #c9cdd4;border-radius:8px;"
    "background:#fff;color:inherit}"
    "input:focus,select:focus{outline:3px solid rgba(22,119,255,.2);border-color:var(--brand)}"
    ".invalid{border-color:var(--bad);background:#fff8f8}"
    ".row{display:flex;gap:.75rem}.row>*{flex:1}"
    "button{font:inherit;font-weight:600;padding:.6rem 1.25rem;margin:.75rem .5rem 0 0;border-radius:8px;"
    "border:1px solid #c9cdd4;background:#fff;color:var(--ink);cursor:pointer}"
    "button:hover{border-color:#9aa1ab}"
    "button.primary,button#pay{background:var(--brand);border-color:var(--brand);color:#fff}"
    "button.primary:hover,button#pay:hover{background:#0f5fd6}"
    ".status{font-size:1.6rem;font-weight:700}.price{font-size:1.55rem;font-weight:700}"
    ".pill{display:inline-block;vertical-align:middle;padding:.2rem .75rem;border-radius:999px;"
    "font-size:.95rem;font-weight:600;background:#eef0f3;color:var(--muted);white-space:nowrap}"
    ".pill.paid{background:#dcf5e3;color:var(--ok)}"
    ".pill.pending,.pill.created,.pill.unknown{background:#fff4cc;color:var(--warn)}"
    ".pill.failed,.pill.charged_back{background:#fde7e7;color:var(--bad)}"
    ".pill.succeeded{background:#dcf5e3;color:var(--ok)}"
    ".pill.refunded,.pill.partially_refunded{background:#e6efff;color:#1d4ed8}"
    "button.danger{color:var(--bad);border-color:#efb8b8}button.danger:hover{background:#fdf1f1}"
    "button.small{font-size:.8rem;padding:.2rem .6rem;margin:.35rem 0 0}"
    ".money{display:flex;align-items:center;gap:.5rem}.money span{color:var(--muted);font-weight:600}"
    ".num{text-align:right;white-space:nowrap}td.num{padding-right:1rem}th.num{padding-right:1rem}"
    "ul.flags{margin:0;padding-left:1.1rem}.nowrap{white-space:nowrap}"
    "#refund-form{margin-top:1rem}"
    ".notice{padding:.75rem 1rem;border-radius:8px;background:#eef4ff;border:1px solid #cfe0ff}"
    ".error{padding:.75rem 1rem;border-radius:8px;background:#fdecec;border:1px solid #f5c2c2;color:#7f1d1d}"
    ".error ul{margin:.35rem 0 0;padding-left:1.2rem}"
    "dl.facts{display:grid;grid-template-columns:8rem 1fr;gap:.3rem 1rem;margin:1.25rem 0}"
    "dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}"
    "table{border-collapse:collapse;width:100%;font-size:.875rem}"
    "th{color:var(--muted);font-weight:600}"
    "td,th{border-bottom:1px solid var(--line);padding:.45rem .5rem .45rem 0;text-align:left;"
    "vertical-align:top}"
    "pre{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:.75rem;border-radius:8px}"
)


def page(title: str, body: str, refresh: int | None = None) -> bytes:
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title>{meta}"
        f"<style>{PAGE_STYLE}</style></head><body><main>{body}</main></body></html>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    """Hands every request to the server's `route` and writes back (status, headers, body)."""

    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle on, a keep-alive client's delayed ACK holds
    # the second ~40 ms on loopback (measured in make bench: 44 ms vs 1.9 ms per sandbox call).
    disable_nagle_algorithm = True

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
    """What a provider sandbox offers the server: its wire API, its knobs and its outbox."""

    outbox: list[Notification]
    dropped: list[Notification]

    def handle(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Response: ...

    def knows(self, order_id: str) -> bool: ...

    def control(self, order_id: str, action: str) -> None: ...

    def timeout_once(self, order_id: str, hang_seconds: float = 0.0) -> None: ...

    def take_notifications(self, order_id: str | None = None) -> list[Notification]: ...

    def view(self, order_id: str) -> dict[str, Any]: ...


MAX_HANG_SECONDS = 120  # a lost reply's connection is held at most this long


class _SandboxHandler(_Handler):
    """Like `_Handler`, and: a lost reply (`timeout_once`) closes the connection without an answer;
    after each request the sandbox's outbox of notifications is delivered."""

    server: SandboxServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = [(name, value) for name, value in self.headers.items()]
        try:
            status, reply_headers, reply_body = self.server.route(self.command, self.path, headers, body)
        except ReplyLost as lost:
            self.server.log(
                f"{self.command} {self.path.split('?')[0]} -> reply lost on purpose (timeout_once)"
            )
            time.sleep(lost.hang_seconds)
            self.close_connection = True  # the caller sees the connection end with no answer
            self.server.deliver_later()
            return
        self.send_response(status)
        for name, value in reply_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply_body)))
        self.end_headers()
        self.wfile.write(reply_body)
        self.wfile.flush()
        self.server.deliver_later()  # a provider notifies after it has answered

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve


class SandboxServer(_Server):
    """A provider's API, its hosted checkout page, and a control API for tests and people:

    - `POST /_control/{order_id}/{action}`: run a sandbox action (`pay`, `cancel`, `fail`, `expire`,
      `pay_silently`, `drop_next_notification`, `refuse_next_refund`, `hold_refunds`,
      `release_refunds`, `timeout_once[?hang_seconds=N]`, `redeliver`, `deliver_twice`, and the
      provider's own), then deliver the notifications it made; answers
      `{"delivered": [{"status", "body", "what"}...], "dropped": n}`. 404 unknown order, 409 the order
      can no longer take a payer action (or nothing to redeliver), 400 unknown action.
    - `GET /_control/{order_id}`: the sandbox's view of the order: status, refunds, calls received,
      notifications made / dropped / waiting.
    - `POST /_checkout/{order_id}/{pay|cancel|fail|expire}`: a checkout page button; 303 to where the
      provider sends the browser.

    Notifications the provider makes on its own (a finished refund, a merchant's cancel) leave the
    outbox `notification_delay` seconds after the reply to the call that made them, in order.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        checkout: Checkout,
        port: int,
        log: Callable[[str], None],
        notification_delay: float = 0.2,
    ) -> None:
        super().__init__(port, log)
        self.RequestHandlerClass = _SandboxHandler
        self.sandbox = sandbox
        self.checkout = checkout
        self.notification_delay = notification_delay
        self.lock = threading.Lock()  # the sandbox's state: one request at a time
        self.delivery_lock = threading.Lock()  # notifications leave one at a time, in the order made
        self.http = requests.Session()

    def route(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Response:
        """Raises ReplyLost when the sandbox processed an API call whose reply must never arrive."""
        parts = urlsplit(target)
        segments = parts.path.strip("/").split("/")
        if segments[0] in ("_checkout", "_control") and len(segments) in (2, 3):
            named = unquote(segments[1])
            if method == "GET" and segments[0] == "_control" and len(segments) == 2:
                return self._view(named)
            if method == "POST" and len(segments) == 3:
                return self._act(segments[0], named, segments[2], parse_qs(parts.query))
        with self.lock:
            order_id = self.checkout.order_of(parts.path, parts.query) if method == "GET" else None
            if order_id is not None:
                html_page = self._checkout_page(order_id, self.checkout.language(order_id, parts.query))
                return 200, {"Content-Type": "text/html; charset=utf-8"}, html_page
            return self.sandbox.handle(method, self.base_url + target, dict(headers), body)

    def _view(self, order_id: str) -> Response:
        with self.lock:
            if not self.sandbox.knows(order_id):
                return _json(404, {"error": "unknown order"})
            return _json(200, self.sandbox.view(order_id))

    def _checkout_page(self, order_id: str, language: str, message: str = "") -> bytes:
        view = self.checkout.view(order_id)
        words = LABELS[language]
        disabled = "" if view.payable else " disabled"
        buttons = "".join(
            f'<form method="post" action="/_checkout/{quote(order_id, safe="")}/{outcome}" '
            f'style="display:inline"><button id="{outcome}" type="submit"{disabled}>'
            f"{html.escape(words[outcome])}</button></form>"
            for outcome in OUTCOMES
        )
        refund_rows = "".join(
            f"<tr><td>{html.escape(r.merchant_refund_id or r.refund_id)}</td>"
            f"<td>{html.escape(major_units(r.amount, r.currency))}</td>"
            f"<td>{html.escape(r.status)}</td></tr>"
            for r in view.refunds
        )
        refunds = (
            f'<table id="refunds"><tr><th>{words["refund"]}</th><th>{words["amount"]}</th>'
            f"<th>{words['status']}</th></tr>{refund_rows}</table>"
            if view.refunds
            else f'<p id="refunds">{words["no_refunds"]}</p>'
        )
        closed = "" if view.payable else f"<p>{words['closed']}</p>"
        name = html.escape(self.checkout.display_name)
        return page(
            f"{self.checkout.display_name} — {words['order']} {order_id}",
            (
                f"<h1>{html.escape(self.checkout.title)}</h1><p>{name} · {words['notice']}</p>"
                f'<p id="description">{html.escape(view.description or "—")}</p>'
                f'<p>{words["amount"]}: <span id="amount" class="status">'
                f"{html.escape(major_units(view.amount, view.currency))}</span></p>"
                f"<p>{words['order']} <b>{html.escape(order_id)}</b> · {words['status']}: "
                f'<span id="provider-status">{html.escape(view.status)}</span></p>'
                f"{message}{closed}{buttons}<h2>{words['refunds']}</h2>{refunds}"
            ),
        )

    def _act(self, kind: str, order_id: str, action: str, query: dict[str, list[str]]) -> Response:
        if kind == "_checkout" and action not in OUTCOMES:
            return _json(400, {"error": f"unknown checkout action {action}"})
        browser = ""
        with self.delivery_lock:
            with self.lock:
                dropped_before = len(self.sandbox.dropped)
                try:
                    if kind == "_checkout":
                        browser = self.checkout.finish(order_id, action)
                    elif action == "deliver_twice":
                        self.sandbox.control(order_id, "redeliver")
                        self.sandbox.control(order_id, "redeliver")
                    elif action == "timeout_once" and query.get("hang_seconds"):
                        hang = float(query["hang_seconds"][0])
                        if not 0 <= hang <= MAX_HANG_SECONDS:
                            raise ValueError(hang)
                        self.sandbox.timeout_once(order_id, hang)
                    else:
                        self.sandbox.control(order_id, action)
                except KeyError:
                    return _json(404, {"error": "unknown order"})
                except OrderClosed as closed:
                    if kind == "_checkout":
                        language = self.checkout.language(order_id, "")
                        body = self._checkout_page(
                            order_id, language, f"<p><b>{html.escape(str(closed))}</b></p>"
                        )
                        return 409, {"Content-Type": "text/html; charset=utf-8"}, body
                    return _json(409, {"error": str(closed)})
                except NothingToRedeliver:
                    return _json(409, {"error": "no notification about this order to redeliver"})
                except UnknownAction:
                    return _json(400, {"error": f"unknown action {action}"})
                except ValueError:
                    return _json(
                        400, {"error": f"hang_seconds must be a number from 0 to {MAX_HANG_SECONDS}"}
                    )
                dropped = len(self.sandbox.dropped) - dropped_before
                mine = self.sandbox.take_notifications(order_id)
            answers = [(n, *self._deliver(n)) for n in mine]
        self.deliver_later()  # anything else the action made
        if kind == "_checkout":  # the browser goes where the provider sends it
            return 303, {"Location": browser or "/"}, b""
        delivered = [{"status": status, "body": text[:500], "what": n.what} for n, status, text in answers]
        return _json(200, {"delivered": delivered, "dropped": dropped})

    def deliver_later(self) -> None:
        """Deliver whatever waits in the outbox, `notification_delay` seconds from now."""
        with self.lock:
            waiting = bool(self.sandbox.outbox)
        if waiting:
            timer = threading.Timer(self.notification_delay, self._flush)
            timer.daemon = True
            timer.start()

    def _flush(self) -> None:
        with self.delivery_lock:
            with self.lock:
                waiting = self.sandbox.take_notifications()
            for notification in waiting:
                self._deliver(notification)

    def _deliver(self, notification: Notification) -> tuple[int, str]:
        url = notification.url
        try:
            reply = self.http.request(
                notification.method, url, data=notification.body, headers=notification.headers, timeout=30
            )
        except requests.RequestException as exc:
            self.log(f"{notification.what}: notification to {url} failed: {type(exc).__name__}")
            return 0, type(exc).__name__
        self.log(f"{notification.what}: notification -> {url.split('?')[0]}: {reply.status_code}")
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
        self.recent_orders: list[str] = []  # the shop's latest order ids, newest first
        self.recent_lock = threading.Lock()
        # The shop as a merchant's webhook receiver: the key it checks signatures with, and what came.
        self.webhook_secret = ""
        self.webhooks: dict[str, list[dict[str, Any]]] = {}

    def serve(self, backend: Backend, providers: list[str]) -> None:
        """Start answering, with the functions behind `backend`; the shop offers `providers`."""
        self.backend = backend
        self.providers = providers
        self.start()

    def route(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Response:
        parts = urlsplit(target)
        if parts.path in ("/", "/shop") and method == "GET":
            return self._html(shop.shop_page(self.providers, recent=self._recent()))
        if parts.path == "/favicon.ico":  # every browser asks; "no icon" without a 404 in the log
            return 204, {}, b""
        if parts.path == "/shop/pay" and method == "POST":
            return self._shop_pay(body)
        if parts.path == "/shop/return" and method == "GET":
            return self._shop_return(parse_qs(parts.query))
        if parts.path == "/shop/refund" and method == "POST":
            return self._shop_refund(body)
        if parts.path == "/shop/cancel" and method == "POST":
            return self._shop_cancel(body)
        if parts.path == "/shop/webhooks" and method == "POST":
            return self._shop_webhook(headers, body)
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

    # -- the demo shop (pages in local/shop.py) ----------------------------------------------------
    def _api(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Reply:
        headers = [("x-api-key", self.api_key), ("Content-Type", "application/json")]
        return self.call(method, path, headers, json.dumps(body).encode() if body is not None else None)

    @staticmethod
    def _html(shop_page: shop.Page, status: int = 200) -> Response:
        body = shop_page.body
        if shop_page.refresh:
            # Not a meta refresh: that would wipe a refund form the person is typing into.
            body += shop.refresh_script(shop_page.refresh, shop_page.refresh_url or "")
        return status, {"Content-Type": "text/html; charset=utf-8"}, page(shop_page.title, body)

    RECENT_ORDERS = 6  # how many the storefront lists

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

    def _shop_pay(self, body: bytes) -> Response:
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
                # Only MultiSafepay has a cancel link; the others send the payer to return_url.
                "cancel_url": self.base_url + shop.order_path(order_id, left_checkout=True),
                "customer": {"ip_address": "127.0.0.1", "locale": "zh_CN"},
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

    def _shop_webhook(self, headers: list[tuple[str, str]], body: bytes) -> Response:
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

    def _shop_return(self, query: Mapping[str, list[str]]) -> Response:
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

    def _shop_refund(self, body: bytes) -> Response:
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

    def _shop_cancel(self, body: bytes) -> Response:
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
