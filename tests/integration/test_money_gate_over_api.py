"""The money gate through the real handlers, for every provider whose protocol brings the case: a
repeated mismatched report is a repeat, and an order cancelled here at a provider without a cancel call
is still asked about until its checkout has closed (payments/flows/gate.py,
payments/flows/cancellation.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from local.testing import SignedNotification
from payments.providers import provider_class
from tests.support.shop_kit import Shop
from tests.support.store import order_item

LATER = timedelta(minutes=3)


def post(shop: Shop, statement: SignedNotification) -> int:
    reply = shop.api.request(
        statement.method, statement.url, body=statement.body, headers=dict(statement.headers), api_key=None
    )
    return reply.status


def events_of(shop: Shop, order_id: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in shop.read(order_id)["events"] if e["type"] == kind]


def test_a_mismatched_payment_reported_again_is_recorded_once(shop: Shop) -> None:
    """The provider's retries of a report at another amount, then the reconciler reading the same answer
    at each of its checks: one history line, one flag, and the order as it was."""
    shop.create("mm-1")
    shop.kit.restate_amount(shop.sandbox, "mm-1", 100)  # paid at the provider at 100 of our 1000
    report = shop.kit.statement(shop.sandbox, "mm-1", "paid")
    assert [post(shop, report) for _ in range(3)] == [200, 200, 200]
    for minutes in (3, 11, 31):
        shop.reconcile(timedelta(minutes=minutes))
    order = shop.read("mm-1")
    assert order["status"] == "pending"
    assert order["flags"] == ["amount_mismatch"]
    assert len(events_of(shop, "mm-1", "amount_mismatch")) == 1


def cancelled_here(shop: Shop, order_id: str) -> None:
    shop.create(order_id)
    reply = shop.cancel(order_id)
    assert (reply.status, reply.json()["status"]) == (200, "cancelled"), reply.body


def has_cancel_call(shop: Shop) -> bool:
    return provider_class(shop.provider).documented_capabilities.cancels_unpaid_orders


def test_a_payment_after_a_local_cancel_is_found_as_a_late_payment(shop: Shop, stack: Any) -> None:
    cancelled_here(shop, "wc-1")
    item = order_item(stack.table_name, "wc-1")
    assert item is not None
    if has_cancel_call(shop):  # withdrawn at the provider: nothing left to watch
        assert "due_at" not in item
        return
    assert item["watch_until"] > item["expires_at"]  # until the checkout has surely closed
    shop.sandbox.pay_silently("wc-1")  # paid on the provider's page; the notification is lost
    report = shop.reconcile(LATER)
    assert (report["checked"], report["changed"]) == (1, 1)
    order = shop.read("wc-1")
    assert order["status"] == "paid"
    assert "late_payment" in order["flags"]
    assert "due_at" not in (order_item(stack.table_name, "wc-1") or {})


def test_a_watched_order_leaves_the_due_index_once_its_checkout_has_closed(shop: Shop, stack: Any) -> None:
    if has_cancel_call(shop):
        return  # tested above: never watched
    cancelled_here(shop, "wc-2")
    item = order_item(stack.table_name, "wc-2") or {}
    closes = item["watch_until"]
    checked = 0
    for minutes in (3, 11, 40):  # its checks: at 2 and 10 minutes, then once when the checkout closed
        checked += shop.reconcile(timedelta(minutes=minutes))["checked"]
    assert checked == 3
    item = order_item(stack.table_name, "wc-2") or {}
    assert (item["status"], item.get("due_at"), item["watch_until"]) == ("cancelled", None, closes)
    assert shop.reconcile(timedelta(hours=2))["checked"] == 0


def test_sync_asks_about_an_order_cancelled_here_while_it_is_watched(shop: Shop) -> None:
    cancelled_here(shop, "wc-3")
    if has_cancel_call(shop):  # withdrawn at the provider: a final order, answered as it is
        calls = len(shop.sandbox.calls_for("wc-3"))
        assert shop.sync("wc-3").json()["status"] == "cancelled"
        assert len(shop.sandbox.calls_for("wc-3")) == calls
        return
    shop.sandbox.pay_silently("wc-3")
    order = shop.sync("wc-3").json()
    assert order["status"] == "paid"
    assert "late_payment" in order["flags"]
