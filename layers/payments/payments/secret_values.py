"""Secrets Manager values, cached per process: what Powertools Parameters' `get_secret(max_age=…)`
does, with a botocore client (payments/aws_clients.py). Powertools Parameters imports boto3 (~30 ms
of every cold start that reads a secret), and it is the only thing this layer used boto3 for.

Semantics kept from Powertools: a value is fetched at its first use, then served from memory until
it is `max_age` seconds old (5 minutes here); `force_fetch=True` asks Secrets Manager again now (a
provider's notification that fails its signature check: the key may have been rotated). `refresh`
is that forced fetch rate-limited per secret: a flood of forged notifications costs one read a
minute, not one each. The JSON form is cached as parsed, so a request reads it without parsing it
again.
"""

from __future__ import annotations

import json
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from payments import aws_clients

DEFAULT_MAX_AGE_S = 300.0
MIN_REFRESH_INTERVAL_S = 60.0


class SecretUnavailable(Exception):
    """Secrets Manager did not answer with the secret (never says what the secret holds)."""


class SecretNotJson(Exception):
    """The secret's value is not JSON."""


_cache: dict[tuple[str, bool], tuple[float, Any]] = {}  # (id, as JSON) -> (fetched at, value)
_refreshed: dict[str, float] = {}  # id -> when `refresh` last asked for it (monotonic)
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


def refresh(
    secret_id: str, *, as_json: bool = False, min_interval: float = MIN_REFRESH_INTERVAL_S
) -> Any | None:
    """The secret fetched again now (a check with the cached value failed); None, without asking, when
    this secret was already refreshed less than `min_interval` seconds ago in this process."""
    now = time.monotonic()
    last = _refreshed.get(secret_id)
    if last is not None and now - last < min_interval:
        return None
    _refreshed[secret_id] = now  # before asking: a read that fails is not tried again sooner either
    return get_secret(secret_id, as_json=as_json, force_fetch=True)


def age(secret_id: str, *, as_json: bool = False) -> float | None:
    """Seconds since the cached value was fetched; None when nothing is cached."""
    cached = _cache.get((secret_id, as_json))
    return None if cached is None else time.monotonic() - cached[0]


def clear_cache() -> None:
    """Every cached value and the client dropped: the next read asks again, with a new client."""
    global _client
    _cache.clear()
    _refreshed.clear()
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
