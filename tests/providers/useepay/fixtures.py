"""UseePay's test kit: its secret entry (MD5 by default) and its sandbox, mounted on `responses`."""

from __future__ import annotations

from typing import Any

import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import rsa

from local.providers.useepay.sandbox import UseePaySandbox
from local.testing import kit_of
from tests.support.link import ProviderLink
from tests.support.providers import mount as mount_kit

KIT = kit_of("useepay")
_MD5 = KIT.test_credentials("MD5")
_RSA = KIT.test_credentials("RSA")
MERCHANT_NO = _MD5.merchant_no
MD5_KEY = _MD5.md5_key
# Fresh key pairs per test run: the merchant's (signs requests) and UseePay's (signs replies).
MERCHANT_KEY: rsa.RSAPrivateKey = _RSA.merchant_key
USEEPAY_KEY: rsa.RSAPrivateKey = _RSA.useepay_key
MD5_SETTINGS = KIT.test_secret_entry("MD5")
RSA_SETTINGS = KIT.test_secret_entry("RSA")


def sandbox_for(sign_type: str) -> UseePaySandbox:
    sandbox: UseePaySandbox = KIT.new_sandbox(KIT.test_credentials(sign_type))
    return sandbox


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
    sandbox: UseePaySandbox = mount_kit(KIT, stack, wire, link, sign_type)
    return sandbox
