"""Every route refuses a body over the API's documented limit (payments/errors.py,
MAX_REQUEST_BODY_BYTES) with 413 request_too_large, through the real handlers: merchant routes before
their route runs, provider notifications as a rejected attempt, recorded like any other."""

from __future__ import annotations

import re

import pytest

from local.testing import Template, kits
from payments.errors import MAX_REQUEST_BODY_BYTES
from tests.conftest import Stack
from tests.support.lambdas import Api
from tests.support.store import last_rejected

MERCHANT_ROUTES = sorted(
    (route.method, route.path)
    for spec in Template().functions()
    for route in spec.routes
    if not route.path.startswith("/notify/")
)


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda found: f"size-{found.group(1)}", path)


@pytest.mark.parametrize(("method", "path"), MERCHANT_ROUTES)
def test_a_merchant_route_refuses_a_body_over_the_limit_and_takes_one_at_it(
    api: Api, method: str, path: str
) -> None:
    over = api.request(method, concrete(path), body=b"x" * (MAX_REQUEST_BODY_BYTES + 1))
    assert (over.status, over.json()["error"]["code"]) == (413, "request_too_large"), over.body[:300]
    assert str(MAX_REQUEST_BODY_BYTES) in over.json()["error"]["message"]
    at = api.request(method, concrete(path), body=b"x" * MAX_REQUEST_BODY_BYTES)
    assert at.status != 413, at.body[:300]


@pytest.mark.parametrize("provider", sorted(kits()))
def test_a_notification_over_the_limit_is_refused_and_recorded(api: Api, stack: Stack, provider: str) -> None:
    reply = api.request("POST", f"/notify/{provider}", body=b"x" * (MAX_REQUEST_BODY_BYTES + 1), api_key=None)
    assert reply.status == 413, reply.body[:300]
    assert last_rejected(stack.table_name, provider)["reason"] == "request_too_large"
