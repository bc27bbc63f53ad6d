"""Route requests to the template's functions in-process, as API Gateway would."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from local.apigw import match_route, proxy_event
from local.inprocess import LambdaUnderTest, Reply
from local.template import Template


class Api:
    """Routes requests to the template's functions as API Gateway would (API keys included)."""

    def __init__(self, template: Template, refs: dict[str, str], api_key: str = "test-merchant-key") -> None:
        self.api_key = api_key
        specs = template.functions()
        envs = {spec.logical_id: template.environment(spec, refs) for spec in specs}
        keys = {key for env in envs.values() for key in env}
        self.functions = {
            spec.logical_id: LambdaUnderTest(spec, envs[spec.logical_id], keys) for spec in specs
        }

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
        from urllib.parse import parse_qsl, urlsplit

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
        for function in self.functions.values():
            found = match_route(function.spec.routes, method, path)
            if found:
                route, params = found
                if route.api_key_required and key != self.api_key:
                    return Reply(403, {}, json.dumps({"message": "Forbidden"}))
                event = proxy_event(
                    method=method,
                    path=path,
                    resource=route.path,
                    path_parameters=params,
                    query=query,
                    headers=header_items,
                    body=raw,
                    api_key_id="testkeyid" if route.api_key_required else None,
                    api_key=key if route.api_key_required else None,
                )
                return function.invoke(event)
        return Reply(404, {}, json.dumps({"message": "Missing Authentication Token"}))
