"""A notification as the notify function hands it to an adapter: its body, headers and query as they
arrived, and the URL it was sent to as we published it (PUBLIC_BASE_URL, else the stage URL, then the
route): a provider that signs the URL it called signed that one, not the path the Lambda sees."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from local.testing import proxy_event
from payments import web

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def event(
    path: str = "/notify/acme", resource: str = "/notify/{provider}", **params: str
) -> APIGatewayProxyEvent:
    raw = proxy_event(
        method="POST",
        path=path,
        resource=resource,
        path_parameters=params or {"provider": "acme"},
        headers=[("Content-Type", "application/json"), ("X-Sig", "abc")],
        query=[("a", "1")],
        body=b'{"x": 1}',
        stage="Prod",
        domain_name="abc123.execute-api.eu-west-1.amazonaws.com",
    )
    return APIGatewayProxyEvent(raw)


def test_the_url_is_the_stage_url_and_the_route(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(web.PUBLIC_BASE_URL_ENV, raising=False)
    raw = web.raw_request(event(), NOW)
    assert raw.url == "https://abc123.execute-api.eu-west-1.amazonaws.com/Prod/notify/acme"
    assert (raw.method, raw.body, raw.header("x-sig"), raw.query) == (
        "POST",
        b'{"x": 1}',
        "abc",
        {"a": ["1"]},
    )


def test_behind_a_custom_domain_it_is_the_public_base_url_and_the_route(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """API Gateway's event may carry the base path in `path`: the route is taken from `resource`."""
    monkeypatch.setenv(web.PUBLIC_BASE_URL_ENV, "https://pay.example.com/shop-api/")
    raw = web.raw_request(event(path="/shop-api/notify/acme"), NOW)
    assert raw.url == "https://pay.example.com/shop-api/notify/acme"


def test_a_greedy_path_parameter_is_filled_in_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(web.PUBLIC_BASE_URL_ENV, raising=False)
    raw = web.raw_request(event(path="/files/a/b", resource="/files/{proxy+}", proxy="a/b"), NOW)
    assert raw.url.endswith("/Prod/files/a/b")
