#!/usr/bin/env python
"""Independent oracle: Antom's official Python SDK, `global-open-sdk-python` (its signature and
webhook tools, and its notification models).

Run with the throwaway venv built from requirements.txt beside it (make: .venv-oracle-antom):
    X/bin/python tests/providers/antom/oracle/sdk_oracle.py < cases.json

stdin : {"sign":   [{"path", "client_id", "time", "body", "private_key"}],
         "check":  [{"path", "client_id", "time", "body", "header", "public_key"}],
         "notify": [{"kind": "payment"|"refund", "body"}]}
        Keys are bare base64 bodies (what the SDK's PEM markers expect).
stdout: {"sign": [the SDK's `signature=` value, URL-encoded as it sends it],
         "check": [{"valid": bool, "error": str|null}],
         "notify": [the fields the SDK's model read]}

`sign` is `signature_tool.sign("POST", …)`, as `DefaultAlipayClient` signs a request; `check` is
`webhook_tool.check_signature("POST", …)`, which raises on a bad signature (rsa's VerificationError)
or a header without `signature=` (AlipayApiException): both are reported as not valid, with the
exception's name. The SDK cannot talk to a loopback server (it always connects to port 443), so only
these functions are used, never its HTTP client.
"""

import json
import sys
from typing import Any

from com.alipay.ams.api.request.notify.alipay_pay_result_notify import AlipayPayResultNotify
from com.alipay.ams.api.request.notify.alipay_refund_notify import AlipayRefundNotify
from com.alipay.ams.api.tools.signature_tool import sign
from com.alipay.ams.api.tools.webhook_tool import check_signature


def signed(case: dict[str, Any]) -> str:
    return str(sign("POST", case["path"], case["client_id"], case["time"], case["body"], case["private_key"]))


def checked(case: dict[str, Any]) -> dict[str, Any]:
    try:
        valid = check_signature(
            "POST",
            case["path"],
            case["client_id"],
            case["time"],
            case["body"],
            case["header"],
            case["public_key"],
        )
    except Exception as exc:  # rsa.pkcs1.VerificationError, AlipayApiException, binascii.Error
        return {"valid": False, "error": type(exc).__name__}
    return {"valid": bool(valid), "error": None}


def amount(value: Any) -> dict[str, Any] | None:
    """An Amount model or the raw dict the model kept, as {currency, value}."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {"currency": value.get("currency"), "value": value.get("value")}
    if isinstance(value.currency, dict):
        # SDK 1.7.1's AlipayRefundNotify builds Amount(notify["refundAmount"]): the whole object lands
        # in `currency` (reported as such by the test: tests/providers/antom/test_sdk_oracle.py).
        return {"sdk_quirk": "amount_in_currency", **(amount(value.currency) or {})}
    return {"currency": value.currency, "value": value.value}


def read(case: dict[str, Any]) -> dict[str, Any]:
    if case["kind"] == "payment":
        note = AlipayPayResultNotify(case["body"])
        return {
            "notify_type": note.notify_type,
            "result_status": note.result.result_status.value if note.result else None,  # an enum
            "result_code": note.result.result_code if note.result else None,
            "payment_request_id": note.payment_request_id,
            "payment_id": note.payment_id,
            "payment_amount": amount(note.payment_amount),
        }
    note = AlipayRefundNotify(case["body"])
    return {
        "notify_type": note.notify_type,
        "refund_status": note.refund_status,
        "refund_request_id": note.refund_request_id,
        "refund_id": note.refund_id,
        "refund_amount": amount(note.refund_amount),
    }


def main() -> int:
    cases = json.load(sys.stdin)
    answer = {
        "sign": [signed(case) for case in cases.get("sign", [])],
        "check": [checked(case) for case in cases.get("check", [])],
        "notify": [read(case) for case in cases.get("notify", [])],
    }
    json.dump(answer, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
