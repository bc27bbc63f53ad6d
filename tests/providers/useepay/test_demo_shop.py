"""How the demo shop (local/shop.py) names UseePay: among the storefront's choices, in its list of
orders, and as the payment on an order's page."""

from __future__ import annotations

from local.testing import OrderForm, kits, order_page, shop_page

ORDER = {
    "order_id": "o-1",
    "provider": "useepay",
    "status": "pending",
    "amount": {"value": 1250, "currency": "EUR"},
    "description": "Tea",
    "created_at": "2026-11-22T10:00:00.000000Z",
}


def test_the_storefront_offers_it_by_name() -> None:
    body = shop_page(sorted(kits()), OrderForm(provider="useepay")).body
    assert '<option value="useepay" selected>UseePay</option>' in body


def test_the_storefront_lists_its_orders_by_name() -> None:
    body = shop_page(sorted(kits()), recent=[ORDER]).body
    assert "<td>UseePay</td></tr>" in body


def test_the_order_page_names_the_payment() -> None:
    assert "<dd>Alipay via UseePay</dd>" in order_page(ORDER, left_checkout=False).body
