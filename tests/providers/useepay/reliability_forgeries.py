"""UseePay's forged notifications: form fields, `sign` over the sorted non-blank fields (MD5 + key, or
SHA256withRSA) (its recipes for tests/reliability/test_forged_notifications.py; the toolbox is
tests/reliability/forgeries.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from typing import Any
from urllib.parse import parse_qsl, urlencode

from cryptography.hazmat.primitives.asymmetric import rsa

from local.providers.useepay.sandbox import useepay_base_string
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

KIT = kit_of("useepay")


def _sign(
    fields: dict[str, str], sign_type: str, *, md5_key: str = "", key: Any = None, hash_name: str = "SHA256"
) -> str:
    text = useepay_base_string(fields)
    if sign_type == "MD5":
        return hashlib.md5(f"{text}&pkey={md5_key}".encode()).hexdigest()
    return rsa_sign(key, text, hash_name)


def forgeries(harness: Harness, order_id: str, genuine: Delivery, rng: random.Random) -> list[Case]:
    sandbox = harness.sandbox
    sign_type = sandbox.sign_type
    body = genuine.body
    fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
    cases: list[Case] = []

    def add(kind: str, **changes: Any) -> None:
        cases.append((kind, genuine.replace(**changes)))

    def form(values: dict[str, str] | list[tuple[str, str]]) -> bytes:
        return urlencode(values).encode()

    def signed_by_guess(values: dict[str, str], index: int) -> dict[str, str]:
        if sign_type == "MD5":
            guess = rng.choice([f"guess-{index}", sandbox.md5_key[:-1], sandbox.md5_key.upper(), ""])
            return {**values, "sign": _sign(values, "MD5", md5_key=guess)}
        return {
            **values,
            "sign": _sign(values, "RSA", key=rng.choice([OTHER_KEY, sandbox_merchant_key()])),
        }

    def signed_content(form_body: bytes) -> list[tuple[str, Any]]:
        # What UseePay signs, and the signature as bytes: blank fields are outside what is signed,
        # hex is case-insensitive and base64 has spare bits, so those flips change nothing.
        pairs = parse_qsl(form_body.decode(), keep_blank_values=True)
        return [(k, signature_value(v) if k == "sign" else v) for k, v in pairs if v.strip()]

    original = signed_content(body)
    while sum(1 for kind, _ in cases if kind == "flipped body bit") < 60:
        flipped = flip_bit(body, rng)
        try:
            if signed_content(flipped) == original:
                continue  # '%2F' vs '%2f', or a blank field renamed: the same signed form, not a forgery
        except UnicodeDecodeError:
            pass
        add("flipped body bit", body=flipped)
    alphabet = (
        "0123456789abcdef"
        if sign_type == "MD5"
        else "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    )
    for _ in range(30):
        add(
            "flipped signature",
            body=form(
                # the last base64 characters hold spare bits: flipping them may change nothing
                {**fields, "sign": flip_char(fields["sign"][:-4], rng, alphabet) + fields["sign"][-4:]}
            ),
        )
    for index in range(20):
        values = {
            **fields,
            "resultCode": rng.choice(["succeed", "pending", "failed"]),
            "reserved": f"r{index}",
        }
        add("wrong key", body=form(signed_by_guess(values, index)))
    text = useepay_base_string(fields)
    md5_key = sandbox.md5_key or "unknown-key"
    wrong_hashes = {
        "sha1": hashlib.sha1(f"{text}&pkey={md5_key}".encode()).hexdigest(),
        "sha256": hashlib.sha256(f"{text}&pkey={md5_key}".encode()).hexdigest(),
        "md5 without key": hashlib.md5(text.encode()).hexdigest(),
        "md5, key first": hashlib.md5(f"pkey={md5_key}&{text}".encode()).hexdigest(),
        "md5 of the whole body": hashlib.md5(body).hexdigest(),
        "hmac-md5": hmac.new(md5_key.encode(), text.encode(), hashlib.md5).hexdigest(),
        "hmac-sha256": hmac.new(md5_key.encode(), text.encode(), hashlib.sha256).hexdigest(),
    }
    if sign_type == "RSA":
        wrong_hashes["sha1withrsa"] = rsa_sign(useepay_private_key(), text, "SHA1")
        wrong_hashes["rsa over unsorted fields"] = rsa_sign(
            useepay_private_key(),
            "&".join(f"{k}={v}" for k, v in fields.items() if k != "sign" and v),
            "SHA256",
        )
    for label, signature in wrong_hashes.items():
        add(f"wrong hash: {label}", body=form({**fields, "sign": signature}))
    unsigned = {k: v for k, v in fields.items() if k != "sign"}
    shapes: dict[str, bytes] = {
        "missing sign": form(unsigned),
        "empty sign": form({**unsigned, "sign": ""}),
        "blank sign": form({**unsigned, "sign": "   "}),
        "sign repeated (same value)": form([*fields.items(), ("sign", fields["sign"])]),
        "sign repeated (other value)": form([*fields.items(), ("sign", "0" * 32)]),
        "sign under another name": form({**unsigned, "Sign": fields["sign"]}),
        "signType switched": form({**fields, "signType": "RSA" if sign_type == "MD5" else "MD5"}),
        "signType removed": form({k: v for k, v in fields.items() if k != "signType"}),
        "signType lower case": form({**fields, "signType": sign_type.lower()}),
        "sign with a newline": form({**fields, "sign": fields["sign"] + "\n" + fields["sign"]}),
    }
    for label, forged in shapes.items():
        add(f"signature field: {label}", body=forged)
    for _ in range(20):
        add("truncated body", body=truncated(body, rng))
    add(
        "oversized body (10 MB)",
        body=form({**fields, "reserved": "x" * (API_GATEWAY_MAX_BODY - len(body) - 16)}),
    )
    for bomb in NESTING_BOMBS:
        add("deeply nested JSON", body=bomb)
    for _ in range(10):
        add("non-UTF-8 body", body=non_utf8(body, rng))
    for content_type in ["application/json", *CONTENT_TYPES]:
        add("wrong content type", headers={"Content-Type": content_type})
    add(
        "wrong content type, JSON body",
        headers={"Content-Type": "application/json"},
        body=json.dumps(fields).encode(),
    )
    for field, value in (
        ("resultCode", "failed"),
        ("resultCode", "closed"),
        ("amount", "1"),
        ("amount", "100000"),
        ("currency", "USD"),
        ("transactionId", order_id + "-other"),
        ("echoParam", order_id + "-other"),
        ("reference", "1"),
        ("transactionType", "refund"),
        ("errorCode", "9999"),
    ):
        add(f"tampered {field}", body=form({**fields, field: value}))
        add(
            f"tampered {field}, re-signed with a guess",
            body=form(signed_by_guess({**fields, field: value}, 0)),
        )
    for name in ("bonus", "riskLevel", "refundAmount"):
        add("field added after signing", body=body + f"&{name}=1".encode())
    other_merchant = {**unsigned, "merchantNo": "500000000009999"}
    add(
        "genuine signature, another merchant",
        body=form({**other_merchant, "sign": sandbox.signature(other_merchant)}),
    )
    for index in range(10):  # genuinely signed by UseePay, for transactions that are not ours
        ghost = f"ghost-{harness.label}-{index}"
        sandbox.transactions[ghost] = {**sandbox.transactions[order_id], "echoParam": ghost}
        url, headers, ghost_body = sandbox.notification(ghost)
        cases.append(("unknown order (genuine signature)", Delivery("POST", url, headers, ghost_body)))
    for method in ("GET", "PUT", "DELETE"):
        add("wrong method", method=method)
    return cases


def useepay_private_key() -> rsa.RSAPrivateKey:
    """UseePay's own key of the run's RSA credentials (it signs UseePay's notifications)."""
    key: rsa.RSAPrivateKey = KIT.test_credentials("RSA").useepay_key
    return key


def sandbox_merchant_key() -> rsa.RSAPrivateKey:
    """The merchant's key of the run's RSA credentials (it signs our requests, never UseePay's)."""
    key: rsa.RSAPrivateKey = KIT.test_credentials("RSA").merchant_key
    return key
