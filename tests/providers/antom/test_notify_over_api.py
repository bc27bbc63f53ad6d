"""Through the real handlers: Antom signs its notifications over the path of the notify URL it was
given, so the notify function verifies over the address the API is published at (the stage URL, or
PublicBaseUrl with a custom domain's base path), never over the path the Lambda sees."""

from __future__ import annotations

import pytest

from local.providers.antom.sandbox import AntomSandbox
from tests.conftest import Stack
from tests.support.lambdas import Api
from tests.support.orders import order_body
from tests.support.store import rejected_items

FUNCTIONS = ("CreateOrderFunction", "NotifyFunction", "OrderActionsFunction")


def publish_at(api: Api, base_url: str | None) -> None:
    """As the template sets PUBLIC_BASE_URL from PublicBaseUrl (None: the stage URL is used)."""
    for name in FUNCTIONS:
        env = api.functions[name].env
        if base_url is None:
            env.pop("PUBLIC_BASE_URL", None)
        else:
            env["PUBLIC_BASE_URL"] = base_url


@pytest.mark.parametrize("base_url", [None, "https://pay.example.com/shop-api"])
def test_a_notification_is_verified_over_the_notify_url_antom_was_given(
    api: Api, antom: AntomSandbox, stack: Stack, base_url: str | None
) -> None:
    publish_at(api, base_url)
    reply = api.request("POST", "/orders", body=order_body("api-1", provider="antom"))
    assert reply.status == 201, reply.body
    given = antom.payments["api-1"]["request"]["paymentNotifyUrl"]
    expected = (base_url or "https://abc123.execute-api.eu-west-1.amazonaws.com/v1") + "/notify/antom"
    assert given == expected
    antom.pay("api-1")
    [sent] = antom.take_notifications()
    # API Gateway hands the function /notify/antom, without the stage or the base path.
    answer = api.request("POST", "/notify/antom", body=sent.body, headers=sent.headers, api_key=None)
    assert answer.status == 200, answer.body
    assert antom.acknowledged(answer.status, answer.body)
    assert api.request("GET", "/orders/api-1").json()["status"] == "paid"

    # Published elsewhere than where Antom was sent, the same bytes prove nothing.
    publish_at(api, "https://other.example.com" if base_url else "https://pay.example.com/shop-api")
    again = api.request("POST", "/notify/antom", body=sent.body, headers=sent.headers, api_key=None)
    assert (again.status, again.json()["error"]["code"]) == (401, "bad_signature")
    assert [item["reason"] for item in rejected_items(stack.table_name, "antom")] == ["bad_signature"]
