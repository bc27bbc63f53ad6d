"""Antom's signature, both ways, against the documented construction written out here with
`cryptography` directly (not the adapter's code, nor the sandbox's): requests signed over
`POST <path>\\n<client-id>.<request-time>.<exact body>` with quote_plus'd base64, under the sandbox
path for a SANDBOX_ client id; replies taken only when signed over their response-time and the
request's path; anything else leaves the outcome unknown."""

from __future__ import annotations

import base64
from urllib.parse import unquote_plus, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from payments.errors import ProviderRejected, ProviderUnavailable
from payments.providers.antom.adapter import LIVE_PATH, SANDBOX_PATH, signature_value
from tests.providers.antom.fixtures import (
    CLIENT_ID,
    MERCHANT_KEY,
    context_for,
    create_request,
    make_adapter,
    new_sandbox,
    order_for,
)


def documented_check(path: str, client_id: str, moment: str, body: bytes, header: str) -> bool:
    """The documented verification, step by step: the text after `signature=`, unquote_plus, base64,
    SHA256withRSA over `POST <path>` newline `<client-id>.<time>.<body>`."""
    value = unquote_plus(header.split("signature=", 1)[1])
    content = b"POST " + path.encode() + b"\n" + client_id.encode() + b"." + moment.encode() + b"." + body
    try:
        MERCHANT_KEY.public_key().verify(
            base64.b64decode(value), content, padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        return False
    return True


@pytest.mark.parametrize(
    ("client_id", "prefix"),
    [(CLIENT_ID, "/ams/sandbox/api/v1/payments/"), ("2188120000000000", "/ams/api/v1/payments/")],
)
def test_a_request_is_signed_as_documented_under_its_environments_path(client_id: str, prefix: str) -> None:
    adapter, http = make_adapter(client_id=client_id)
    request = create_request("o-sign", description="茶具 +/= 100%")
    adapter.create_payment(order_for(request), context_for(request))
    [(url, headers, body)] = http.sent
    assert urlsplit(url).path == prefix + "pay"
    assert (headers["client-id"], headers["request-time"]) == (client_id, "2026-11-22T12:00:00+00:00")
    assert headers["signature"].startswith("algorithm=RSA256,keyVersion=1,signature=")
    value = headers["signature"].split("signature=", 1)[1]
    assert not set(value) & set("+/=")  # quote_plus'd
    assert documented_check(prefix + "pay", client_id, headers["request-time"], body, headers["signature"])
    assert not documented_check(
        prefix + "pay", client_id, headers["request-time"], body + b" ", headers["signature"]
    )
    assert "茶具".encode() in body  # the exact UTF-8 bytes sent are the ones signed


@pytest.mark.parametrize("client_id", [CLIENT_ID, "2188120000000000"])
def test_the_other_environments_path_is_not_an_api_at_antom(client_id: str) -> None:
    """A sandbox client id on /ams/api, or a live one on /ams/sandbox/api: refused."""
    adapter, _ = make_adapter(client_id=client_id)
    adapter._prefix = LIVE_PATH if client_id.startswith("SANDBOX_") else SANDBOX_PATH
    request = create_request("o-env")
    with pytest.raises(ProviderRejected) as refused:
        adapter.create_payment(order_for(request), context_for(request))
    assert refused.value.provider_code == "NO_INTERFACE_DEF"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("algorithm=RSA256,keyVersion=1,signature=ab%2Bc%2F%3D", "ab+c/="),
        ("algorithm=RSA256,signature=abc", "abc"),
        ("algorithm=RSA256,keyVersion=1,signature=ab+c", "ab c"),  # a raw '+' is a space: not base64
        ("algorithm=RSA,keyVersion=1,signature=abc", None),
        ("algorithm=RSA256,keyVersion=x,signature=abc", None),
        ("algorithm=RSA256,keyVersion=1,signature=abc,signature=abc", None),
        ("algorithm=RSA256,keyVersion=1,extra=1,signature=abc", None),
        ("algorithm=RSA256,keyVersion=1", None),
        ("abc", None),
        ("", None),
    ],
)
def test_the_signature_header_is_read_strictly(header: str, expected: str | None) -> None:
    assert signature_value(header) == expected


@pytest.mark.parametrize(
    "fault",
    ["unsigned", "bad_signature", "foreign_key", "tampered", "request_time", "other_path", "other_client"],
)
def test_a_reply_not_signed_by_antom_over_its_response_time_and_our_path_proves_nothing(fault: str) -> None:
    sandbox = new_sandbox()
    sandbox.create_answer = "S"
    sandbox.force("F:RISK_REJECT") if fault == "tampered" else None  # a refusal, turned into S on the way
    sandbox.reply_faults.append(fault)
    adapter, _ = make_adapter(sandbox=sandbox)
    request = create_request("o-fault")
    with pytest.raises(ProviderUnavailable) as unknown:
        adapter.create_payment(order_for(request), context_for(request))
    assert unknown.value.code == "provider_bad_signature"
