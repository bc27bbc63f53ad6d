"""Runs inside .venv-oracle-antom: µs per notification signature check with global-open-sdk-python's
webhook tool (stdin: {path, client_id, time, body, header, public_key, n})."""

import json
import sys
import time

from com.alipay.ams.api.tools.webhook_tool import check_signature

case = json.load(sys.stdin)
args = (
    "POST",
    case["path"],
    case["client_id"],
    case["time"],
    case["body"],
    case["header"],
    case["public_key"],
)
if not check_signature(*args):
    sys.exit("the SDK refused a valid signature")
start = time.perf_counter()
for _ in range(case["n"]):
    check_signature(*args)
print(json.dumps({"us_per_call": (time.perf_counter() - start) / case["n"] * 1e6}))
