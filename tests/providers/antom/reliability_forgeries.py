"""Antom's forged notifications: `signature: algorithm=RSA256,keyVersion=1,signature=<quote_plus(base64)>`
over `POST <path of the notify URL>\\n<client-id>.<request-time>.<body>` (its recipes for
tests/reliability/test_forged_notifications.py; the toolbox is tests/reliability/forgeries.py).

Besides the generic ones, what is particular to this wire: Antom's own key over the wrong path (the
Lambda's, another stage's, a trailing slash), the body re-serialised under a genuine signature, a `+`
left unescaped or the signature encoded twice, another client id, and a stale or re-formatted
request-time.
"""

from __future__ import annotations

import base64
import json
import random
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from local.providers.antom.sandbox import signature_header, signed_content
from local.testing import kit_of
from tests.reliability.forgeries import (
    CONTENT_TYPES,
    NESTING_BOMBS,
    OTHER_KEY,
    Case,
    flip_bit,
    flip_char,
    non_utf8,
    oversized,
    truncated,
)
from tests.reliability.harness import Delivery, Harness

KIT = kit_of("antom")
BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def raw_signature(key: rsa.RSAPrivateKey, content: bytes, algorithm: Any = None) -> str:
    """base64 of an RSA PKCS#1 v1.5 signature (SHA-256 unless told), not yet URL-encoded."""
    signed = key.sign(content, padding.PKCS1v15(), algorithm or hashes.SHA256())
    return base64.b64encode(signed).decode()


