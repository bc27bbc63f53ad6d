"""The sandbox checks what Alipay checks: requests here are built by hand and signed with
`cryptography` directly, so these tests hold the sandbox to
docs/providers/alipay-intl.md without our adapter."""

from __future__ import annotations

import base64
import json
import re
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from local.providers.alipay_intl.sandbox import AlipayIntlSandbox, raw_members
from local.testing import OrderClosed, ReplyLost
from tests.providers.alipay_intl.fixtures import ALIPAY_KEY, CLIENT_ID, MERCHANT_ID, MERCHANT_KEY, new_sandbox

URL = "https://open-sea.alipay.com/api/alipay/intl/acquiring/cashier/prepareForRedirect.htm"
HEADERS = {"Content-Type": "application/json; charset=UTF-8"}
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}")


def seed_body(**changes: Any) -> dict[str, Any]:
    """The documentation's request sample, made valid (its enum fields print every option)."""
    body: dict[str, Any] = {
        "merchantId": MERCHANT_ID,
        "productCode": "AUTO_DEBIT",
        "merchantTransId": "51051001000000000002",
        "order": {
            "orderAmount": {"currency": "USD", "value": "239"},
            "orderTitle": "Women Summer Dress",
            "orderDetail": "New White Lace Sleeveless Cute Casual Summer Dresses",
        },
        "expireTime": "3min",
        "settleContractId": "USD-1",
        "paymentSite": "ALIPAY_CN",
        "terminalType": "WEB",
        "merchantRedirectUrl": "https://www.merchant.com/payResult.html",
        "urlType": "DEFAULT",
        "extendInfo": "{}",
        "riskInfo": {"deviceInfo": {"clientIp": "121.0.29.220"}},
        "notifyUrl": "https://xxx.xxx.xxx",
    }
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def envelope(body: dict[str, Any], *, head: dict[str, Any] | None = None, hash_name: str = "SHA256") -> bytes:
    request_head = {
        "version": "2.0.0",
        "function": "alipay.intl.acquiring.cashier.prepareForRedirect",
        "clientId": CLIENT_ID,
        "reqTime": "2001-07-04T12:08:56+05:30",
        "reqMsgId": uuid.uuid4().hex,
        "reserve": "{}",
    }
    request_head.update(head or {})
    text = json.dumps({"head": request_head, "body": body}, indent=2, ensure_ascii=False)
    algorithm = hashes.SHA256() if hash_name == "SHA256" else hashes.SHA1()
    signature = base64.b64encode(MERCHANT_KEY.sign(text.encode(), padding.PKCS1v15(), algorithm)).decode()
    return ('{"request": ' + text + ', "signature": "' + signature + '"}').encode()


def send(sandbox: AlipayIntlSandbox, raw: bytes, url: str = URL) -> dict[str, Any]:
    status, headers, reply = sandbox.handle("POST", url, HEADERS, raw)
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    members = raw_members(reply.decode())
    signature = base64.b64decode(json.loads(members["signature"]))
    ALIPAY_KEY.public_key().verify(
        signature, members["response"].encode(), padding.PKCS1v15(), hashes.SHA256()
    )  # every answer, refusals included, is signed by Alipay
    response: dict[str, Any] = json.loads(members["response"])
    return response


def result_code(sandbox: AlipayIntlSandbox, raw: bytes, url: str = URL) -> str:
    code: str = send(sandbox, raw, url)["body"]["resultInfo"]["resultCode"]
    return code


def test_seed_002_sample_is_accepted_and_answered_as_documented() -> None:
    sandbox = new_sandbox()
    raw = envelope(seed_body())
    response = send(sandbox, raw)
    sent_head = json.loads(raw)["request"]["head"]
    assert response["head"]["reqMsgId"] == sent_head["reqMsgId"]
    assert response["head"]["function"] == sent_head["function"]
    assert response["body"]["resultInfo"] == {
        "resultStatus": "S",
        "resultCodeId": "00000000",
        "resultCode": "SUCCESS",
        "resultMsg": "success",
    }
    assert response["body"]["paymentSiteUrl"].startswith("https://")
    assert response["body"]["validTime"] == "600s"


