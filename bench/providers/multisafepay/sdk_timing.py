"""Runs inside .venv-oracle-multisafepay: µs per MultiSafepay SDK Webhook.validate call
(stdin: {body, auth, key, n})."""

import json
import sys
import time

from multisafepay.util.webhook import Webhook  # type: ignore[import-not-found]

case = json.load(sys.stdin)
if not Webhook.validate(case["body"], case["auth"], case["key"]):
    sys.exit("the SDK refused a valid signature")
start = time.perf_counter()
for _ in range(case["n"]):
    Webhook.validate(case["body"], case["auth"], case["key"])
print(json.dumps({"us_per_call": (time.perf_counter() - start) / case["n"] * 1e6}))
