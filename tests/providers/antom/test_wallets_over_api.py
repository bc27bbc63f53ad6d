"""Every wallet Antom offers, for the whole life of an order: created (its own paymentMethodType, its
own cashier page), paid, refunded in part and in full; another order cancelled; another paid silently
and found by asking (a sync, reconciliation). A wallet the merchant's contract does not list
(`wallets` in the secret entry) is refused before Antom is called."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from local.providers.antom.sandbox import AntomSandbox
from payments.facts import CancelResult, RefundFact, RefundStatus
from payments.flows.creation import new_order
from payments.ledger import MERCHANT, Refund
from payments.money import Money
from payments.orders import OrderStatus
from payments.providers.antom.adapter import WALLET_TYPES
from payments.providers.base import RefundContext
from payments.providers.capabilities import order_wallet
from tests.conftest import Stack
from tests.providers.antom.fixtures import (
    NOTIFY_URL,
    NOW,
    context_for,
    create_request,
    make_adapter,
    raw_request,
)
from tests.support.lambdas import Api
from tests.support.orders import order_body
from tests.support.secrets import PROVIDER_SECRET
from tests.support.shop_kit import Shop


def create(api: Api, order_id: str, wallet: str) -> dict[str, Any]:
    reply = api.request("POST", "/orders", body=order_body(order_id, provider="antom", wallet=wallet))
    assert reply.status == 201, reply.body
    order: dict[str, Any] = reply.json()
    return order


def test_every_wallet_lives_a_whole_order_at_antom() -> None:
    """Below the handlers (the service's part is the same for every wallet, and tested over the API
    below): each wallet's payment is made under its paymentMethodType on its own cashier page, paid,
    refunded in part and in full; another cancelled; another found paid by asking."""
    adapter, http = make_adapter()
    sandbox = http.sandbox
    for wallet, method_type in WALLET_TYPES.items():
        request = create_request(f"{wallet}-paid", wallet=wallet)
        order = new_order(request, NOW, 840, order_wallet(request, adapter.capabilities))
        made = adapter.create_payment(order, context_for(request))
        assert (
            sandbox.payments[order.order_id]["request"]["paymentMethod"]["paymentMethodType"] == method_type
        )
        assert f"/cashier/{method_type.lower().replace('_', '-')}?" in str(made.payment_url)
        sandbox.pay(order.order_id)
        [sent] = sandbox.take_notifications()
        assert (
            adapter.parse_notification(raw_request(sent.headers, sent.body, sent.url)).status
            == OrderStatus.PAID
        )
        paid = replace(order, provider_reference=made.provider_reference)
        for refund_id, value in (("r-1", 300), ("r-2", 700)):
            key = adapter.refund_key(order.order_id, refund_id)
            refund = Refund(
                refund_id, order.order_id, Money(value, "EUR"), RefundStatus.UNKNOWN, MERCHANT, key, "", ""
            )
            [fact] = adapter.refund(paid, refund, RefundContext(NOTIFY_URL, NOW)).facts
            assert isinstance(fact, RefundFact)
            assert fact.status == RefundStatus.SUCCEEDED
        assert [view.amount for view in sandbox.refunds(order.order_id)] == [300, 700]
        cancelled = new_order(create_request(f"{wallet}-cancel", wallet=wallet), NOW, 840, wallet)
        adapter.create_payment(cancelled, context_for(request))
        assert adapter.cancel(cancelled) == CancelResult.WITHDRAWN
        asked = new_order(create_request(f"{wallet}-ask", wallet=wallet), NOW, 840, wallet)
        adapter.create_payment(asked, context_for(request))
        sandbox.pay_silently(asked.order_id)
        found = adapter.query(asked)
        assert found is not None
        assert found.status == OrderStatus.PAID


def test_a_wallet_lives_a_whole_order_through_the_handlers(api: Api, antom: AntomSandbox) -> None:
    shop = Shop("antom", antom, api)
    paid = create(api, "gcash-paid", "gcash")
    assert (paid["wallet"], antom.payments["gcash-paid"]["wallet"]) == ("gcash", "GCASH")
    antom.pay("gcash-paid")
    assert shop.deliver() == [200]
    assert (
        shop.refund("gcash-paid", "r-1", amount={"value": 300, "currency": "EUR"}).json()["status"]
        == "succeeded"
    )
    assert shop.refund("gcash-paid", "r-2").json()["status"] == "succeeded"
    assert (shop.read("gcash-paid")["status"], shop.read("gcash-paid")["wallet"]) == ("refunded", "gcash")
    create(api, "gcash-cancel", "gcash")
    assert shop.cancel("gcash-cancel").json()["status"] == "cancelled"
    create(api, "gcash-sync", "gcash")
    antom.pay_silently("gcash-sync")
    assert shop.sync("gcash-sync").json()["status"] == "paid"
    create(api, "gcash-rec", "gcash")
    antom.pay_silently("gcash-rec")
    shop.reconcile()
    assert shop.read("gcash-rec")["status"] == "paid"


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
