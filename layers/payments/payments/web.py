"""API Gateway plumbing shared by the handlers: raw requests, JSON responses, the error shape."""

from __future__ import annotations

import base64
import json
import os
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import Response as Response  # the handlers' too
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from payments.errors import MAX_REQUEST_BODY_BYTES, PaymentsError, RequestTooLarge
from payments.store.orders import OrdersStore

if TYPE_CHECKING:
    from payments.providers.base import RawRequest
    from payments.service import PaymentsService

logger = Logger()
JSON = "application/json"
PUBLIC_BASE_URL_ENV = "PUBLIC_BASE_URL"


# The service, the provider contract and their dependencies (pydantic, requests, Powertools
# Parameters) are imported by the functions that build them, not by this module: the get function
# never needs them, and at cold start each import is paid for.
def build_service() -> PaymentsService:
    from payments.providers.directory import ProviderDirectory
    from payments.service import PaymentsService

    return PaymentsService(OrdersStore.from_env(), ProviderDirectory())


def json_response(status: int, body: Any) -> Response[str]:
    return Response(status_code=status, content_type=JSON, body=json.dumps(body, ensure_ascii=False))


def error_response(error: PaymentsError) -> Response[str]:
    return json_response(error.status, error.to_body())


def create_app(*, refuse_large_bodies: bool = True) -> APIGatewayRestResolver:
    """A resolver whose every failure answers in our error shape, and which refuses a body over
    MAX_REQUEST_BODY_BYTES before its route runs (`refuse_large_bodies=False`: the route's flow does,
    as the notify flow records every notification it refuses)."""
    app = APIGatewayRestResolver(strip_prefixes=None)
    if refuse_large_bodies:
        app.use(middlewares=[_refuse_large_bodies])

    @app.exception_handler(PaymentsError)  # type: ignore[untyped-decorator]
    def _payments_error(error: PaymentsError) -> Response[str]:
        if error.status >= 500:
            logger.error("request failed", extra={"code": error.code})
        return error_response(error)

    @app.not_found
    def _not_found(_: Exception) -> Response[str]:
        return json_response(404, {"error": {"code": "route_not_found", "message": "no such route"}})

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _unexpected(_: Exception) -> Response[str]:
        logger.exception("unexpected error")
        return json_response(500, {"error": {"code": "internal_error", "message": "internal error"}})

    return app


def body_size(event: APIGatewayProxyEvent) -> int:
    """The body's size in bytes as the client sent it, without decoding it."""
    body = event.body or ""
    if event.is_base64_encoded:
        return len(body) // 4 * 3 - body[-2:].count("=")
    return len(body.encode("utf-8"))


def _refuse_large_bodies(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[str]:
    if body_size(app.current_event) > MAX_REQUEST_BODY_BYTES:
        raise RequestTooLarge
    return next_middleware(app)


def raw_body(event: APIGatewayProxyEvent) -> bytes:
    """The body bytes exactly as the client sent them."""
    body = event.body or ""
    if event.is_base64_encoded:
        return base64.b64decode(body)
    return body.encode("utf-8")


def raw_request(event: APIGatewayProxyEvent, now: datetime) -> RawRequest:
    from payments.providers.base import RawRequest  # see build_service

    headers = {name.lower(): value for name, value in (event.raw_event.get("headers") or {}).items()}
    query = {
        name: list(values)
        for name, values in (event.raw_event.get("multiValueQueryStringParameters") or {}).items()
    }
    if not query:
        query = {
            name: [value] for name, value in (event.raw_event.get("queryStringParameters") or {}).items()
        }
    return RawRequest(
        method=event.http_method.upper(),
        body=raw_body(event),
        headers=headers,
        query=query,
        now=now,
        url=public_base_url(event) + route_path(event),
        received_path=event.path or "",
        source_ip=str((event.request_context.identity.source_ip if event.request_context else "") or ""),
    )


def route_path(event: APIGatewayProxyEvent) -> str:
    """The path under the API's root (no stage, no base path): the route, its parameters filled in."""
    path = event.resource or ""
    for name, value in (event.path_parameters or {}).items():
        path = path.replace("{" + name + "}", value).replace("{" + name + "+}", value)
    return path


def public_base_url(event: APIGatewayProxyEvent) -> str:
    """Where providers reach this API: PUBLIC_BASE_URL (custom domain) or the API Gateway stage URL."""
    configured = os.environ.get(PUBLIC_BASE_URL_ENV, "").strip()
    if configured:
        return configured.rstrip("/")
    context = event.request_context
    return f"https://{context.domain_name}/{context.stage}"
