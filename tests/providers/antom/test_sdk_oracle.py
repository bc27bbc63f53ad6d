"""Antom's own `global-open-sdk-python` agrees with us: our request signatures are the SDK's byte for
byte, the SDK verifies them, we verify what the SDK signs, and the SDK's notification models read the
fields we read.

The SDK pins cryptography 44 and verifies with the pure-Python `rsa` package, so it runs in its own
virtualenv (`make install` builds .venv-oracle-antom from oracle/requirements.txt) as a subprocess
(oracle/sdk_oracle.py). It cannot reach a loopback server, so its signing and verification functions
are called directly; nothing touches a network.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import pytest

from local.providers.antom.sandbox import JSON_TYPE, signature_header
from local.testing import pem_body, private_pem, public_pem
from payments.errors import NotificationRejected, ProviderUnavailable
from payments.facts import RefundFact, RefundStatus
from payments.http import HttpResponse
from payments.ledger import MERCHANT, Refund
from payments.orders import OrderStatus
from payments.providers.base import RefundContext
from tests.providers.antom.fixtures import (
    ANTOM_KEY,
    CLIENT_ID,
    MERCHANT_KEY,
    NOTIFY_URL,
    NOW,
    context_for,
    create_request,
    make_adapter,
    order_for,
    raw_request,
)
from tests.support.oracle_venvs import run_oracle

MERCHANT_PRIVATE = pem_body(private_pem(MERCHANT_KEY, "pkcs1"))
MERCHANT_PUBLIC = pem_body(public_pem(MERCHANT_KEY))
ANTOM_PRIVATE = pem_body(private_pem(ANTOM_KEY, "pkcs1"))
TITLE = '茶具 {"set"} \\"x\\" +/='  # non-ASCII, JSON escapes, and base64's own characters


def sdk(cases: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    answer: dict[str, Any] = run_oracle("antom", cases)
    return answer


def our_requests() -> list[tuple[str, dict[str, str], bytes]]:
    """Every operation, as the adapter sends it: pay (each terminal), inquiry, refund, inquiry of the
    refund, cancel."""
    adapter, http = make_adapter()
    for n, terminal in enumerate(["WEB", "WAP", "APP"]):
        request = create_request(f"o-{n}", description=TITLE, terminal_type=terminal)
        adapter.create_payment(order_for(request), context_for(request))
    order = order_for(create_request("o-0"))
    http.sandbox.pay_silently("o-0")
    paid = replace(order, provider_reference=http.sandbox.payments["o-0"]["paymentId"])
    refund = Refund(
        "r-1", "o-0", order.amount, RefundStatus.UNKNOWN, MERCHANT, adapter.refund_key("o-0", "r-1"), "", ""
    )
    adapter.refund(paid, refund, RefundContext(NOTIFY_URL, NOW))
    adapter.resolve_refund(paid, refund, RefundContext("", NOW))
    adapter.cancel(order_for(create_request("o-1")))
    return http.sent


def test_our_request_signatures_are_the_sdks_byte_for_byte_and_it_verifies_them() -> None:
    sent = our_requests()
    assert len(sent) == 7
    signs, checks = [], []
    for url, headers, body in sent:
        case = {"path": urlsplit(url).path, "client_id": CLIENT_ID, "time": headers["request-time"]}
        signs.append({**case, "body": body.decode(), "private_key": MERCHANT_PRIVATE})
        checks.append(
            {**case, "body": body.decode(), "header": headers["signature"], "public_key": MERCHANT_PUBLIC}
        )
        tampered = body.replace(b'"o-', b'"x-', 1)
        checks.append(
            {**case, "body": tampered.decode(), "header": headers["signature"], "public_key": MERCHANT_PUBLIC}
        )
    answer = sdk({"sign": signs, "check": checks})
    ours = [headers["signature"] for _, headers, _ in sent]
    assert [signature_header(value) for value in answer["sign"]] == ours
    assert [verdict["valid"] for verdict in answer["check"]] == [True, False] * len(sent)


def test_we_verify_what_the_sdk_signs_notifications_and_replies() -> None:
    adapter, http = make_adapter()
    request = create_request("o-sdk", description=TITLE)
    adapter.create_payment(order_for(request), context_for(request))
    payment_id = http.sandbox.payments["o-sdk"]["paymentId"]
    notification = {
        "notifyType": "PAYMENT_RESULT",
        "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": TITLE},
        "paymentRequestId": "o-sdk",
        "paymentId": payment_id,
        "paymentAmount": {"currency": "EUR", "value": "1000"},
    }
    bodies = [  # as the SDK lays JSON out (to_ams_json: indent=3), and compact
        json.dumps(notification, ensure_ascii=False, indent=3),
        json.dumps(notification, separators=(",", ":")),
    ]
    path = urlsplit(NOTIFY_URL).path
    moments = ["2026-11-22T12:00:00+00:00", "1795435200000"]  # ISO 8601 (the SDK) and epoch ms (the docs)
    cases = [
        {"path": path, "client_id": CLIENT_ID, "time": moment, "body": body, "private_key": ANTOM_PRIVATE}
        for body in bodies
        for moment in moments
    ]
    signatures = sdk({"sign": cases})["sign"]
    for case, signature in zip(cases, signatures, strict=True):
        headers = {
            "Content-Type": JSON_TYPE,
            "client-id": CLIENT_ID,
            "request-time": case["time"],
            "signature": signature_header(signature),
        }
        note = adapter.parse_notification(raw_request(headers, case["body"].encode()))
        assert (note.order_id, note.status, note.amount) == (
            "o-sdk",
            OrderStatus.PAID,
            order_for(request).amount,
        )
        forged = case["body"].replace('"1000"', '"1"').encode()
        with pytest.raises(NotificationRejected):
            adapter.parse_notification(raw_request(headers, forged))
        # The Lambda's own path is not what the SDK signed.
        with pytest.raises(NotificationRejected):
            adapter.parse_notification(raw_request(headers, case["body"].encode(), "https://x/notify/antom"))

    # A reply the SDK signs (over the request's path and the reply's response-time) is one we take.
    reply = json.dumps(
        {
            "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
            "paymentStatus": "PROCESSING",
            "paymentRequestId": "o-sdk",
            "paymentAmount": {"currency": "EUR", "value": "1000"},
        }
    )
    moment = "2026-11-22T12:00:05+00:00"
    [signature] = sdk(
        {
            "sign": [
                {
                    "path": adapter.path("inquiryPayment"),
                    "client_id": CLIENT_ID,
                    "time": moment,
                    "body": reply,
                    "private_key": ANTOM_PRIVATE,
                }
            ]
        }
    )["sign"]
    headers = {"client-id": CLIENT_ID, "response-time": moment, "signature": signature_header(signature)}

    def answered(body: str) -> HttpResponse:
        return HttpResponse(200, headers, body.encode())

    assert adapter._verified(answered(reply), adapter.path("inquiryPayment"))["paymentStatus"] == "PROCESSING"
    with pytest.raises(ProviderUnavailable) as refused:
        adapter._verified(answered(reply.replace("PROCESSING", "SUCCESS")), adapter.path("inquiryPayment"))
    assert refused.value.code == "provider_bad_signature"
    with pytest.raises(ProviderUnavailable):  # signed for another operation's path
        adapter._verified(answered(reply), adapter.path("inquiryRefund"))


def test_the_sdks_notification_models_read_the_fields_we_read() -> None:
    adapter, http = make_adapter()
    request = create_request("o-read")
    order = order_for(request)
    adapter.create_payment(order, context_for(request))
    sandbox = http.sandbox
    sandbox.pay("o-read")
    notes = sandbox.take_notifications()
    paid = replace(order, provider_reference=sandbox.payments["o-read"]["paymentId"])
    for words in ("long", "short"):
        sandbox.refund_words = words
        key = adapter.refund_key("o-read", f"r-{words}")
        sandbox.hold_refunds("o-read")
        refund = Refund(
            f"r-{words}",
            "o-read",
            order.amount.__class__(100, "EUR"),
            RefundStatus.UNKNOWN,
            MERCHANT,
            key,
            "",
            "",
        )
        with pytest.raises(ProviderUnavailable):  # in process: the result follows by notifyRefund
            adapter.refund(paid, refund, RefundContext(NOTIFY_URL, NOW))
        sandbox.release_refunds("o-read")
        notes += sandbox.take_notifications()
    read = sdk(
        {
            "notify": [
                {"kind": "refund" if b'"REFUND_RESULT"' in n.body else "payment", "body": n.body.decode()}
                for n in notes
            ]
        }
    )["notify"]
    assert len(read) == 3
    payment, *refunds = read
    ours = adapter.parse_notification(raw_request(notes[0].headers, notes[0].body))
    assert ours.amount is not None
    assert (
        payment["payment_request_id"],
        payment["payment_id"],
        payment["result_status"],
        payment["notify_type"],
    ) == (
        ours.order_id,
        ours.provider_reference,
        "S",
        "PAYMENT_RESULT",
    )
    assert payment["payment_amount"] == {"currency": ours.amount.currency, "value": str(ours.amount.value)}
    for note, theirs in zip(notes[1:], refunds, strict=True):
        statement = adapter.parse_notification(raw_request(note.headers, note.body))
        [fact] = statement.facts
        assert isinstance(fact, RefundFact)
        assert (theirs["refund_request_id"], theirs["refund_id"]) == (fact.key, fact.provider_reference)
        assert statement.provider_status == f"refund:{theirs['refund_status']}"
        assert fact.status == RefundStatus.SUCCEEDED
        # SDK 1.7.1 reads refundAmount into Amount(currency=<the whole object>): the same amount, misfiled.
        assert theirs["refund_amount"] == {
            "sdk_quirk": "amount_in_currency",
            "currency": fact.amount.currency,
            "value": str(fact.amount.value),
        }
    assert [theirs["refund_status"] for theirs in refunds] == ["SUCCESS", "S"]
