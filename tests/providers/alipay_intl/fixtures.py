"""Alipay international gateway's test kit: fresh key pairs, its secret entry, its sandbox on `wire`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from local.providers.alipay_intl.sandbox import AlipayIntlSandbox
from local.testing import kit_of
from payments.api import CreateOrderRequest, parse_create_order
from payments.flows.creation import new_order
from payments.orders import Order
from payments.providers.alipay_intl.adapter import AlipayIntl, AlipayIntlSettings
from payments.providers.base import CallContext
from tests.support.link import ProviderLink
from tests.support.orders import order_body
from tests.support.providers import mount
from tests.support.sandbox_client import SandboxHttp
from tests.support.secrets import PROVIDER_SECRET

KIT = kit_of("alipay_intl")
_CREDENTIALS = KIT.test_credentials()
ALIPAY_BASE_URL = KIT.test_base_url
CLIENT_ID = _CREDENTIALS.client_id
MERCHANT_ID = _CREDENTIALS.merchant_id
PRODUCT_CODE = _CREDENTIALS.product_code
# Fresh per test run: the merchant's pair (signs requests and our replies) and Alipay's (signs
# responses and notifications).
MERCHANT_KEY = _CREDENTIALS.merchant_key
ALIPAY_KEY = _CREDENTIALS.alipay_key


def private_text(key: rsa.RSAPrivateKey, fmt: str) -> str:
    """`fmt`: "pkcs8 pem" | "pkcs1 pem" | "pkcs8 base64" | "pkcs1 base64" (bare body, one line)."""
    layout = (
        serialization.PrivateFormat.PKCS8
        if "pkcs8" in fmt
        else serialization.PrivateFormat.TraditionalOpenSSL
    )
    pem = key.private_bytes(serialization.Encoding.PEM, layout, serialization.NoEncryption()).decode()
    return pem if fmt.endswith("pem") else _body(pem)


def public_text(key: rsa.RSAPrivateKey | rsa.RSAPublicKey, fmt: str = "x509 base64") -> str:
    """`fmt`: "x509 pem" | "x509 base64" (how Alipay hands its key out) | "pkcs1 pem"."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    layout = (
        serialization.PublicFormat.PKCS1
        if "pkcs1" in fmt
        else serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pem = public.public_bytes(serialization.Encoding.PEM, layout).decode()
    return pem if fmt.endswith("pem") else _body(pem)


def _body(pem: str) -> str:
    return "".join(line for line in pem.splitlines() if not line.startswith("-----"))


def settings_entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "merchant_id": MERCHANT_ID,
        "product_code": PRODUCT_CODE,
        "payment_site": "ALIPAY_CN",
        "sign_hash": "SHA256",
        "private_key": private_text(MERCHANT_KEY, "pkcs8 pem"),
        "alipay_public_key": public_text(ALIPAY_KEY),
        "base_url": ALIPAY_BASE_URL,
    }
    entry.update(overrides)
    return entry


PROVIDER_SECRET["alipay_intl"] = settings_entry()


def new_sandbox(sign_hash: str = "SHA256") -> AlipayIntlSandbox:
    return AlipayIntlSandbox(
        client_id=CLIENT_ID,
        merchant_id=MERCHANT_ID,
        merchant_public_key=MERCHANT_KEY.public_key(),
        alipay_private_key=ALIPAY_KEY,
        sign_hash=sign_hash,
    )


@pytest.fixture
def alipay(stack: Any, wire: responses.RequestsMock, link: ProviderLink) -> AlipayIntlSandbox:
    """The adapter's real HTTP client talks to the sandbox (through `link`, for fault injection)."""
    sandbox: AlipayIntlSandbox = mount(KIT, stack, wire, link)
    return sandbox


def use_sha1(stack: Any, sandbox: AlipayIntlSandbox) -> None:
    """Switch both sides to SHA1withRSA (Alipay's `RSA`)."""
    sandbox.sign_hash = "SHA1"
    stack.put_secret({**PROVIDER_SECRET, "alipay_intl": settings_entry(sign_hash="SHA1")})


# -- below the handlers: the adapter wired straight to a sandbox -------------------------------------
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
NOTIFY_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/notify/alipay_intl"


def make_adapter(sandbox: AlipayIntlSandbox | None = None, **settings: Any) -> tuple[AlipayIntl, SandboxHttp]:
    sandbox = sandbox or new_sandbox(settings.get("sign_hash", "SHA256"))
    http = SandboxHttp(sandbox)
    model = AlipayIntlSettings.model_validate(settings_entry(**settings))
    return AlipayIntl(model, http, clock=lambda: NOW), http


def create_request(order_id: str = "a-1", **overrides: Any) -> CreateOrderRequest:
    return parse_create_order(json.dumps(order_body(order_id, provider="alipay_intl", **overrides)))


def order_for(request: CreateOrderRequest, expires_in: int = 600) -> Order:
    """The Order the service would hold for `request`, created at NOW."""
    return new_order(request, NOW, request.expires_in_seconds or expires_in)


def context_for(request: CreateOrderRequest) -> CallContext:
    return CallContext(notify_url=NOTIFY_URL, now=NOW, request=request)
