"""Secrets Manager values, cached per process: what Powertools Parameters' `get_secret(max_age=…)`
does, with a botocore client (payments/aws_clients.py). Powertools Parameters imports boto3 (~30 ms
of every cold start that reads a secret), and it is the only thing this layer used boto3 for.

Semantics kept from Powertools: a value is fetched at its first use, then served from memory until
it is `max_age` seconds old (5 minutes here); `force_fetch=True` asks Secrets Manager again now (a
provider's notification that fails its signature check: the key may have been rotated). The JSON
form is cached as parsed, so a request reads it without parsing it again.
"""

from __future__ import annotations

import json
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from payments import aws_clients

DEFAULT_MAX_AGE_S = 300.0


class SecretUnavailable(Exception):
    """Secrets Manager did not answer with the secret (never says what the secret holds)."""


class SecretNotJson(Exception):
    """The secret's value is not JSON."""


_cache: dict[tuple[str, bool], tuple[float, Any]] = {}  # (id, as JSON) -> (fetched at, value)
_client: Any = None


def get_secret(
    secret_id: str, *, as_json: bool = False, max_age: float = DEFAULT_MAX_AGE_S, force_fetch: bool = False
) -> Any:
    """The secret's string (or, `as_json`, its parsed JSON), at most `max_age` seconds old."""
    key = (secret_id, as_json)
    now = time.monotonic()
    cached = _cache.get(key)
    if cached is not None and not force_fetch and now - cached[0] < max_age:
        return cached[1]
    value = _fetch(secret_id)
    if as_json:
        try:
            value = json.loads(value)
        except ValueError:
            raise SecretNotJson(f"secret {secret_id} is not JSON") from None
    _cache[key] = (now, value)
    return value


def age(secret_id: str, *, as_json: bool = False) -> float | None:
    """Seconds since the cached value was fetched; None when nothing is cached."""
    cached = _cache.get((secret_id, as_json))
    return None if cached is None else time.monotonic() - cached[0]


def clear_cache() -> None:
    """Every cached value and the client dropped: the next read asks again, with a new client."""
    global _client
    _cache.clear()
    _client = None


def _fetch(secret_id: str) -> str:
    global _client
    if _client is None:
        _client = aws_clients.client("secretsmanager")
    try:
        response = _client.get_secret_value(SecretId=secret_id)
    except (ClientError, BotoCoreError) as exc:
        raise SecretUnavailable(f"secret {secret_id} could not be read ({type(exc).__name__})") from None
    value = response.get("SecretString")
    if not isinstance(value, str):
        raise SecretUnavailable(f"secret {secret_id} has no string value")
    return value
