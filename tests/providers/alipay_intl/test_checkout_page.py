"""Alipay's hosted cashier page, served by its sandbox over real HTTP (`SandboxServer`)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from local.providers.alipay_intl.checkout import AlipayIntlCheckout
from local.providers.alipay_intl.sandbox import AlipayIntlSandbox
from tests.providers.alipay_intl.fixtures import new_sandbox as new_alipay
from tests.support.sandbox_http import Receiver, control, receiving, serve


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as server:
        yield server


def test_alipay_cashier_cancel_sends_the_payer_back_unnotified(receiver: Receiver) -> None:
    sandbox: AlipayIntlSandbox = new_alipay()
    server = serve(sandbox, AlipayIntlCheckout(sandbox))
    try:
        sandbox.orders["t-1"] = {
            "merchantTransId": "t-1",
            "orderAmount": {"currency": "CNY", "value": "100000"},
            "request": {
                "order": {"orderTitle": "Tea set"},
                "merchantRedirectUrl": "http://shop.example/back",
                "notifyUrl": receiver.url,
            },
            "payStatus": "INIT",
            "acquirementId": None,
            "paymentTime": None,
            "paymentSiteUrl": f"{server.base_url}/cashier?merchant_trans_id=t-1&token=x",
        }
        page = requests.get(sandbox.orders["t-1"]["paymentSiteUrl"], timeout=5).text
        assert "1000.00 CNY" in page
        assert "Alipay" in page
        clicked = requests.post(f"{server.base_url}/_checkout/t-1/cancel", allow_redirects=False, timeout=5)
        assert (clicked.status_code, clicked.headers["Location"]) == (303, "http://shop.example/back")
        assert control(server, "t-1", "expire").json() == {"delivered": [], "dropped": 0}
        time.sleep(0.2)
        assert receiver.received == []
        view = requests.get(f"{server.base_url}/_control/t-1", timeout=5).json()
        assert view["status"] == "CLOSED"
    finally:
        server.shutdown()
        server.server_close()
