"""Redaction of provider payloads before they are stored in the audit trail or logged.

Payment facts (ids, statuses, amounts) stay readable; personal data is masked; secrets are dropped.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl

# Keys whose values identify a person. Matched case-insensitively, anywhere in the payload.
PERSONAL_KEYS = frozenset(
    {
        "first_name",
        "last_name",
        "name",
        "email",
        "phone",
        "phone1",
        "phone2",
        "phoneno",
        "ip_address",
        "forwarded_ip",
        "ip",
        "clientip",
        "address1",
        "address2",
        "house_number",
        "zip_code",
        "city",
        "state",
        "user_agent",
        "referrer",
        "account_holder_name",
        "account_id",
        "account_iban",
        "birthday",
        "userid",
        "buyerid",
        "card_number",
        "cardno",
    }
)
SECRET_KEYS = frozenset({"api_key", "apikey", "pkey", "md5_key", "private_key", "sign", "signature"})
MAX_STORED_TEXT = 4096
MAX_DEPTH = 8


def mask(value: Any) -> str:
    """Keep just enough to recognise a value in support conversations: its length and ends."""
    text = str(value)
    if len(text) <= 4:
        return "***"
    return f"{text[0]}***{text[-1]}({len(text)})"


def redact(value: Any, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        return "<nested too deep>"
    if isinstance(value, dict):
        redacted: dict[str, Any] = {}
        for key, item in value.items():
            lowered = key.lower() if type(key) is str else str(key).lower()
            if lowered in SECRET_KEYS:
                redacted[key] = "<redacted>"
            elif lowered in PERSONAL_KEYS and item not in (None, ""):
                redacted[key] = mask(item)
            elif item is None or type(item) in _KEPT_AS_IS:  # most leaves: no call for them
                redacted[key] = item
            else:
                redacted[key] = redact(item, depth + 1)
        return redacted
    if isinstance(value, list):
        return [redact(item, depth + 1) for item in value[:50]]
    if isinstance(value, str) and len(value) > 512:
        return value[:512] + "…"
    return value


_KEPT_AS_IS = frozenset({int, float, bool})  # a str may be cut (above), a container walked


def summarize_raw_body(body: bytes, content_type: str | None) -> dict[str, Any]:
    """A storable, redacted account of a body we may not have verified or even parsed."""
    summary: dict[str, Any] = {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    if not body or len(body) > 256 * 1024:
        return summary
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        summary["note"] = "not UTF-8"
        return summary
    parsed: Any = None
    try:
        parsed = json.loads(text)
    except RecursionError:  # a nesting bomb: nothing worth storing, and no reason to fail over it
        summary["note"] = "nested too deep"
        return summary
    except ValueError:
        if content_type and "x-www-form-urlencoded" in content_type.lower():
            parsed = dict(parse_qsl(text, keep_blank_values=True))
    if isinstance(parsed, dict | list):
        content = json.dumps(redact(parsed), ensure_ascii=False)
        summary["content"] = content if len(content) <= MAX_STORED_TEXT else content[:MAX_STORED_TEXT] + "…"
    else:
        summary["note"] = "unparsed body not stored"
    return summary
