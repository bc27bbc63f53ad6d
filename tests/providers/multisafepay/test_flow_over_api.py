"""The whole product through the real handlers: create -> MultiSafepay notification -> get."""

from __future__ import annotations

import boto3

from local.providers.multisafepay.sandbox import MultiSafepaySandbox
from tests.conftest import Stack
from tests.support.lambdas import Api
from tests.support.orders import order_body


def notify(api: Api, msp: MultiSafepaySandbox, order_id: str, status: str) -> tuple[int, str]:
    msp.set_status(order_id, status)
    url, headers, body = msp.notification(order_id)
    reply = api.request("POST", url, body=body, headers=headers, api_key=None)
    return reply.status, reply.body


def test_create_pay_and_read_back(api: Api, msp: MultiSafepaySandbox, stack: Stack) -> None:
    created = api.request("POST", "/orders", body=order_body("flow-1", provider="multisafepay"))
    assert created.status == 201, created.body
    order = created.json()
    assert order["status"] == "pending"
    assert order["amount"] == {"value": 1000, "currency": "EUR"}
    assert order["payment_url"].startswith("https://payv2.multisafepay.com/connect/")
    assert order["payment_action"] == {"type": "redirect", "url": order["payment_url"], "method": "GET"}

    sent = msp.calls[-1]
    assert sent.headers["api_key"] == msp.api_key
    assert sent.body["gateway"] == "ALIPAY"
    assert sent.body["amount"] == 1000
    assert sent.body["payment_options"]["notification_url"] == (
        "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/notify/multisafepay"
    )

    status, ack = notify(api, msp, "flow-1", "completed")
    assert (status, ack) == (200, "OK")

    read = api.request("GET", "/orders/flow-1")
    assert read.status == 200
    body = read.json()
    assert body["status"] == "paid"
    assert body["provider_reference"] == str(msp.orders["flow-1"]["transaction_id"])
    assert [e["type"] for e in body["events"]] == ["order_created", "provider_accepted", "notification"]
    assert body["events"][-1]["from_status"] == "pending"
    assert body["events"][-1]["to_status"] == "paid"

    item = boto3.client("dynamodb").get_item(
        TableName=stack.table_name, Key={"pk": {"S": "ORDER#flow-1"}, "sk": {"S": "ORDER"}}
    )["Item"]
    assert item["status"]["S"] == "paid"
    assert item["amount_value"]["N"] == "1000"
