"""How the demo shop (local/shop.py) names Alipay's international gateway: among the storefront's
choices, in its list of orders, and as the payment on an order's page."""

from __future__ import annotations

from local.testing import OrderForm, kits, order_page, shop_page

ORDER = {
    "order_id": "o-1",
    "provider": "alipay_intl",
    "status": "pending",
    "amount": {"value": 1250, "currency": "EUR"},
    "description": "Tea",
    "created_at": "2026-11-22T10:00:00.000000Z",
}


def test_the_storefront_offers_it_by_name() -> None:
    body = shop_page(sorted(kits()), OrderForm(provider="alipay_intl")).body
    assert '<option value="alipay_intl" selected>Alipay (international gateway)</option>' in body


def test_the_storefront_lists_its_orders_by_name() -> None:
    body = shop_page(sorted(kits()), recent=[ORDER]).body
    assert "<td>Alipay (international gateway)</td></tr>" in body


def test_the_order_page_names_the_payment() -> None:
    assert "<dd>Alipay, international gateway</dd>" in order_page(ORDER, left_checkout=False).body
