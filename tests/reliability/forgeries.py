"""The toolbox of generated forgeries: what every provider's recipes share (flipped bits and characters,
truncated, oversized, non-UTF-8 and deeply nested bodies, wrong content types, signing with keys that
are not the provider's).

Each provider's recipes are its own (tests/providers/<name>/reliability_forgeries.py, reached through
its reliability kit: `forgeries_of`). Deterministic (a seeded Random per provider). Every case is
something no provider sends and no one but the provider could sign: flipped bits, wrong keys and hash
algorithms, broken or repeated signature fields, stale and future timestamps, truncated, oversized and
non-UTF-8 bodies, wrong content types, genuine statements about orders that are not ours or not for
us, wrong methods. Signing here uses the sandboxes' own code or hashlib/cryptography directly, never
the adapters'.
"""

from __future__ import annotations

import base64
import random
import re
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.reliability.harness import Delivery, Harness
from tests.reliability.kits import Case, reliability_kit

__all__ = ["Case"]

API_GATEWAY_MAX_BODY = 10 * 1024 * 1024
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CONTENT_TYPES = ["text/plain", "application/xml", "multipart/form-data; boundary=x", "", "application/octet"]


def rsa_sign(key: rsa.RSAPrivateKey, text: str, hash_name: str = "SHA256") -> str:
    """base64 PKCS#1 v1.5 signature, with `cryptography` directly."""
    algorithm = hashes.SHA256() if hash_name == "SHA256" else hashes.SHA1()
    return base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), algorithm)).decode()


def signature_value(text: Any) -> Any:
    """What a signature says, however it is spelled: hex in lower case, base64 as bytes."""
    if not isinstance(text, str):
        return text
    if re.fullmatch(r"[0-9a-fA-F]{32}", text):
        return text.lower()
    try:
        return base64.b64decode(text.replace(" ", "+"), validate=True)
    except ValueError:
        return text


def flip_bit(data: bytes, rng: random.Random) -> bytes:
    position = rng.randrange(len(data))
    flipped = bytearray(data)
    flipped[position] ^= 1 << rng.randrange(8)
    return bytes(flipped)


def flip_char(text: str, rng: random.Random, alphabet: str) -> str:
    position = rng.randrange(len(text))
    choices = [char for char in alphabet if char != text[position]]
    return text[:position] + rng.choice(choices) + text[position + 1 :]


def non_utf8(data: bytes, rng: random.Random) -> bytes:
    position = rng.randrange(len(data))
    return (
        data[:position]
        + rng.choice([b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80"])
        + data[position:]
    )


NESTING_BOMBS = [b"[" * 100_000, b'{"a":' * 5_000 + b"1" + b"}" * 5_000, b'{"request":' + b"[" * 50_000]


def truncated(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))]


def oversized(data: bytes) -> bytes:
    """A JSON-ish body of API Gateway's 10 MB limit: the genuine one with padding inside it."""
    pad = API_GATEWAY_MAX_BODY - len(data) - 16
    return data[:-1] + b',"pad":"' + b"x" * pad + b'"' + data[-1:]


def forgeries_of(harness: Harness, order_id: str, genuine: Delivery, rng: random.Random) -> list[Case]:
    """The provider's own forgeries of `genuine` (its reliability kit's recipes)."""
    return reliability_kit(harness.provider).forgeries(harness, order_id, genuine, rng)
