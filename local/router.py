"""API Gateway's part of a request, shared by everything that plays it locally (the local gateway, the
tests' in-process API): find the template route, check the API key, build the proxy event, and hand
it to a backend that invokes the route's function."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from local.apigw import match_route, proxy_event
from local.inprocess import Reply
from local.template import FunctionSpec, Route

JSON = {"content-type": "application/json"}


class Backend(Protocol):
    """Runs a function of the template on an API Gateway proxy event (in-process, emulated, ...)."""

    def invoke(self, spec: FunctionSpec, event: dict[str, Any]) -> Reply: ...


class Router:
    """The template's routes and API keys, as API Gateway applies them:

    - no route for the method and path: 404 for a GET (what a browser asks), 403 otherwise, both
      `{"message": "Missing Authentication Token"}`;
    - a route that needs an API key, asked without `x-api-key` or with another key: 403 `Forbidden`;
    - otherwise the route's function answers the proxy event.

    `domain_name`, `source_ip` and `api_key_id` are what the events carry about the request's origin.
    """

    def __init__(
        self,
        specs: Sequence[FunctionSpec],
        api_key: str,
        backend: Backend,
        *,
        stage: str = "v1",
        domain_name: str | None = None,
        source_ip: str | None = None,
        api_key_id: str = "localkey",
    ) -> None:
        self.routes: list[tuple[Route, FunctionSpec]] = [
            (route, spec) for spec in specs for route in spec.routes
        ]
        self.api_key = api_key
        self.backend = backend
        # Only what is given: proxy_event's defaults stand in for a deployed API's values.
        self.origin: dict[str, Any] = {"stage": stage}
        if domain_name is not None:
            self.origin["domain_name"] = domain_name
        if source_ip is not None:
            self.origin["source_ip"] = source_ip
        self.api_key_id = api_key_id

    def answer(
        self,
        method: str,
        path: str,
        query: Sequence[tuple[str, str]],
        headers: Sequence[tuple[str, str]],
        body: bytes | None,
    ) -> Reply:
        found = match_route((route for route, _ in self.routes), method, path)
        if found is None:
            status = 404 if method.upper() == "GET" else 403
            return Reply(status, dict(JSON), json.dumps({"message": "Missing Authentication Token"}))
        route, params = found
        spec = next(spec for candidate, spec in self.routes if candidate is route)
        # The last x-api-key header, as the event's `headers` keep the last value of each.
        given = next((value for name, value in reversed(headers) if name.lower() == "x-api-key"), None)
        if route.api_key_required and given != self.api_key:
            return Reply(403, dict(JSON), json.dumps({"message": "Forbidden"}))
        event = proxy_event(
            method=method,
            path=path,
            resource=route.path,
            path_parameters=params,
            query=query,
            headers=headers,
            body=body,
            api_key=given if route.api_key_required else None,
            api_key_id=self.api_key_id if route.api_key_required else None,
            **self.origin,
        )
        return self.backend.invoke(spec, event)
