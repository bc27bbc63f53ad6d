"""A provider sandbox over HTTP: its wire API, its hosted checkout page, and a control API for tests
and people. Notifications the sandbox makes are POSTed to their URLs after each reply."""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import requests

from local.checkout import OUTCOMES, Checkout, checkout_page
from local.http_server import (
    FAVICON_PATH,
    NO_ICON,
    LoopbackServer,
    RequestHandler,
    Response,
    html_response,
    json_response,
)
from local.providers.controls import (
    NothingToRedeliver,
    Notification,
    OrderClosed,
    ReplyLost,
    UnknownAction,
)

if TYPE_CHECKING:
    from local.providers.kit import SignedNotification

BROKEN = "broken_"  # the control actions that send a broken notification: broken_<kind>
MAX_HANG_SECONDS = 120  # a lost reply's connection is held at most this long


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


class SandboxRequestHandler(RequestHandler):
    """Like `RequestHandler`, and: a lost reply (`timeout_once`) closes the connection without an
    answer; after each request the sandbox's outbox of notifications is delivered."""

    server: SandboxServer

    def _serve(self) -> None:
        method, target, headers, body = self.read_request()
        try:
            response = self.server.route(method, target, headers, body)
        except ReplyLost as lost:
            self.server.log(f"{method} {target.split('?')[0]} -> reply lost on purpose (timeout_once)")
            time.sleep(lost.hang_seconds)
            self.close_connection = True  # the caller sees the connection end with no answer
            self.server.deliver_later()
            return
        self.write_response(response)
        self.wfile.flush()
        self.server.deliver_later()  # a provider notifies after it has answered

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve


class SandboxServer(LoopbackServer):
    """A provider's API, its hosted checkout page, and a control API for tests and people:

    - `POST /_control/{order_id}/{action}`: run a sandbox action (`pay`, `cancel`, `fail`, `expire`,
      `pay_silently`, `drop_next_notification`, `refuse_next_refund`, `hold_refunds`,
      `release_refunds`, `timeout_once[?hang_seconds=N]`, `redeliver`, `deliver_twice`,
      `broken_<kind>` (a paid notification broken as its kit's `broken_kinds` say: wrong hash, your
      key, `+` as space, wrong path, stale, other account…), and the provider's own), then deliver the
      notifications it made; answers
      `{"delivered": [{"status", "body", "what"}...], "dropped": n}`. 404 unknown order, 409 the order
      can no longer take a payer action (or nothing to redeliver), 400 unknown action.
    - `GET /_control/{order_id}`: the sandbox's view of the order: status, refunds, calls received,
      notifications made / dropped / waiting.
    - `POST /_checkout/{order_id}/{pay|cancel|fail|expire}`: a checkout page button; 303 to where the
      provider sends the browser.

    Notifications the provider makes on its own (a finished refund, a merchant's cancel) leave the
    outbox `notification_delay` seconds after the reply to the call that made them, in order.
    """

    handler = SandboxRequestHandler

    def __init__(
        self,
        sandbox: Sandbox,
        checkout: Checkout[Any],
        port: int,
        log: Callable[[str], None],
        notification_delay: float = 0.2,
        broken: Callable[[str, str], SignedNotification] | None = None,
    ) -> None:
        super().__init__(port, log)
        self.sandbox = sandbox
        # The doctor's knob: (order id, kind) -> the provider's notification broken that way (its kit's
        # `broken`, with this sandbox's credentials): `POST /_control/{order_id}/broken_<kind>`.
        self.broken = broken
        self.checkout = checkout
        self.notification_delay = notification_delay
        self.lock = threading.Lock()  # the sandbox's state: one request at a time
        self.delivery_lock = threading.Lock()  # notifications leave one at a time, in the order made
        self.http = requests.Session()

    def route(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Response:
        """Raises ReplyLost when the sandbox processed an API call whose reply must never arrive."""
        parts = urlsplit(target)
        if parts.path == FAVICON_PATH:  # the checkout page's icon: no provider API answers it
            return NO_ICON
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
                language = self.checkout.language(order_id, parts.query)
                return html_response(checkout_page(self.checkout, order_id, language))
            return self.sandbox.handle(method, self.base_url + target, dict(headers), body)

    def _view(self, order_id: str) -> Response:
        with self.lock:
            if not self.sandbox.knows(order_id):
                return json_response(404, {"error": "unknown order"})
            return json_response(200, self.sandbox.view(order_id))

    def _act(self, kind: str, order_id: str, action: str, query: dict[str, list[str]]) -> Response:
        if kind == "_checkout" and action not in OUTCOMES:
            return json_response(400, {"error": f"unknown checkout action {action}"})
        browser = ""
        with self.delivery_lock:
            with self.lock:
                dropped_before = len(self.sandbox.dropped)
                try:
                    if kind == "_checkout":
                        browser = self.checkout.finish(order_id, action)
                    else:
                        self._control(order_id, action, query)
                except KeyError:
                    return json_response(404, {"error": "unknown order"})
                except OrderClosed as closed:
                    if kind == "_checkout":
                        language = self.checkout.language(order_id, "")
                        message = f"<p><b>{html.escape(str(closed))}</b></p>"
                        return html_response(checkout_page(self.checkout, order_id, language, message), 409)
                    return json_response(409, {"error": str(closed)})
                except NothingToRedeliver:
                    return json_response(409, {"error": "no notification about this order to redeliver"})
                except UnknownAction:
                    return json_response(400, {"error": f"unknown action {action}"})
                except ValueError:
                    return json_response(
                        400, {"error": f"hang_seconds must be a number from 0 to {MAX_HANG_SECONDS}"}
                    )
                dropped = len(self.sandbox.dropped) - dropped_before
                mine = self.sandbox.take_notifications(order_id)
            answers = [(n, *self._deliver(n)) for n in mine]
        self.deliver_later()  # anything else the action made
        if kind == "_checkout":  # the browser goes where the provider sends it
            return 303, {"Location": browser or "/"}, b""
        delivered = [{"status": status, "body": text[:500], "what": n.what} for n, status, text in answers]
        return json_response(200, {"delivered": delivered, "dropped": dropped})

    def _control(self, order_id: str, action: str, query: dict[str, list[str]]) -> None:
        """A control action; the two the server adds to the sandbox's own: `deliver_twice`, and
        `timeout_once` with a hang. ValueError: a hang out of range."""
        if action.startswith(BROKEN) and self.broken is not None:
            try:
                sent = self.broken(order_id, action.removeprefix(BROKEN))
            except (NotImplementedError, ValueError) as unknown:
                raise UnknownAction(action) from unknown
            what = f"a notification broken: {action.removeprefix(BROKEN)}"
            self.sandbox.outbox.append(Notification(order_id, sent.url, dict(sent.headers), sent.body, what))
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
