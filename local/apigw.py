"""API Gateway REST API (v1) proxy events, built the way API Gateway builds them.

Used by the tests and by the local gateway, so that handlers see the same event shape as on AWS.
With `BinaryMediaTypes: */*` (as in template.yaml) API Gateway hands every body over base64-encoded.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from local.template import Route


def match_route(routes: Iterable[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for `method path` and its path parameters (API Gateway `{name}` segments)."""
    for route in routes:
        if route.method != method.upper():
            continue
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(route.path)) + "$"
        found = re.match(pattern, path)
        if found:
            return route, found.groupdict()
    return None


def proxy_event(
    *,
    method: str,
    path: str,
    resource: str,
    path_parameters: Mapping[str, str] | None = None,
    query: Sequence[tuple[str, str]] = (),
    headers: Sequence[tuple[str, str]] = (),
    body: bytes | None = None,
    binary_bodies: bool = True,
    stage: str = "v1",
    domain_name: str = "abc123.execute-api.eu-west-1.amazonaws.com",
    source_ip: str = "203.0.113.10",
    api_key_id: str | None = None,
    api_key: str | None = None,
) -> dict[str, Any]:
    single_headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        single_headers[name] = value  # API Gateway keeps the last value in `headers`
        multi_headers.setdefault(name, []).append(value)
    single_query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in query:
        single_query[name] = value
        multi_query.setdefault(name, []).append(value)
    now = datetime.fromtimestamp(time.time(), UTC)  # one clock for requestTime and requestTimeEpoch
    request_id = str(uuid.uuid4())
    user_agent = next((value for name, value in headers if name.lower() == "user-agent"), None)
    encoded_body: str | None = None
    is_base64 = False
    if body is not None:
        if binary_bodies:
            encoded_body, is_base64 = base64.b64encode(body).decode("ascii"), True
        else:
            encoded_body = body.decode("utf-8")
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method.upper(),
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": domain_name.split(".")[0],
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".")[0],
            "extendedRequestId": base64.b32encode(uuid.uuid4().bytes)[:16].decode(),
            "httpMethod": method.upper(),
            "identity": {
                "sourceIp": source_ip,
                "userAgent": user_agent,
                "apiKey": api_key,
                "apiKeyId": api_key_id,
                "accountId": None,
                "caller": None,
                "user": None,
                "userArn": None,
            },
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourceId": "abc123",
            "resourcePath": resource,
            "stage": stage,
        },
        "body": encoded_body,
        "isBase64Encoded": is_base64,
    }
