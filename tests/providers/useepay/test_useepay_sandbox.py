"""The UseePay sandbox's refunds, queries, expiry, knobs and outbox, driven by hand-signed requests.

Requests are signed and replies/notifications verified here with hashlib/cryptography directly (never
with the sandbox's or the adapter's signing code), for MD5 and for RSA.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from local.providers.useepay.sandbox import UseePaySandbox
from local.testing import Notification, OrderClosed, ReplyLost
from tests.providers.useepay.fixtures import MD5_KEY, MERCHANT_KEY, MERCHANT_NO, USEEPAY_KEY, sandbox_for

URL = "https://pay-gateway1.uat.useepay.com/api"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
PAY_NOTIFY = "https://shop.example/notify/useepay"


def base_string(fields: dict[str, str]) -> str:
    return "&".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "sign" and fields[k].strip())


def sign(fields: dict[str, str], sign_type: str) -> str:
    text = base_string(fields)
    if sign_type == "MD5":
        return hashlib.md5(f"{text}&pkey={MD5_KEY}".encode()).hexdigest()
    return base64.b64encode(MERCHANT_KEY.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def signed_by_useepay(fields: dict[str, str], sign_type: str) -> bool:
    text = base_string(fields)
    if sign_type == "MD5":
        expected = hashlib.md5(f"{text}&pkey={MD5_KEY}".encode()).hexdigest()
        return hmac.compare_digest(expected, fields.get("sign", ""))
    try:
        USEEPAY_KEY.public_key().verify(
            base64.b64decode(fields["sign"]), text.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, KeyError, ValueError):
        return False
    return True


@pytest.fixture(params=["MD5", "RSA"])
def sign_type(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def usee(sign_type: str) -> UseePaySandbox:
    return sandbox_for(sign_type)


def send(usee: UseePaySandbox, **fields: str) -> dict[str, str]:
    request = {"version": "1.0", "signType": usee.sign_type, "merchantNo": MERCHANT_NO, **fields}
    request["sign"] = sign(request, usee.sign_type)
    status, _, reply = usee.handle("POST", URL, FORM, urlencode(request).encode())
    assert status == 200
    answer: dict[str, str] = json.loads(reply)
    assert signed_by_useepay(answer, usee.sign_type)  # every answer, refusals too, is signed
    return answer


def create(usee: UseePaySandbox, order_id: str = "u-1", amount: str = "1000") -> None:
    answer = send(
        usee,
        transactionType="pay",
        transactionId=order_id,
        appId="shop.example",
        amount=amount,
        currency="EUR",
        notifyUrl=PAY_NOTIFY,
        payerInfo=json.dumps({"paymentMethod": "alipay", "terminalType": "WEB"}),
        userInfo=json.dumps({"ip": "127.0.0.1"}),
        orderInfo=json.dumps({"subject": "Tea set"}),
    )
    assert answer["resultCode"] == "pending"


def paid(usee: UseePaySandbox, order_id: str = "u-1", amount: str = "1000") -> None:
    create(usee, order_id, amount)
    usee.pay(order_id)
    [notification] = usee.take_notifications()
    assert fields_of(notification)["resultCode"] == "succeed"


def refund(
    usee: UseePaySandbox, refund_id: str = "rf-1", amount: str = "400", **extra: str
) -> dict[str, str]:
    fields = {
        "transactionType": "refund",
        "transactionId": refund_id,
        "originalTransactionId": "u-1",
        "amount": amount,
        "currency": "EUR",
        **extra,
    }
    return send(usee, **{k: v for k, v in fields.items() if v is not None})


def fields_of(notification: Notification) -> dict[str, str]:
    assert notification.headers["Content-Type"] == "application/x-www-form-urlencoded"
    fields = dict(parse_qsl(notification.body.decode()))
    assert fields["sign"]
    return fields


def verified(notification: Notification, sign_type: str) -> dict[str, str]:
    fields = fields_of(notification)
    assert signed_by_useepay(fields, sign_type)
    return fields


def query(usee: UseePaySandbox, **by: str) -> dict[str, str]:
    return send(usee, transactionType="query", **by)


# -- refunds ---------------------------------------------------------------------------------------------
def test_a_refund_is_accepted_pending_and_its_result_is_notified(
    usee: UseePaySandbox, sign_type: str
) -> None:
    paid(usee)
    answer = refund(usee)
    assert {k: answer[k] for k in ("resultCode", "errorCode", "transactionType")} == {
        "resultCode": "pending",
        "errorCode": "0000",
        "transactionType": "refund",
    }
    assert (answer["transactionId"], answer["originalTransactionId"]) == ("rf-1", "u-1")
    assert (answer["amount"], answer["currency"]) == ("400", "EUR")
    assert answer["reference"]

    [notification] = usee.take_notifications()
    assert (notification.order_id, notification.url) == ("u-1", PAY_NOTIFY)
    fields = verified(notification, sign_type)
    assert {
        k: fields[k] for k in ("transactionType", "resultCode", "transactionId", "originalTransactionId")
    } == {
        "transactionType": "refund",
        "resultCode": "succeed",
        "transactionId": "rf-1",
        "originalTransactionId": "u-1",
    }
    assert (fields["amount"], fields["currency"], fields["reference"]) == ("400", "EUR", answer["reference"])
    [held] = usee.refunds("u-1")
    assert (held.merchant_refund_id, held.amount, held.status) == ("rf-1", 400, "succeeded")


def test_a_refund_with_its_own_notify_url(usee: UseePaySandbox) -> None:
    paid(usee)
    refund(usee, notifyUrl="https://shop.example/notify/refunds")
    [notification] = usee.take_notifications()
    assert notification.url == "https://shop.example/notify/refunds"


def test_query_on_a_refund_answers_its_transaction_info(usee: UseePaySandbox) -> None:
    paid(usee)
    answer = refund(usee)
    for by in ({"transactionId": "rf-1"}, {"reference": answer["reference"]}):
        reply = query(usee, **by)
        assert (reply["resultCode"], reply["errorCode"]) == ("succeed", "0000")
        info = json.loads(reply["transactionInfo"])
        assert {k: info[k] for k in ("transactionType", "resultCode", "originalTransactionId")} == {
            "transactionType": "refund",
            "resultCode": "succeed",
            "originalTransactionId": "u-1",
        }
        assert (info["transactionId"], info["amount"], info["currency"]) == ("rf-1", "400", "EUR")
    payment = json.loads(query(usee, transactionId="u-1")["transactionInfo"])
    assert (payment["transactionType"], payment["resultCode"]) == ("pay", "succeed")
    assert "originalTransactionId" not in payment


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": "1001"}, "Refund amount exceeds the refundable amount"),
        ({"currency": "USD"}, "Invalid parameter: currency"),
        ({"originalTransactionId": "ghost"}, "Original transaction not exist"),
        ({"refund_id": "u-1"}, "Duplicate transactionId"),  # the payment's id
        ({"refund_id": "r" * 65}, "Invalid parameter: transactionId"),
        ({"amount": "0"}, "Invalid parameter: amount"),
        ({"amount": "4.5"}, "Invalid parameter: amount"),
        ({"amount": None}, "Missing parameter: amount"),
        ({"originalTransactionId": None}, "Missing parameter: originalTransactionId"),
    ],
)
def test_refund_refusals(usee: UseePaySandbox, changes: dict[str, Any], message: str) -> None:
    paid(usee)
    answer = refund(usee, **changes)
    assert (answer["resultCode"], answer["errorCode"], answer["errorMsg"]) == ("failed", "1001", message)
    assert answer["transactionType"] == "refund"
    assert usee.refunds("u-1") == []
    assert usee.take_notifications() == []


@pytest.mark.parametrize("result", ["pending", "failed", "closed", "cancelled"])
def test_only_a_paid_order_can_be_refunded(usee: UseePaySandbox, result: str) -> None:
    create(usee)
    usee.settle("u-1", result)
    assert refund(usee)["errorMsg"] == "Original transaction is not paid"


def test_a_refund_transaction_id_serves_once(usee: UseePaySandbox) -> None:
    paid(usee)
    assert refund(usee, amount="100")["resultCode"] == "pending"
    again = refund(usee, amount="100")  # a retry of the same refund: UseePay has it already
    assert (again["resultCode"], again["errorMsg"]) == ("failed", "Duplicate transactionId")
    assert [r.amount for r in usee.refunds("u-1")] == [100]
    assert len(usee.take_notifications()) == 1


def test_partial_refunds_up_to_the_paid_amount(usee: UseePaySandbox) -> None:
    paid(usee)
    assert refund(usee, "rf-1", "600")["resultCode"] == "pending"
    assert refund(usee, "rf-2", "401")["errorMsg"] == "Refund amount exceeds the refundable amount"
    assert refund(usee, "rf-3", "400")["resultCode"] == "pending"
    assert [r.amount for r in usee.refunds("u-1")] == [600, 400]


def test_held_refunds_are_pending_until_released(usee: UseePaySandbox, sign_type: str) -> None:
    paid(usee)
    usee.hold_refunds("u-1")
    assert refund(usee, "rf-1", "600")["resultCode"] == "pending"
    assert usee.take_notifications() == []
    info = json.loads(query(usee, transactionId="rf-1")["transactionInfo"])
    assert (info["resultCode"], info["errorCode"]) == ("pending", "3200")
    assert refund(usee, "rf-2", "500")["errorMsg"] == "Refund amount exceeds the refundable amount"

    usee.release_refunds("u-1")
    [notification] = usee.take_notifications()
    assert verified(notification, sign_type)["resultCode"] == "succeed"
    assert json.loads(query(usee, transactionId="rf-1")["transactionInfo"])["resultCode"] == "succeed"


def test_refuse_and_fail_next_refund(usee: UseePaySandbox, sign_type: str) -> None:
    paid(usee)
    usee.refuse_next_refund("u-1")
    refused = refund(usee, "rf-1")
    assert (refused["resultCode"], refused["errorCode"]) == ("failed", "5001")
    assert usee.refunds("u-1") == []

    usee.fail_next_refund("u-1")
    assert refund(usee, "rf-2", "1000")["resultCode"] == "pending"  # accepted...
    [notification] = usee.take_notifications()
    fields = verified(notification, sign_type)
    assert (fields["resultCode"], fields["errorCode"], fields["transactionId"]) == ("failed", "5002", "rf-2")
    assert [(r.status, r.amount) for r in usee.refunds("u-1")] == [("failed", 1000)]
    assert refund(usee, "rf-3", "1000")["resultCode"] == "pending"  # a failed refund gives its amount back


# -- queries -------------------------------------------------------------------------------------------------
def test_busy_next_query_answers_signed_without_transaction_info(usee: UseePaySandbox) -> None:
    paid(usee)
    refund(usee)
    usee.busy_next_query("u-1")
    busy = query(usee, transactionId="rf-1")  # a refund's query is about its order
    assert (busy["resultCode"], busy["errorCode"], busy["errorMsg"]) == ("failed", "9999", "System busy")
    assert "transactionInfo" not in busy
    assert "transactionInfo" in query(usee, transactionId="rf-1")  # once only
    assert [c.outcome for c in usee.calls_for("u-1") if c.operation == "query"] == ["9999", "ok"]


def test_an_unknown_transaction_is_answered_as_before(usee: UseePaySandbox) -> None:
    answer = query(usee, transactionId="ghost")
    assert {k: answer[k] for k in ("resultCode", "errorCode", "errorMsg", "transactionType")} == {
        "resultCode": "failed",
        "errorCode": "1001",
        "errorMsg": "Transaction not exist",
        "transactionType": "query",
    }
    assert "transactionInfo" not in answer


# -- the payer, expiry, knobs -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("action", "result", "code"),
    [
        ("pay", "succeed", "0000"),
        ("cancel", "cancelled", "0000"),
        ("fail", "failed", "0053"),
        ("expire", "closed", "3300"),
    ],
)
def test_payer_actions_and_expiry_are_notified(
    usee: UseePaySandbox, sign_type: str, action: str, result: str, code: str
) -> None:
    create(usee)
    usee.control("u-1", action)
    [notification] = usee.take_notifications("u-1")
    fields = verified(notification, sign_type)
    assert (fields["transactionType"], fields["resultCode"], fields["errorCode"]) == ("pay", result, code)
    assert json.loads(query(usee, transactionId="u-1")["transactionInfo"])["resultCode"] == result
    with pytest.raises(OrderClosed):
        usee.control("u-1", "expire")


def test_pay_silently_and_dropped_notifications(usee: UseePaySandbox) -> None:
    create(usee, "u-1")
    usee.pay_silently("u-1")
    assert usee.take_notifications() == []
    assert usee.status_of("u-1") == "succeed"
    create(usee, "u-2")
    usee.drop_next_notification("u-2")
    usee.pay("u-2")
    assert usee.take_notifications() == []
    usee.redeliver("u-2")
    [late] = usee.take_notifications()
    assert late.body == usee.dropped[0].body


def test_timeout_once_on_a_refund_processes_it(usee: UseePaySandbox) -> None:
    paid(usee)
    usee.timeout_once("u-1")
    with pytest.raises(ReplyLost):
        refund(usee)
    assert [r.merchant_refund_id for r in usee.refunds("u-1")] == ["rf-1"]
    assert refund(usee)["errorMsg"] == "Duplicate transactionId"  # the retry: UseePay has it
    assert json.loads(query(usee, transactionId="rf-1")["transactionInfo"])["resultCode"] == "succeed"


def test_a_refund_signed_with_another_key_is_refused(usee: UseePaySandbox) -> None:
    paid(usee)
    request = {
        "version": "1.0",
        "signType": usee.sign_type,
        "merchantNo": MERCHANT_NO,
        "transactionType": "refund",
        "transactionId": "rf-1",
        "originalTransactionId": "u-1",
        "amount": "100",
        "currency": "EUR",
    }
    request["sign"] = sign({**request, "amount": "1"}, usee.sign_type)  # signed over other values
    _, _, reply = usee.handle("POST", URL, FORM, urlencode(request).encode())
    assert json.loads(reply)["errorMsg"] == "Invalid signature"
    assert usee.refunds("u-1") == []


def test_the_subject_is_kept_for_the_checkout_page(usee: UseePaySandbox) -> None:
    create(usee)
    assert usee.transactions["u-1"]["subject"] == "Tea set"
