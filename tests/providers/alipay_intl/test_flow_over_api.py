"""The whole product with Alipay's own gateway: create -> Alipay's notification -> get."""

from __future__ import annotations

from local.providers.alipay_intl.sandbox import AlipayIntlSandbox
from tests.support.lambdas import Api
from tests.support.orders import order_body


def test_create_pay_and_read_back(api: Api, alipay: AlipayIntlSandbox) -> None:
    body = order_body(
        "alf-1",
        provider="alipay_intl",
        amount={"value": 23900, "currency": "USD"},
        description='茶具 {"set"} \\"x\\" — Tea set',
        terminal_type="WAP",
    )
    created = api.request("POST", "/orders", body=body)
    assert created.status == 201, created.body
    order = created.json()
    assert order["status"] == "pending"
    assert order["amount"] == {"value": 23900, "currency": "USD"}
    assert order["payment_url"].startswith("https://intlmapi.alipay.com/gateway.do?")
    [sent] = alipay.calls
    assert sent.body["order"]["orderAmount"] == {"currency": "USD", "value": "23900"}
    assert sent.body["terminalType"] == "WAP"

    delivery = alipay.notification("alf-1")
    ack = api.request("POST", delivery.url, body=delivery.body, headers=delivery.headers, api_key=None)
    assert ack.status == 200
    assert alipay.acknowledged(ack.body, delivery)

    read = api.request("GET", "/orders/alf-1")
    assert read.status == 200
    final = read.json()
    assert final["status"] == "paid"
    assert final["description"] == body["description"]
    assert final["provider_reference"] == alipay.orders["alf-1"]["acquirementId"]
    assert [e["type"] for e in final["events"]] == ["order_created", "provider_accepted", "notification"]
    assert (final["events"][-1]["from_status"], final["events"][-1]["to_status"]) == ("pending", "paid")
