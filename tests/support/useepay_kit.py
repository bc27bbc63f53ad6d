"""UseePay's test kit: its secret entry (MD5 by default) and its sandbox, mounted on `responses`."""

from __future__ import annotations

import re
from typing import Any

import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from requests import PreparedRequest

from local.sandboxes.useepay import UseePaySandbox
from tests.support.link import ProviderLink
from tests.support.secrets import PROVIDER_SECRET

USEEPAY_BASE_URL = "https://pay-gateway1.uat.useepay.com"
MERCHANT_NO = "500000000007264"
MD5_KEY = "useepay-md5-key-0123456789abcdef"
# Fresh key pairs per test run: the merchant's (signs requests) and UseePay's (signs replies).
MERCHANT_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
USEEPAY_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_private(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def pem_public(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


MD5_SETTINGS = {
    "merchant_no": MERCHANT_NO,
    "app_id": "shop.example.com",
    "sign_type": "MD5",
    "md5_key": MD5_KEY,
    "base_url": USEEPAY_BASE_URL,
}
RSA_SETTINGS = {
    "merchant_no": MERCHANT_NO,
    "app_id": "shop.example.com",
    "sign_type": "RSA",
    "private_key": pem_private(MERCHANT_KEY),
    "useepay_public_key": pem_public(USEEPAY_KEY),
    "base_url": USEEPAY_BASE_URL,
}
PROVIDER_SECRET["useepay"] = MD5_SETTINGS


def sandbox_for(sign_type: str) -> UseePaySandbox:
    if sign_type == "MD5":
        return UseePaySandbox(merchant_no=MERCHANT_NO, sign_type="MD5", md5_key=MD5_KEY)
    return UseePaySandbox(
        merchant_no=MERCHANT_NO,
        sign_type="RSA",
        merchant_public_key=MERCHANT_KEY.public_key(),
        useepay_private_key=USEEPAY_KEY,
    )


@pytest.fixture(params=["MD5", "RSA"])
def sign_type(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def useepay(stack: Any, wire: responses.RequestsMock, link: ProviderLink, sign_type: str) -> UseePaySandbox:
    """UseePay's sandbox with the secret set to the same sign type (each test runs for MD5 and RSA)."""
    return mount(stack, wire, link, sign_type)


def mount(stack: Any, wire: responses.RequestsMock, link: ProviderLink, sign_type: str) -> UseePaySandbox:
    """A sandbox of `sign_type` on the wire, and the secret set to match."""
    sandbox = sandbox_for(sign_type)
    stack.put_secret({**PROVIDER_SECRET, "useepay": MD5_SETTINGS if sign_type == "MD5" else RSA_SETTINGS})

    def callback(request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        return link.exchange(sandbox, request)

    wire.add_callback(responses.POST, re.compile(re.escape(USEEPAY_BASE_URL) + "/api"), callback=callback)
    return sandbox
