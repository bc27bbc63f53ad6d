"""Route requests to the template's functions in-process, as API Gateway would."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.testing import InProcessBackend, Reply, Router, Template


class Api:
    """Routes requests to the template's functions as API Gateway would (API keys included)."""

    def __init__(self, template: Template, refs: dict[str, str], api_key: str = "test-merchant-key") -> None:
        self.api_key = api_key
        specs = template.functions()
        envs = {spec.logical_id: template.environment(spec, refs) for spec in specs}
        backend = InProcessBackend(specs, envs)
        self.functions = backend.functions
        # The events carry a deployed API's domain and a client's address (proxy_event's defaults).
        self.router = Router(specs, api_key, backend, template.gateway_responses(), api_key_id="testkeyid")

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | str | dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        query: Sequence[tuple[str, str]] = (),
        api_key: str | None = "default",
    ) -> Reply:
        parts = urlsplit(url)
        path = parts.path.removeprefix("/v1") if parts.netloc else parts.path  # full URLs carry the stage
        query = [*parse_qsl(parts.query, keep_blank_values=True), *query]
        header_items = list((headers or {}).items())
        if isinstance(body, dict):
            body = json.dumps(body)
            header_items.append(("Content-Type", "application/json"))
        raw = body.encode() if isinstance(body, str) else body
        key = self.api_key if api_key == "default" else api_key
        if key is not None:
            header_items.append(("x-api-key", key))
        return self.router.answer(method, path, query, header_items, raw)
