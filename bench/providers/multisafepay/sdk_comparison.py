"""MultiSafepay's SDK against us: the Auth header's verification on a compact order body (the SDK
re-serialises JSON, so only compact bodies verify with it)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

from bench.providers import ratio, sdk_timing
from payments.http import HttpClient
from payments.providers.base import RawRequest
from payments.providers.multisafepay.adapter import MultiSafepay, MultiSafepaySettings


def compare(n: int) -> dict[str, Any]:
    key = "bench-key-0123456789"
    body = json.dumps(
        {
            "order_id": "o-1",
            "transaction_id": 1,
            "status": "completed",
            "amount": 1000,
            "currency": "EUR",
            "description": "Tea set",
            "customer": {"locale": "zh_CN"},
            "payment_details": {"type": "ALIPAY"},
            "costs": [{"amount": 0.49}],
        },
        separators=(",", ":"),
    )
    stamp = str(int(time.time()))
    auth = base64.b64encode(
        f"{stamp}:{hmac.new(key.encode(), f'{stamp}:{body}'.encode(), hashlib.sha512).hexdigest()}".encode()
    ).decode()
    adapter = MultiSafepay(MultiSafepaySettings.model_validate({"api_key": key}), HttpClient())
    raw = RawRequest("POST", body.encode(), {"auth": auth}, {}, datetime.now(UTC))
    start = time.perf_counter()
    for _ in range(n):
        adapter.parse_notification(raw)
    ours = (time.perf_counter() - start) / n * 1e6
    start = time.perf_counter()
    for _ in range(n):
        adapter.signature_valid(adapter.notification_message(raw), raw)  # type: ignore[arg-type]
    ours_verify = (time.perf_counter() - start) / n * 1e6
    theirs = sdk_timing("multisafepay", {"body": body, "auth": auth, "key": key, "n": n})
    return {
        "multisafepay_webhook_verify": {
            "ours_us": ours_verify,
            "sdk_us": theirs,
            "sdk_over_ours": ratio(theirs, ours_verify),
            "note": "both verify the Auth header (the SDK also re-parses the JSON); our whole "
            f"parse_notification, with parsing, status mapping and redaction: {ours:.1f} us",
        }
    }
