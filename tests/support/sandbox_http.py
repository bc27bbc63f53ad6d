"""A sandbox served over real HTTP (`SandboxServer`), and a merchant's notify endpoint that records what
arrives: for the tests of the sandbox servers (tests/unit/test_sandbox_server.py and each provider's
own in tests/providers/<name>/)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from local.testing import Checkout, ProviderKit, SandboxServer, free_port


class Receiver(ThreadingHTTPServer):
    """The merchant's notify endpoint: records what arrives, answers OK."""

    daemon_threads = True

    def __init__(self) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.arrived = threading.Condition()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler) -> None:  # noqa: N805 - the server is `self` here
                body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
                with self.arrived:
                    self.received.append((handler.path, body))
                    self.arrived.notify_all()
                handler.send_response(200)
                handler.send_header("Content-Length", "2")
                handler.end_headers()
                handler.wfile.write(b"OK")

            def log_message(handler, format: str, *args: Any) -> None:  # noqa: N805
                pass

        super().__init__(("127.0.0.1", free_port()), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/notify"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[str, bytes]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A `Receiver`, serving until the block ends."""
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def serve(sandbox: Any, checkout: Checkout[Any], broken: Any = None) -> SandboxServer:
    """`sandbox` and its checkout page on a free port, notifications out 0.05 s after each reply."""
    server = SandboxServer(
        sandbox, checkout, free_port(), lambda line: None, notification_delay=0.05, broken=broken
    )
    server.start()
    return server


@contextmanager
def serving(kit: ProviderKit[Any, Any]) -> Iterator[SandboxServer]:
    """A fresh sandbox of `kit`'s provider (new credentials), served as the local stack serves it."""
    credentials = kit.new_credentials()
    sandbox = kit.new_sandbox(credentials)
    server = serve(sandbox, kit.checkout(sandbox), kit.breaker(credentials, sandbox))
    kit.serve_pages_at(sandbox, server.base_url)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def control(server: SandboxServer, order_id: str, action: str, query: str = "") -> requests.Response:
    return requests.post(f"{server.base_url}/_control/{order_id}/{action}{query}", timeout=10)
