"""Every provider's sandbox over real HTTP (`SandboxServer`), as the local stack serves it from its kit:
the control API and the checkout buttons answer alike for all. What one provider's sandbox does over
HTTP is tested in its folder, tests/providers/<name>/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.testing import ProviderKit, SandboxServer, kits, major_units
from tests.support.sandbox_http import Receiver, control, receiving, serving

RETURN_URL = "http://shop.example/back"
Kit = ProviderKit[Any, Any]


@pytest.fixture(params=sorted(kits()))
def kit(request: pytest.FixtureRequest) -> Kit:
    return kits()[request.param]


@pytest.fixture
def server(kit: Kit) -> Iterator[SandboxServer]:
    with serving(kit) as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as server:
        yield server


def open_order(kit: Kit, server: SandboxServer, receiver: Receiver, order_id: str = "o-1") -> str:
    """An unpaid order at the served sandbox; its payment page URL."""
    with server.lock:
        return kit.open_order(
            server.sandbox, order_id, notify_url=receiver.url, return_url=RETURN_URL, description="Tea set"
        )


def test_the_control_api_answers_for_an_order_the_sandbox_does_not_know(server: SandboxServer) -> None:
    assert control(server, "ghost", "pay").status_code == 404
    assert control(server, "ghost", "timeout_once").status_code == 200  # may be armed ahead
    assert control(server, "ghost", "teleport").status_code == 400
    assert requests.get(f"{server.base_url}/_control/ghost", timeout=5).status_code == 404


def test_checkout_buttons_answer_for_unknown_orders_and_actions(server: SandboxServer) -> None:
    clicked = requests.post(f"{server.base_url}/_checkout/ghost/pay", allow_redirects=False, timeout=5)
    assert (clicked.status_code, clicked.json()) == (404, {"error": "unknown order"})
    odd = requests.post(f"{server.base_url}/_checkout/ghost/teleport", allow_redirects=False, timeout=5)
    assert (odd.status_code, odd.json()) == (400, {"error": "unknown checkout action teleport"})


def test_each_broken_kind_is_a_knob_that_sends_it(
    kit: Kit, server: SandboxServer, receiver: Receiver
) -> None:
    """The doctor's knobs: every kind of broken notification the provider's scheme allows, sent to the
    notify URL by `POST /_control/{order_id}/broken_<kind>`; an unknown kind is an unknown action."""
    open_order(kit, server, receiver)
    kinds = list(kit.broken_kinds(server.sandbox))
    for kind in kinds:
        answer = control(server, "o-1", f"broken_{kind}")
        assert answer.status_code == 200, answer.text
        assert [sent["what"] for sent in answer.json()["delivered"]] == [f"a notification broken: {kind}"]
    assert len(receiver.received) == len(kinds)
    assert control(server, "o-1", "broken_teleported").status_code == 400


# -- the outbox, over HTTP ----------------------------------------------------------------------------------
def test_drop_redeliver_and_deliver_twice(kit: Kit, server: SandboxServer, receiver: Receiver) -> None:
    open_order(kit, server, receiver)
    assert control(server, "o-1", "redeliver").status_code == 409  # nothing sent yet
    assert control(server, "o-1", "drop_next_notification").json() == {"delivered": [], "dropped": 0}
    assert control(server, "o-1", "pay").json() == {"delivered": [], "dropped": 1}
    assert receiver.received == []
    again = control(server, "o-1", "redeliver").json()
    assert [d["status"] for d in again["delivered"]] == [200]
    twice = control(server, "o-1", "deliver_twice").json()
    assert [d["status"] for d in twice["delivered"]] == [200, 200]
    assert len(receiver.wait_for(3)) == 3


def test_a_payer_action_on_a_closed_order_is_refused(
    kit: Kit, server: SandboxServer, receiver: Receiver
) -> None:
    open_order(kit, server, receiver)
    assert control(server, "o-1", "pay").status_code == 200
    refused = control(server, "o-1", "expire")
    assert refused.status_code == 409
    assert set(refused.json()) == {"error"}
    assert control(server, "o-1", "timeout_once", "?hang_seconds=soon").status_code == 400
    assert control(server, "o-1", "timeout_once", "?hang_seconds=-1").status_code == 400


def test_the_sandbox_view(kit: Kit, server: SandboxServer, receiver: Receiver) -> None:
    open_order(kit, server, receiver)
    control(server, "o-1", "pay_silently")
    view = requests.get(f"{server.base_url}/_control/o-1", timeout=5).json()
    assert view["status"] == kit.outcomes["paid"][0]
    assert view["calls"] == []  # the order was opened without a create call
    assert view["notifications"] == {"made": 0, "dropped": 0, "waiting": 0}
    time.sleep(0.2)
    assert receiver.received == []  # silently


# -- checkout pages -----------------------------------------------------------------------------------------
def test_the_checkout_page_shows_the_order_and_closes_once_paid(
    kit: Kit, server: SandboxServer, receiver: Receiver
) -> None:
    url = open_order(kit, server, receiver)
    page = requests.get(url, timeout=5)
    assert page.status_code == 200
    assert kit.display_name in page.text
    assert "12.50 EUR" in page.text
    assert 'id="description">Tea set<' in page.text
    for button in ("pay", "cancel", "fail", "expire"):
        assert f'id="{button}" type="submit">' in page.text
    clicked = requests.post(f"{server.base_url}/_checkout/o-1/pay", allow_redirects=False, timeout=5)
    assert (clicked.status_code, clicked.headers["Location"]) == (303, RETURN_URL)
    assert len(receiver.wait_for(1)) == 1  # the payment's notification
    closed = requests.get(url, timeout=5).text
    assert 'id="closed">This order can no longer be paid.' in closed
    assert not [button for button in ("pay", "cancel", "fail", "expire") if f'id="{button}"' in closed]
    again = requests.post(f"{server.base_url}/_checkout/o-1/pay", allow_redirects=False, timeout=5)
    assert again.status_code == 409
    assert 'id="closed"' in again.text
    assert 'id="pay"' not in again.text


@pytest.mark.parametrize("outcome", ["cancel", "fail", "expire"])
def test_a_checkout_closed_otherwise_shows_no_buttons_either(
    kit: Kit, server: SandboxServer, receiver: Receiver, outcome: str
) -> None:
    """A cancelled checkout once still showed its four buttons (disabled): a page that can no longer
    take a payer's action offers none. A provider whose order stays payable after the
    payer leaves (no notification: see tests/e2e/provider_facts.py) still offers them."""
    url = open_order(kit, server, receiver)
    requests.post(f"{server.base_url}/_checkout/o-1/{outcome}", allow_redirects=False, timeout=5)
    with server.lock:
        still_open = server.checkout.view("o-1").payable
    page = requests.get(url, timeout=5).text
    assert ('id="pay"' in page) is still_open
    assert ('id="closed"' in page) is not still_open


def test_every_sandbox_answers_a_browsers_icon_request_with_no_icon(server: SandboxServer) -> None:
    """Without it a checkout page's console shows an error (the provider APIs answer 401/404/405)."""
    icon = requests.get(f"{server.base_url}/favicon.ico", timeout=5)
    assert (icon.status_code, icon.content) == (204, b"")


# -- amounts -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (1250, "EUR", "12.50 EUR"),
        (5, "USD", "0.05 USD"),
        (0, "CNY", "0.00 CNY"),
        (1000, "JPY", "1000 JPY"),
        (1005, "KWD", "1.005 KWD"),
        (-1, "EUR", "-0.01 EUR"),
        (10**20 + 1, "EUR", "1000000000000000000.01 EUR"),  # no float would get this right
    ],
)
def test_major_units(minor: int, currency: str, shown: str) -> None:
    assert major_units(minor, currency) == shown
