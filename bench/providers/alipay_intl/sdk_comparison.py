"""Alipay's SDK (global-open-sdk-python) against us: SHA256withRSA verification of the same bytes
with the same 2048-bit key."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import quote_plus

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bench.providers import ratio, sdk_timing
from payments.signing import load_public_key, rsa_verify


def compare(n: int) -> dict[str, Any]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_body = "".join(
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
        .splitlines()[1:-1]
    )
    message = json.dumps(
        {"head": {"function": "x"}, "body": {"orderAmount": {"currency": "EUR", "value": "1000"}}}
    )
    content = f"POST /ams/api/v1/payments/pay\nclient.2026-11-22T00:00:00Z.{message}".encode()
    signature = base64.b64encode(private.sign(content, padding.PKCS1v15(), hashes.SHA256())).decode()
    public = load_public_key(public_body)
    start = time.perf_counter()
    for _ in range(n):
        if not rsa_verify(public, content, signature):
            raise RuntimeError("our RSA verification refused a valid signature")
    ours = (time.perf_counter() - start) / n * 1e6
    theirs = sdk_timing(
        "alipay_intl",
        {"message": message, "signature": quote_plus(signature), "public_key": public_body, "n": n},
    )
    return {
        "rsa_sha256_verify": {
            "ours_us": ours,
            "sdk_us": theirs,
            "sdk_over_ours": ratio(theirs, ours),
            "note": "global-open-sdk-python verifies with the pure-Python rsa package; "
            "the signature is URL-encoded for it, as AMS sends it",
        }
    }
