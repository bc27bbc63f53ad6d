"""Runs inside .venv-oracle-alipay_intl: µs per SHA256withRSA verification with global-open-sdk-python's
signature tool (stdin: {message, signature, public_key, n})."""

import json
import sys
import time

from com.alipay.ams.api.tools.signature_tool import verify

case = json.load(sys.stdin)
args = (
    "POST",
    "/ams/api/v1/payments/pay",
    "client",
    "2026-11-22T00:00:00Z",
    case["message"],
    case["signature"],
    case["public_key"],
)
if not verify(*args):
    sys.exit("the SDK refused a valid signature")
start = time.perf_counter()
for _ in range(case["n"]):
    verify(*args)
print(json.dumps({"us_per_call": (time.perf_counter() - start) / case["n"] * 1e6}))
