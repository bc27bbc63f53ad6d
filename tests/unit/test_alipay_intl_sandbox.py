"""The sandbox checks what Alipay checks: requests here are built by hand and signed with
`cryptography` directly, so these tests hold the sandbox to
docs/providers/alipay-intl.md without our adapter."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from local.sandboxes.alipay_intl import AlipayIntlSandbox, raw_members
from tests.support.alipay_intl_kit import ALIPAY_KEY, CLIENT_ID, MERCHANT_ID, MERCHANT_KEY, new_sandbox

URL = "https://open-sea.alipay.com/api/alipay/intl/acquiring/cashier/prepareForRedirect.htm"
HEADERS = {"Content-Type": "application/json; charset=UTF-8"}


def seed_body(**changes: Any) -> dict[str, Any]:
    """Seed 002's request sample, made valid (its enum fields print every option)."""
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
