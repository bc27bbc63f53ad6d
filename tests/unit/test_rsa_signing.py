"""RSA primitives: every key format loads; signatures agree with `cryptography` called directly."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from payments.signing import KeyLoadError, load_private_key, load_public_key, md5_hex, rsa_sign, rsa_verify

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
HASHES = {"SHA256": hashes.SHA256(), "SHA1": hashes.SHA1()}
MESSAGE = '{"head":{"function":"x"},"body":{"title":"茶具 {} \\" "}}'.encode()


def pem_body(pem: bytes) -> str:
    return "".join(line for line in pem.decode().splitlines() if not line.startswith("-----"))


def private_formats() -> dict[str, str]:
    pkcs8 = KEY.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pkcs1 = KEY.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return {
        "pkcs8 pem": pkcs8.decode(),
        "pkcs1 pem": pkcs1.decode(),
        "pkcs8 base64": pem_body(pkcs8),
        "pkcs1 base64": pem_body(pkcs1),
        "pkcs8 base64 wrapped": "\n".join(
            pem_body(pkcs8)[i : i + 76] for i in range(0, len(pem_body(pkcs8)), 76)
        ),
    }


def public_formats() -> dict[str, str]:
    spki = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pkcs1 = KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    return {
        "x509 pem": spki.decode(),
        "x509 base64": pem_body(spki),
        "pkcs1 pem": pkcs1.decode(),
        "pkcs1 base64": pem_body(pkcs1),
    }


@pytest.mark.parametrize("fmt", sorted(private_formats()))
@pytest.mark.parametrize("hash_name", sorted(HASHES))
def test_our_signature_verifies_with_cryptography_directly(fmt: str, hash_name: str) -> None:
    signature = rsa_sign(load_private_key(private_formats()[fmt]), MESSAGE, hash_name)
    KEY.public_key().verify(base64.b64decode(signature), MESSAGE, padding.PKCS1v15(), HASHES[hash_name])
    with pytest.raises(InvalidSignature):
        KEY.public_key().verify(
            base64.b64decode(signature), MESSAGE + b" ", padding.PKCS1v15(), HASHES[hash_name]
        )


@pytest.mark.parametrize("fmt", sorted(public_formats()))
@pytest.mark.parametrize("hash_name", sorted(HASHES))
def test_cryptography_signature_verifies_with_ours(fmt: str, hash_name: str) -> None:
    signature = base64.b64encode(KEY.sign(MESSAGE, padding.PKCS1v15(), HASHES[hash_name])).decode()
    public = load_public_key(public_formats()[fmt])
    assert rsa_verify(public, MESSAGE, signature, hash_name)
    assert not rsa_verify(public, MESSAGE + b"x", signature, hash_name)
    other_hash = "SHA1" if hash_name == "SHA256" else "SHA256"
    assert not rsa_verify(public, MESSAGE, signature, other_hash)


def test_signature_by_another_key_fails() -> None:
    signature = base64.b64encode(OTHER.sign(MESSAGE, padding.PKCS1v15(), hashes.SHA256())).decode()
    assert not rsa_verify(load_public_key(public_formats()["x509 pem"]), MESSAGE, signature)


@pytest.mark.parametrize(
    "signature", ["", "   ", "not base64!!", "AAAA", base64.b64encode(b"x" * 256).decode()]
)
def test_malformed_signatures_are_false_not_errors(signature: str) -> None:
    assert not rsa_verify(load_public_key(public_formats()["x509 pem"]), MESSAGE, signature)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        base64.b64encode(b"not der").decode(),
        "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----",
    ],
)
def test_unloadable_keys_say_so_without_echoing(text: str) -> None:
    with pytest.raises(KeyLoadError) as caught:
        load_private_key(text)
    assert text not in str(caught.value) or not text
    with pytest.raises(KeyLoadError):
        load_public_key(text)


def test_non_rsa_keys_are_refused() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    pem = ec_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(KeyLoadError, match="not an RSA key"):
        load_private_key(pem)


def test_md5_hex_matches_a_published_vector() -> None:
    # RFC 1321 appendix A.5 test suite.
    assert md5_hex("message digest") == "f96b697d7cb7938d525a2f31aaf161d0"
    assert md5_hex("") == "d41d8cd98f00b204e9800998ecf8427e"
