"""The local API gateway: like `sam local start-api`, the template's routes, API keys and functions
over HTTP (local/router.py), with the demo shop at `/` (local/shop_server.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.http_server import LoopbackServer, Response
from local.inprocess import Reply
from local.router import Backend, Router
from local.shop_server import DemoShop
from local.template import FunctionSpec


class Gateway(LoopbackServer):
    """The template's API on `port`, and the demo shop, once `serve` gives it the functions."""

    def __init__(
        self,
        specs: list[FunctionSpec],
        gateway_responses: Mapping[str, Mapping[str, Any]],
        api_key: str,
        port: int,
        log: Callable[[str], None],
    ) -> None:
        # Binds now, before anything else starts: the port is ours (or this fails) from the outset.
        super().__init__(port, log)
        self.specs = specs
        self.gateway_responses = gateway_responses
        self.api_key = api_key
        self.router: Router | None = None
        self.shop = DemoShop(self.call, api_key, self.base_url, log)

    def serve(self, backend: Backend, providers: list[str]) -> None:
        """Start answering, with the functions behind `backend`; the shop offers `providers`."""
        domain = urlsplit(self.base_url).netloc
        self.router = Router(
            self.specs,
            self.api_key,
            backend,
            self.gateway_responses,
            domain_name=domain,
            source_ip="127.0.0.1",
            log=self.log,
        )
        self.shop.providers = providers
        self.start()

    def route(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Response:
        shop_response = self.shop.route(method, target, headers, body)
        if shop_response is not None:
            return shop_response
        reply = self.call(method, target, headers, body)
        return (
            reply.status,
            {"Content-Type": reply.headers.get("content-type", "application/json")},
            reply.body.encode(),
        )

    def call(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes | None) -> Reply:
        """The API's answer to a request, as a client of this gateway gets it."""
        if self.router is None:
            raise RuntimeError("Gateway.serve() was not called")
        parts = urlsplit(target)
        query = parse_qsl(parts.query, keep_blank_values=True)
        try:
            return self.router.answer(method, parts.path, query, headers, body if body else None)
        except Exception as exc:  # a handler run in this process raised: as Lambda, a failed invocation
            self.log(f"{method} {parts.path} failed in process: {type(exc).__name__}: {str(exc)[:200]}")
            return self.router.responses.reply("INTEGRATION_FAILURE")
