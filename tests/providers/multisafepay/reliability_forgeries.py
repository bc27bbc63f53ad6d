"""MultiSafepay's forged notifications: Auth = base64("<ts>:<hex HMAC-SHA512(api_key, ts + ':' + body)>")
(its recipes for tests/reliability/test_forged_notifications.py; the toolbox is
tests/reliability/forgeries.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import time
from copy import deepcopy
from typing import Any
from urllib.parse import urlencode

from tests.reliability.forgeries import (
    CONTENT_TYPES,
    NESTING_BOMBS,
    Case,
    flip_bit,
    flip_char,
    non_utf8,
    oversized,
    truncated,
)
from tests.reliability.harness import Delivery, Harness


def _auth(body: bytes, *, key: str, stamp: str | None = None, digest: Any = hashlib.sha512) -> str:
    stamp = stamp if stamp is not None else str(int(time.time()))
    signature = hmac.new(key.encode(), stamp.encode() + b":" + body, digest).hexdigest()
    return base64.b64encode(f"{stamp}:{signature}".encode()).decode()


def forgeries(harness: Harness, order_id: str, genuine: Delivery, rng: random.Random) -> list[Case]:
    key = harness.sandbox.api_key
    body = genuine.body
    now = int(time.time())
    cases: list[Case] = []

    def add(kind: str, **changes: Any) -> None:
        cases.append((kind, genuine.replace(**changes)))

    def with_auth(value: str | None, **changes: Any) -> dict[str, str]:
        headers = {k: v for k, v in genuine.headers.items() if k.lower() != "auth"}
        if value is not None:
            headers["Auth"] = value
        return headers

    for _ in range(50):
        add("flipped body bit", body=flip_bit(body, rng))
    stamp, _, signature = base64.b64decode(genuine.headers["Auth"]).decode().partition(":")
    for _ in range(25):
        forged = flip_char(signature, rng, "0123456789abcdef")
        add("flipped signature", headers=with_auth(base64.b64encode(f"{stamp}:{forged}".encode()).decode()))
    for _ in range(5):
        forged_stamp = flip_char(stamp, rng, "0123456789")
        add(
            "signature moved to another timestamp",
            headers=with_auth(base64.b64encode(f"{forged_stamp}:{signature}".encode()).decode()),
        )
    for index in range(20):
        guess = rng.choice([f"guess-{index}", key[:-1], key + "x", key.upper(), "", key[::-1]])
        add("wrong key", headers=with_auth(_auth(body, key=guess)))
    for name in ("sha256", "sha1", "md5", "sha384", "sha3_512", "blake2b", "sha224"):
        add("wrong hash", headers=with_auth(_auth(body, key=key, digest=getattr(hashlib, name))))
    unkeyed = hashlib.sha512(f"{now}:".encode() + body).hexdigest()
    no_stamp = hmac.new(key.encode(), body, hashlib.sha512).hexdigest()
    no_colon = hmac.new(key.encode(), str(now).encode() + body, hashlib.sha512).hexdigest()
    for label, digest in (
        ("unkeyed sha512", unkeyed),
        ("hmac without timestamp", no_stamp),
        ("no colon", no_colon),
    ):
        add(
            f"wrong construction: {label}",
            headers=with_auth(base64.b64encode(f"{now}:{digest}".encode()).decode()),
        )
    genuine_auth = genuine.headers["Auth"]
    shapes = {
        "missing Auth": None,
        "empty Auth": "",
        "blank Auth": "   ",
        "timestamp only": base64.b64encode(f"{now}".encode()).decode(),
        "timestamp and colon": base64.b64encode(f"{now}:".encode()).decode(),
        "signature only": base64.b64encode(f":{signature}".encode()).decode(),
        "not base64": "@@not-base64@@",
        "base64 of non-ASCII": base64.b64encode("时间:签名".encode()).decode(),
        "two Auth values joined": f"{genuine_auth}, {genuine_auth}",
        "extra segment": base64.b64encode(f"{stamp}:{signature}:{signature}".encode()).decode(),
        "negative timestamp": base64.b64encode(f"-{stamp}:{signature}".encode()).decode(),
        "signed timestamp": base64.b64encode(f"+{stamp}:{signature}".encode()).decode(),
        "fractional timestamp": base64.b64encode(f"{stamp}.5:{signature}".encode()).decode(),
        "unpadded base64": genuine_auth.rstrip("="),
        "base64url": base64.urlsafe_b64encode(b"\xfb\xff" + genuine_auth.encode()).decode(),
        "raw (not base64) value": f"{stamp}:{signature}",
        "signature in Authorization instead": None,
    }
    for label, value in shapes.items():
        headers = with_auth(value)
        if label == "signature in Authorization instead":
            headers["Authorization"] = genuine_auth
        add(f"signature field: {label}", headers=headers)
    for age in (1800, 3600, 86400, 10**7, now):  # far outside the window, however long the run
        add("stale timestamp", headers=with_auth(_auth(body, key=key, stamp=str(now - age))))
    for ahead in (1800, 86400, 10**9):
        add("future timestamp", headers=with_auth(_auth(body, key=key, stamp=str(now + ahead))))
    for digits in (30, 400, 5000):  # absurd timestamps must not crash the clock arithmetic
        add("huge timestamp", headers=with_auth(_auth(body, key=key, stamp="9" * digits)))
    for _ in range(20):
        add("truncated body", body=truncated(body, rng))
    add("oversized body (10 MB)", body=oversized(body))
    for bomb in NESTING_BOMBS:
        add("deeply nested JSON", body=bomb)
    for _ in range(10):
        add("non-UTF-8 body", body=non_utf8(body, rng))
    form = urlencode(json.loads(body)).encode()
    for content_type in CONTENT_TYPES:
        add(
            "wrong content type, unsigned body",
            headers={**with_auth(_auth(form, key="x")), "Content-Type": content_type},
            body=form,
        )
        add(
            "wrong content type, flipped body",
            headers={**genuine.headers, "Content-Type": content_type},
            body=flip_bit(body, rng),
        )
    data = json.loads(body)
    for field, changed in (
        ("status", "refunded"),
        ("status", "chargeback"),
        ("amount", 1),
        ("amount", data["amount"] * 100),
        ("currency", "USD"),
        ("order_id", order_id + "-other"),
        ("transaction_id", 1),
    ):
        tampered = json.dumps({**data, field: changed}, separators=(",", ":")).encode()
        add(f"tampered {field}", body=tampered)
        add(
            f"tampered {field}, re-signed with a guess",
            body=tampered,
            headers=with_auth(_auth(tampered, key="guess")),
        )
    for index in range(10):  # genuinely signed by MultiSafepay, for orders that are not ours
        ghost = f"ghost-{harness.label}-{index}"
        harness.sandbox.orders[ghost] = {**deepcopy(harness.sandbox.orders[order_id]), "order_id": ghost}
        url, headers, ghost_body = harness.sandbox.notification(ghost)
        cases.append(("unknown order (genuine signature)", Delivery("POST", url, headers, ghost_body)))
    other_query = genuine.url.replace(f"transactionid={order_id}", f"transactionid={order_id}-other")
    add("transactionid contradicts the body", url=other_query)
    add("transactionid repeated", url=genuine.url + f"&transactionid={order_id}")
    for method in ("PUT", "DELETE", "PATCH"):
        add("wrong method", method=method)
    return cases
