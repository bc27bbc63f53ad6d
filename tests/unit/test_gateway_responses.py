"""API Gateway's own answers (template.yaml `GatewayResponses`) in the API's error shape, and the local
router (the local gateway and the tests' API) answering with them as API Gateway would."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.testing import (
    API_GATEWAY_MAX_BODY,
    LAMBDA_MAX_PAYLOAD,
    FunctionSpec,
    GatewayResponses,
    InvocationFailed,
    Reply,
    Route,
    Router,
    Template,
)

# What each of API Gateway's answers says, in our words (docs/api.md: Errors).
CODES = {
    "MISSING_AUTHENTICATION_TOKEN": "route_not_found",
    "INVALID_API_KEY": "invalid_api_key",
    "THROTTLED": "rate_limited",
    "WAF_FILTERED": "rate_limited",
    "REQUEST_TOO_LARGE": "request_too_large",
    "INTEGRATION_FAILURE": "internal_error",
    "INTEGRATION_TIMEOUT": "internal_error",
    "DEFAULT_4XX": "request_refused",
    "DEFAULT_5XX": "internal_error",
}
KEY = "local-0123456789abcdef0123"
SPEC = FunctionSpec(
    "CreateOrderFunction",
    Template().path.parent,
    "app.lambda_handler",
    {},
    (Route("POST", "/orders", True), Route("POST", "/notify/{provider}", False)),
)


def test_every_answer_of_api_gateway_is_declared_in_the_error_shape() -> None:
    declared = Template().gateway_responses()
    assert set(declared) == set(CODES)
    for response_type, response in declared.items():
        assert set(response) <= {"StatusCode", "ResponseTemplates"}, response_type
        template = response["ResponseTemplates"]["application/json"]
        body = json.loads(template.replace("$context.error.messageString", json.dumps("Forbidden")))
        assert set(body) == {"error"}, response_type
        assert set(body["error"]) == {"code", "message"}, response_type
        assert body["error"]["code"] == CODES[response_type], response_type
        assert body["error"]["message"], response_type


class Recorder:
    def __init__(self, fails: bool = False) -> None:
        self.events: list[dict[str, Any]] = []
        self.fails = fails

    def invoke(self, spec: FunctionSpec, event: dict[str, Any]) -> Reply:
        if self.fails:
            raise InvocationFailed('{"errorType": "ImportModuleError"}')
        self.events.append(event)
        return Reply(201, {"content-type": "application/json"}, "{}")


def router(backend: Recorder, log: list[str] | None = None) -> Router:
    said = log if log is not None else []
    return Router([SPEC], KEY, backend, Template().gateway_responses(), log=said.append)


def error_of(reply: Reply) -> tuple[int, str]:
    return reply.status, reply.json()["error"]["code"]


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_an_unknown_route_is_403_route_not_found_whatever_the_method(method: str) -> None:
    """API Gateway's 403, which does not tell an unknown route from a forbidden one, in our shape."""
    backend = Recorder()
    assert error_of(router(backend).answer(method, "/elsewhere", [], [("x-api-key", KEY)], None)) == (
        403,
        "route_not_found",
    )
    assert backend.events == []


@pytest.mark.parametrize("headers", [[], [("x-api-key", "another-key-0123456789")]])
def test_a_missing_or_wrong_key_is_403_invalid_api_key(headers: list[tuple[str, str]]) -> None:
    backend = Recorder()
    assert error_of(router(backend).answer("POST", "/orders", [], headers, b"{}")) == (403, "invalid_api_key")
    assert backend.events == []


@pytest.mark.parametrize(
    "size",
    [
        API_GATEWAY_MAX_BODY + 1,
        LAMBDA_MAX_PAYLOAD * 3 // 4,
    ],  # over API Gateway's limit; over Lambda's in base64
)
def test_a_body_too_large_for_api_gateway_or_lambda_is_413_request_too_large(size: int) -> None:
    backend = Recorder()
    reply = router(backend).answer("POST", "/notify/any", [], [], b"x" * size)
    assert error_of(reply) == (413, "request_too_large")
    assert backend.events == []


def test_a_body_lambda_takes_reaches_the_function() -> None:
    """4 MB: 5.3 MB in base64, under Lambda's 6 MB (the function itself refuses it: payments/web.py)."""
    backend = Recorder()
    assert router(backend).answer("POST", "/notify/any", [], [], b"x" * 4 * 1024 * 1024).status == 201
    assert len(backend.events) == 1


def test_a_failed_invocation_is_502_internal_error_and_logged() -> None:
    log: list[str] = []
    reply = router(Recorder(fails=True), log).answer("POST", "/orders", [], [("x-api-key", KEY)], b"{}")
    assert error_of(reply) == (502, "internal_error")
    assert log == ['CreateOrderFunction failed: {"errorType": "ImportModuleError"}']


def test_an_undeclared_response_falls_back_as_api_gateway_does() -> None:
    """A type not declared takes DEFAULT_4XX or DEFAULT_5XX with its own status; with neither, API
    Gateway's own `{"message": …}`."""
    defaults_only = {
        "DEFAULT_4XX": {
            "ResponseTemplates": {
                "application/json": '{"error": {"code": "x", "message": $context.error.messageString}}'
            }
        }
    }
    reply = GatewayResponses(defaults_only).reply("INVALID_API_KEY")
    assert (reply.status, reply.json()) == (403, {"error": {"code": "x", "message": "Forbidden"}})
    bare = GatewayResponses(defaults_only).reply("INTEGRATION_FAILURE")
    assert (bare.status, bare.json()) == (502, {"message": "Internal server error"})
