"""`make replay FILE=<captured request>`: send a captured provider notification to the local stack (or
API_URL) as the provider would, and print the doctor's verdict: accepted, or refused with its code and
explanation (read back from GET /notifications/rejected).

The file is JSON: {"method": "POST", "path": "/notify/<provider>", "headers": {…}, "body": "<exact body
text>", "query": {"name": ["value"]}} (query optional; the body as text, exactly as it arrived).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests

DEFAULT_API_URL = "http://127.0.0.1:3000"


def verdict(
    api_url: str, api_key: str, captured: dict[str, Any], session: requests.Session
) -> tuple[int, str]:
    """(exit status, what to print) for one captured request sent to `api_url`."""
    path = str(captured["path"])
    query = captured.get("query") or {}
    url = api_url.rstrip("/") + path + (("?" + urlencode(query, doseq=True)) if query else "")
    body = str(captured.get("body") or "").encode("utf-8")
    headers = {str(name): str(value) for name, value in (captured.get("headers") or {}).items()}
    sent = session.request(str(captured.get("method") or "POST"), url, data=body, headers=headers, timeout=30)
    if sent.status_code < 400:
        return 0, f"accepted: HTTP {sent.status_code} (applied, or nothing new to apply)"
    provider = path.rstrip("/").rsplit("/", 1)[-1]
    listed = session.get(
        api_url.rstrip("/") + "/notifications/rejected",
        params={"provider": provider, "limit": "1"},
        headers={"x-api-key": api_key},
        timeout=30,
    )
    if listed.status_code != 200 or not listed.json().get("rejected"):
        return 1, f"refused: HTTP {sent.status_code}; no refusal listed (HTTP {listed.status_code})"
    newest = listed.json()["rejected"][0]
    return (
        1,
        f"refused: HTTP {sent.status_code}, {newest['code']}: {newest['explanation']} (id {newest['id']})",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--api-url", default=os.environ.get("API_URL") or DEFAULT_API_URL)
    parser.add_argument(
        "--api-key", default=os.environ.get("API_KEY") or os.environ.get("LOCAL_API_KEY") or ""
    )
    args = parser.parse_args(argv)
    captured = json.loads(args.file.read_text())
    status, text = verdict(args.api_url, args.api_key, captured, requests.Session())
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
