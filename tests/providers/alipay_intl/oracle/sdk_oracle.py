#!/usr/bin/env python
"""Independent oracle: the SHA256withRSA helpers of Alipay's `global-open-sdk-python`.

Run with the throwaway venv built from requirements.txt beside it (make: .venv-oracle-alipay_intl):
    X/bin/python tests/providers/alipay_intl/oracle/sdk_oracle.py < cases.json

stdin : {"verify": [{"body": str, "member": "request"|"response", "public_key": str}],
         "sign": [{"text": str, "private_key": str}]}
        Keys are bare base64 bodies: X.509 public, PKCS#1 private (what the SDK's PEM markers expect).
stdout: {"verify": [{"valid": bool, "hash": "SHA-256"|"SHA-1"|null}], "sign": [base64 signature]}

`verify` finds the exact text of the envelope's `member` value itself (json.JSONDecoder.raw_decode,
token by token) and checks the envelope's signature over it with the SDK's
`signature_tool.__verify_with_sha256rsa`, which calls the pure-Python `rsa` package: an RSA
implementation independent of `cryptography`. `rsa` takes the digest from the signature itself, so
SHA1withRSA signatures verify too; "hash" reports which one it was. `sign` uses the SDK's
`__sign_with_sha256rsa` (it URL-encodes its output; decoded here).
"""

import base64
import json
import sys
from urllib.parse import unquote_plus

import rsa  # type: ignore[import-not-found]  # in the oracle's own virtualenv only
from com.alipay.ams.api.tools import signature_tool

SDK_SIGN = getattr(signature_tool, "__sign_with_sha256rsa")
SDK_VERIFY = getattr(signature_tool, "__verify_with_sha256rsa")


def members(text: str) -> dict[str, str]:
    """{key: exact value text} of a top-level JSON object."""
    decoder = json.JSONDecoder()
    found: dict[str, str] = {}

    def skip(i: int) -> int:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        return i

    i = skip(0)
    assert text[i] == "{"
    i = skip(i + 1)
    while text[i] != "}":
        key, i = decoder.raw_decode(text, i)
        i = skip(i)
        assert text[i] == ":"
        start = skip(i + 1)
        _, i = decoder.raw_decode(text, start)
        found[key] = text[start:i]
        i = skip(i)
        if text[i] == ",":
            i = skip(i + 1)
    return found


def verify(case: dict[str, str]) -> dict[str, object]:
    try:
        parts = members(case["body"])
        text = parts[case["member"]]
        signature = json.loads(parts["signature"])
        valid = bool(SDK_VERIFY(case["public_key"], text, signature))
    except Exception as exc:  # the SDK raises rsa.VerificationError on a bad signature
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return {"valid": False, "hash": None}
    public = rsa.PublicKey.load_pkcs1_openssl_pem(
        ("-----BEGIN PUBLIC KEY-----\n" + case["public_key"] + "\n-----END PUBLIC KEY-----").encode()
    )
    digest = rsa.find_signature_hash(base64.b64decode(signature), public)
    return {"valid": valid, "hash": digest}


def main() -> int:
    cases = json.load(sys.stdin)
    answer = {
        "verify": [verify(case) for case in cases.get("verify", [])],
        "sign": [unquote_plus(SDK_SIGN(c["private_key"], c["text"])) for c in cases.get("sign", [])],
    }
    json.dump(answer, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