@pytest.mark.parametrize(
    "changes",
    [
        {"productCode": None},
        {"merchantTransId": None},
        {"merchantTransId": "x" * 65},
        {"order": None},
        {"order": {"orderTitle": "t"}},
        {"order": {"orderAmount": {"currency": "USD", "value": 239}, "orderTitle": "t"}},
        {"order": {"orderAmount": {"currency": "USD", "value": "2.39"}, "orderTitle": "t"}},
        {"order": {"orderAmount": {"currency": "usd", "value": "239"}, "orderTitle": "t"}},
        {"order": {"orderAmount": {"currency": "USD", "value": "239"}}},
        {"expireTime": "3 minutes"},
        {"expireTime": "0s"},
        {"paymentSite": None},
        {"paymentSite": {"ALIPAY_CN": "null", "ALIPAY_HK": "null"}},  # the sample's printout of the enum
        {"terminalType": "TV"},
        {"merchantRedirectUrl": None},
        {"merchantRedirectUrl": "https://m.example/" + "x" * 500},
        {"urlType": "LONG"},
        {"extendInfo": {}},  # a string, not an object
        {"notifyUrl": "https://n.example/" + "x" * 250},
    ],
)
def test_what_seed_002_requires_is_checked(changes: dict[str, Any]) -> None:
    assert result_code(new_sandbox(), envelope(seed_body(**changes))) == "PARAM_ILLEGAL"


def test_signature_client_head_and_merchant_checks() -> None:
    sandbox = new_sandbox()
    good = envelope(seed_body())
    tampered = good.replace(b'"value": "239"', b'"value": "238"')
    assert result_code(sandbox, tampered) == "INVALID_SIGNATURE"
    assert result_code(sandbox, envelope(seed_body(), hash_name="SHA1")) == "INVALID_SIGNATURE"
    assert result_code(sandbox, envelope(seed_body(), head={"clientId": "other"})) == "UNKNOWN_CLIENT"
    assert (
        result_code(sandbox, envelope(seed_body(), head={"reqTime": "2001-07-04 12:08:56"}))
        == "PARAM_ILLEGAL"
    )
    assert result_code(sandbox, envelope(seed_body(), head={"version": "1.0.0"})) == "PARAM_ILLEGAL"
    assert result_code(sandbox, envelope(seed_body(merchantId="someone-else"))) == "ACCESS_DENIED"
    wrong_url = URL.replace("prepareForRedirect", "payQuery")
    assert result_code(sandbox, good, wrong_url) == "PARAM_ILLEGAL"  # head.function must match the URL
    unknown = URL.replace("cashier/prepareForRedirect", "cashier/teleport")
    assert result_code(
        sandbox, envelope(seed_body(), head={"function": "alipay.intl.acquiring.cashier.teleport"}), unknown
    ) == ("NO_INTERFACE_DEF")


def test_a_req_msg_id_and_a_merchant_trans_id_serve_once() -> None:
    sandbox = new_sandbox()
    raw = envelope(seed_body())
    assert result_code(sandbox, raw) == "SUCCESS"
    assert result_code(sandbox, raw) == "PARAM_ILLEGAL"  # the same HTTP request again
    assert result_code(sandbox, envelope(seed_body())) == "PROCESS_FAIL"  # the same transaction again


def test_sha1_sandbox_verifies_sha1() -> None:
    sandbox = new_sandbox("SHA1")
    _, _, reply = sandbox.handle("POST", URL, HEADERS, envelope(seed_body(), hash_name="SHA1"))
    members = raw_members(reply.decode())
    ALIPAY_KEY.public_key().verify(
        base64.b64decode(json.loads(members["signature"])),
        members["response"].encode(),
        padding.PKCS1v15(),
        hashes.SHA1(),
    )
    assert json.loads(members["response"])["body"]["resultInfo"]["resultCode"] == "SUCCESS"


def test_non_post_and_non_json_are_refused() -> None:
    sandbox = new_sandbox()
    assert sandbox.handle("GET", URL, HEADERS, None)[0] == 405
    _, _, reply = sandbox.handle("POST", URL, {"Content-Type": "text/plain"}, envelope(seed_body()))
    assert (
        json.loads(raw_members(reply.decode())["response"])["body"]["resultInfo"]["resultCode"]
        == "PARAM_ILLEGAL"
    )


