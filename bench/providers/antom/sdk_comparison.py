"""Antom's SDK (global-open-sdk-python) against us: a notifyPayment's signature checked over the notify
URL's path, the client id, the request time and the exact body, with the same 2048-bit key."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

from bench.providers import ratio, sdk_timing
from local.providers.antom.kit import KIT
from local.providers.antom.sandbox import signature_header, signed_content
from local.testing import pem_body, public_pem
from payments.http import HttpClient
from payments.providers.antom.adapter import Antom, AntomSettings
from payments.providers.base import RawRequest
from payments.signing import rsa_sign

NOTIFY_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/notify/antom"


def compare(n: int) -> dict[str, Any]:
    credentials = KIT.new_credentials()
    adapter = Antom(
        AntomSettings.model_validate(KIT.secret_entry(credentials, KIT.test_base_url)), HttpClient()
    )
    body = json.dumps(
        {
            "notifyType": "PAYMENT_RESULT",
            "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
            "paymentRequestId": "o-1",
            "paymentId": "202611221900000001",
            "paymentAmount": {"currency": "EUR", "value": "1000"},
            "paymentCreateTime": "2026-11-22T20:00:00+08:00",
            "paymentTime": "2026-11-22T20:01:00+08:00",
            "paymentMethodType": "ALIPAY_CN",
        },
        indent=2,
    )
    moment = "2026-11-22T12:01:00+00:00"
    path = "/v1/notify/antom"
    content = signed_content(path, credentials.client_id, moment, body.encode())
    header = signature_header(quote_plus(rsa_sign(credentials.antom_key, content)))
    headers = {
        "content-type": "application/json; charset=UTF-8",
        "client-id": credentials.client_id,
        "request-time": moment,
        "signature": header,
    }
    raw = RawRequest("POST", body.encode(), headers, {}, datetime.now(UTC), url=NOTIFY_URL)
    start = time.perf_counter()
    for _ in range(n):
        adapter.parse_notification(raw)
    ours = (time.perf_counter() - start) / n * 1e6
    message = adapter.notification_message(raw)
    start = time.perf_counter()
    for _ in range(n):
        adapter.signature_valid(message, raw)  # type: ignore[arg-type]
    ours_verify = (time.perf_counter() - start) / n * 1e6
    case = {
        "path": path,
        "client_id": credentials.client_id,
        "time": moment,
        "body": body,
        "header": header,
        "public_key": pem_body(public_pem(credentials.antom_key)),
        "n": n,
    }
    theirs = sdk_timing("antom", case)
    return {
        "antom_notify_verify": {
            "ours_us": ours_verify,
            "sdk_us": theirs,
            "sdk_over_ours": ratio(theirs, ours_verify),
            "note": "both check the RSA256 signature header over POST <notify path>, client-id, "
            "request-time and the exact body (the SDK with the pure-Python rsa package); our whole "
            f"parse_notification, with parsing, status mapping and redaction: {ours:.1f} us",
        }
    }
