"""The Antom sandbox is as strict as Antom's documentation: it takes only requests signed as documented
on its environment's path, signs its replies over their response-time and the request's path, keeps a
cashier page per wallet, closes the cancel window, and takes only the exact acknowledgement. Requests
here are made and checked with `cryptography` directly, never with the adapter."""

from __future__ import annotations

import base64
import html
import json
import time
from typing import Any
from urllib.parse import quote_plus, unquote_plus, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from local.providers.antom.checkout import WALLET_NAMES, AntomCheckout
from local.providers.antom.sandbox import ACK, WALLETS, AntomSandbox
from local.testing import checkout_page
from tests.providers.antom.fixtures import ANTOM_KEY, BASE_URL, CLIENT_ID, MERCHANT_KEY, new_sandbox

PAY_PATH = "/ams/sandbox/api/v1/payments/pay"
MOMENT = "2026-11-22T12:00:00+00:00"


def pay_body(request_id: str, wallet: str = "ALIPAY_CN", value: str = "1000") -> dict[str, Any]:
    amount = {"currency": "EUR", "value": value}
    return {
        "productCode": "CASHIER_PAYMENT",
        "paymentRequestId": request_id,
        "paymentAmount": amount,
        "paymentMethod": {"paymentMethodType": wallet},
        "order": {"referenceOrderId": request_id, "orderDescription": "Tea", "orderAmount": amount},
        "paymentRedirectUrl": "https://shop.example.com/return",
        "paymentNotifyUrl": "https://shop.example.com/v1/notify/antom",
        "env": {"terminalType": "WEB"},
    }


def call(
    sandbox: AntomSandbox,
    body: dict[str, Any] | bytes,
    *,
    path: str = PAY_PATH,
    encode: Any = quote_plus,
    headers: dict[str, str] | None = None,
) -> tuple[dict[str, str], bytes, dict[str, Any]]:
    """POST as a merchant signs it (`encode`: how the base64 goes into the header)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    content = f"POST {path}\n{CLIENT_ID}.{MOMENT}.".encode() + raw
    value = base64.b64encode(MERCHANT_KEY.sign(content, padding.PKCS1v15(), hashes.SHA256())).decode()
    sent = {
        "Content-Type": "application/json; charset=UTF-8",
        "Client-Id": CLIENT_ID,
        "Request-Time": MOMENT,
        "Signature": f"algorithm=RSA256,keyVersion=1,signature={encode(value)}",
        **(headers or {}),
    }
    status, reply_headers, reply = sandbox.handle("POST", BASE_URL + path, sent, raw)
    assert status == 200
    return reply_headers, reply, json.loads(reply)


def result_code(answer: dict[str, Any]) -> str:
    return str(answer["result"]["resultCode"])


def test_a_documented_request_is_taken_and_its_reply_signed_over_response_time_and_path() -> None:
    sandbox = new_sandbox()
    headers, raw, answer = call(sandbox, pay_body("s-1"))
    assert (answer["result"]["resultStatus"], result_code(answer)) == ("U", "PAYMENT_IN_PROCESS")
    assert answer["normalUrl"].startswith(sandbox.cashier_base + "/alipay-cn?")
    content = f"POST {PAY_PATH}\n{headers['client-id']}.{headers['response-time']}.".encode() + raw
    signature = base64.b64decode(unquote_plus(headers["signature"].split("signature=", 1)[1]))
    ANTOM_KEY.public_key().verify(signature, content, padding.PKCS1v15(), hashes.SHA256())
    ours = content.replace(headers["response-time"].encode(), MOMENT.encode(), 1)
    assert ours != content
    with pytest.raises(InvalidSignature):  # over the reply's own time, not our request-time
        ANTOM_KEY.public_key().verify(signature, ours, padding.PKCS1v15(), hashes.SHA256())


def test_a_plus_left_unescaped_in_the_signature_is_refused() -> None:
    """Found among request ids the first whose signature's base64 has a '+': sent raw, it is refused;
    quote_plus'd, taken."""
    sandbox = new_sandbox()
    for index in range(200):
        body = pay_body(f"plus-{index}")
        content = f"POST {PAY_PATH}\n{CLIENT_ID}.{MOMENT}.".encode() + json.dumps(body).encode()
        value = base64.b64encode(MERCHANT_KEY.sign(content, padding.PKCS1v15(), hashes.SHA256())).decode()
        if "+" in value:
            break
    assert result_code(call(sandbox, body, encode=lambda value: value)[2]) == "INVALID_SIGNATURE"
    assert result_code(call(sandbox, body)[2]) == "PAYMENT_IN_PROCESS"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"encode": lambda value: quote_plus(quote_plus(value))}, "INVALID_SIGNATURE"),
        ({"path": "/ams/api/v1/payments/pay"}, "NO_INTERFACE_DEF"),  # the live path, a sandbox client id
        ({"path": PAY_PATH + "/"}, "NO_INTERFACE_DEF"),
        ({"headers": {"Content-Type": "text/plain"}}, "MEDIA_TYPE_NOT_ACCEPTABLE"),
        ({"headers": {"Client-Id": "SANDBOX_SOMEONEELSE01"}}, "KEY_NOT_FOUND"),
        ({"headers": {"Request-Time": "yesterday"}}, "PARAM_ILLEGAL"),
        ({"headers": {"Signature": "algorithm=RSA,keyVersion=1,signature=abc"}}, "INVALID_SIGNATURE"),
    ],
)
def test_anything_else_is_refused(change: dict[str, Any], code: str) -> None:
    sandbox = new_sandbox()
    _, _, answer = call(sandbox, pay_body("s-2"), **change)
    assert result_code(answer) == code
    assert sandbox.payments == {}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({**pay_body("s-3"), "productCode": "AGREEMENT_PAYMENT"}, "PARAM_ILLEGAL"),
        (
            {**pay_body("s-3"), "paymentAmount": {"currency": "EUR", "value": 1000}},
            "PARAM_ILLEGAL",
        ),  # a number
        ({**pay_body("s-3"), "paymentMethod": {"paymentMethodType": "ALIPAY_PLUS"}}, "PARAM_ILLEGAL"),
        ({**pay_body("s-3"), "env": {"terminalType": "POS"}}, "PARAM_ILLEGAL"),
        ({**pay_body("s-3"), "paymentExpiryTime": "in ten minutes"}, "PARAM_ILLEGAL"),
        ({k: v for k, v in pay_body("s-3").items() if k != "paymentNotifyUrl"}, "PARAM_ILLEGAL"),
    ],
)
def test_a_pay_request_is_checked_field_by_field(body: dict[str, Any], code: str) -> None:
    _, _, answer = call(new_sandbox(), body)
    assert result_code(answer) == code