def test_notifications_are_signed_over_their_raw_request_text() -> None:
    sandbox = new_sandbox()
    send(sandbox, envelope(seed_body()))
    delivery = sandbox.notification("51051001000000000002")
    members = raw_members(delivery.body.decode())
    ALIPAY_KEY.public_key().verify(
        base64.b64decode(json.loads(members["signature"])),
        members["request"].encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    request = json.loads(members["request"])
    assert request["head"]["function"] == "alipay.intl.acquiring.cashier.notify.pay"
    assert request["head"]["reqMsgId"] == delivery.req_msg_id
    assert delivery.url == "https://xxx.xxx.xxx"
    assert request["body"]["resultInfo"]["resultCode"] == "SUCCESS"
    assert request["body"]["orderAmount"] == {"currency": "USD", "value": "239"}


def test_an_unsigned_or_unechoed_ack_is_not_an_ack() -> None:
    sandbox = new_sandbox()
    send(sandbox, envelope(seed_body()))
    delivery = sandbox.notification("51051001000000000002")
    success = {
        "resultStatus": "S",
        "resultCodeId": "00000000",
        "resultCode": "SUCCESS",
        "resultMsg": "success",
    }
    head = {
        "version": "2.0.0",
        "function": "alipay.intl.acquiring.cashier.notify.pay",
        "clientId": CLIENT_ID,
        "respTime": "2001-07-04T12:08:56+05:30",
        "reqMsgId": delivery.req_msg_id,
        "reserve": "{}",
    }

    def reply(value: dict[str, Any], signed: bool = True) -> str:
        text = json.dumps(value)
        signature = base64.b64encode(
            MERCHANT_KEY.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
        ).decode()
        return '{"response":' + text + (',"signature":"' + signature + '"' if signed else "") + "}"

    assert sandbox.acknowledged(reply({"head": head, "body": {"resultInfo": success}}), delivery)
    assert not sandbox.acknowledged(
        reply({"head": head, "body": {"resultInfo": success}}, signed=False), delivery
    )
    other = {**head, "reqMsgId": "another"}
    assert not sandbox.acknowledged(reply({"head": other, "body": {"resultInfo": success}}), delivery)
    failed = {**success, "resultStatus": "F", "resultCode": "PROCESS_FAIL"}
    assert not sandbox.acknowledged(reply({"head": head, "body": {"resultInfo": failed}}), delivery)
    assert not sandbox.acknowledged("OK", delivery)


# -- refund, payCancel, the payer at the cashier -------------------------------------------------------------
API = "https://open-sea.alipay.com/api/alipay/intl/acquiring/"
REFUND = "alipay.intl.acquiring.common.refund"
PAY_CANCEL = "alipay.intl.acquiring.common.payCancel"
PAY_QUERY = "alipay.intl.acquiring.cashier.payQuery"
URLS = {
    REFUND: API + "common/refund.htm",
    PAY_CANCEL: API + "common/payCancel.htm",
    PAY_QUERY: API + "cashier/payQuery.htm",
}


def call(sandbox: AlipayIntlSandbox, function: str, **body: Any) -> dict[str, Any]:
    answer: dict[str, Any] = send(
        sandbox, envelope({"merchantId": MERCHANT_ID, **body}, head={"function": function}), URLS[function]
    )["body"]
    return answer


def status_and_code(answer: dict[str, Any]) -> tuple[str, str]:
    return answer["resultInfo"]["resultStatus"], answer["resultInfo"]["resultCode"]


def created(sandbox: AlipayIntlSandbox, trans_id: str = "t-1", value: str = "1000") -> None:
    order = {"orderAmount": {"currency": "USD", "value": value}, "orderTitle": "Tea set"}
    assert result_code(sandbox, envelope(seed_body(merchantTransId=trans_id, order=order))) == "SUCCESS"


def paid(sandbox: AlipayIntlSandbox, trans_id: str = "t-1", value: str = "1000") -> str:
    """Created and paid at the cashier; Alipay's acquirementId for it."""
    created(sandbox, trans_id, value)
    sandbox.pay(trans_id)
    [notification] = sandbox.take_notifications()
    request = json.loads(raw_members(notification.body.decode())["request"])
    assert request["body"]["resultInfo"]["resultStatus"] == "S"
    acquirement: str = request["body"]["acquirementId"]
    return acquirement


def refund(
    sandbox: AlipayIntlSandbox,
    acquirement: str,
    refund_id: str = "r-1",
    value: str = "400",
    currency: str = "USD",
) -> dict[str, Any]:
    return call(
        sandbox,
        REFUND,
        acquirementId=acquirement,
        merchantRefundId=refund_id,
        refundAmount={"currency": currency, "value": value},
        refundReason="returned",
    )


def pay_status(sandbox: AlipayIntlSandbox, trans_id: str = "t-1") -> str:
    answer = call(sandbox, PAY_QUERY, merchantTransId=trans_id)
    assert status_and_code(answer) == ("S", "SUCCESS")
    word: str = answer["payStatus"]
    return word


def test_a_refund_succeeds_synchronously_and_echoes_the_request() -> None:
    sandbox = new_sandbox()
    acquirement = paid(sandbox)
    answer = refund(sandbox, acquirement)
    assert status_and_code(answer) == ("S", "SUCCESS")
    assert answer["merchantRefundId"] == "r-1"
    assert answer["acquirementId"] == acquirement
    assert answer["refundAmount"] == {"currency": "USD", "value": "400"}
    assert answer["refundId"]
    assert RFC3339.fullmatch(answer["refundTime"])
    [held] = sandbox.refunds("t-1")
    assert (held.refund_id, held.merchant_refund_id, held.amount, held.status) == (
        answer["refundId"],
        "r-1",
        400,
        "succeeded",
    )
    assert sandbox.take_notifications() == []  # a refund is not notified
    assert pay_status(sandbox) == "SUCCESS"


def test_the_same_merchant_refund_id_answers_the_first_result_and_never_refunds_twice() -> None:
    sandbox = new_sandbox()
    acquirement = paid(sandbox)
    first = refund(sandbox, acquirement)
    again = refund(sandbox, acquirement)
    assert again == first  # the same refundId and refundTime: one refund
    assert len(sandbox.refunds("t-1")) == 1
    assert status_and_code(refund(sandbox, acquirement, value="500")) == ("F", "REPEAT_REQ_INCONSISTENT")
    other = paid(sandbox, "t-2")
    assert status_and_code(refund(sandbox, other)) == ("F", "REPEAT_REQ_INCONSISTENT")
    assert [r.amount for r in sandbox.refunds("t-1")] == [400]
    assert sandbox.refunds("t-2") == []


def test_partial_refunds_up_to_the_paid_amount() -> None:
    sandbox = new_sandbox()
    acquirement = paid(sandbox)
    assert status_and_code(refund(sandbox, acquirement, "r-1", "600")) == ("S", "SUCCESS")
    assert status_and_code(refund(sandbox, acquirement, "r-2", "401")) == ("F", "REFUND_AMOUNT_EXCEED")
    assert status_and_code(refund(sandbox, acquirement, "r-3", "400")) == ("S", "SUCCESS")
    assert [r.amount for r in sandbox.refunds("t-1")] == [600, 400]
    # A refused merchantRefundId keeps its answer too.
    assert status_and_code(refund(sandbox, acquirement, "r-2", "401")) == ("F", "REFUND_AMOUNT_EXCEED")


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"currency": "EUR"}, "PARAM_ILLEGAL"),  # not the payment's currency
        ({"value": "0"}, "PARAM_ILLEGAL"),
        ({"value": "4.00"}, "PARAM_ILLEGAL"),
        ({"value": "1001"}, "REFUND_AMOUNT_EXCEED"),
        ({"acquirement": "2026000000000000"}, "ORDER_NOT_EXIST"),
        ({"refund_id": "r" * 65}, "PARAM_ILLEGAL"),
    ],
)
def test_refund_refusals(changes: dict[str, str], code: str) -> None:
    sandbox = new_sandbox()
    acquirement = changes.pop("acquirement", paid(sandbox))
    assert status_and_code(refund(sandbox, acquirement, **changes)) == ("F", code)
    assert sandbox.refunds("t-1") == []


