"""Reconciliation through the real scheduled function and the sync route, for every provider: what a
notification never said is learnt by asking, through the same gate, recorded with its source."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import boto3

from local.testing import kit_of
from payments.orders import OPEN
from payments.providers.capabilities import RefundReporting
from payments.schedule import due_partitions
from payments.store.orders import OrdersStore
from payments.store.table import Table
from tests.conftest import Stack
from tests.support.link import ProviderLink
from tests.support.shop_kit import Shop

LATER = timedelta(minutes=3)  # past an item's first check (2 minutes after it was made)


def money(value: int) -> dict[str, Any]:
    return {"value": value, "currency": "EUR"}


def sources(shop: Shop, order_id: str) -> list[tuple[str, str | None]]:
    return [(e["source"], e.get("to_status")) for e in shop.read(order_id)["events"]]


def due(stack: Stack) -> list[str]:
    """What the due index holds (a Query of each of its shards, as the reconciler reads it)."""
    items = []
    for partition in due_partitions():
        page = boto3.client("dynamodb").query(
            TableName=stack.table_name,
            IndexName="DueIndex",
            KeyConditionExpression="due_pk = :due",
            ExpressionAttributeValues={":due": {"S": partition}},
        )
        items.extend(page["Items"])
    return [item["sk"]["S"] + "@" + item["pk"]["S"].removeprefix("ORDER#") for item in items]


def test_a_payment_whose_notification_was_lost_is_found_by_the_next_run(shop: Shop, stack: Stack) -> None:
    shop.create("rc-1")
    assert due(stack) == ["ORDER@rc-1"]
    shop.sandbox.pay_silently("rc-1")  # paid at the provider; no notification comes
    assert shop.reconcile(after=timedelta(seconds=30))["checked"] == 0  # not due yet
    report = shop.reconcile(LATER)
    assert (report["checked"], report["changed"]) == (1, 1)
    order = shop.read("rc-1")
    assert order["status"] == "paid"
    assert ("reconcile", "paid") in sources(shop, "rc-1")
    assert due(stack) == []  # final: off the index, never checked again
    assert shop.reconcile(LATER)["checked"] == 0


def test_an_order_never_paid_expires_after_its_expiry(shop: Shop, stack: Stack) -> None:
    shop.create("rc-2")
    report = shop.reconcile(LATER)  # still payable: checked, nothing changed, next check later
    assert (report["checked"], report["changed"]) == (1, 0)
    assert shop.read("rc-2")["status"] == "pending"
    shop.reconcile(timedelta(days=1))  # long past expires_at and the provider's grace
    order = shop.read("rc-2")
    assert order["status"] == "expired"
    assert order["events"][-1]["source"] == "reconcile"
    assert due(stack) == []


def test_a_refund_whose_result_was_never_notified_is_completed(shop: Shop, stack: Stack) -> None:
    shop.paid("rc-3")
    shop.sandbox.drop_next_notification("rc-3")
    if kit_of(shop.provider).capabilities.refunds_reported is RefundReporting.WHEN_ASKED:
        shop.sandbox.hold_refunds("rc-3")  # make it answer "unclear" instead
    first = shop.refund("rc-3", "r-1", amount=money(300))
    assert first.status in (201, 502), first.body
    shop.deliver()
    assert shop.read("rc-3")["refunds"][0]["status"] in ("pending", "unknown")
    if kit_of(shop.provider).capabilities.refunds_reported is RefundReporting.WHEN_ASKED:
        shop.sandbox.release_refunds("rc-3")
    shop.reconcile(LATER)
    order = shop.read("rc-3")
    assert [(r["refund_id"], r["status"]) for r in order["refunds"]] == [("r-1", "succeeded")]
    assert (order["status"], order["refunded_amount"]) == ("partially_refunded", money(300))
    assert len(shop.provider_refunds("rc-3")) == 1
    assert not [item for item in due(stack) if item.startswith("REFUND#")]


def test_a_create_that_timed_out_is_resolved_without_the_merchant_retrying(
    shop: Shop, link: ProviderLink
) -> None:
    link.inject("read_timeout_after_processing")  # the provider made it; we never heard
    body_status = shop.api.request("POST", "/orders", body=shop_body(shop, "rc-4")).status
    assert body_status == 504
    shop.reconcile(LATER)
    order = shop.read("rc-4")
    assert order["status"] == "pending"  # the provider holds it, unpaid
    assert order["events"][-1]["source"] == "reconcile"


def test_an_unclear_create_the_provider_never_saw(shop: Shop, link: ProviderLink) -> None:
    link.inject("connect_timeout")
    assert shop.api.request("POST", "/orders", body=shop_body(shop, "rc-5")).status == 504
    shop.reconcile(LATER)
    order = shop.read("rc-5")
    if kit_of(shop.provider).capabilities.withdraws_unclear_creates:
        # The provider's rule for an unclear create: cancel it, so that it can never be paid later.
        assert order["status"] == "cancelled"
        assert [call.operation for call in shop.sandbox.calls_for("rc-5")][-1] == "cancel"
    else:
        assert order["status"] == "unknown"  # left for the merchant's retry, or its expiry
        shop.reconcile(timedelta(days=1))
        assert shop.read("rc-5")["status"] == "expired"


def test_an_item_another_run_holds_is_checked_once(shop: Shop, stack: Stack) -> None:
    shop.create("rc-6")
    shop.sandbox.pay_silently("rc-6")
    now = int(time.time()) + int(LATER.total_seconds())
    assert OrdersStore(Table(stack.table_name)).acquire_lease("rc-6", OPEN, now, now + 60)  # a run at work
    report = shop.reconcile(LATER)
    assert (report["checked"], report["skipped"]) == (0, {"busy": 1})
    assert shop.read("rc-6")["status"] == "pending"
    report = shop.reconcile(LATER + timedelta(minutes=2))  # that run is over (its lease expired)
    assert (report["checked"], report["changed"]) == (1, 1)
    assert [s for s in sources(shop, "rc-6") if s == ("reconcile", "paid")] == [("reconcile", "paid")]


def test_sync_asks_the_provider_now(shop: Shop) -> None:
    shop.create("rc-7")
    shop.sandbox.pay_silently("rc-7")
    reply = shop.sync("rc-7")
    assert reply.status == 200, reply.body
    assert reply.json()["status"] == "paid"
    assert ("sync", "paid") in sources(shop, "rc-7")
    calls = len(shop.sandbox.calls_for("rc-7"))
    assert shop.sync("rc-7").json()["status"] == "paid"  # final: answered without asking
    assert len(shop.sandbox.calls_for("rc-7")) == calls
    missing = shop.sync("no-such-order")
    assert (missing.status, missing.json()["error"]["code"]) == (404, "order_not_found")
    bad = shop.api.request("POST", "/orders/rc-7/sync", body={"x": 1})
    assert (bad.status, bad.json()["error"]["code"]) == (422, "unknown_field")


def test_open_work_unresolved_for_seven_days_needs_a_person(shop: Shop, link: ProviderLink) -> None:
    """A refund that never reached the provider: its outcome unknown, the provider sees nothing."""
    shop.paid("rc-8")
    link.inject("connect_timeout")
    assert shop.refund("rc-8", "r-1", amount=money(100)).status == 504
    if kit_of(shop.provider).capabilities.looks_up_a_refund:
        return  # the provider shows it never got it: reconciliation sends it (tested above)
    for day in range(1, 15):
        shop.reconcile(timedelta(days=day, minutes=1))
    order = shop.read("rc-8")
    assert "needs_attention" in order["flags"]
    assert order["refunds"][0]["status"] == "unknown"
    assert [e["type"] for e in order["events"]].count("needs_attention") == 1


def shop_body(shop: Shop, order_id: str) -> dict[str, Any]:
    from tests.support.orders import order_body

    return order_body(order_id, provider=shop.provider)


def test_a_check_reads_the_order_once(shop: Shop) -> None:
    """The due index (a Query of each shard), the order with its refunds, the lease (which answers the
    order as leased), the provider, the commit: no second read of the order when the lease finds the
    version that was read."""
    shop.create("rc-once")
    shop.sandbox.pay_silently("rc-once")
    client = shop.api.functions["ReconcileFunction"].module.service.store.table.client
    calls: list[str] = []

    def record(**kwargs: Any) -> None:
        calls.append(kwargs["event_name"].rsplit(".", 1)[-1])

    client.meta.events.register("before-send.dynamodb", record)
    try:
        report = shop.reconcile(LATER)
    finally:
        client.meta.events.unregister("before-send.dynamodb", record)
    assert (report["checked"], report["changed"]) == (1, 1)
    assert calls == ["Query"] * len(due_partitions()) + ["Query", "UpdateItem", "TransactWriteItems"]
