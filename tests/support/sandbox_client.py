"""An adapter's HTTP client wired straight to a provider sandbox, below `requests`: the adapter's wire
format, without a network or `responses` (for tests of an adapter on its own)."""

from __future__ import annotations

from typing import Any

from local.testing import ReplyLost
from payments.errors import ProviderTimeout
from payments.http import HttpClient, HttpResponse
from tests.support.link import Sandbox


class SandboxHttp(HttpClient):
    """Hands each request to `sandbox`. `faults`, one per request: "timeout" (nothing reached the
    provider), "timeout_after_processing" (the provider acted, we never heard back), "http_500"; the
    sandbox's `timeout_once` knob is a timeout too. `sent`: (url, headers, body) of every request."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.faults: list[str] = []
        self.sent: list[tuple[str, dict[str, str], bytes]] = []

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Any = None,
        body: bytes | None = None,
        timeout: tuple[float, float] = (0, 0),
    ) -> HttpResponse:
        self.sent.append((url, dict(headers or {}), body or b""))
        fault = self.faults.pop(0) if self.faults else None
        if fault == "timeout":
            raise ProviderTimeout("the payment provider did not answer in time")
        if fault == "http_500":
            return HttpResponse(500, {"Content-Type": "text/html"}, b"<html>oops</html>")
        wired: Sandbox = self.sandbox
        try:
            status, reply_headers, reply = wired.handle(method, url, dict(headers or {}), body)
        except ReplyLost:
            raise ProviderTimeout("the payment provider did not answer in time") from None
        if fault == "timeout_after_processing":
            raise ProviderTimeout("the payment provider did not answer in time")
        return HttpResponse(status, reply_headers, reply)
