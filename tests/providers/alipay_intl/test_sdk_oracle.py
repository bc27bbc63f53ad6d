"""Alipay's own `global-open-sdk-python` (its SHA256withRSA helpers) agrees with us, both ways.

The SDK pins cryptography 44 and verifies with the pure-Python `rsa` package, so it runs in its own
virtualenv (`make test` builds it from oracle/requirements.txt) as a subprocess; see
oracle/sdk_oracle.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from payments.errors import NotificationRejected
from payments.orders import OrderStatus
from payments.providers.base import RawRequest
from tests.providers.alipay_intl.fixtures import (
    ALIPAY_KEY,
    CLIENT_ID,
    MERCHANT_KEY,
    context_for,
    create_request,
    make_adapter,
    order_for,
    private_text,
    public_text,
)
from tests.support.oracle_venvs import run_oracle

TITLE = '茶具 {"set"} \\"x\\"'


def sdk(cases: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    result_json = run_oracle("alipay_intl", cases)
    answer: dict[str, Any] = result_json
    return answer


MERCHANT_PUBLIC = public_text(MERCHANT_KEY, "x509 base64")


def tamper(body: str) -> str:
    return body.replace('"merchantTransId":"o-', '"merchantTransId":"x-', 1)


@pytest.mark.parametrize("hash_name", ["SHA256", "SHA1"])
def test_sdk_verifies_what_we_sign_requests_and_replies(hash_name: str) -> None:
    adapter, http = make_adapter(sign_hash=hash_name)
    for n, terminal in enumerate(["WEB", "WAP", "APP"]):
        request = create_request(f"o-{n}", description=TITLE, terminal_type=terminal)
        adapter.create_payment(order_for(request), context_for(request))
    adapter.query(order_for(create_request("o-0")))
    bodies = [raw.decode() for _, _, raw in http.sent]
    delivery = http.sandbox.notification("o-1")
    note = adapter.parse_notification(RawRequest("POST", delivery.body, {}, {}, datetime.now(UTC)))
    acks = [adapter.acknowledge(note, None).body]
    cases = [{"body": b, "member": "request", "public_key": MERCHANT_PUBLIC} for b in bodies]
    cases += [{"body": tamper(b), "member": "request", "public_key": MERCHANT_PUBLIC} for b in bodies[:3]]
    cases += [{"body": a, "member": "response", "public_key": MERCHANT_PUBLIC} for a in acks]
    verdicts = sdk({"verify": cases})["verify"]
    expected_hash = "SHA-256" if hash_name == "SHA256" else "SHA-1"
    assert [v["valid"] for v in verdicts] == [True] * 4 + [False] * 3 + [True]
    assert {v["hash"] for i, v in enumerate(verdicts) if i not in (4, 5, 6)} == {expected_hash}


def test_we_verify_what_the_sdk_signs() -> None:
    adapter, _ = make_adapter()
    head = {
        "version": "2.0.0",
        "function": "alipay.intl.acquiring.cashier.notify.pay",
        "clientId": CLIENT_ID,
        "reqTime": "2026-11-22T20:00:00+08:00",
        "reqMsgId": "sdk-signed-1",
        "reserve": "{}",
    }
    body = {
        "resultInfo": {
            "resultStatus": "S",
            "resultCodeId": "00000000",
            "resultCode": "SUCCESS",
            "resultMsg": TITLE,
        },
        "merchantTransId": "o-sdk",
        "orderAmount": {"currency": "EUR", "value": "1000"},
        "acquirementId": "2026112299990001",
    }
    texts = [
        json.dumps({"head": head, "body": body}, ensure_ascii=False, indent=2),
        json.dumps({"head": head, "body": body}),
    ]
    signatures = sdk(
        {"sign": [{"text": t, "private_key": private_text(ALIPAY_KEY, "pkcs1 base64")} for t in texts]}
    )["sign"]
    for text, signature in zip(texts, signatures, strict=True):
        raw = ('{"request":' + text + ',"signature":"' + signature + '"}').encode()
        note = adapter.parse_notification(RawRequest("POST", raw, {}, {}, datetime.now(UTC)))
        assert (note.order_id, note.status, note.reply_context) == (
            "o-sdk",
            OrderStatus.PAID,
            {"reqMsgId": "sdk-signed-1"},
        )
        forged = raw.replace(b'"value": "1000"', b'"value": "1"')
        assert forged != raw
        with pytest.raises(NotificationRejected):
            adapter.parse_notification(RawRequest("POST", forged, {}, {}, datetime.now(UTC)))
