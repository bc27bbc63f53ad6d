"""UseePay's hosted checkout page, served by its sandbox over real HTTP (`SandboxServer`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import requests

from local.providers.useepay.checkout import UseePayCheckout
from local.providers.useepay.sandbox import UseePaySandbox
from tests.support.sandbox_http import Receiver, receiving, serve


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as server:
        yield server


def test_useepay_checkout_shows_the_description_not_the_id(receiver: Receiver) -> None:
    sandbox = UseePaySandbox(merchant_no="500000000007264", sign_type="MD5", md5_key="k")
    server = serve(sandbox, UseePayCheckout(sandbox))
    sandbox.checkout_base = f"{server.base_url}/checkout/"
    try:
        fields = {
            "version": "1.0",
            "signType": "MD5",
            "merchantNo": "500000000007264",
            "transactionType": "pay",
            "transactionId": "order-id-123",
            "appId": "shop.example",
            "amount": "1000",
            "currency": "JPY",
            "notifyUrl": receiver.url,
            "payerInfo": json.dumps({"paymentMethod": "alipay", "terminalType": "WEB"}),
            "userInfo": json.dumps({"ip": "127.0.0.1"}),
            "orderInfo": json.dumps({"subject": "Matcha whisk"}),
        }
        text = "&".join(f"{k}={fields[k]}" for k in sorted(fields))
        fields["sign"] = hashlib.md5(f"{text}&pkey=k".encode()).hexdigest()
        reply = requests.post(
            f"{server.base_url}/api",
            data=urlencode(fields),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=5,
        ).json()
        page = requests.get(reply["redirectUrl"], timeout=5).text
        assert 'id="description">Matcha whisk<' in page
        assert "1000 JPY" in page
        assert "UseePay" in page
    finally:
        server.shutdown()
        server.server_close()
