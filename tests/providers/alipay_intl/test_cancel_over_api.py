"""A cancel with Alipay through the real handlers: a payment Alipay notifies after our cancel is checked
with Alipay (payQuery) before it is applied."""

from __future__ import annotations

from typing import Any

from tests.support.lambdas import Api
from tests.support.shop_kit import Shop


def test_alipay_confirms_a_payment_notified_after_a_cancel(api: Api, alipay: Any) -> None:
    shop = Shop("alipay_intl", alipay, api)
    shop.create("c-5")
    assert shop.cancel("c-5").status == 200
    genuine_but_stale = alipay.notification("c-5", "SUCCESS")  # e.g. a retry of an old delivery
    alipay.orders["c-5"]["payStatus"] = "CANCELLED"  # what Alipay holds: closed by payCancel
    reply = api.request(
        "POST",
        genuine_but_stale.url,
        body=genuine_but_stale.body,
        headers=genuine_but_stale.headers,
        api_key=None,
    )
    assert reply.status == 200
    assert shop.read("c-5")["status"] == "cancelled"  # payQuery said cancelled: not applied
