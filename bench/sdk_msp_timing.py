"""Runs inside .venv-oracle: µs per MultiSafepay SDK Webhook.validate call (stdin: {body, auth, key, n})."""

import json
import sys
import time

from multisafepay.util.webhook import Webhook

case = json.load(sys.stdin)
assert Webhook.validate(case["body"], case["auth"], case["key"])
start = time.perf_counter()
for _ in range(case["n"]):
    Webhook.validate(case["body"], case["auth"], case["key"])
print(json.dumps({"us_per_call": (time.perf_counter() - start) / case["n"] * 1e6}))