def test_a_refund_needs_a_paid_order_and_this_merchant() -> None:
    sandbox = new_sandbox()
    acquirement = paid(sandbox)
    sandbox.orders["t-1"]["payStatus"] = "FAIL"  # as if the payment had been reversed
    assert status_and_code(refund(sandbox, acquirement)) == ("F", "ORDER_STATUS_INVALID")
    sandbox.orders["t-1"]["payStatus"] = "SUCCESS"
    raw = envelope(
        {
            "merchantId": "someone-else",
            "acquirementId": acquirement,
            "merchantRefundId": "r-9",
            "refundAmount": {"currency": "USD", "value": "1"},
        },
        head={"function": REFUND},
    )
    assert result_code(sandbox, raw, URLS[REFUND]) == "ACCESS_DENIED"
    forged = envelope(
        {
            "merchantId": MERCHANT_ID,
            "acquirementId": acquirement,
            "merchantRefundId": "r-9",
            "refundAmount": {"currency": "USD", "value": "1"},
        },
        head={"function": REFUND},
    ).replace(b'"value": "1"', b'"value": "2"')
    assert result_code(sandbox, forged, URLS[REFUND]) == "INVALID_SIGNATURE"
    assert sandbox.refunds("t-1") == []


def test_refuse_next_refund_is_an_f_and_stays_one_for_its_id() -> None:
    sandbox = new_sandbox()
    acquirement = paid(sandbox)
    sandbox.refuse_next_refund("t-1")
    assert status_and_code(refund(sandbox, acquirement)) == ("F", "PROCESS_FAIL")
    assert status_and_code(refund(sandbox, acquirement)) == ("F", "PROCESS_FAIL")  # its first answer
    assert status_and_code(refund(sandbox, acquirement, "r-2")) == ("S", "SUCCESS")
    assert [r.merchant_refund_id for r in sandbox.refunds("t-1")] == ["r-2"]


