"""Alipay's forged notifications: {"request": …, "signature": "…"}, RSA over the exact text of `request`
(its recipes for tests/reliability/test_forged_notifications.py; the toolbox is
tests/reliability/forgeries.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from copy import deepcopy
from typing import Any
from urllib.parse import urlencode

from local.providers.alipay_intl.sandbox import raw_members
from local.testing import kit_of
from tests.reliability.forgeries import (
    API_GATEWAY_MAX_BODY,
    CONTENT_TYPES,
    NESTING_BOMBS,
    OTHER_KEY,
    Case,
    flip_bit,
    flip_char,
    non_utf8,
    rsa_sign,
    signature_value,
    truncated,
)
from tests.reliability.harness import Delivery, Harness

KIT = kit_of("alipay_intl")


def forgeries(harness: Harness, order_id: str, genuine: Delivery, rng: random.Random) -> list[Case]:
    sandbox = harness.sandbox
    body = genuine.body
    members = raw_members(body.decode())
    request_text, signature = members["request"], json.loads(members["signature"])
    cases: list[Case] = []

    def add(kind: str, **changes: Any) -> None:
        cases.append((kind, genuine.replace(**changes)))

    def envelope(text: str, signature_json: str) -> bytes:
        return f'{{"request": {text}, "signature": {signature_json}}}'.encode()

    def signed(text: str, key: Any = None, hash_name: str = "SHA256") -> bytes:
        return envelope(text, json.dumps(rsa_sign(key or OTHER_KEY, text, hash_name)))

    def same_envelope(flipped: bytes) -> bool:
        """A flip in base64's spare bits leaves the same request and signature: not a forgery."""
        try:
            got = raw_members(flipped.decode())
            return got["request"] == request_text and signature_value(json.loads(got["signature"])) == (
                signature_value(signature)
            )
        except (ValueError, KeyError, TypeError):
            return False

    while sum(1 for kind, _ in cases if kind == "flipped body bit") < 50:
        flipped = flip_bit(body, rng)
        if not same_envelope(flipped):
            add("flipped body bit", body=flipped)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    for _ in range(40):
        forged = flip_char(signature[:-4], rng, alphabet) + signature[-4:]
        add("flipped signature", body=envelope(request_text, json.dumps(forged)))
    for index in range(15):
        value = json.loads(request_text)
        value["head"]["reqMsgId"] = f"forged{index}"
        text = json.dumps(value, ensure_ascii=False, indent=rng.choice([None, 2, 4]))
        add("wrong key", body=signed(text, key=rng.choice([OTHER_KEY, KIT.test_credentials().merchant_key])))
    add(
        "wrong hash: SHA1withRSA", body=signed(request_text, key=sandbox.alipay_private_key, hash_name="SHA1")
    )
    compact = json.dumps(json.loads(request_text), ensure_ascii=False, separators=(",", ":"))
    add(
        "signed compact text, sent pretty",
        body=envelope(request_text, json.dumps(rsa_sign(sandbox.alipay_private_key, compact, "SHA256"))),
    )
    add("signed pretty text, sent compact", body=envelope(compact, json.dumps(signature)))
    add(
        "signature over the whole body",
        body=envelope(
            request_text, json.dumps(rsa_sign(sandbox.alipay_private_key, body.decode(), "SHA256"))
        ),
    )
    add(
        "signature over the body only",
        body=envelope(
            request_text,
            json.dumps(
                rsa_sign(sandbox.alipay_private_key, json.dumps(json.loads(request_text)["body"]), "SHA256")
            ),
        ),
    )
    digest = base64.b64encode(hashlib.sha256(request_text.encode()).digest()).decode()
    add("bare SHA256 digest as signature", body=envelope(request_text, json.dumps(digest)))
    add(
        "HMAC with the public key",
        body=envelope(
            request_text,
            json.dumps(
                base64.b64encode(hmac.new(b"public", request_text.encode(), hashlib.sha256).digest()).decode()
            ),
        ),
    )
    shapes: dict[str, bytes] = {
        "missing signature": f'{{"request": {request_text}}}'.encode(),
        "empty signature": envelope(request_text, '""'),
        "null signature": envelope(request_text, "null"),
        "numeric signature": envelope(request_text, "12345"),
        "object signature": envelope(request_text, json.dumps({"value": signature})),
        "array signature": envelope(request_text, json.dumps([signature])),
        "signature repeated": body[:-1] + f', "signature": {json.dumps(signature)}}}'.encode(),
        "request repeated": body[:-1] + f', "request": {request_text}}}'.encode(),
        "signature under another name": (
            f'{{"request": {request_text}, "Signature": {json.dumps(signature)}}}'.encode()
        ),
        "signature not base64": envelope(request_text, '"!!!not base64!!!"'),
        "signature of nothing": envelope(request_text, json.dumps(base64.b64encode(b"").decode())),
        "blank signature": envelope(request_text, '"    "'),
        "signature with an escaped, changed character": envelope(
            request_text, f'"\\u{ord(signature[0]) ^ 1:04x}{signature[1:]}"'
        ),
        "request is a string": envelope(json.dumps(request_text), json.dumps(signature)),
        "no envelope (request at top level)": request_text.encode(),
        "JSON array": f"[{request_text}, {json.dumps(signature)}]".encode(),
    }
    for label, forged in shapes.items():
        add(f"signature field: {label}", body=forged)
    for _ in range(20):
        add("truncated body", body=truncated(body, rng))
    # Padding inside the signed `request` (extra top-level members are outside what Alipay signs).
    padded = request_text[:-1] + ', "pad": "' + "x" * (API_GATEWAY_MAX_BODY - len(body) - 32) + '"}'
    add("oversized body (10 MB)", body=envelope(padded, json.dumps(signature)))
    for bomb in NESTING_BOMBS:
        add("deeply nested JSON", body=bomb)
    for _ in range(10):
        add("non-UTF-8 body", body=non_utf8(body, rng))
    for content_type in CONTENT_TYPES:
        add(
            "wrong content type, flipped body",
            headers={"Content-Type": content_type},
            body=flip_bit(body, rng),
        )
        add(
            "wrong content type, form body",
            headers={"Content-Type": content_type},
            body=urlencode({"request": request_text, "signature": signature}).encode(),
        )
    for old, new in (
        (b'"resultStatus": "S"', b'"resultStatus": "F"'),
        (b'"SUCCESS"', b'"PROCESS_FAIL"'),
        (b'"value": "1000"', b'"value": "1"'),
        (b'"value": "1000"', b'"value": "100000"'),
        (b'"currency": "EUR"', b'"currency": "USD"'),
        (order_id.encode(), order_id.encode() + b"-other"),
        (b'"clientId"', b'"clientID"'),
        (b"notify.pay", b"notify.refund"),
        (b'"version": "2.0.0"', b'"version": "1.0.0"'),
        (b'"reqMsgId"', b'"reqMsgID"'),
    ):
        assert old in body, old
        add(f"tampered {old.decode()[:24]}", body=body.replace(old, new, 1))
        text = request_text.replace(old.decode(), new.decode(), 1)
        add(f"tampered {old.decode()[:24]}, re-signed with another key", body=signed(text))
    for index in range(5):  # genuinely signed by Alipay, but for another client or another function
        other = sandbox.notification(
            order_id, "SUCCESS", head_changes={"clientId": f"21102000000000000{index}"}
        )
        cases.append(
            ("genuine signature, another client", Delivery("POST", other.url, other.headers, other.body))
        )
        wrong = sandbox.notification(
            order_id, "SUCCESS", head_changes={"function": "alipay.intl.acquiring.cashier.notify.refund"}
        )
        cases.append(
            ("genuine signature, another function", Delivery("POST", wrong.url, wrong.headers, wrong.body))
        )
    for index in range(10):  # genuinely signed by Alipay, for orders that are not ours
        ghost = f"ghost-{harness.label}-{index}"
        sandbox.orders[ghost] = {**deepcopy(sandbox.orders[order_id]), "merchantTransId": ghost}
        sent = sandbox.notification(ghost, "SUCCESS")
        cases.append(
            ("unknown order (genuine signature)", Delivery("POST", sent.url, sent.headers, sent.body))
        )
    for method in ("GET", "PUT", "DELETE"):
        add("wrong method", method=method)
    return cases
