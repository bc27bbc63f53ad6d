"""Every provider's sandbox over real HTTP (`SandboxServer`), as the local stack serves it from its kit:
the control API and the checkout buttons answer alike for all. What one provider's sandbox does over
HTTP is tested in its folder, tests/providers/<name>/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.testing import ProviderKit, SandboxServer, kits, major_units
from tests.support.sandbox_http import control, serving


@pytest.fixture(params=sorted(kits()))
def server(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    kit: ProviderKit[Any, Any] = kits()[request.param]
    with serving(kit) as server:
        yield server


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


# -- checkout pages ------------------------------------------------------------------------------------------
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