def test_held_refunds_answer_u_until_released() -> None:
    sandbox = new_sandbox()
    acquirement = paid(sandbox)
    sandbox.hold_refunds("t-1")
    assert status_and_code(refund(sandbox, acquirement, "r-1", "600")) == ("U", "UNKNOWN_EXCEPTION")
    assert status_and_code(refund(sandbox, acquirement, "r-1", "600")) == ("U", "UNKNOWN_EXCEPTION")
    assert [(r.status, r.provider_status) for r in sandbox.refunds("t-1")] == [("pending", "PROCESSING")]
    # In process, its amount is taken: only 400 remain.
    assert status_and_code(refund(sandbox, acquirement, "r-2", "500")) == ("F", "REFUND_AMOUNT_EXCEED")

    sandbox.release_refunds("t-1")
    answer = refund(sandbox, acquirement, "r-1", "600")
    assert status_and_code(answer) == ("S", "SUCCESS")
    assert answer["refundId"]
    assert [(r.amount, r.status) for r in sandbox.refunds("t-1")] == [(600, "succeeded")]
    assert status_and_code(refund(sandbox, acquirement, "r-3", "400")) == ("S", "SUCCESS")  # not held now


def test_timeout_once_refunds_and_the_retry_gets_the_same_refund() -> None:
    sandbox = new_sandbox()
    acquirement = paid(sandbox)
    sandbox.timeout_once("t-1")
    with pytest.raises(ReplyLost):
        refund(sandbox, acquirement)
    [done] = sandbox.refunds("t-1")
    assert refund(sandbox, acquirement)["refundId"] == done.refund_id
    assert len(sandbox.refunds("t-1")) == 1
    assert [(c.operation, c.reply_lost) for c in sandbox.calls_for("t-1")][-2:] == [
        ("refund", True),
        ("refund", False),
    ]


def test_pay_cancel_closes_an_unpaid_order() -> None:
    sandbox = new_sandbox()
    created(sandbox)
    answer = call(sandbox, PAY_CANCEL, merchantTransId="t-1")
    assert status_and_code(answer) == ("S", "SUCCESS")
    assert answer["merchantTransId"] == "t-1"
    assert pay_status(sandbox) == "CANCELLED"
    assert sandbox.take_notifications() == []
    with pytest.raises(OrderClosed):
        sandbox.pay("t-1")  # a later pay is refused
    assert status_and_code(call(sandbox, PAY_CANCEL, merchantTransId="t-1")) == ("S", "SUCCESS")


def test_pay_cancel_of_a_paid_order_is_refused() -> None:
    sandbox = new_sandbox()
    acquirement = paid(sandbox)
    assert status_and_code(call(sandbox, PAY_CANCEL, merchantTransId="t-1")) == ("F", "ORDER_STATUS_INVALID")
    assert status_and_code(call(sandbox, PAY_CANCEL, acquirementId=acquirement)) == (
        "F",
        "ORDER_STATUS_INVALID",
    )
    assert pay_status(sandbox) == "SUCCESS"
    assert status_and_code(call(sandbox, PAY_CANCEL, acquirementId="2026000000000000")) == (
        "F",
        "ORDER_NOT_EXIST",
    )
    assert status_and_code(call(sandbox, PAY_CANCEL)) == ("F", "PARAM_ILLEGAL")


