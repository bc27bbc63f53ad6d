"""MultiSafepay's sandbox over real HTTP (`SandboxServer`): the control API, the outbox delivered after
replies, a lost reply closing the connection, and its checkout page. A small receiver stands in for
the merchant; nothing of our adapters or Lambda functions runs here."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests

from local.providers.multisafepay.checkout import MultiSafepayCheckout
from local.providers.multisafepay.sandbox import MultiSafepaySandbox
from local.testing import SandboxServer
from tests.support.sandbox_http import Receiver, control, receiving, serve

KEY = "msp-server-key"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as server:
        yield server


@pytest.fixture
def msp_server() -> Iterator[SandboxServer]:
    sandbox = MultiSafepaySandbox(api_key=KEY)
    server = serve(sandbox, MultiSafepayCheckout(sandbox))
    sandbox.checkout_base = f"{server.base_url}/connect/"
    yield server
    server.shutdown()
    server.server_close()


def msp_create(server: SandboxServer, receiver: Receiver, order_id: str = "o-1", locale: str = "") -> str:
    body = {
        "type": "redirect",
        "gateway": "ALIPAY",
        "order_id": order_id,
        "currency": "EUR",
        "amount": 1250,
        "description": "Tea set",
        "payment_options": {
            "notification_url": receiver.url,
            "redirect_url": "http://shop.example/back",
            "cancel_url": "http://shop.example/cancelled",
        },
        "customer": {"locale": locale} if locale else {},
    }
    reply = requests.post(f"{server.base_url}/v1/json/orders", json=body, headers={"api_key": KEY}, timeout=5)
    assert reply.status_code == 200
    url: str = reply.json()["data"]["payment_url"]
    return url


# -- the outbox, over HTTP ----------------------------------------------------------------------------------
def test_a_refunds_notification_is_delivered_after_the_reply(
    msp_server: SandboxServer, receiver: Receiver
) -> None:
    msp_create(msp_server, receiver)
    paid = control(msp_server, "o-1", "pay").json()
    assert paid["dropped"] == 0
    assert [(d["status"], d["body"]) for d in paid["delivered"]] == [(200, "OK")]
    reply = requests.post(
        f"{msp_server.base_url}/v1/json/orders/o-1/refunds",
        json={"currency": "EUR", "amount": 250, "description": "r"},
        headers={"api_key": KEY},
        timeout=5,
    )
    assert reply.status_code == 200
    received = receiver.wait_for(2)
    assert len(received) == 2
    path, body = received[1]
    assert path.startswith("/notify?transactionid=o-1&timestamp=")
    assert (json.loads(body)["status"], json.loads(body)["amount_refunded"]) == ("partial_refunded", 250)


def test_drop_redeliver_and_deliver_twice(msp_server: SandboxServer, receiver: Receiver) -> None:
    msp_create(msp_server, receiver)
    assert control(msp_server, "o-1", "drop_next_notification").json() == {"delivered": [], "dropped": 0}
    assert control(msp_server, "o-1", "pay").json() == {"delivered": [], "dropped": 1}
    assert receiver.received == []
    again = control(msp_server, "o-1", "redeliver").json()
    assert [d["status"] for d in again["delivered"]] == [200]
    twice = control(msp_server, "o-1", "deliver_twice").json()
    assert [d["status"] for d in twice["delivered"]] == [200, 200]
    assert len(receiver.wait_for(3)) == 3


def test_control_errors(msp_server: SandboxServer, receiver: Receiver) -> None:
    assert control(msp_server, "ghost", "pay").status_code == 404
    assert control(msp_server, "ghost", "timeout_once").status_code == 200  # may be armed ahead
    msp_create(msp_server, receiver)
    assert control(msp_server, "o-1", "redeliver").status_code == 409  # nothing sent yet
    assert control(msp_server, "o-1", "teleport").status_code == 400
    assert control(msp_server, "o-1", "pay").status_code == 200
    refused = control(msp_server, "o-1", "expire")
    assert (refused.status_code, refused.json()) == (409, {"error": "the order is completed"})
    assert control(msp_server, "o-1", "timeout_once", "?hang_seconds=soon").status_code == 400
    assert control(msp_server, "o-1", "timeout_once", "?hang_seconds=-1").status_code == 400


def test_the_sandbox_view(msp_server: SandboxServer, receiver: Receiver) -> None:
    assert requests.get(f"{msp_server.base_url}/_control/o-1", timeout=5).status_code == 404
    msp_create(msp_server, receiver)
    control(msp_server, "o-1", "pay_silently")
    view = requests.get(f"{msp_server.base_url}/_control/o-1", timeout=5).json()
    assert view["status"] == "completed"
    assert view["calls"] == [{"operation": "create", "outcome": "ok", "reply_lost": False}]
    assert view["notifications"] == {"made": 0, "dropped": 0, "waiting": 0}


# -- a lost reply --------------------------------------------------------------------------------------------
def test_timeout_once_closes_the_connection_without_an_answer(
    msp_server: SandboxServer, receiver: Receiver
) -> None:
    msp_create(msp_server, receiver)
    control(msp_server, "o-1", "pay")
    control(msp_server, "o-1", "timeout_once")
    with pytest.raises(requests.ConnectionError):
        requests.post(
            f"{msp_server.base_url}/v1/json/orders/o-1/refunds",
            json={"currency": "EUR", "amount": 250},
            headers={"api_key": KEY},
            timeout=5,
        )
    view = requests.get(f"{msp_server.base_url}/_control/o-1", timeout=5).json()
    assert view["calls"][-1] == {"operation": "refund", "outcome": "ok", "reply_lost": True}
    assert [r["amount"] for r in view["refunds"]] == [250]  # processed all the same
    assert len(receiver.wait_for(2)) == 2  # and its notification still goes out


def test_timeout_once_can_hold_the_connection_past_the_callers_read_timeout(
    msp_server: SandboxServer, receiver: Receiver
) -> None:
    msp_create(msp_server, receiver)
    control(msp_server, "o-1", "timeout_once", "?hang_seconds=1")
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{msp_server.base_url}/v1/json/orders/o-1", headers={"api_key": KEY}, timeout=(2, 0.3))
    assert time.monotonic() - started < 1
    again = requests.get(f"{msp_server.base_url}/v1/json/orders/o-1", headers={"api_key": KEY}, timeout=5)
    assert again.status_code == 200  # once only


# -- its checkout page ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("locale", "words"),
    [
        # English first, MultiSafepay's words for the payer's locale beside: readable without CJK fonts.
        ("zh_CN", ['>Pay <span class="locale" lang="zh">支付</span>', "取消", "沙盒收银台", "金额"]),
        ("cn_CN", ['>Cancel <span class="locale" lang="zh">取消</span>', "退款"]),
        ("", ['type="submit">Pay</button>', "Cancel", "Sandbox checkout", "No refunds."]),
    ],
)
def test_multisafepay_checkout_follows_the_customer_locale(
    msp_server: SandboxServer, receiver: Receiver, locale: str, words: list[str]
) -> None:
    page = requests.get(msp_create(msp_server, receiver, locale=locale), timeout=5)
    assert page.status_code == 200
    for word in words:
        assert word in page.text
    assert "12.50 EUR" in page.text
    assert "MultiSafepay" in page.text
    assert "Tea set" in page.text
    for button in ("pay", "cancel", "fail", "expire"):
        assert f'id="{button}"' in page.text
    assert "disabled" not in page.text


def test_the_checkout_lists_refunds_and_closes_once_paid(
    msp_server: SandboxServer, receiver: Receiver
) -> None:
    url = msp_create(msp_server, receiver)
    order_id = "o-1"
    clicked = requests.post(
        f"{msp_server.base_url}/_checkout/{order_id}/pay", allow_redirects=False, timeout=5
    )
    assert (clicked.status_code, clicked.headers["Location"]) == (303, "http://shop.example/back")
    for amount in (250, 300):
        requests.post(
            f"{msp_server.base_url}/v1/json/orders/o-1/refunds",
            json={"currency": "EUR", "amount": amount, "refund_order_id": f"rf-{amount}"},
            headers={"api_key": KEY},
            timeout=5,
        )
    page = requests.get(url, timeout=5).text
    assert 'id="refunds"' in page
    assert "rf-250" in page
    assert "2.50 EUR" in page
    assert "3.00 EUR" in page
    assert "succeeded" in page
    assert "This order can no longer be paid." in page
    assert 'id="pay"' not in page
    again = requests.post(f"{msp_server.base_url}/_checkout/{order_id}/pay", allow_redirects=False, timeout=5)
    assert again.status_code == 409
    assert "the order is partial_refunded" in again.text


def test_multisafepay_cancel_button_goes_to_the_cancel_url(
    msp_server: SandboxServer, receiver: Receiver
) -> None:
    msp_create(msp_server, receiver)
    clicked = requests.post(f"{msp_server.base_url}/_checkout/o-1/cancel", allow_redirects=False, timeout=5)
    assert (clicked.status_code, clicked.headers["Location"]) == (303, "http://shop.example/cancelled")
    assert json.loads(receiver.wait_for(1)[0][1])["status"] == "void"
