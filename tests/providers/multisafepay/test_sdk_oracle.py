"""The official `multisafepay` SDK's Webhook.validate and our verifier must agree on compact bodies.

The SDK needs pydantic 1, so it runs in its own virtualenv (`make test` builds it from
oracle/requirements.txt) as a subprocess: oracle/sdk_oracle.py. It re-serialises JSON before hashing,
hence compact bodies only; it also accepts any future timestamp, which we refuse beyond 60 s, so those
cases are compared within our window.
"""

from __future__ import annotations

import base64
import json
import random
import time
from datetime import UTC, datetime
from typing import Any

from payments.errors import NotificationRejected
from payments.http import HttpClient
from payments.providers.base import RawRequest
from payments.providers.multisafepay.adapter import MultiSafepay, MultiSafepaySettings
from payments.signing import hmac_sha512_hex
from tests.support.oracle_venvs import run_oracle


def sdk_verdicts(cases: list[dict[str, Any]]) -> list[bool]:
    result_json = run_oracle("multisafepay", cases)
    verdicts: list[bool] = result_json
    assert len(verdicts) == len(cases)
    return verdicts


def our_verdict(case: dict[str, Any], now: float) -> bool:
    settings = MultiSafepaySettings.model_validate({"api_key": case["api_key"]})
    raw = RawRequest(
        "POST", case["body"].encode(), {"auth": case["auth"]}, {}, datetime.fromtimestamp(now, UTC)
    )
    try:
        MultiSafepay(settings, HttpClient()).parse_notification(raw)
    except NotificationRejected:
        return False
    return True


def random_order(rng: random.Random) -> dict[str, Any]:
    words = ["completed", "initialized", "declined", "void", "expired", "chargedback", "refunded"]
    return {
        "order_id": f"o-{rng.randrange(10**9)}",
        "transaction_id": rng.randrange(10**10),
        "status": rng.choice(words),
        "amount": rng.randrange(1, 10**7),
        "currency": rng.choice(["EUR", "USD"]),
        "description": rng.choice(["Tea set", "茶具 — set", 'quote " and \\ slash', "emoji 🍵"]),
        "customer": {"locale": "zh_CN", "first_name": rng.choice(["Mei", "Zoë"])},
        "payment_details": {"type": "ALIPAY", "account_id": None},
        "costs": [{"amount": 0.49, "type": "SYSTEM"}],
    }


def test_sdk_and_we_agree_on_compact_bodies() -> None:
    rng = random.Random(20261122)
    now = time.time()
    key = "sdk-oracle-key-42"
    cases: list[dict[str, Any]] = []
    for _ in range(40):
        body = json.dumps(random_order(rng), separators=(",", ":"), ensure_ascii=False)
        stamp = str(int(now) - rng.choice([0, 5, 300, 590, 700, 3600]))
        digest = hmac_sha512_hex(key.encode(), f"{stamp}:{body}".encode())
        mutation = rng.choice(["none", "none", "wrong_key", "tamper", "digest"])
        if mutation == "wrong_key":
            digest = hmac_sha512_hex(b"another-key", f"{stamp}:{body}".encode())
        elif mutation == "tamper":
            body = body.replace('"amount":', '"amount":1', 1)
        elif mutation == "digest":
            digest = digest[:-1] + ("0" if digest[-1] != "0" else "1")
        auth = base64.b64encode(f"{stamp}:{digest}".encode()).decode()
        cases.append({"body": body, "auth": auth, "api_key": key})
    sdk = sdk_verdicts(cases)
    ours = [our_verdict(case, now) for case in cases]
    assert ours == sdk
    # The generated set exercises both answers, or agreement would prove little.
    assert 5 < sum(ours) < len(ours) - 5
