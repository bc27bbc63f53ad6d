"""The wire's SigV4 (payments/store/sigv4.py) against botocore's SigV4Auth: at the same moment, for
the same request, the same Authorization header — across endpoint shapes (a default port, a local
port, an IPv6 literal, a path) and with and without a session token."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from botocore import auth as botocore_auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from payments.store.sigv4 import JsonPostSigner, host_of

MOMENT = datetime.datetime(2026, 12, 7, 23, 59, 58)
CONTENT_TYPE = "application/x-amz-json-1.0"
TARGET = "DynamoDB_20120810.TransactWriteItems"
BODY = b'{"TransactItems":[{"Put":{"TableName":"orders","Item":{"pk":{"S":"ORDER#o-1"}}}}]}'


def botocores(
    url: str, credentials: Credentials, monkeypatch: pytest.MonkeyPatch, moment: datetime.datetime = MOMENT
) -> AWSRequest:
    monkeypatch.setattr(botocore_auth, "get_current_datetime", lambda *_, **__: moment)
    request = AWSRequest(
        method="POST", url=url, data=BODY, headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET}
    )
    botocore_auth.SigV4Auth(credentials, "dynamodb", "eu-west-1").add_auth(request)
    return request


def ours(
    url: str, credentials: Credentials, moment: datetime.datetime = MOMENT, signer: Any = None
) -> dict[str, str]:
    signer = signer or JsonPostSigner(url, "eu-west-1", "dynamodb", CONTENT_TYPE)
    epoch = moment.replace(tzinfo=datetime.UTC).timestamp()
    return signer.headers(credentials.get_frozen_credentials(), TARGET, BODY, now=epoch)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "url",
    [
        "https://dynamodb.eu-west-1.amazonaws.com/",
        "https://dynamodb.eu-west-1.amazonaws.com:443",
        "http://127.0.0.1:8000/",
        "http://[::1]:4566/",
        "https://proxy.example.com/aws/dynamodb/",
    ],
)
@pytest.mark.parametrize("token", [None, "session-token"])
def test_the_same_authorization_as_botocores(
    url: str, token: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    theirs = botocores(url, credentials, monkeypatch)
    headers = ours(url, credentials)
    assert headers["Authorization"] == theirs.headers["Authorization"]
    assert headers["X-Amz-Date"] == theirs.headers["X-Amz-Date"]
    assert headers.get("X-Amz-Security-Token") == theirs.headers.get("X-Amz-Security-Token")


def test_the_signing_key_follows_the_day_and_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://dynamodb.eu-west-1.amazonaws.com/"
    signer = JsonPostSigner(url, "eu-west-1", "dynamodb", CONTENT_TYPE)
    first = Credentials("AKIDEXAMPLE", "first secret")
    rotated = Credentials("AKIDEXAMPLE", "rotated secret")
    next_day = MOMENT + datetime.timedelta(seconds=3)  # past midnight: a new day's key
    assert (
        ours(url, first, signer=signer)["Authorization"]
        == botocores(url, first, monkeypatch).headers["Authorization"]
    )
    for credentials, moment in ((first, next_day), (rotated, next_day), (first, MOMENT)):
        expected = botocores(url, credentials, monkeypatch, moment).headers["Authorization"]
        assert ours(url, credentials, moment, signer)["Authorization"] == expected


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://DynamoDB.eu-west-1.amazonaws.com", "dynamodb.eu-west-1.amazonaws.com"),
        ("https://user:pw@dynamodb.eu-west-1.amazonaws.com:443/", "dynamodb.eu-west-1.amazonaws.com"),
        ("http://localhost:80", "localhost"),
        ("http://localhost:8000", "localhost:8000"),
        ("http://[::1]:4566", "[::1]:4566"),
    ],
)
def test_the_host_is_the_one_an_http_client_sends(url: str, host: str) -> None:
    assert host_of(url) == host
    assert host_of(url) == botocore_auth._host_from_url(url)  # type: ignore[attr-defined]  # botocore's own rule
