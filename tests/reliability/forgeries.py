"""Generated forgeries of each provider's notification, from one genuine delivery.

Deterministic (a seeded Random per provider). Every case is something no provider sends and no one
but the provider could sign: flipped bits, wrong keys and hash algorithms, broken or repeated
signature fields, stale and future timestamps, truncated, oversized and non-UTF-8 bodies, wrong
content types, genuine statements about orders that are not ours or not for us, wrong methods.
Signing here uses the sandboxes' own code or hashlib/cryptography directly, never the adapters'.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
import time
from collections.abc import Callable
from copy import deepcopy
from typing import Any
from urllib.parse import parse_qsl, urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from local.providers.alipay_intl.sandbox import raw_members
from local.providers.useepay.sandbox import useepay_base_string
from tests.reliability.harness import Delivery, Harness

Case = tuple[str, Delivery]  # (kind, what is sent)
API_GATEWAY_MAX_BODY = 10 * 1024 * 1024
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CONTENT_TYPES = ["text/plain", "application/xml", "multipart/form-data; boundary=x", "", "application/octet"]


def rsa_sign(key: rsa.RSAPrivateKey, text: str, hash_name: str = "SHA256") -> str:
    """base64 PKCS#1 v1.5 signature, with `cryptography` directly."""
    algorithm = hashes.SHA256() if hash_name == "SHA256" else hashes.SHA1()
    return base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), algorithm)).decode()


def signature_value(text: Any) -> Any:
    """What a signature says, however it is spelled: hex in lower case, base64 as bytes."""
    if not isinstance(text, str):
        return text
    if re.fullmatch(r"[0-9a-fA-F]{32}", text):
        return text.lower()
    try:
        return base64.b64decode(text.replace(" ", "+"), validate=True)
    except ValueError:
        return text


def flip_bit(data: bytes, rng: random.Random) -> bytes:
    position = rng.randrange(len(data))
    flipped = bytearray(data)
    flipped[position] ^= 1 << rng.randrange(8)
    return bytes(flipped)


def flip_char(text: str, rng: random.Random, alphabet: str) -> str:
    position = rng.randrange(len(text))
    choices = [char for char in alphabet if char != text[position]]
    return text[:position] + rng.choice(choices) + text[position + 1 :]


def non_utf8(data: bytes, rng: random.Random) -> bytes:
    position = rng.randrange(len(data))
    return (
        data[:position]
        + rng.choice([b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80"])
        + data[position:]
    )


NESTING_BOMBS = [b"[" * 100_000, b'{"a":' * 5_000 + b"1" + b"}" * 5_000, b'{"request":' + b"[" * 50_000]


def truncated(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def oversized(data: bytes) -> bytes:
    """A JSON-ish body of API Gateway's 10 MB limit: the genuine one with padding inside it."""
    pad = API_GATEWAY_MAX_BODY - len(data) - 16
    return data[:-1] + b',"pad":"' + b"x" * pad + b'"' + data[-1:]


# -- MultiSafepay: Auth = base64("<ts>:<hex HMAC-SHA512(api_key, ts + ':' + body)>") --------------------
def _msp_auth(body: bytes, *, key: str, stamp: str | None = None, digest: Any = hashlib.sha512) -> str:
    stamp = stamp if stamp is not None else str(int(time.time()))
    signature = hmac.new(key.encode(), stamp.encode() + b":" + body, digest).hexdigest()
    return base64.b64encode(f"{stamp}:{signature}".encode()).decode()


def multisafepay_cases(harness: Harness, order_id: str, genuine: Delivery, rng: random.Random) -> list[Case]:
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
        add("wrong key", headers=with_auth(_msp_auth(body, key=guess)))
    for name in ("sha256", "sha1", "md5", "sha384", "sha3_512", "blake2b", "sha224"):
        add("wrong hash", headers=with_auth(_msp_auth(body, key=key, digest=getattr(hashlib, name))))
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
        add("stale timestamp", headers=with_auth(_msp_auth(body, key=key, stamp=str(now - age))))
    for ahead in (1800, 86400, 10**9):
        add("future timestamp", headers=with_auth(_msp_auth(body, key=key, stamp=str(now + ahead))))
    for digits in (30, 400, 5000):  # absurd timestamps must not crash the clock arithmetic
        add("huge timestamp", headers=with_auth(_msp_auth(body, key=key, stamp="9" * digits)))
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
            headers={**with_auth(_msp_auth(form, key="x")), "Content-Type": content_type},
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
            headers=with_auth(_msp_auth(tampered, key="guess")),
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


# -- UseePay: form fields, `sign` over the sorted non-blank fields (MD5 + key, or SHA256withRSA) ----------
def _useepay_sign(
    fields: dict[str, str], sign_type: str, *, md5_key: str = "", key: Any = None, hash_name: str = "SHA256"
) -> str:
    text = useepay_base_string(fields)
    if sign_type == "MD5":
        return hashlib.md5(f"{text}&pkey={md5_key}".encode()).hexdigest()
    return rsa_sign(key, text, hash_name)


def useepay_cases(harness: Harness, order_id: str, genuine: Delivery, rng: random.Random) -> list[Case]:
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
            return {**values, "sign": _useepay_sign(values, "MD5", md5_key=guess)}
        return {
            **values,
            "sign": _useepay_sign(values, "RSA", key=rng.choice([OTHER_KEY, sandbox_merchant_key()])),
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
    from tests.providers.useepay.fixtures import USEEPAY_KEY

    return USEEPAY_KEY


def sandbox_merchant_key() -> rsa.RSAPrivateKey:
    from tests.providers.useepay.fixtures import MERCHANT_KEY

    return MERCHANT_KEY


# -- Alipay: {"request": …, "signature": "…"}, RSA over the exact text of `request` ---------------------
def alipay_cases(harness: Harness, order_id: str, genuine: Delivery, rng: random.Random) -> list[Case]:
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
    from tests.providers.alipay_intl.fixtures import MERCHANT_KEY

    for index in range(15):
        value = json.loads(request_text)
        value["head"]["reqMsgId"] = f"forged{index}"
        text = json.dumps(value, ensure_ascii=False, indent=rng.choice([None, 2, 4]))
        add("wrong key", body=signed(text, key=rng.choice([OTHER_KEY, MERCHANT_KEY])))
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


FORGERS: dict[str, Callable[[Harness, str, Delivery, random.Random], list[Case]]] = {
    "multisafepay": multisafepay_cases,
    "useepay": useepay_cases,
    "alipay_intl": alipay_cases,
}
