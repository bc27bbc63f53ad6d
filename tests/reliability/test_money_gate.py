"""2b. The money gate, where a provider's reports do not add up on their own: a refund reported for a
payment of another amount, refunds completed in another order than they were asked, and a payment
made after a cancel at a provider that has no cancel call. Through the real handlers, for every
provider whose protocol can bring the case (its adapter's capabilities say which)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.testing import SignedNotification, kit_of, kits
from payments.orders import OrderStatus
from payments.providers import provider_class
from payments.providers.capabilities import RefundReporting
from tests.reliability.report import FIGURES
from tests.support.lambdas import Api
from tests.support.orders import order_body
from tests.support.store import history, order_item

ORDER_AMOUNT = 1000


def capabilities(name: str) -> Any:
    return provider_class(name).documented_capabilities


def deliver(api: Api, sandbox: Any) -> None:
    for note in sandbox.take_notifications():
        api.request(note.method, note.url, body=note.body, headers=note.headers, api_key=None)


def post(api: Api, statement: SignedNotification) -> int:
    headers = dict(statement.headers)
    return api.request(
        statement.method, statement.url, body=statement.body, headers=headers, api_key=None
    ).status


def create(api: Api, provider: str, order_id: str, **body: Any) -> None:
    reply = api.request("POST", "/orders", body=order_body(order_id, provider=provider, **body))
    assert reply.status == 201, reply.body


# -- a refund never proves a payment of another amount -------------------------------------------------
def report_implying_payment(provider: str, sandbox: Any, order_id: str) -> SignedNotification:
    """The provider's genuine report of a refund of `order_id`: its own refund event, or its order
    report that the order was partly refunded."""
    kit = kit_of(provider)
    event = kit.refund_statement(sandbox, order_id, "rf-1", 1)
    return event or kit.statement(sandbox, order_id, "partially_refunded")


REPORTS_REFUNDS = [
    name for name in kits() if capabilities(name).refunds_reported != RefundReporting.WHEN_ASKED
]
MISMATCH_ORDERS = 6
DELIVERIES = 3  # each report delivered three times: the provider's retries


@pytest.mark.parametrize("provider", REPORTS_REFUNDS)
def test_a_refund_never_proves_a_payment_of_another_amount(
    api: Api, all_providers: dict[str, Any], stack: Any, provider: str
) -> None:
    sandbox = all_providers[provider]
    applied = paid_claims = unflagged = repeat_lines = 0
    for index in range(MISMATCH_ORDERS):
        order_id = f"rbm-{index}"
        create(api, provider, order_id)
        deliver(api, sandbox)
        # The provider holds the order paid at a tenth of our amount, says so, then reports a refund.
        kit_of(provider).restate_amount(sandbox, order_id, ORDER_AMOUNT // 10)
        assert post(api, kit_of(provider).statement(sandbox, order_id, "paid")) == 200
        report = report_implying_payment(provider, sandbox, order_id)
        assert post(api, report) == 200  # recorded (flagged): acknowledged, never left to retry
        _, first = history(stack.table_name, order_id)
        for _ in range(DELIVERIES - 1):
            post(api, report)
        order, events = history(stack.table_name, order_id)
        repeat_lines += len(events) - len(first)
        moved = order.status not in (OrderStatus.CREATED, OrderStatus.PENDING)
        money = order.refunded_value or order.reserved_value
        applied += int(moved or bool(money))
        paid_claims += sum(1 for line in events if line.to_status == OrderStatus.PAID)
        unflagged += int("amount_mismatch" not in order.flags)
    FIGURES.add("gate.mismatch.orders", MISMATCH_ORDERS)
    FIGURES.add("gate.mismatch.deliveries", MISMATCH_ORDERS * DELIVERIES)
    FIGURES.add("gate.mismatch.applied", applied)
    FIGURES.add("gate.mismatch.paid_claims", paid_claims)
    FIGURES.add("gate.mismatch.unflagged", unflagged)
    FIGURES.add("gate.mismatch.repeat_lines", repeat_lines)
    assert (applied, paid_claims, unflagged, repeat_lines) == (0, 0, 0, 0)


# -- refunds completed in any order ---------------------------------------------------------------------
# Refunds reported by the provider (by event, or as the order's refunded total); those reported only
# when asked complete in whatever order they are asked about.
OUT_OF_ORDER_RUNS = 10
REFUND_AMOUNTS = (50, 100, 150, 200, 250)  # sums collide: which refunds a total stands for is unclear


@pytest.mark.parametrize("provider", REPORTS_REFUNDS)
def test_refunds_completed_in_any_order_add_up(
    api: Api, all_providers: dict[str, Any], stack: Any, provider: str
) -> None:
    sandbox = all_providers[provider]
    rng = random.Random(f"out-of-order-{provider}")
    wrong_total = held_after = nobody_made = unsettled = completions = 0
    for run in range(OUT_OF_ORDER_RUNS):
        order_id = f"ooo-{run}"
        create(api, provider, order_id)
        sandbox.pay(order_id)
        deliver(api, sandbox)
        sandbox.hold_refunds(order_id)
        amounts = rng.sample(REFUND_AMOUNTS, rng.randint(2, 4))
        for number, value in enumerate(amounts):
            body = {"refund_id": f"r-{number}", "amount": {"value": value, "currency": "EUR"}}
            reply = api.request("POST", f"/orders/{order_id}/refunds", body=body)
            assert reply.status == 201, reply.body
        deliver(api, sandbox)
        keys = [view.merchant_refund_id for view in sandbox.refunds(order_id)]
        rng.shuffle(keys)
        for key in keys:  # the provider completes them in a random order, each reported
            sandbox.release_refund(order_id, key)
            deliver(api, sandbox)
            completions += 1
            order, _ = history(stack.table_name, order_id)
            refunds = api.request("GET", f"/orders/{order_id}").json()["refunds"]
            succeeded = sum(r["amount"]["value"] for r in refunds if r["status"] == "succeeded")
            wrong_total += int(order.refunded_value != succeeded)
            wrong_total += int(order.refunded_value + order.reserved_value != sum(amounts))
        nobody_made += sum(1 for r in refunds if r["origin"] != "merchant")
        unsettled += sum(1 for r in refunds if r["status"] != "succeeded")
        held_after += int(order.reserved_value != 0)
    FIGURES.add("gate.out_of_order.runs", OUT_OF_ORDER_RUNS)
    FIGURES.add("gate.out_of_order.completions", completions)
    FIGURES.add("gate.out_of_order.total_wrong", wrong_total)
    FIGURES.add("gate.out_of_order.held_after", held_after)
    FIGURES.add("gate.out_of_order.nobody_made", nobody_made)
    FIGURES.add("gate.out_of_order.unsettled", unsettled)
    assert (wrong_total, held_after, nobody_made, unsettled) == (0, 0, 0, 0)


# -- a payment after a cancel at a provider with no cancel call -----------------------------------------
NO_CANCEL_CALL = [name for name in kits() if not capabilities(name).cancels_unpaid_orders]
WATCHED_ORDERS = 12  # two in three paid after the cancel, at a random moment of the checkout's life
LIFETIME = timedelta(seconds=600)
INTERVAL = timedelta(minutes=5)  # the reconciler's schedule (template.yaml ReconcileSchedule)
RUNS_UNTIL = timedelta(minutes=45)


@pytest.mark.parametrize("provider", NO_CANCEL_CALL)
def test_a_payment_after_a_local_cancel_is_found(
    api: Api, all_providers: dict[str, Any], stack: Any, provider: str
) -> None:
    sandbox = all_providers[provider]
    rng = random.Random(f"watch-{provider}")
    started = datetime.now(UTC)
    paid_at: dict[str, timedelta] = {}
    unpaid: list[str] = []
    for index in range(WATCHED_ORDERS):
        order_id = f"w-{index}"
        create(api, provider, order_id, expires_in_seconds=int(LIFETIME.total_seconds()))
        assert api.request("POST", f"/orders/{order_id}/cancel").json()["status"] == "cancelled"
        if index % 3:
            paid_at[order_id] = timedelta(seconds=rng.uniform(0, LIFETIME.total_seconds()))
        else:
            unpaid.append(order_id)
    reconcile = api.functions["ReconcileFunction"]
    found: dict[str, timedelta] = {}
    offset = timedelta(0)
    paid: set[str] = set()
    while offset <= RUNS_UNTIL:
        for order_id, moment in paid_at.items():
            if moment <= offset and order_id not in paid:
                sandbox.pay_silently(order_id)  # the payer pays; the notification is lost
                paid.add(order_id)
        reconcile.module.service.clock = lambda offset=offset: started + offset
        reconcile.run({})
        for order_id in paid_at:
            order, _ = history(stack.table_name, order_id)
            if order.status == OrderStatus.PAID and order_id not in found:
                found[order_id] = offset
        offset += INTERVAL
    missed = [order_id for order_id in paid_at if order_id not in found]
    late = [order_id for order_id, at in found.items() if at > LIFETIME + INTERVAL]
    unflagged = sum(
        1 for order_id in found if "late_payment" not in history(stack.table_name, order_id)[0].flags
    )
    still_due = [
        order_id
        for order_id in unpaid
        if history(stack.table_name, order_id)[0].status != OrderStatus.CANCELLED
    ] + [order_id for order_id in unpaid if due_at(stack, order_id)]
    FIGURES.add("gate.watch.orders", WATCHED_ORDERS)
    FIGURES.add("gate.watch.paid", len(paid_at))
    FIGURES.add("gate.watch.missed", len(missed))
    FIGURES.add("gate.watch.late", len(late))
    FIGURES.add("gate.watch.unflagged", unflagged)
    FIGURES.add("gate.watch.unpaid_still_watched", len(still_due))
    assert (missed, late, unflagged, still_due) == ([], [], 0, [])


def due_at(stack: Any, order_id: str) -> str | None:
    """When the reconciler's index has the order due (None: not in it)."""
    item = order_item(stack.table_name, order_id)
    return item.get("due_at") if item else None