def test_pay_cancel_of_an_order_alipay_never_saw_refuses_its_later_create() -> None:
    sandbox = new_sandbox()
    assert status_and_code(call(sandbox, PAY_CANCEL, merchantTransId="t-late")) == ("S", "SUCCESS")
    order = {"orderAmount": {"currency": "USD", "value": "1000"}, "orderTitle": "Tea set"}
    assert result_code(sandbox, envelope(seed_body(merchantTransId="t-late", order=order))) == "PROCESS_FAIL"
    assert "t-late" not in sandbox.orders


@pytest.mark.parametrize("status", ["CLOSED", "FAIL"])
def test_pay_cancel_of_a_closed_order_changes_nothing(status: str) -> None:
    sandbox = new_sandbox()
    created(sandbox)
    sandbox.orders["t-1"]["payStatus"] = status
    assert status_and_code(call(sandbox, PAY_CANCEL, merchantTransId="t-1")) == ("S", "SUCCESS")
    assert pay_status(sandbox) == status


def test_the_payer_cancelling_at_the_cashier_notifies_nothing_and_the_order_stays_payable() -> None:
    sandbox = new_sandbox()
    created(sandbox)
    sandbox.control("t-1", "cancel")
    assert sandbox.take_notifications() == []
    assert pay_status(sandbox) == "INIT"
    sandbox.control("t-1", "pay")  # the payer came back and paid
    [notification] = sandbox.take_notifications()
    assert json.loads(raw_members(notification.body.decode())["request"])["body"]["payStatus"] == "SUCCESS"


def test_an_expired_order_is_closed_without_a_notification() -> None:
    sandbox = new_sandbox()
    created(sandbox)
    sandbox.control("t-1", "expire")
    assert sandbox.take_notifications() == []
    assert pay_status(sandbox) == "CLOSED"
    with pytest.raises(OrderClosed):
        sandbox.control("t-1", "pay")


def test_a_failed_payment_is_notified_as_f() -> None:
    sandbox = new_sandbox()
    created(sandbox)
    sandbox.control("t-1", "fail")
    [notification] = sandbox.take_notifications()
    members = raw_members(notification.body.decode())
    ALIPAY_KEY.public_key().verify(
        base64.b64decode(json.loads(members["signature"])),
        members["request"].encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    body = json.loads(members["request"])["body"]
    assert (body["resultInfo"]["resultStatus"], body["payStatus"]) == ("F", "FAIL")
    assert pay_status(sandbox) == "FAIL"


def test_pay_silently_is_seen_by_pay_query_only() -> None:
    sandbox = new_sandbox()
    created(sandbox)
    sandbox.pay_silently("t-1")
    assert sandbox.take_notifications() == []
    answer = call(sandbox, PAY_QUERY, merchantTransId="t-1")
    assert (answer["payStatus"], bool(answer["acquirementId"])) == ("SUCCESS", True)


def test_an_outbox_notification_is_acknowledged_like_a_delivery() -> None:
    sandbox = new_sandbox()
    created(sandbox)
    sandbox.drop_next_notification("t-1")
    sandbox.pay("t-1")
    assert sandbox.take_notifications() == []
    sandbox.redeliver("t-1")
    [notification] = sandbox.take_notifications()
    assert notification.body == sandbox.dropped[0].body
    head = {
        "version": "2.0.0",
        "function": "alipay.intl.acquiring.cashier.notify.pay",
        "clientId": CLIENT_ID,
        "respTime": "2001-07-04T12:08:56+05:30",
        "reqMsgId": notification.message_id,
        "reserve": "{}",
    }
    success = {
        "resultStatus": "S",
        "resultCodeId": "00000000",
        "resultCode": "SUCCESS",
        "resultMsg": "success",
    }
    text = json.dumps({"head": head, "body": {"resultInfo": success}})
    signature = base64.b64encode(
        MERCHANT_KEY.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    ).decode()
    assert sandbox.acknowledged('{"response":' + text + ',"signature":"' + signature + '"}', notification)
    wrong = text.replace(notification.message_id, "another")
    signature = base64.b64encode(
        MERCHANT_KEY.sign(wrong.encode(), padding.PKCS1v15(), hashes.SHA256())
    ).decode()
    assert not sandbox.acknowledged(
        '{"response":' + wrong + ',"signature":"' + signature + '"}', notification
    )
