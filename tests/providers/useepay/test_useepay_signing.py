"""UseePay signatures: an MD5 vector computed by an implementation written here from the documented
algorithm (not ours), and RSA signatures made and checked by `cryptography` directly."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from payments.http import HttpClient
from payments.providers.useepay.adapter import UseePay, UseePaySettings, string_to_sign
from tests.providers.useepay.fixtures import MD5_SETTINGS, MERCHANT_KEY, RSA_SETTINGS, USEEPAY_KEY

# The documentation's sample request, as a merchant would send it.
SEED_FIELDS = {
    "amount": "100",
    "appId": "www.pay.com",
    "currency": "EUR",
    "echoParam": "echoParam",
    "merchantNo": "500000000007264",
    "notifyUrl": "https://gatewaytest.useepay.com/notifyV2u0",
    "orderInfo": '{"subject":"description","goodsInfo":[{"name":"商品名称","body":"商品描述",'
    '"quantity":1,"price":1234}]}',
    "payerInfo": '{"paymentMethod":"alipay","terminalType":"WEB"}',
    "redirectUrl": "https://gatewaytest.useepay.com/redirectV2u0",
    "reserved": "",
    "signType": "MD5",
    "transactionExpirationTime": "10",
    "transactionId": "202210271113127",
    "transactionType": "pay",
    "userInfo": '{"ip":"103.25.65.178","email":"amber.lei@useepay.com"}',
    "version": "1.0",
}


def documented_md5(fields: dict[str, str], key: str) -> str:
    """The documented algorithm, step by step, independently of the adapter."""
    kept = {name: value for name, value in fields.items() if name != "sign"}  # 1. everything but sign
    kept = {name: value for name, value in kept.items() if value.strip() != ""}  # 1. blanks out
    ordered = sorted(kept.items(), key=lambda pair: pair[0].encode("ascii"))  # 2. ASCII order
    joined = "&".join(name + "=" + value for name, value in ordered)  # 2. raw k=v&
    return hashlib.md5((joined + "&pkey=" + key).encode("utf-8")).hexdigest()  # 3. lowercase hex


def adapter(settings: dict[str, Any]) -> UseePay:
    return UseePay(UseePaySettings.model_validate(settings), HttpClient())


def test_md5_vector_from_the_documented_algorithm() -> None:
    expected = documented_md5(SEED_FIELDS, MD5_SETTINGS["md5_key"])
    assert adapter(MD5_SETTINGS).sign(SEED_FIELDS) == expected
    assert adapter(MD5_SETTINGS).verify({**SEED_FIELDS, "sign": expected})


def test_fixed_md5_vector() -> None:
    # Computed once with `documented_md5` above and frozen here, so a change to either side shows.
    fields = {"b": "2", "a": "1", "empty": " ", "sign": "ignored", "zh": "茶"}
    assert documented_md5(fields, "k") == hashlib.md5("a=1&b=2&zh=茶&pkey=k".encode()).hexdigest()
    assert (
        adapter({**MD5_SETTINGS, "md5_key": "k"}).sign(fields)
        == hashlib.md5("a=1&b=2&zh=茶&pkey=k".encode()).hexdigest()
    )


def test_string_to_sign_rules() -> None:
    assert string_to_sign({"b": "2", "a": "1", "c": "", "d": "  ", "sign": "x", "B": "3"}) == "B=3&a=1&b=2"


@pytest.mark.parametrize("change", [{"amount": "101"}, {"resultCode": "succeed"}, {"extra": "field"}])
def test_md5_rejects_any_change(change: dict[str, str]) -> None:
    signed = {**SEED_FIELDS, "sign": documented_md5(SEED_FIELDS, MD5_SETTINGS["md5_key"])}
    assert not adapter(MD5_SETTINGS).verify({**signed, **change})


def test_md5_rejects_wrong_key_and_empty_sign() -> None:
    use = adapter(MD5_SETTINGS)
    assert not use.verify({**SEED_FIELDS, "sign": documented_md5(SEED_FIELDS, "other-key")})
    assert not use.verify({**SEED_FIELDS, "sign": ""})
    assert not use.verify(dict(SEED_FIELDS))


def test_rsa_signature_by_cryptography_verifies_with_the_adapter() -> None:
    fields = {**SEED_FIELDS, "signType": "RSA"}
    base = "&".join(f"{k}={fields[k]}" for k in sorted(fields) if fields[k].strip())
    signature = base64.b64encode(
        USEEPAY_KEY.sign(base.encode(), padding.PKCS1v15(), hashes.SHA256())
    ).decode()
    use = adapter(RSA_SETTINGS)
    assert use.verify({**fields, "sign": signature})
    assert not use.verify({**fields, "amount": "1", "sign": signature})
    # '+' turned into ' ' by a query string on the way: repaired. (A 2048-bit signature's base64 has a
    # '+' with probability > 99.5%; without one the mangled copy is simply the original.)
    assert use.verify({**fields, "sign": signature.replace("+", " ")})


def test_adapter_rsa_signature_verifies_with_cryptography() -> None:
    fields = {**SEED_FIELDS, "signType": "RSA"}
    signature = adapter(RSA_SETTINGS).sign(fields)
    base = "&".join(f"{k}={fields[k]}" for k in sorted(fields) if fields[k].strip())
    MERCHANT_KEY.public_key().verify(
        base64.b64decode(signature), base.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_rsa_signature_by_another_key_fails() -> None:
    fields = {**SEED_FIELDS, "signType": "RSA"}
    base = "&".join(f"{k}={fields[k]}" for k in sorted(fields) if fields[k].strip())
    forged = base64.b64encode(MERCHANT_KEY.sign(base.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    assert not adapter(RSA_SETTINGS).verify({**fields, "sign": forged})


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sign_type": "RSA"}, "private_key"),
        ({"md5_key": ""}, "md5_key"),
        ({"sign_type": "SHA"}, "sign_type"),
        ({"base_url": "http://useepay.example"}, "base_url"),
    ],
)
def test_settings_errors_name_the_field(change: dict[str, str], field: str) -> None:
    from pydantic import ValidationError

    from payments.providers.directory import describe_validation_error

    with pytest.raises(ValidationError) as caught:
        UseePaySettings.model_validate({**MD5_SETTINGS, **change})
    message = describe_validation_error("useepay", caught.value)
    assert field in message
    assert MD5_SETTINGS["md5_key"] not in message


def test_broken_rsa_key_is_named_not_echoed() -> None:
    from pydantic import ValidationError

    from payments.providers.directory import describe_validation_error

    with pytest.raises(ValidationError) as caught:
        UseePaySettings.model_validate({**RSA_SETTINGS, "private_key": "MIIBOGUS"})
    message = describe_validation_error("useepay", caught.value)
    assert "useepay.private_key" in message
    assert "MIIBOGUS" not in message
