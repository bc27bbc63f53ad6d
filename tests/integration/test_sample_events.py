"""events/ must work with the handlers: every sample is driven here, per provider in the order a user
of `sam local invoke` would send them (create -> get -> notification -> get, then the merchant's refund
or cancel), and the signed ones verify with the keys events/README.md documents."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import responses
from requests import PreparedRequest

from events.generate import (
    SAMPLE_ALIPAY_CLIENT_ID,
    SAMPLE_CANCEL_ORDER,
    SAMPLE_MSP_API_KEY,
    SAMPLE_ORDER_ID,
    SAMPLE_ORDERS,
    SAMPLE_REFUND_ORDER,
    SAMPLE_USEEPAY_MD5_KEY,
    SAMPLE_USEEPAY_MERCHANT_NO,
    build,
)
from local.providers.alipay_intl.sandbox import AlipayIntlSandbox
from local.providers.multisafepay.sandbox import MultiSafepaySandbox
from local.providers.useepay.sandbox import UseePaySandbox
from payments.web import raw_request
from tests.conftest import Stack
from tests.providers.alipay_intl.fixtures import (
    ALIPAY_BASE_URL,
    ALIPAY_KEY,
    MERCHANT_ID,
    MERCHANT_KEY,
    settings_entry,
)
from tests.providers.multisafepay.fixtures import MSP_BASE_URL
from tests.providers.useepay.fixtures import USEEPAY_BASE_URL
from tests.support.lambdas import Api
from tests.support.link import ProviderLink

EVENTS = Path(__file__).resolve().parent.parent.parent / "events"
# Every event file, and the test below that drives it.
DRIVEN = {
    "create_order_multisafepay.json": "test_multisafepay_samples_take_an_order_to_paid",
    "get_order_multisafepay.json": "test_multisafepay_samples_take_an_order_to_paid",
    "notify_multisafepay_post.json": "test_multisafepay_samples_take_an_order_to_paid",
    "notify_multisafepay_get.json": "test_multisafepay_samples_take_an_order_to_paid",
    "refund_order_multisafepay.json": "test_multisafepay_samples_take_an_order_to_paid",
    "cancel_order_alipay_intl.json": "test_alipay_cancel_sample_withdraws_the_unpaid_order",
    "create_order_useepay.json": "test_useepay_samples_take_an_order_to_paid",
    "get_order_useepay.json": "test_useepay_samples_take_an_order_to_paid",
    "notify_useepay_post.json": "test_useepay_samples_take_an_order_to_paid",
    "create_order_alipay_intl.json": "test_alipay_samples_take_an_order_to_paid",
    "get_order_alipay_intl.json": "test_alipay_samples_take_an_order_to_paid",
    "notify_alipay_intl_post.json": "test_alipay_samples_take_an_order_to_paid",
}


def load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def event_files() -> set[str]:
    return {path.name for path in EVENTS.glob("*.json") if "httpMethod" in path.read_text()}


def test_every_event_is_generated_and_driven_by_a_test() -> None:
    assert event_files() == set(build(0)) == set(DRIVEN)
    assert set(DRIVEN.values()) <= set(globals())
    # A create event for every provider that has a notification sample.
    notified = {name.split("_", 1)[1].rsplit("_", 1)[0] for name in DRIVEN if name.startswith("notify_")}
    assert notified == set(SAMPLE_ORDERS)
    assert all(f"create_order_{provider}.json" in DRIVEN for provider in notified)


def test_committed_events_are_what_the_generator_writes() -> None:
    stamp = int(load("notify_multisafepay_post.json")["queryStringParameters"]["timestamp"])
    fresh = build(stamp)
    for name, event in fresh.items():
        if name == "notify_alipay_intl_post.json":
            continue  # signed with a fresh key each time: test_alipay_samples_take_an_order_to_paid
        committed = load(name)
        committed.pop("requestContext")
        event.pop("requestContext")
        if name.startswith("create_order_"):
            assert json.loads(base64.b64decode(committed.pop("body"))) == json.loads(
                base64.b64decode(str(event.pop("body")))
            )
        assert committed == json.loads(json.dumps(event)), name


def status_of(api: Api, provider: str) -> str:
    reply = api.functions["GetOrderFunction"].invoke(load(f"get_order_{provider}.json"))
    assert reply.status == 200, reply.body
    status: str = reply.json()["status"]
    return status


def create(api: Api, provider: str) -> None:
    reply = api.functions["CreateOrderFunction"].invoke(load(f"create_order_{provider}.json"))
    assert reply.status == 201, reply.body
    assert reply.json()["order_id"] == SAMPLE_ORDERS[provider]
    assert status_of(api, provider) == "pending"


def mount(wire: responses.RequestsMock, link: ProviderLink, sandbox: Any, url: str) -> None:
    def callback(request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        return link.exchange(sandbox, request)

    for method in (responses.GET, responses.POST):
        wire.add_callback(method, re.compile(re.escape(url) + ".*"), callback=callback)


def test_multisafepay_samples_take_an_order_to_paid(
    stack: Stack, wire: responses.RequestsMock, link: ProviderLink
) -> None:
    sandbox = MultiSafepaySandbox(api_key=SAMPLE_MSP_API_KEY)
    mount(wire, link, sandbox, MSP_BASE_URL)
    stack.put_secret({"multisafepay": {"api_key": SAMPLE_MSP_API_KEY, "base_url": MSP_BASE_URL}})
    api = Api(stack.template, stack.refs)
    create(api, "multisafepay")

    fresh = build(int(datetime.now(UTC).timestamp()))  # the committed one is older than 600 s
    assert api.functions["NotifyFunction"].invoke(fresh["notify_multisafepay_post.json"]).status == 200
    assert status_of(api, "multisafepay") == "paid"

    # The legacy GET notification is resolved by asking MultiSafepay: the answer, not the event, counts.
    sandbox.set_status(SAMPLE_ORDER_ID, "completed")
    assert api.functions["NotifyFunction"].invoke(load("notify_multisafepay_get.json")).body == "OK"

    # Part of it back: MultiSafepay accepts the refund, then reports its result by notification.
    assert SAMPLE_REFUND_ORDER == SAMPLE_ORDER_ID
    refund_event = load("refund_order_multisafepay.json")
    reply = api.functions["OrderActionsFunction"].invoke(refund_event)
    assert reply.status == 201, reply.body
    refund = reply.json()
    assert (refund["refund_id"], refund["amount"], refund["status"]) == (
        "sample-refund-1",
        {"value": 400, "currency": "EUR"},
        "pending",
    )
    assert refund["reason"] == "One cup arrived broken"
    delivered = [
        api.request(n.method, n.url, body=n.body, headers=n.headers, api_key=None).status
        for n in sandbox.take_notifications()
    ]
    assert delivered == [200]
    assert status_of(api, "multisafepay") == "partially_refunded"
    # Invoked again, the same event answers the same refund: one refund at MultiSafepay.
    again = api.functions["OrderActionsFunction"].invoke(refund_event)
    assert (again.status, again.json()["refund_id"], again.json()["status"]) == (
        200,
        "sample-refund-1",
        "succeeded",
    )
    assert [(r.amount, r.status) for r in sandbox.refunds(SAMPLE_ORDER_ID)] == [(400, "succeeded")]


def test_useepay_samples_take_an_order_to_paid(
    stack: Stack, wire: responses.RequestsMock, link: ProviderLink
) -> None:
    sandbox = UseePaySandbox(
        merchant_no=SAMPLE_USEEPAY_MERCHANT_NO, sign_type="MD5", md5_key=SAMPLE_USEEPAY_MD5_KEY
    )
    mount(wire, link, sandbox, USEEPAY_BASE_URL)
    stack.put_secret(
        {
            "useepay": {
                "merchant_no": SAMPLE_USEEPAY_MERCHANT_NO,
                "app_id": "shop.example.com",
                "sign_type": "MD5",
                "md5_key": SAMPLE_USEEPAY_MD5_KEY,
                "base_url": USEEPAY_BASE_URL,
            }
        }
    )
    api = Api(stack.template, stack.refs)
    create(api, "useepay")
    reply = api.functions["NotifyFunction"].invoke(load("notify_useepay_post.json"))
    assert (reply.status, reply.body) == (200, "ok")
    assert status_of(api, "useepay") == "paid"


def alipay_sandbox(stack: Stack, wire: responses.RequestsMock, link: ProviderLink) -> AlipayIntlSandbox:
    """An Alipay sandbox (its replies signed with the test kit's Alipay key) our adapter talks to."""
    sandbox = AlipayIntlSandbox(
        client_id=SAMPLE_ALIPAY_CLIENT_ID,
        merchant_id=MERCHANT_ID,
        merchant_public_key=MERCHANT_KEY.public_key(),
        alipay_private_key=ALIPAY_KEY,
    )
    mount(wire, link, sandbox, ALIPAY_BASE_URL + "/api/alipay/intl/")
    stack.put_secret({"alipay_intl": settings_entry(client_id=SAMPLE_ALIPAY_CLIENT_ID)})
    return sandbox


def test_alipay_samples_take_an_order_to_paid(
    stack: Stack, wire: responses.RequestsMock, link: ProviderLink
) -> None:
    # Created through a sandbox (whose replies Alipay's key signs) ...
    alipay_sandbox(stack, wire, link)
    api = Api(stack.template, stack.refs)
    create(api, "alipay_intl")
    # ... then notified by the sample, which verifies with the committed public key only.
    public_key = (EVENTS / "alipay_sample_public_key.pem").read_text()
    stack.put_secret(
        {"alipay_intl": settings_entry(client_id=SAMPLE_ALIPAY_CLIENT_ID, alipay_public_key=public_key)}
    )
    reply = api.functions["NotifyFunction"].invoke(load("notify_alipay_intl_post.json"))
    assert reply.status == 200, reply.body
    assert '"resultCode":"SUCCESS"' in reply.body
    assert status_of(api, "alipay_intl") == "paid"


def test_alipay_cancel_sample_withdraws_the_unpaid_order(
    stack: Stack, wire: responses.RequestsMock, link: ProviderLink
) -> None:
    """The other way the sample order goes: the merchant withdraws it before anyone pays."""
    sandbox = alipay_sandbox(stack, wire, link)
    api = Api(stack.template, stack.refs)
    create(api, "alipay_intl")
    cancel_event = load("cancel_order_alipay_intl.json")
    reply = api.functions["OrderActionsFunction"].invoke(cancel_event)
    assert reply.status == 200, reply.body
    assert (reply.json()["order_id"], reply.json()["status"]) == (SAMPLE_CANCEL_ORDER, "cancelled")
    assert status_of(api, "alipay_intl") == "cancelled"
    assert sandbox.status_of(SAMPLE_CANCEL_ORDER) == "CANCELLED"  # withdrawn by payCancel
    # Invoked again: answered as it is, and Alipay is not asked twice.
    again = api.functions["OrderActionsFunction"].invoke(cancel_event)
    assert (again.status, again.json()["status"]) == (200, "cancelled")
    assert [c.operation for c in sandbox.calls_for(SAMPLE_CANCEL_ORDER)] == ["create", "cancel"]


def test_signed_sample_verifies_with_the_documented_key() -> None:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

    from payments.http import HttpClient
    from payments.providers.multisafepay.adapter import MultiSafepay, MultiSafepaySettings

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


def test_stale_sample_is_refused(sample_api: Api, msp: MultiSafepaySandbox) -> None:
    stale = build(int(datetime.now(UTC).timestamp()) - 3600)["notify_multisafepay_post.json"]
    reply = sample_api.functions["NotifyFunction"].invoke(stale)
    assert reply.status == 401
    assert reply.json()["error"]["code"] == "stale_signature"
