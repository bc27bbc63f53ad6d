"""API Gateway's part of a request, shared by everything that plays it locally (the local gateway, the
tests' in-process API): find the template route, check the API key and the size, build the proxy
event, hand it to a backend that invokes the route's function, and answer API Gateway's own refusals
with the template's gateway responses."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from local.apigw import match_route, proxy_event
from local.inprocess import InvocationFailed, Reply
from local.template import FunctionSpec, Route

JSON = {"content-type": "application/json"}
API_GATEWAY_MAX_BODY = 10 * 1024 * 1024  # API Gateway's limit on a REST API request's body
LAMBDA_MAX_PAYLOAD = 6 * 1024 * 1024  # Lambda's on a synchronous invocation's event (the body in base64)

# The response types the local gateway gives: API Gateway's default status and message for each (its
# documentation's "Gateway response types"; Lambda's failures answer 502 in practice).
GATEWAY_DEFAULTS = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "INVALID_API_KEY": (403, "Forbidden"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long"),
    "INTEGRATION_FAILURE": (502, "Internal server error"),
}


class Backend(Protocol):
    """Runs a function of the template on an API Gateway proxy event (in-process, emulated, ...)."""

    def invoke(self, spec: FunctionSpec, event: dict[str, Any]) -> Reply: ...


class GatewayResponses:
    """API Gateway's own answers as the template's `GatewayResponses` shape them: a type's own
    response, else DEFAULT_4XX or DEFAULT_5XX with the type's status, else API Gateway's
    `{"message": …}`. Templates may use `$context.error.messageString` (the default message, quoted)."""

    def __init__(self, declared: Mapping[str, Mapping[str, Any]]) -> None:
        self.declared = declared

    def reply(self, response_type: str) -> Reply:
        status, message = GATEWAY_DEFAULTS[response_type]
        fallback = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        declared = self.declared.get(response_type) or self.declared.get(fallback)
        if declared is None:
            return Reply(status, dict(JSON), json.dumps({"message": message}))
        template = str(declared.get("ResponseTemplates", {}).get("application/json", ""))
        body = template.replace("$context.error.messageString", json.dumps(message))
        if "$" in body:
            raise ValueError(f"{response_type}: the local gateway knows only $context.error.messageString")
        return Reply(int(declared.get("StatusCode", status)), dict(JSON), body)


class Router:
    """The template's routes, API keys and gateway responses, as API Gateway applies them:

    - no route for the method and path: MISSING_AUTHENTICATION_TOKEN (403, whatever the method);
    - a route that needs an API key, asked without `x-api-key` or with another key: INVALID_API_KEY;
    - a body over API Gateway's 10 MB, or an event over Lambda's 6 MB: REQUEST_TOO_LARGE;
    - a function that gives no proxy result (InvocationFailed): INTEGRATION_FAILURE;
    - otherwise the route's function answers the proxy event.

    `domain_name`, `source_ip` and `api_key_id` are what the events carry about the request's origin.
    """

    def __init__(
        self,
        specs: Sequence[FunctionSpec],
        api_key: str,
        backend: Backend,
        gateway_responses: Mapping[str, Mapping[str, Any]],
        *,
        stage: str = "v1",
        domain_name: str | None = None,
        source_ip: str | None = None,
        api_key_id: str = "localkey",
        log: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.routes: list[tuple[Route, FunctionSpec]] = [
            (route, spec) for spec in specs for route in spec.routes
        ]
        self.api_key = api_key
        self.backend = backend
        self.responses = GatewayResponses(gateway_responses)
        self.log = log
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
            return self.responses.reply("MISSING_AUTHENTICATION_TOKEN")
        route, params = found
        spec = next(spec for candidate, spec in self.routes if candidate is route)
        # The last x-api-key header, as the event's `headers` keep the last value of each.
        given = next((value for name, value in reversed(headers) if name.lower() == "x-api-key"), None)
        if route.api_key_required and given != self.api_key:
            return self.responses.reply("INVALID_API_KEY")
        if body is not None and len(body) > API_GATEWAY_MAX_BODY:
            return self.responses.reply("REQUEST_TOO_LARGE")
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
        if len(json.dumps(event)) > LAMBDA_MAX_PAYLOAD:  # Lambda refuses it; API Gateway answers 413
            return self.responses.reply("REQUEST_TOO_LARGE")
        try:
            return self.backend.invoke(spec, event)
        except InvocationFailed as failure:
            self.log(f"{spec.logical_id} failed: {failure}")
            return self.responses.reply("INTEGRATION_FAILURE")
