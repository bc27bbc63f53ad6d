"""UseePay through the real handlers, moto and the UseePay sandbox — every test for MD5 and for RSA."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from local.providers.useepay.sandbox import UseePaySandbox
from local.testing import Reply
from tests.conftest import Stack
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.orders import order_body
from tests.support.store import event_items, last_rejected, order_item


def useepay_order(order_id: str, **overrides: Any) -> dict[str, Any]:
    return order_body(order_id, provider="useepay", **overrides)


def create(api: Api, order_id: str = "u-1", **overrides: Any) -> Reply:
    return api.request("POST", "/orders", body=useepay_order(order_id, **overrides))


def pays(sandbox: UseePaySandbox) -> list[dict[str, str]]:
    return [call for call in sandbox.calls if call.get("transactionType") == "pay"]


def deliver(api: Api, notification: tuple[str, dict[str, str], bytes]) -> Reply:
    url, headers, body = notification
    return api.request("POST", url, body=body, headers=headers, api_key=None)


def read(api: Api, order_id: str) -> dict[str, Any]:
    body: dict[str, Any] = api.request("GET", f"/orders/{order_id}").json()
    return body


def error_code(reply: Reply) -> str:
    code: str = reply.json()["error"]["code"]
    return code


# -- create ------------------------------------------------------------------------------------------
def test_create_web(api: Api, useepay: UseePaySandbox, sign_type: str) -> None:
    reply = create(
        api, items=[{"name": "Tea set", "description": "Porcelain", "quantity": 2, "unit_price": 500}]
    )
    assert reply.status == 201, reply.body
    order = reply.json()
    assert order["status"] == "pending"
    txn = useepay.transactions["u-1"]
    assert order["provider_reference"] == txn["reference"]
    assert order["payment_action"] == {"type": "redirect", "url": txn["checkout"], "method": "GET"}
    assert order["payment_url"] == txn["checkout"]
    [sent] = pays(useepay)
    assert sent["signType"] == sign_type
    assert sent["amount"] == "1000"
    assert sent["echoParam"] == "u-1"
    assert sent["transactionExpirationTime"] == "10"
    assert sent["notifyUrl"].endswith("/notify/useepay")
    assert json.loads(sent["payerInfo"]) == {"paymentMethod": "alipay", "terminalType": "WEB"}
    assert json.loads(sent["userInfo"]) == {
        "ip": "89.20.162.110",
        "email": "mei.wang@example.com",
        "phoneNo": "+31208500500",
    }
    assert json.loads(sent["orderInfo"]) == {
        "subject": "Tea set",
        "goodsInfo": [{"name": "Tea set", "body": "Porcelain", "quantity": 2, "price": "500"}],
    }


def test_create_wap_sends_os_type(api: Api, useepay: UseePaySandbox) -> None:
    assert create(api, terminal_type="WAP", os_type="IOS").status == 201
    assert json.loads(pays(useepay)[0]["payerInfo"])["osType"] == "IOS"


def test_short_expiry_is_sent_in_minutes(api: Api, useepay: UseePaySandbox) -> None:
    assert create(api, expires_in_seconds=150).status == 201
    assert pays(useepay)[0]["transactionExpirationTime"] == "3"


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"terminal_type": "WAP"}, "os_type", "missing_field"),
        ({"terminal_type": "APP"}, "terminal_type", "invalid_field"),
        ({"customer": {"email": "mei@example.com"}}, "customer.ip_address", "missing_field"),
        ({"customer": None}, "customer.ip_address", "missing_field"),
        ({"expires_in_seconds": 601}, "expires_in_seconds", "invalid_field"),
        ({"description": "x" * 129}, "description", "invalid_field"),
        ({"os_type": "WINDOWS"}, "os_type", "invalid_field"),
        ({"amount": {"value": 10**12, "currency": "EUR"}}, "amount.value", "amount_over_limit"),
    ],
)
def test_what_useepay_cannot_take_is_a_clear_422(
    api: Api, useepay: UseePaySandbox, stack: Stack, overrides: dict[str, Any], field: str, code: str
) -> None:
    body = useepay_order("u-bad", **overrides)
    if body.get("customer") is None:
        del body["customer"]
    reply = api.request("POST", "/orders", body=body)
    assert reply.status == 422
    assert (reply.json()["error"]["field"], error_code(reply)) == (field, code)
    assert pays(useepay) == []
    assert order_item(stack.table_name, "u-bad") is None


def test_post_redirect_and_qr_code_actions(api: Api, useepay: UseePaySandbox) -> None:
    useepay.reply_style = "redirect_post"
    post = create(api, "u-post").json()
    assert post["payment_action"]["method"] == "POST"
    assert post["payment_action"]["form"] == {
        "token": useepay.transactions["u-post"]["reference"],
        "lang": "zh",
    }
    assert post["payment_url"] is None  # a POST form cannot be a link
    useepay.reply_style = "qr_code"
    qr = create(api, "u-qr").json()
    code = f"https://qr.alipay.com/{useepay.transactions['u-qr']['reference']}"
    assert qr["payment_action"] == {"type": "qr_code", "code": code}
    assert qr["payment_url"] == code


@pytest.mark.parametrize("breakage", ["unsigned", "wrong_key"])
def test_reply_without_a_valid_signature_leaves_the_order_unknown(
    api: Api, useepay: UseePaySandbox, breakage: str
) -> None:
    if breakage == "unsigned":
        useepay.sign_replies = False
    elif useepay.sign_type == "MD5":
        useepay.md5_key = "not-the-merchants-key"
    else:
        from tests.providers.useepay.fixtures import MERCHANT_KEY

        useepay.useepay_private_key = MERCHANT_KEY  # signed, but not by UseePay
    reply = create(api)
    assert reply.status == 502
    assert error_code(reply) == "provider_bad_signature"
    assert read(api, "u-1")["status"] == "unknown"


def test_refusal_is_502_with_useepays_code(api: Api, useepay: UseePaySandbox) -> None:
    useepay.transactions["u-1"] = {"reference": "x"}  # UseePay already has this transactionId
    reply = create(api)
    assert reply.status == 502
    assert reply.json()["error"]["provider_code"] == "1001"
    assert reply.json()["error"]["provider_message"] == "Duplicate transactionId"
    assert read(api, "u-1")["status"] == "failed"


def test_timeout_then_retry_queries_useepay_instead_of_paying_twice(
    api: Api, useepay: UseePaySandbox, link: ProviderLink
) -> None:
    link.inject("read_timeout_after_processing")
    assert create(api).status == 504
    assert read(api, "u-1")["status"] == "unknown"
    retry = create(api)
    # UseePay holds the order, unpaid, and its query gives no way to send the payer there again:
    # a clear error says what to do instead of a silent pending without an action.
    assert retry.status == 409
    assert retry.json()["error"]["code"] == "payment_action_unavailable"
    order = read(api, "u-1")
    assert order["status"] == "pending"
    assert order["provider_reference"] == useepay.transactions["u-1"]["reference"]
    assert len(pays(useepay)) == 1
    assert useepay.calls[-1]["transactionType"] == "query"


# -- notifications -------------------------------------------------------------------------------------
RESULT_CODES = {
    "received": "pending",
    "pending": "pending",
    "challenge": "pending",
    "gather": "pending",
    "pending_review": "pending",
    "succeed": "paid",
    "failed": "failed",
    "cancelled": "cancelled",
    "closed": "expired",
    "something_new": "pending",
}


@pytest.mark.parametrize(("result_code", "expected"), sorted(RESULT_CODES.items()))
def test_every_result_code(api: Api, useepay: UseePaySandbox, result_code: str, expected: str) -> None:
    create(api)
    useepay.settle("u-1", result_code)
    reply = deliver(api, useepay.notification("u-1"))
    assert (reply.status, reply.body) == (200, "ok")
    order = read(api, "u-1")
    assert order["status"] == expected
    last = order["events"][-1]
    if expected != "pending":
        assert (last["type"], last["provider_status"]) == ("notification", result_code)
    elif result_code == "something_new":
        # Never guessed into success or failure: recorded, and the order left alone.
        assert (last["type"], last["provider_status"]) == ("notification_ignored", result_code)
    else:
        assert last["type"] == "provider_accepted"  # still pending: a duplicate writes nothing


def test_duplicates_leave_one_transition(api: Api, useepay: UseePaySandbox, stack: Stack) -> None:
    create(api)
    useepay.settle("u-1", "succeed")
    notification = useepay.notification("u-1")
    assert {deliver(api, notification).status for _ in range(10)} == {200}
    transitions = [
        (e["from_status"], e["to_status"])
        for e in read(api, "u-1")["events"]
        if "to_status" in e and "from_status" in e
    ]
    assert transitions == [("created", "pending"), ("pending", "paid")]
    assert len(event_items(stack.table_name, "u-1")) == 3


def _tamper(body: bytes, **changes: str) -> bytes:
    fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
    fields.update(changes)
    return urlencode(fields).encode()


def _forgery(useepay: UseePaySandbox, how: str) -> tuple[str, dict[str, str], bytes]:
    useepay.settle("u-1", "succeed")
    url, headers, body = useepay.notification("u-1")
    fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
    if how == "tampered amount":
        body = _tamper(body, amount="1")
    elif how == "tampered result":
        useepay.settle("u-1", "failed")
        url, headers, body = useepay.notification("u-1")
        body = _tamper(body, resultCode="succeed")
    elif how == "unsigned":
        body = urlencode({k: v for k, v in fields.items() if k != "sign"}).encode()
    elif how == "empty sign":
        body = _tamper(body, sign="")
    elif how == "field added after signing":
        body = body + b"&bonus=1"
    elif how == "wrong key":
        if useepay.sign_type == "MD5":
            useepay.md5_key = "guessed"
        else:
            from tests.providers.useepay.fixtures import MERCHANT_KEY

            useepay.useepay_private_key = MERCHANT_KEY
        url, headers, body = useepay.notification("u-1")
    elif how == "sign type switched":
        body = _tamper(body, signType="MD5" if useepay.sign_type == "RSA" else "RSA")
    elif how == "duplicated field":
        body = body + b"&amount=1000"
    elif how == "wrong content type":
        headers = {"Content-Type": "application/json"}
    elif how == "not utf-8":
        body = body + b"&x=\xff"
    return url, headers, body


FORGERIES = [
    "tampered amount",
    "tampered result",
    "unsigned",
    "empty sign",
    "field added after signing",
    "wrong key",
    "sign type switched",
    "duplicated field",
    "wrong content type",
    "not utf-8",
]


@pytest.mark.parametrize("how", FORGERIES)
def test_forged_notifications_are_rejected_recorded_and_not_applied(
    api: Api, useepay: UseePaySandbox, stack: Stack, how: str
) -> None:
    create(api)
    before = order_item(stack.table_name, "u-1")
    reply = deliver(api, _forgery(useepay, how))
    assert 400 <= reply.status < 500, reply.body
    assert order_item(stack.table_name, "u-1") == before
    assert all(event["type"] != "notification_rejected" for event in read(api, "u-1")["events"])
    rejected = last_rejected(stack.table_name, "useepay")
    assert (rejected["claimed_order_id"], rejected["verified"]) == ("u-1", False)


def test_notification_fields_are_signed_whatever_they_are(api: Api, useepay: UseePaySandbox) -> None:
    """Fields UseePay adds later are covered by the signature: verify over what arrived."""
    create(api)
    useepay.settle("u-1", "succeed")
    reply = deliver(api, useepay.notification("u-1", riskLevel="low", newField="新"))
    assert reply.status == 200
    assert read(api, "u-1")["status"] == "paid"


def test_full_refund(api: Api, useepay: UseePaySandbox) -> None:
    create(api)
    useepay.settle("u-1", "succeed")
    deliver(api, useepay.notification("u-1"))
    assert deliver(api, useepay.refund_notification("u-1", 1000)).status == 200
    order = read(api, "u-1")
    assert order["status"] == "refunded"
    assert order["refunded_amount"] == {"value": 1000, "currency": "EUR"}
    [refund] = order["refunds"]
    assert (refund["origin"], refund["status"], refund["amount"]["value"]) == ("provider", "succeeded", 1000)
    last = order["events"][-1]
    assert (last["type"], last["from_status"], last["to_status"]) == ("refund_succeeded", "paid", "refunded")


def test_partial_refunds_are_each_recorded_once(api: Api, useepay: UseePaySandbox, stack: Stack) -> None:
    create(api)
    useepay.settle("u-1", "succeed")
    deliver(api, useepay.notification("u-1"))
    first = useepay.refund_notification("u-1", 300, refund_id="rf-1")
    for _ in range(3):
        assert deliver(api, first).status == 200
    assert deliver(api, useepay.refund_notification("u-1", 200, refund_id="rf-2")).status == 200
    order = read(api, "u-1")
    assert order["status"] == "partially_refunded"
    assert order["refunded_amount"]["value"] == 500
    assert sorted(refund["amount"]["value"] for refund in order["refunds"]) == [200, 300]
    reported = [event for event in order["events"] if event["type"] == "refund_succeeded"]
    assert [event["refund"]["amount"]["value"] for event in reported] == [300, 200]


def test_refund_notification_before_refunds_exist_in_our_api_is_recorded(
    api: Api, useepay: UseePaySandbox
) -> None:
    create(api)
    useepay.settle("u-1", "succeed")
    deliver(api, useepay.notification("u-1"))
    deliver(api, useepay.refund_notification("u-1", 1000, result_code="pending"))
    order = read(api, "u-1")
    assert order["status"] == "paid"  # a pending refund moves no status, but holds its amount back
    assert order["refundable_amount"]["value"] == 0
    assert order["refunds"][0]["status"] == "pending"
    assert order["events"][-1]["provider_status"] == "refund:pending"


def test_pay_notification_amount_mismatch_is_flagged(api: Api, useepay: UseePaySandbox) -> None:
    create(api)
    useepay.settle("u-1", "succeed")
    useepay.transactions["u-1"]["amount"] = "999"
    deliver(api, useepay.notification("u-1"))
    order = read(api, "u-1")
    assert order["status"] == "pending"
    assert order["events"][-1]["flags"] == ["amount_mismatch"]


def test_notification_for_an_unknown_order(api: Api, useepay: UseePaySandbox, stack: Stack) -> None:
    create(api)
    useepay.transactions["ghost"] = {**useepay.transactions["u-1"], "echoParam": "ghost"}
    reply = deliver(api, useepay.notification("ghost"))
    assert reply.status == 404
    assert order_item(stack.table_name, "ghost") is None
