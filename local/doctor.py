"""`make doctor`: each configured provider's settings checked, and checked against the provider, as a
short report: one line per check, the failures first, each with its fix; exit status 1 on a failure.

    make doctor                          the local stack (API_URL, API_KEY: what `make dev` prints)
    make doctor PROVIDERS_FILE=real.json a credentials file, checked from here (no stack needed)
    make doctor STACK=<name>             a deployed stack: its ApiUrl and API key from its outputs
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from local.deployed import stack_outputs

DEFAULT_API_URL = "http://127.0.0.1:3000"
ORDER = {"fail": 0, "warn": 1, "ok": 2}
MARK = {"fail": "[FAIL]", "warn": "[warn]", "ok": "[ok]"}
# The outputs of template.yaml a deployed stack is found through (tests/integration/test_make_doctor.py).
API_URL_OUTPUT = "ApiUrl"
API_KEY_OUTPUT = "ApiKeyId"


def render(providers: dict[str, list[dict[str, str]]]) -> tuple[int, str]:
    """(exit status, the report): failures first, then warnings, then what is fine."""
    lines = []
    rows = [(ORDER.get(c["status"], 0), name, c) for name, checks in providers.items() for c in checks]
    for _, name, check in sorted(rows, key=lambda row: (row[0], row[1])):
        line = f"{MARK.get(check['status'], '[?]'):<6} {name:<13} {check['check']:<17} {check['message']}"
        if check.get("fix"):
            line += f"\n{'':39}fix: {check['fix']}"
        lines.append(line)
    failed = any(check["status"] == "fail" for _, _, check in rows)
    if not rows:
        return 1, "no provider is configured"
    summary = "some checks failed" if failed else "no check failed"
    return (1 if failed else 0), "\n".join([*lines, summary])


def from_api(api_url: str, api_key: str) -> dict[str, list[dict[str, str]]]:
    reply = requests.get(api_url.rstrip("/") + "/diagnostics", headers={"x-api-key": api_key}, timeout=60)
    if reply.status_code != 200:
        raise SystemExit(f"GET /diagnostics answered HTTP {reply.status_code}: {reply.text[:300]}")
    providers: dict[str, list[dict[str, str]]] = reply.json()["providers"]
    return providers


def from_file(path: Path, notify_base_url: str) -> dict[str, list[dict[str, str]]]:
    from payments.doctor import report
    from payments.http import default_http

    entries: dict[str, Any] = json.loads(path.read_text())
    return report(entries, http=default_http(), notify_base_url=notify_base_url, now=datetime.now(UTC))


def stack_api(name: str) -> tuple[str, str]:
    """(the API's URL, the API key's value) of a deployed stack, from its outputs."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    outputs = stack_outputs(name, (API_URL_OUTPUT, API_KEY_OUTPUT))
    try:
        key = boto3.client("apigateway").get_api_key(apiKey=outputs[API_KEY_OUTPUT], includeValue=True)
    except (ClientError, BotoCoreError) as error:
        raise SystemExit(f"stack {name}: {error}") from None
    return outputs[API_URL_OUTPUT], str(key["value"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--providers-file", type=Path, default=os.environ.get("PROVIDERS_FILE") or None)
    parser.add_argument("--stack", default=os.environ.get("STACK") or None)
    parser.add_argument("--api-url", default=os.environ.get("API_URL") or DEFAULT_API_URL)
    parser.add_argument(
        "--api-key", default=os.environ.get("API_KEY") or os.environ.get("LOCAL_API_KEY") or ""
    )
    parser.add_argument(
        "--notify-base-url",
        default=os.environ.get("PUBLIC_BASE_URL") or DEFAULT_API_URL,
        help="with --providers-file: the base URL providers are given",
    )
    args = parser.parse_args(argv)
    if args.providers_file:
        providers = from_file(args.providers_file, args.notify_base_url)
    elif args.stack:
        providers = from_api(*stack_api(args.stack))
    else:
        providers = from_api(args.api_url, args.api_key)
    status, text = render(providers)
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
