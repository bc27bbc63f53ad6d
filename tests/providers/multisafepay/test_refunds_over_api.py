"""Refunds with MultiSafepay through the real handlers: only a documented refusal proves that no refund
was made."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.shop_kit import Shop


def money(value: int) -> dict[str, Any]:
    return {"value": value, "currency": "EUR"}


@pytest.mark.parametrize(
    "reply",
    [
        'reply:400:{"success":false,"data":{},"error_code":9999,"error_info":"unknown"}',
        'reply:409:{"success":false,"data":{},"error_code":1006,"error_info":"Invalid transaction ID"}',
        "reply:403:<html>Forbidden</html>",
        'reply:429:{"success":false,"error_code":"http_429","error_info":"Too many requests"}',
    ],
)
def test_a_multisafepay_refund_error_that_proves_no_refusal_leaves_it_unknown(
    api: Api, msp: Any, link: ProviderLink, reply: str
) -> None:
    shop = Shop("multisafepay", msp, api)
    shop.paid("rf-msp")
    link.inject(reply)
    unclear = shop.refund("rf-msp", "r-1", amount=money(300))
    assert unclear.status == 502, unclear.body
    assert unclear.json()["error"]["code"] != "provider_rejected"
    order = shop.read("rf-msp")
    assert [(r["refund_id"], r["status"]) for r in order["refunds"]] == [("r-1", "unknown")]
    assert order["refundable_amount"] == money(700)  # still reserved: it may have been made
    again = shop.refund("rf-msp", "r-1", amount=money(300))
    assert (again.status, again.json()["status"]) == (200, "unknown")  # never a second refund
    assert shop.provider_refunds("rf-msp") == []
