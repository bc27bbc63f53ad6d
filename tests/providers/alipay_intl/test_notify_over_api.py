"""POST /notify/alipay_intl through the real handler: verification, transitions, signed replies, audit."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from local.providers.alipay_intl.sandbox import AlipayIntlSandbox, Delivery, raw_members
from local.testing import Reply
from tests.conftest import Stack
from tests.providers.alipay_intl.fixtures import MERCHANT_KEY, use_sha1
from tests.support.lambdas import Api
from tests.support.orders import order_body
from tests.support.store import event_items, last_rejected, order_item

TITLE = '茶具 {"set"} \\"x\\"'
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def order(api: Api, alipay: AlipayIntlSandbox) -> str:
    reply = api.request("POST", "/orders", body=order_body("an-1", provider="alipay_intl", description=TITLE))
    assert reply.status == 201, reply.body
    return "an-1"


def deliver(api: Api, delivery: Delivery, body: bytes | None = None) -> Reply:
    return api.request(
        "POST", delivery.url, body=body or delivery.body, headers=delivery.headers, api_key=None
    )


def response_of(reply: Reply, hash_name: str = "SHA256") -> dict[str, Any]:
    """Our reply's `response`, verified here with `cryptography` and the merchant's public key."""
    assert reply.headers["content-type"].startswith("application/json")
    members = raw_members(reply.body)
    signature = base64.b64decode(json.loads(members["signature"]), validate=True)
    algorithm = hashes.SHA256() if hash_name == "SHA256" else hashes.SHA1()
    MERCHANT_KEY.public_key().verify(signature, members["response"].encode(), padding.PKCS1v15(), algorithm)
    value: dict[str, Any] = json.loads(members["response"])
    return value


def history(api: Api, order_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.request("GET", f"/orders/{order_id}").json()["events"]
    return found


def status_of(api: Api, order_id: str) -> str:
    status: str = api.request("GET", f"/orders/{order_id}").json()["status"]
    return status


def transitions(api: Api, order_id: str) -> list[tuple[str, str]]:
    return [
        (e["from_status"], e["to_status"])
        for e in history(api, order_id)
        if "from_status" in e and "to_status" in e
    ]


def test_paid_notification_gets_a_signed_success(api: Api, alipay: AlipayIntlSandbox, order: str) -> None:
    delivery = alipay.notification(order, body_changes={"orderTitle": TITLE})
    reply = deliver(api, delivery)
    assert reply.status == 200
    response = response_of(reply)
    assert response["head"]["reqMsgId"] == delivery.req_msg_id
    assert response["body"]["resultInfo"] == {
        "resultStatus": "S",
        "resultCodeId": "00000000",
        "resultCode": "SUCCESS",
        "resultMsg": "success",
    }
    assert alipay.acknowledged(reply.body, delivery)
    assert status_of(api, order) == "paid"
    last = history(api, order)[-1]
    assert (last["type"], last["provider_status"], last["verified"]) == ("notification", "S:SUCCESS", True)
    assert last["payload"]["verified_by"] == "rsa-sha256"
    assert last["payload"]["orderTitle"] == TITLE
    assert (
        api.request("GET", f"/orders/{order}").json()["provider_reference"]
        == alipay.orders[order]["acquirementId"]
    )


def test_failed_notification(api: Api, alipay: AlipayIntlSandbox, order: str) -> None:
    delivery = alipay.notification(order, "PROCESS_FAIL")
    reply = deliver(api, delivery)
    assert alipay.acknowledged(reply.body, delivery)
    assert status_of(api, order) == "failed"


def test_replaying_a_genuine_notification_ten_times_leaves_one_transition(
    api: Api, alipay: AlipayIntlSandbox, order: str, stack: Stack
) -> None:
    delivery = alipay.notification(order)
    replies = [deliver(api, delivery) for _ in range(10)]
    assert all(alipay.acknowledged(r.body, delivery) for r in replies)  # duplicates are acknowledged
    assert transitions(api, order) == [("created", "pending"), ("pending", "paid")]
    stored = order_item(stack.table_name, order)
    assert stored is not None
    assert stored["version"] == 3
    assert len(event_items(stack.table_name, order)) == 3


def test_a_retried_notification_with_a_fresh_envelope_is_a_duplicate(
    api: Api, alipay: AlipayIntlSandbox, order: str
) -> None:
    # Alipay retries for ~25 h, each time with a new reqMsgId and reqTime: the same news, echoed back.
    first, retry = alipay.notification(order), alipay.notification(order, style="compact")
    assert first.req_msg_id != retry.req_msg_id
    assert alipay.acknowledged(deliver(api, first).body, first)
    assert alipay.acknowledged(deliver(api, retry).body, retry)
    assert transitions(api, order) == [("created", "pending"), ("pending", "paid")]


def forged(alipay: AlipayIntlSandbox, order_id: str, how: str) -> tuple[Delivery, bytes]:
    delivery = alipay.notification(order_id, style="compact")
    body = delivery.body
    if how == "another key":
        delivery = alipay.notification(order_id, key=OTHER_KEY)
        body = delivery.body
    elif how == "wrong hash":
        delivery = alipay.notification(order_id, hash_name="SHA1")
        body = delivery.body
    elif how == "tampered amount":
        body = body.replace(b'"value":"1000"', b'"value":"999"')
    elif how == "tampered result":
        failed = alipay.notification(order_id, "PROCESS_FAIL", style="compact")
        delivery, body = failed, failed.body.replace(b'"resultStatus":"F"', b'"resultStatus":"S"')
        body = body.replace(b'"resultCode":"PROCESS_FAIL"', b'"resultCode":"SUCCESS"')
    elif how == "unsigned":
        body = ('{"request":' + raw_members(body.decode())["request"] + "}").encode()
    elif how == "garbage signature":
        text = raw_members(body.decode())["request"]
        body = (
            '{"request":' + text + ',"signature":"' + base64.b64encode(b"x" * 256).decode() + '"}'
        ).encode()
    alipay.orders[order_id]["payStatus"] = "INIT"  # the forger's story, not Alipay's
    return delivery, body


FORGERIES = [
    "another key",
    "wrong hash",
    "tampered amount",
    "tampered result",
    "unsigned",
    "garbage signature",
]


@pytest.mark.parametrize("how", FORGERIES)
def test_forged_or_tampered_notification_is_refused_recorded_and_not_applied(
    api: Api, alipay: AlipayIntlSandbox, order: str, stack: Stack, how: str
) -> None:
    before = order_item(stack.table_name, order)
    delivery, body = forged(alipay, order, how)
    reply = deliver(api, delivery, body)
    assert reply.status == 401
    response = response_of(reply)  # still a signed envelope, so Alipay can read it
    assert response["body"]["resultInfo"]["resultStatus"] == "F"
    assert response["body"]["resultInfo"]["resultCode"] == "INVALID_SIGNATURE"
    assert response["head"]["reqMsgId"] == delivery.req_msg_id
    assert not alipay.acknowledged(reply.body, delivery)
    assert order_item(stack.table_name, order) == before
    assert all(event["type"] != "notification_rejected" for event in history(api, order))
    rejected = last_rejected(stack.table_name, "alipay_intl")
    assert rejected["claimed_order_id"] == order
    assert rejected["verified"] is False
    assert rejected["reason"] in {"bad_signature", "missing_signature"}
    assert rejected["payload"]["body"]["sha256"]


def test_genuine_notification_for_another_client_changes_nothing(
    api: Api, alipay: AlipayIntlSandbox, order: str, stack: Stack
) -> None:
    delivery = alipay.notification(order, head_changes={"clientId": "211020000000000000999"})
    reply = deliver(api, delivery)
    assert reply.status == 403
    assert response_of(reply)["body"]["resultInfo"]["resultCode"] == "UNKNOWN_CLIENT"
    assert status_of(api, order) == "pending"
    assert last_rejected(stack.table_name, "alipay_intl")["reason"] == "client_mismatch"


def test_notification_for_an_order_we_do_not_hold_is_404_signed_and_recorded(
    api: Api, alipay: AlipayIntlSandbox, order: str, stack: Stack
) -> None:
    alipay.orders["ghost"] = {**alipay.orders[order], "merchantTransId": "ghost"}
    delivery = alipay.notification("ghost")
    reply = deliver(api, delivery)
    assert reply.status == 404
    response = response_of(reply)
    assert response["head"]["reqMsgId"] == delivery.req_msg_id
    assert response["body"]["resultInfo"]["resultStatus"] == "F"
    assert not alipay.acknowledged(reply.body, delivery)
    assert order_item(stack.table_name, "ghost") is None
    assert event_items(stack.table_name, "ghost") == []
    rejected = last_rejected(stack.table_name, "alipay_intl")
    assert (rejected["claimed_order_id"], rejected["reason"], rejected["verified"]) == (
        "ghost",
        "unknown_order",
        True,
    )


def test_amount_mismatch_is_acknowledged_flagged_and_not_applied(
    api: Api, alipay: AlipayIntlSandbox, order: str
) -> None:
    alipay.orders[order]["orderAmount"] = {"currency": "EUR", "value": "1"}
    delivery = alipay.notification(order)
    reply = deliver(api, delivery)
    assert alipay.acknowledged(reply.body, delivery)  # retrying would not change the amount
    assert status_of(api, order) == "pending"
    last = history(api, order)[-1]
    assert (last["type"], last["flags"]) == ("amount_mismatch", ["amount_mismatch"])
    assert last["reason"] == "expected 10.00 EUR, provider stated 0.01 EUR"


def test_a_late_failure_never_undoes_a_payment(api: Api, alipay: AlipayIntlSandbox, order: str) -> None:
    deliver(api, alipay.notification(order))
    delivery = alipay.notification(order, "PROCESS_FAIL")
    assert alipay.acknowledged(deliver(api, delivery).body, delivery)
    assert status_of(api, order) == "paid"
    assert history(api, order)[-1]["type"] == "notification_ignored"


def test_an_unknown_result_is_recorded_and_changes_nothing(
    api: Api, alipay: AlipayIntlSandbox, order: str
) -> None:
    delivery = alipay.notification(order, "UNKNOWN_EXCEPTION")
    assert alipay.acknowledged(deliver(api, delivery).body, delivery)
    assert status_of(api, order) == "pending"
    assert history(api, order)[-1]["provider_status"] == "U:UNKNOWN_EXCEPTION"


def test_sha1_merchants_verify_and_sign_with_sha1(
    api: Api, alipay: AlipayIntlSandbox, order: str, stack: Stack
) -> None:
    use_sha1(stack, alipay)
    delivery = alipay.notification(order)
    reply = deliver(api, delivery)
    assert response_of(reply, "SHA1")["body"]["resultInfo"]["resultCode"] == "SUCCESS"
    assert alipay.acknowledged(reply.body, delivery)
    assert history(api, order)[-1]["payload"]["verified_by"] == "rsa-sha1"


def test_a_malformed_body_gets_a_signed_400(api: Api, alipay: AlipayIntlSandbox) -> None:
    reply = api.request("POST", "/notify/alipay_intl", body=b"{not json", api_key=None)
    assert reply.status == 400
    assert response_of(reply)["body"]["resultInfo"]["resultCode"] == "PARAM_ILLEGAL"


def test_the_store_being_down_asks_alipay_to_retry(
    api: Api, alipay: AlipayIntlSandbox, order: str, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from payments.errors import StoreUnavailable
    from payments.store.orders import OrdersStore

    def down(*_: Any, **__: Any) -> None:
        raise StoreUnavailable("the orders table is unavailable")

    monkeypatch.setattr(OrdersStore, "commit", down)
    delivery = alipay.notification(order)
    reply = deliver(api, delivery)
    assert reply.status == 503
    # Alipay's own "retry later": a signed U envelope echoing the notification's reqMsgId.
    response = response_of(reply)
    assert response["head"]["reqMsgId"] == delivery.req_msg_id
    assert response["body"]["resultInfo"]["resultStatus"] == "U"
    assert not alipay.acknowledged(reply.body, delivery)
    assert status_of(api, order) == "pending"
