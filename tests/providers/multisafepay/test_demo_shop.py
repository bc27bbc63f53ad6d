"""How the demo shop (local/shop.py) names MultiSafepay: among the storefront's choices, in its list of
orders, and as the payment on an order's page."""

from __future__ import annotations

from local.testing import OrderForm, kits, order_page, shop_page

ORDER = {
    "order_id": "o-1",
    "provider": "multisafepay",
    "status": "pending",
    "amount": {"value": 1250, "currency": "EUR"},
    "description": "Tea",
    "created_at": "2026-11-22T10:00:00.000000Z",
}


def test_the_storefront_offers_it_by_name() -> None:
    body = shop_page(sorted(kits()), OrderForm(provider="multisafepay")).body
    assert '<option value="multisafepay" selected>MultiSafepay</option>' in body


def test_the_storefront_lists_its_orders_by_name() -> None:
    body = shop_page(sorted(kits()), recent=[ORDER]).body
    assert "<td>MultiSafepay</td></tr>" in body


def test_the_order_page_names_the_payment() -> None:
    assert "<dd>Alipay via MultiSafepay</dd>" in order_page(ORDER, left_checkout=False).body