def forgeries(harness: Harness, order_id: str, genuine: Delivery, rng: random.Random) -> list[Case]:
    sandbox = harness.sandbox
    antom_key = sandbox.antom_private_key
    body = genuine.body
    headers = {name.lower(): value for name, value in genuine.headers.items()}
    path = urlsplit(genuine.url).path
    client, moment = headers["client-id"], headers["request-time"]
    value = headers["signature"].split("signature=", 1)[1]
    plain = unquote_plus(value)  # the base64 itself
    cases: list[Case] = []

    def add(kind: str, **changes: Any) -> None:
        cases.append((kind, genuine.replace(**changes)))

    def with_headers(**changed: str | None) -> dict[str, str]:
        merged: dict[str, str | None] = {**headers, **{k.replace("_", "-"): v for k, v in changed.items()}}
        return {name: text for name, text in merged.items() if text is not None}

    def signed_by(
        key: rsa.RSAPrivateKey, *, at: str = path, who: str = client, when: str = moment, raw: bytes = body
    ) -> str:
        return signature_header(quote_plus(raw_signature(key, signed_content(at, who, when, raw))))

    for _ in range(50):
        add("flipped body bit", body=flip_bit(body, rng))
    for _ in range(40):  # not the last characters: base64's spare bits and its padding
        forged = flip_char(plain[:-4], rng, BASE64) + plain[-4:]
        add("flipped signature", headers=with_headers(signature=signature_header(quote_plus(forged))))
    for index in range(15):
        key = rng.choice([OTHER_KEY, KIT.test_credentials().merchant_key])
        add(
            "wrong key", headers=with_headers(signature=signed_by(key, when=f"{moment[:-6]}+0{index % 9}:00"))
        )
    # Antom's own key, over a path that is not the notify URL's.
    stage_less = "/" + path.split("/", 2)[2] if path.count("/") > 2 else "/notify/antom"
    for label, other in (
        ("the Lambda's path (no stage)", stage_less),
        ("another stage", "/Prod" + stage_less),
        ("a trailing slash", path + "/"),
        ("the full URL", genuine.url),
        ("another provider's route", path.rsplit("/", 1)[0] + "/other"),
        ("with a query string", path + "?a=1"),
        ("upper-case path", path.upper()),
    ):
        add(f"wrong path: {label}", headers=with_headers(signature=signed_by(antom_key, at=other)))
    # The body re-serialised under the genuine signature, and the other way round.
    value_json = json.loads(body)
    for label, text in (
        ("compact", json.dumps(value_json, ensure_ascii=False, separators=(",", ":"))),
        ("sorted keys", json.dumps(value_json, ensure_ascii=False, indent=2, sort_keys=True)),
        ("ASCII escapes", json.dumps(value_json, indent=2)),
        ("four spaces", json.dumps(value_json, ensure_ascii=False, indent=4)),
        ("trailing newline", body.decode() + "\n"),
    ):
        if text.encode() != body:
            add(f"re-serialised body ({label}), genuine signature", body=text.encode())
            add(
                f"signed re-serialised ({label}), genuine body sent",
                headers=with_headers(signature=signed_by(antom_key, raw=text.encode())),
            )
    # `+` left unescaped: the signature over another moment until its base64 has a '+' in it.
    for index in range(600):
        when = (datetime.fromisoformat(moment) + timedelta(seconds=index + 1)).isoformat()
        candidate = raw_signature(antom_key, signed_content(path, client, when, body))
        if "+" in candidate:
            add(
                "'+' left unescaped in the signature",
                headers=with_headers(request_time=when, signature=signature_header(candidate)),
            )
            break
    add("signature URL-encoded twice", headers=with_headers(signature=signature_header(quote_plus(value))))
    spaced = quote(plain, safe="").replace("%2B", "%20")
    if spaced != quote(plain, safe=""):
        add("signature with %20 for '+'", headers=with_headers(signature=signature_header(spaced)))
    # Another client id: the header changed under the genuine signature, or signed for it.
    for other in ("SANDBOX_5YBC2Z2ZJ4KJ07", client.removeprefix("SANDBOX_"), client.lower(), ""):
        add("another client-id, genuine signature", headers=with_headers(client_id=other))
    # A stale, future, altered or re-formatted request-time under the genuine signature.
    stamp = datetime.fromisoformat(moment)
    times: tuple[tuple[str, str | None], ...] = (
        ("an hour earlier", (stamp - timedelta(hours=1)).isoformat()),
        ("a day earlier", (stamp - timedelta(days=1)).isoformat()),
        ("a second later", (stamp + timedelta(seconds=1)).isoformat()),
        ("as epoch milliseconds", str(int(stamp.timestamp() * 1000))),
        ("with a Z", moment.replace("+00:00", "Z")),
        ("in China time", stamp.astimezone(timezone(timedelta(hours=8))).isoformat()),
        ("missing", None),
    )
    for label, stated in times:
        if stated != moment:
            add(f"request-time {label}", headers=with_headers(request_time=stated))
    # What is signed, built wrongly (Antom's key, so only the construction is wrong).
    for label, content in (
        ("the body only", body),
        ("without the path line", f"{client}.{moment}.".encode() + body),
        ("GET instead of POST", f"GET {path}\n{client}.{moment}.".encode() + body),
        ("a space for the newline", signed_content(path, client, moment, body).replace(b"\n", b" ", 1)),
        ("colons for dots", f"POST {path}\n{client}:{moment}:".encode() + body),
    ):
        forged = quote_plus(raw_signature(antom_key, content))
        add(f"signed over {label}", headers=with_headers(signature=signature_header(forged)))
    sha1 = quote_plus(raw_signature(antom_key, signed_content(path, client, moment, body), hashes.SHA1()))
    add("wrong hash: SHA1withRSA", headers=with_headers(signature=signature_header(sha1)))
    for label, header in (
        ("missing", None),
        ("empty", ""),
        ("algorithm RSA", f"algorithm=RSA,keyVersion=1,signature={value}"),
        ("algorithm RSA2", f"algorithm=RSA2,keyVersion=1,signature={value}"),
        ("no algorithm", f"keyVersion=1,signature={value}"),
        ("keyVersion not a number", f"algorithm=RSA256,keyVersion=x,signature={value}"),
        ("signature repeated", f"algorithm=RSA256,keyVersion=1,signature={value},signature={value}"),
        ("another parameter", f"algorithm=RSA256,keyVersion=1,signature={value},extra=1"),
        ("bare signature", value),
        ("not base64", "algorithm=RSA256,keyVersion=1,signature=!!!not-base64!!!"),
        ("signature of nothing", "algorithm=RSA256,keyVersion=1,signature="),
        ("a hex digest", "algorithm=RSA256,keyVersion=1,signature=" + "ab" * 32),
    ):
        add(f"signature header: {label}", headers=with_headers(signature=header))
    for _ in range(20):
        add("truncated body", body=truncated(body, rng))
    add("oversized body (10 MB)", body=oversized(body))
    for bomb in NESTING_BOMBS:
        add("deeply nested JSON", body=bomb)
    for _ in range(10):
        add("non-UTF-8 body", body=non_utf8(body, rng))
    for content_type in CONTENT_TYPES:
        add("wrong content type", headers=with_headers(content_type=content_type))
        flipped = flip_bit(body, rng)
        add("wrong content type, flipped body", headers=with_headers(content_type=content_type), body=flipped)
    for old, new in (
        (b'"S"', b'"F"'),
        (b'"SUCCESS"', b'"FAIL"'),
        (b'"value": "1000"', b'"value": "1"'),
        (b'"value": "1000"', b'"value": "100000"'),
        (b'"currency": "EUR"', b'"currency": "USD"'),
        (order_id.encode(), order_id.encode() + b"-other"),
        (b'"PAYMENT_RESULT"', b'"REFUND_RESULT"'),
        (b'"notifyType"', b'"notifytype"'),
    ):
        assert old in body, old
        tampered = body.replace(old, new, 1)
        add(f"tampered {old.decode()[:24]}", body=tampered)
        resigned = with_headers(signature=signed_by(OTHER_KEY, raw=tampered))
        add(f"tampered {old.decode()[:24]}, re-signed with another key", body=tampered, headers=resigned)
    for index in range(5):  # genuinely signed by Antom, but for another merchant's client id
        other = f"SANDBOX_OTHERCLIENT{index:04d}"
        theirs = with_headers(client_id=other, signature=signed_by(antom_key, who=other))
        add("genuine signature, another client", headers=theirs)
    for index in range(10):  # genuinely signed by Antom, for payments that are not ours
        ghost = f"ghost-{harness.label}-{index}"
        sandbox.payments[ghost] = {**sandbox.payments[order_id], "paymentRequestId": ghost}
        sent = sandbox.payment_notification(ghost)
        cases.append(
            ("unknown order (genuine signature)", Delivery("POST", sent.url, sent.headers, sent.body))
        )
    for method in ("GET", "PUT", "DELETE"):
        add("wrong method", method=method)
    return cases
