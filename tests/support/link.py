"""Faults on the wire between an adapter and a provider sandbox, consumed one per request.

`responses` replaces the transport below `requests`, so urllib3's own retries do not run here: each
HTTP request the adapter makes consumes exactly one injected fault.

A sandbox's own `timeout_once` knob (the provider processed the call, its reply never came) reaches the
adapter as `requests.ReadTimeout`, as a real provider that went quiet would.
"""

from __future__ import annotations

from typing import Protocol

import requests
from requests import PreparedRequest

from local.testing import ReplyLost


class Sandbox(Protocol):
    def handle(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]: ...


class ProviderLink:
    def __init__(self) -> None:
        self.faults: list[str] = []

    def inject(self, *faults: str) -> None:
        self.faults.extend(faults)

    def exchange(self, sandbox: Sandbox, request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        fault = self.faults.pop(0) if self.faults else None
        if fault == "connect_timeout":
            raise requests.ConnectTimeout("connect timed out")
        if fault == "reset":
            raise requests.ConnectionError("connection reset by peer")
        if fault == "http_500":
            return 500, {"Content-Type": "text/html"}, b"<html>Internal Server Error</html>"
        if fault == "garbage":
            return 200, {"Content-Type": "application/json"}, b'{"success": tr'
        if fault and fault.startswith("reply:"):  # "reply:<status>:<body>", instead of the provider's
            _, status, text = fault.split(":", 2)
            return int(status), {"Content-Type": "application/json"}, text.encode()
        body = request.body.encode() if isinstance(request.body, str) else request.body
        try:
            reply = sandbox.handle(request.method or "GET", request.url or "", dict(request.headers), body)
        except ReplyLost:
            raise requests.ReadTimeout("read timed out (the provider processed the request)") from None
        if fault == "read_timeout_after_processing":  # the provider acted; we never heard back
            raise requests.ReadTimeout("read timed out")
        return reply
