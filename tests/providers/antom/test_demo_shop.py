"""How the demo shop (local/shop.py) names Antom and offers its wallets: among the storefront's
choices, in its list of orders, and as the payment and the wallet on an order's page."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from local.testing import Gateway, OrderForm, Reply, Template, kits, order_page, shop_page

ORDER = {
    "order_id": "o-1",
    "provider": "antom",
    "wallet": "gcash",
    "status": "pending",
    "amount": {"value": 1250, "currency": "EUR"},
    "description": "Tea",
    "created_at": "2026-11-22T10:00:00.000000Z",
}


def test_the_storefront_offers_it_by_name_with_its_wallets() -> None:
    body = shop_page(sorted(kits()), OrderForm(provider="antom", wallet="tng")).body
    assert '<option value="antom" selected>Antom (Alipay and Alipay+ wallets)</option>' in body
    group = re.search(
        r'<optgroup label="Antom \(Alipay and Alipay\+ wallets\)" data-provider="antom">(.*?)</optgroup>',
        body,
    )
    assert group is not None
    offered = re.findall(r'<option value="([a-z_]+)"', group.group(1))
    assert offered == [
        "alipay_cn",
        "alipay_hk",
        "gcash",
        "dana",
        "kakaopay",
        "truemoney",
        "tng",
        "bkash",
        "easypaisa",
    ]
    assert '<option value="tng" selected>Touch &#x27;n Go eWallet</option>' in group.group(1)


def test_the_storefront_lists_its_orders_by_name() -> None:
    body = shop_page(sorted(kits()), recent=[ORDER]).body
    assert "<td>Antom (Alipay and Alipay+ wallets)</td></tr>" in body


def test_the_order_page_names_the_payment_and_its_wallet() -> None:
    body = order_page(ORDER, left_checkout=False).body
    assert "<dd>Alipay via Antom</dd>" in body
    assert '<dd id="wallet">GCash</dd>' in body


def test_the_chosen_wallet_goes_into_the_order() -> None:
    gateway = Gateway([], Template().gateway_responses(), "key", 0, lambda line: None)
    sent: list[dict[str, Any]] = []

    def api(method: str, path: str, headers: list[tuple[str, str]], body: bytes | None) -> Reply:
        sent.append(json.loads(body or b"{}"))
        return Reply(
            201, {}, json.dumps({"payment_action": {"type": "redirect", "url": "https://x", "method": "GET"}})
        )

    try:
        gateway.shop.api = api
        for wallet in ("gcash", ""):
            fields = {"provider": "antom", "wallet": wallet, "amount": "12.50", "currency": "EUR"}
            form = urlencode({**fields, "description": "Tea"}).encode()
            answer = gateway.shop.route("POST", "/shop/pay", [], form)
            assert answer is not None
            assert answer[0] == 303
    finally:
        gateway.server_close()
    assert [body.get("wallet") for body in sent] == ["gcash", None]  # none: the provider's default
