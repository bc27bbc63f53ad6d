"""events/ must work with the handlers: each sample hits its route and the signed one verifies."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from events.generate import (
    SAMPLE_MSP_API_KEY,
    SAMPLE_ORDER_ID,
    SAMPLE_USEEPAY_MD5_KEY,
    SAMPLE_USEEPAY_MERCHANT_NO,
    build,
)
from local.sandboxes.multisafepay import MultiSafepaySandbox
from payments.orders import OrderEvent
from payments.store import OrdersStore, iso
from payments.web import raw_request
from tests.conftest import Stack
from tests.support.alipay_intl_kit import settings_entry
from tests.support.lambdas import Api
from tests.support.multisafepay_kit import MSP_BASE_URL
from tests.support.orders import stored_order

EVENTS = Path(__file__).resolve().parent.parent.parent / "events"


def load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def test_committed_events_are_what_the_generator_writes() -> None:
    stamp = int(load("notify_multisafepay_post.json")["queryStringParameters"]["timestamp"])
    fresh = build(stamp)
    for name, event in fresh.items():
        if name == "notify_alipay_intl_post.json":
            continue  # signed with a fresh key each time: checked by test_alipay_sample_verifies
        committed = load(name)
        for volatile in ("requestContext",):
            committed.pop(volatile)
            event.pop(volatile)
        if name == "create_order.json":
            assert json.loads(base64.b64decode(committed.pop("body"))) == json.loads(
                base64.b64decode(str(event.pop("body")))
            )
        assert committed == json.loads(json.dumps(event)), name


def test_signed_sample_verifies_with_the_documented_key() -> None:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

    from payments.http import HttpClient
    from payments.providers.multisafepay import MultiSafepay, MultiSafepaySettings

    event = APIGatewayProxyEvent(load("notify_multisafepay_post.json"))
    stamp = int(event.query_string_parameters["timestamp"])
    raw = raw_request(event, datetime.fromtimestamp(stamp + 1, UTC))
    adapter = MultiSafepay(MultiSafepaySettings.model_validate({"api_key": SAMPLE_MSP_API_KEY}), HttpClient())
    notification = adapter.parse_notification(raw)
    assert (notification.order_id, str(notification.status)) == (SAMPLE_ORDER_ID, "paid")


@pytest.fixture
def sample_api(stack: Stack, msp: MultiSafepaySandbox) -> Api:
    msp.api_key = SAMPLE_MSP_API_KEY
    stack.put_secret({"multisafepay": {"api_key": SAMPLE_MSP_API_KEY, "base_url": MSP_BASE_URL}})
    return Api(stack.template, stack.refs)


def test_samples_drive_the_handlers(sample_api: Api, msp: MultiSafepaySandbox) -> None:
    functions = sample_api.functions
    created = functions["CreateOrderFunction"].invoke(load("create_order.json"))
    assert created.status == 201, created.body
    assert functions["GetOrderFunction"].invoke(load("get_order.json")).json()["status"] == "pending"

    fresh = build(int(datetime.now(UTC).timestamp()))
    assert functions["NotifyFunction"].invoke(fresh["notify_multisafepay_post.json"]).status == 200
    assert functions["GetOrderFunction"].invoke(load("get_order.json")).json()["status"] == "paid"

    msp.set_status(SAMPLE_ORDER_ID, "completed")
    assert functions["NotifyFunction"].invoke(load("notify_multisafepay_get.json")).body == "OK"


def api_with_order(stack: Stack, order_id: str, provider: str) -> Api:
    """The handlers, with `order_id` already created (pending its notification) for `provider`."""
    order = stored_order(order_id)
    order.provider = provider
    OrdersStore(stack.table_name).create(
        order, OrderEvent(type="order_created", at=iso(datetime.now(UTC)), source="merchant")
    )
    return Api(stack.template, stack.refs)


def test_useepay_sample_verifies_with_the_documented_key(stack: Stack, wire: object) -> None:
    stack.put_secret(
        {
            "useepay": {
                "merchant_no": SAMPLE_USEEPAY_MERCHANT_NO,
                "app_id": "shop.example.com",
                "sign_type": "MD5",
                "md5_key": SAMPLE_USEEPAY_MD5_KEY,
            }
        }
    )
    api = api_with_order(stack, "sample-order-2", "useepay")
    reply = api.functions["NotifyFunction"].invoke(load("notify_useepay_post.json"))
    assert (reply.status, reply.body) == (200, "ok")
    assert api.request("GET", "/orders/sample-order-2").json()["status"] == "paid"


def test_alipay_sample_verifies_with_the_committed_public_key(stack: Stack, wire: object) -> None:
    public_key = (EVENTS / "alipay_sample_public_key.pem").read_text()
    stack.put_secret(
        {"alipay_intl": settings_entry(client_id="SAMPLE_CLIENT_ID_01", alipay_public_key=public_key)}
    )
    api = api_with_order(stack, "sample-order-3", "alipay_intl")
    reply = api.functions["NotifyFunction"].invoke(load("notify_alipay_intl_post.json"))
    assert reply.status == 200, reply.body
    assert '"resultCode":"SUCCESS"' in reply.body
    assert api.request("GET", "/orders/sample-order-3").json()["status"] == "paid"


def test_stale_sample_is_refused(sample_api: Api, msp: MultiSafepaySandbox) -> None:
    stale = build(int(datetime.now(UTC).timestamp()) - 3600)["notify_multisafepay_post.json"]
    reply = sample_api.functions["NotifyFunction"].invoke(stale)
    assert reply.status == 401
    assert reply.json()["error"]["code"] == "stale_signature"