def test_a_cashier_page_per_wallet() -> None:
    sandbox = new_sandbox()
    checkout = AntomCheckout(sandbox)
    for index, wallet in enumerate(WALLETS):
        _, _, answer = call(sandbox, pay_body(f"w-{index}", wallet))
        link = urlsplit(answer["normalUrl"])
        order_id = checkout.order_of(link.path, link.query)
        assert order_id == f"w-{index}"
        page = checkout_page(checkout, order_id, checkout.language(order_id, link.query)).decode()
        assert f'<p id="payment-method">{html.escape(WALLET_NAMES[wallet])}</p>' in page
        other = link.path.rsplit("/", 1)[0] + "/other-wallet"
        assert checkout.order_of(other, link.query) is None
    assert {checkout.language(f"w-{i}", "") for i in range(len(WALLETS))} == {"zh", "en"}


def test_a_paid_payment_cancels_until_the_window_closes_and_never_once_refunded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = new_sandbox()
    cancel = "/ams/sandbox/api/v1/payments/cancel"
    for order_id in ("c-1", "c-2", "c-3"):
        call(sandbox, pay_body(order_id))
        sandbox.pay_silently(order_id)
    assert result_code(call(sandbox, {"paymentRequestId": "c-1"}, path=cancel)[2]) == "SUCCESS"
    assert sandbox.status_of("c-1") == "CANCELLED"  # the payer refunded
    refund = {
        "refundRequestId": "c-2_R000000000000",
        "paymentId": sandbox.payments["c-2"]["paymentId"],
        "refundAmount": {"currency": "EUR", "value": "100"},
    }
    assert result_code(call(sandbox, refund, path="/ams/sandbox/api/v1/payments/refund")[2]) == "SUCCESS"
    assert result_code(call(sandbox, {"paymentRequestId": "c-2"}, path=cancel)[2]) == "PROCESS_FAIL"
    later = time.time() + 2 * 86400
    monkeypatch.setattr(time, "time", lambda: later)
    assert result_code(call(sandbox, {"paymentRequestId": "c-3"}, path=cancel)[2]) == "CANCEL_WINDOW_EXCEEDED"


def test_only_the_exact_acknowledgement_stops_antom() -> None:
    assert AntomSandbox.acknowledged(200, ACK)
    for status, body in (
        (200, ACK.decode().replace(":", ": ")),
        (200, b"OK"),
        (201, ACK),
        (200, b'{"result":{"resultCode":"SUCCESS","resultStatus":"S"}}'),
    ):
        assert not AntomSandbox.acknowledged(status, body)
