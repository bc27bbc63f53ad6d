"""Signing primitives shared by the provider adapters. Digests are compared in constant time.

HMAC and MD5 use only hashlib/hmac; RSA imports `cryptography` on first use, so the paths that
never sign with RSA never load it.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any


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


def md5_hex(text: str) -> str:
    """Lowercase hex MD5 of UTF-8 text (for providers that sign with keyed MD5). Not a password hash:
    a MAC input."""
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


# -- RSA (PKCS#1 v1.5) -------------------------------------------------------------------------
# `cryptography` is imported inside these functions: the HMAC and MD5 paths never load it.


class KeyLoadError(ValueError):
    """A key that cannot be loaded. The message never contains key material."""


def _der_from_text(text: str) -> tuple[bytes, str | None]:
    """(DER bytes, PEM label or None) from PEM text or a bare base64 body."""
    import base64
    import binascii
    import re

    stripped = text.strip()
    match = re.search(r"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----", stripped, re.S)
    label, body = (match.group(1), match.group(2)) if match else (None, stripped)
    try:
        return base64.b64decode("".join(body.split()), validate=True), label
    except (binascii.Error, ValueError):
        raise KeyLoadError("not PEM or base64") from None


def load_private_key(text: str) -> Any:
    """An RSA private key from PEM or bare base64, PKCS#8 or PKCS#1."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    der, _ = _der_from_text(text)
    try:
        key = load_der_private_key(der, password=None)
    except (ValueError, TypeError):
        raise KeyLoadError("not a PKCS#8 or PKCS#1 RSA private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyLoadError("not an RSA key")
    return key


def load_public_key(text: str) -> Any:
    """An RSA public key from PEM or bare base64, X.509 SubjectPublicKeyInfo or PKCS#1."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    der, _ = _der_from_text(text)
    key: Any = None
    try:
        key = load_der_public_key(der)
    except (ValueError, TypeError):
        try:  # PKCS#1 RSAPublicKey ("BEGIN RSA PUBLIC KEY" or its bare body)
            from cryptography.hazmat.primitives.serialization import load_pem_public_key

            pem = b"-----BEGIN RSA PUBLIC KEY-----\n" + base64_lines(der) + b"-----END RSA PUBLIC KEY-----\n"
            key = load_pem_public_key(pem)
        except (ValueError, TypeError):
            raise KeyLoadError("not an X.509 or PKCS#1 RSA public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyLoadError("not an RSA key")
    return key


def base64_lines(der: bytes) -> bytes:
    import base64

    encoded = base64.b64encode(der)
    return b"".join(encoded[i : i + 64] + b"\n" for i in range(0, len(encoded), 64))


def _hash(name: str) -> Any:
    from cryptography.hazmat.primitives import hashes

    if name == "SHA256":
        return hashes.SHA256()
    if name == "SHA1":
        return hashes.SHA1()  # noqa: S303 - some providers' older APIs still sign with SHA1withRSA
    raise ValueError(f"unsupported RSA hash {name!r}")


def rsa_sign(private_key: Any, message: bytes, hash_name: str = "SHA256") -> str:
    """base64(SHA256withRSA or SHA1withRSA, PKCS#1 v1.5)."""
    import base64

    from cryptography.hazmat.primitives.asymmetric import padding

    return base64.b64encode(private_key.sign(message, padding.PKCS1v15(), _hash(hash_name))).decode("ascii")


def rsa_verify(public_key: Any, message: bytes, signature_b64: str, hash_name: str = "SHA256") -> bool:
    """True only for a valid signature; False for anything else (never raises on bad input)."""
    import base64
    import binascii

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        signature = base64.b64decode(signature_b64.strip(), validate=True)
    except (binascii.Error, ValueError, AttributeError):
        return False
    if not signature:
        return False
    try:
        public_key.verify(signature, message, padding.PKCS1v15(), _hash(hash_name))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


# -- keys in a provider's settings ------------------------------------------------------------------
MIN_RSA_BITS = 2048


def check_rsa_private_key(text: str) -> None:
    """ValueError (never with key material) unless `text` is an RSA private key of at least 2048 bits."""
    try:
        key = load_private_key(text)
    except KeyLoadError as exc:
        raise ValueError(f"{exc} (PEM or base64, PKCS#8 or PKCS#1)") from None
    if key.key_size < MIN_RSA_BITS:
        raise ValueError(f"RSA keys are at least {MIN_RSA_BITS} bits")


def check_rsa_public_key(text: str) -> None:
    """ValueError unless `text` is an RSA public key of at least 2048 bits."""
    try:
        key = load_public_key(text)
    except KeyLoadError as exc:
        raise ValueError(f"{exc} (PEM or base64, X.509)") from None
    if key.key_size < MIN_RSA_BITS:
        raise ValueError(f"RSA keys are at least {MIN_RSA_BITS} bits")
