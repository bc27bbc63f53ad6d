"""The `alipay_intl` secret entry: every documented key format loads; anything else is refused by
field name, without echoing key material."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import ValidationError

from payments.orders import OrderStatus
from payments.providers import provider_class
from payments.providers.alipay_intl.adapter import AlipayIntl, AlipayIntlSettings
from payments.providers.directory import describe_validation_error
from tests.providers.alipay_intl.fixtures import (
    ALIPAY_KEY,
    MERCHANT_KEY,
    context_for,
    create_request,
    make_adapter,
    order_for,
    private_text,
    public_text,
    settings_entry,
)

SMALL_KEY = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - must be refused


def problems(**overrides: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        AlipayIntlSettings.model_validate(settings_entry(**overrides))
    return describe_validation_error("alipay_intl", caught.value)


def test_the_registry_serves_this_adapter() -> None:
    factory = provider_class("alipay_intl")
    assert factory is AlipayIntl
    assert factory.name == "alipay_intl"
    assert factory.settings_model is AlipayIntlSettings


@pytest.mark.parametrize("private_fmt", ["pkcs8 pem", "pkcs1 pem", "pkcs8 base64", "pkcs1 base64"])
@pytest.mark.parametrize("public_fmt", ["x509 pem", "x509 base64", "pkcs1 pem"])
def test_every_key_format_loads_and_works_end_to_end(private_fmt: str, public_fmt: str) -> None:
    adapter, http = make_adapter(
        private_key=private_text(MERCHANT_KEY, private_fmt),
        alipay_public_key=public_text(ALIPAY_KEY, public_fmt),
    )
    request = create_request()
    # Alipay (the sandbox) accepts what the key signed, and the reply verifies with Alipay's key.
    assert adapter.create_payment(order_for(request), context_for(request)).status == OrderStatus.PENDING
    assert http.sandbox.calls[-1].answer == "SUCCESS"


def test_wrapped_base64_bodies_load_too() -> None:
    body = private_text(MERCHANT_KEY, "pkcs8 base64")
    wrapped = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    AlipayIntlSettings.model_validate(settings_entry(private_key=wrapped))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("private_key", "not a key"),
        ("private_key", public_text(MERCHANT_KEY, "x509 pem")),  # a public key where the private one goes
        ("private_key", private_text(SMALL_KEY, "pkcs8 pem")),
        (
            "private_key",
            ec.generate_private_key(ec.SECP256R1())
            .private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            .decode(),
        ),
        ("alipay_public_key", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"),
        (
            "alipay_public_key",
            private_text(ALIPAY_KEY, "pkcs8 pem"),
        ),  # Alipay never hands out its private key
        ("alipay_public_key", public_text(SMALL_KEY, "x509 pem")),
    ],
)
def test_bad_keys_are_named_not_echoed(field: str, value: str) -> None:
    message = problems(**{field: value})
    assert message.startswith(f"alipay_intl.{field}:")
    stripped = "".join(line for line in value.splitlines() if not line.startswith("-----"))
    assert (stripped[20:60] or value) not in message


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"payment_site": "ALIPAY_US"}, "payment_site"),
        ({"sign_hash": "MD5"}, "sign_hash"),
        ({"base_url": "http://open-sea.alipay.com"}, "base_url"),
        ({"client_id": ""}, "client_id"),
        ({"merchant_id": "x" * 65}, "merchant_id"),
        ({"product_code": ""}, "product_code"),
        ({"api_key": "x"}, "api_key"),
    ],
)
def test_other_fields_are_validated(overrides: dict[str, Any], field: str) -> None:
    assert f"alipay_intl.{field}:" in problems(**overrides)


def test_required_fields() -> None:
    entry = settings_entry()
    for name in (
        "client_id",
        "merchant_id",
        "product_code",
        "payment_site",
        "private_key",
        "alipay_public_key",
    ):
        partial = {k: v for k, v in entry.items() if k != name}
        with pytest.raises(ValidationError) as caught:
            AlipayIntlSettings.model_validate(partial)
        assert f"alipay_intl.{name}:" in describe_validation_error("alipay_intl", caught.value)


@pytest.mark.parametrize(("given", "expected"), [("RSA2", "SHA256"), ("RSA", "SHA1"), ("SHA1", "SHA1")])
def test_alipays_sign_type_names_are_understood(given: str, expected: str) -> None:
    assert AlipayIntlSettings.model_validate(settings_entry(sign_hash=given)).sign_hash == expected


def test_defaults_and_normalisation() -> None:
    entry = {k: v for k, v in settings_entry().items() if k not in ("sign_hash", "base_url")}
    settings = AlipayIntlSettings.model_validate(entry)
    assert settings.sign_hash == "SHA256"
    assert settings.base_url == "https://open-sea.alipay.com"
    local = AlipayIntlSettings.model_validate(settings_entry(base_url="http://127.0.0.1:4010/"))
    assert local.base_url == "http://127.0.0.1:4010"


def test_keys_never_show_in_the_settings_repr() -> None:
    settings = AlipayIntlSettings.model_validate(settings_entry())
    secret = private_text(MERCHANT_KEY, "pkcs8 base64")
    assert secret[30:70] not in repr(settings)
    assert secret[30:70] not in str(settings.model_dump())
