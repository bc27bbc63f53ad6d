#!/usr/bin/env python
"""Independent oracle: MultiSafepay's official Python SDK verdict on webhook signatures.

Run with the throwaway venv built from requirements.txt beside it (make: .venv-oracle-multisafepay):
    X/bin/python tests/providers/multisafepay/oracle/sdk_oracle.py < cases.json

stdin : JSON list of cases {"body": str, "auth": str, "api_key": str,
        optional "validation_time_in_seconds": int (SDK default 600; 0 disables the age check)}
stdout: JSON list of booleans, one per case, = multisafepay.util.webhook.Webhook.validate(...).
        If the SDK raises (invalid JSON body, malformed Auth header, ...) the verdict is false
        and the exception is reported on stderr.

SDK behaviour (multisafepay 3.1.0): the body must be a str; it is json.loads()-ed and
re-serialised with json.dumps(separators=(",", ":"), ensure_ascii=False) BEFORE hashing, so
it checks the HMAC over the re-serialised compact form, not over the raw bytes. Only stale
timestamps are rejected (int(ts) + window < time.time()); future timestamps pass. api_key is
.strip()-ed; the hex digest is compared with == (case-sensitive).
"""

import json
import sys

from multisafepay.util.webhook import Webhook  # type: ignore[import-not-found]  # the oracle's virtualenv


def main() -> int:
    cases = json.load(sys.stdin)
    verdicts = []
    for i, case in enumerate(cases):
        kwargs = {}
        if "validation_time_in_seconds" in case:
            kwargs["validation_time_in_seconds"] = case["validation_time_in_seconds"]
        try:
            ok = Webhook.validate(case["body"], case["auth"], case["api_key"], **kwargs)
        except Exception as exc:  # SDK raises on malformed input; the oracle's verdict is "reject"
            print(f"case {i}: {type(exc).__name__}: {exc}", file=sys.stderr)
            ok = False
        verdicts.append(bool(ok))
    json.dump(verdicts, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
