"""Every wallet Antom offers, through the real handlers and Antom's sandbox, for the whole life of an
order: created (its own paymentMethodType, its own cashier page), paid, refunded in part and in full;
another order cancelled; another paid silently and found by a sync; another found by reconciliation.
A wallet the merchant's contract does not list (`wallets` in the secret entry) is refused before Antom
is called."""

from __future__ import annotations

from typing import Any

from local.providers.antom.sandbox import AntomSandbox
from payments.providers.antom.adapter import WALLET_TYPES
from tests.conftest import Stack
from tests.support.lambdas import Api
from tests.support.orders import order_body
from tests.support.secrets import PROVIDER_SECRET
from tests.support.shop_kit import Shop


def create(api: Api, order_id: str, wallet: str) -> dict[str, Any]:
    reply = api.request("POST", "/orders", body=order_body(order_id, provider="antom", wallet=wallet))
    assert reply.status == 201, reply.body
    order: dict[str, Any] = reply.json()
    return order


def test_every_wallet_lives_a_whole_order_through_antom(api: Api, antom: AntomSandbox) -> None:
    shop = Shop("antom", antom, api)
    for wallet, method_type in WALLET_TYPES.items():
        paid = f"{wallet}-paid"
        order = create(api, paid, wallet)
        assert order["wallet"] == wallet
        assert antom.payments[paid]["request"]["paymentMethod"] == {"paymentMethodType": method_type}
        assert f"/cashier/{method_type.lower().replace('_', '-')}?" in order["payment_url"]
        antom.pay(paid)
        assert shop.deliver() == [200]
        assert (
            shop.refund(paid, "r-1", amount={"value": 300, "currency": "EUR"}).json()["status"] == "succeeded"
        )
        assert shop.refund(paid, "r-2").json()["status"] == "succeeded"
        read = shop.read(paid)
        assert (read["status"], read["wallet"], read["refunded_amount"]["value"]) == (
            "refunded",
            wallet,
            1000,
        )

        cancelled = f"{wallet}-cancel"
        create(api, cancelled, wallet)
        assert shop.cancel(cancelled).json()["status"] == "cancelled"
        assert antom.status_of(cancelled) == "CANCELLED"

        synced = f"{wallet}-sync"
        create(api, synced, wallet)
        antom.pay_silently(synced)
        assert shop.sync(synced).json()["status"] == "paid"

        reconciled = f"{wallet}-rec"
        create(api, reconciled, wallet)
        antom.pay_silently(reconciled)
    shop.reconcile()
    assert {shop.read(f"{wallet}-rec")["status"] for wallet in WALLET_TYPES} == {"paid"}


def test_a_wallet_the_contract_does_not_list_is_refused_before_antom_is_called(
    api: Api, antom: AntomSandbox, stack: Stack
) -> None:
    stack.put_secret({**PROVIDER_SECRET, "antom": {**PROVIDER_SECRET["antom"], "wallets": ["gcash", "dana"]}})
    refused = api.request("POST", "/orders", body=order_body("w-no", provider="antom", wallet="alipay_cn"))
    assert (refused.status, refused.json()["error"]["code"]) == (422, "wallet_not_supported")
    assert refused.json()["error"]["message"] == "wallet: Antom offers gcash, dana, not alipay_cn"
    default = api.request("POST", "/orders", body=order_body("w-default", provider="antom"))
    assert default.json()["wallet"] == "gcash"  # no Alipay in the contract: its first wallet
    assert [call.body["paymentRequestId"] for call in antom.calls] == ["w-default"]
