"""Signing primitives shared by the provider adapters. Digests are compared in constant time.

Only hashlib/hmac here: the HMAC and MD5 paths never import `cryptography`.
"""

from __future__ import annotations

import hashlib
import hmac


def hmac_sha512_hex(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha512).hexdigest()


def constant_time_equal(expected: str | bytes, received: str | bytes) -> bool:
    """Compare two signatures without leaking where they differ. Non-ASCII text never matches."""
    try:
        left = expected.encode("ascii") if isinstance(expected, str) else expected
        right = received.encode("ascii") if isinstance(received, str) else received
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(left, right)
