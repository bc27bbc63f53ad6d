"""Resuming a create whose outcome was unclear: what the provider holds goes through the same gate as a
notification (audit findings 5, 6, 8, 11), one request at a time."""

from __future__ import annotations

import time

from local.providers.multisafepay.sandbox import MultiSafepaySandbox
from payments.flows.creation import RESUMABLE
from payments.store.orders import OrdersStore
from payments.store.table import Table
from tests.conftest import Stack
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.orders import order_body


def creates(msp: MultiSafepaySandbox) -> int:
    return sum(1 for call in msp.calls if call.method == "POST" and call.path.endswith("/orders"))


def read(api: Api, order_id: str) -> dict[str, object]:
    order: dict[str, object] = api.request("GET", f"/orders/{order_id}").json()
    return order


def test_a_resumed_order_held_at_another_amount_is_flagged_never_paid(
    api: Api, msp: MultiSafepaySandbox, link: ProviderLink
) -> None:
    """Finding 5: the provider holds our id at 0.01 EUR, completed; our order is 10.00 EUR."""
    link.inject("read_timeout_after_processing")
    assert api.request("POST", "/orders", body=order_body("r-5", provider="multisafepay")).status == 504
    msp.orders["r-5"]["amount"] = 1
    msp.set_status("r-5", "completed")
    retry = api.request("POST", "/orders", body=order_body("r-5", provider="multisafepay"))
    assert retry.status == 502
    assert retry.json()["error"]["code"] == "provider_amount_mismatch"
    order = read(api, "r-5")
    assert order["status"] == "unknown"
    assert order["flags"] == ["amount_mismatch"]


def test_an_id_taken_at_multisafepay_is_asked_about_through_the_gate(
    api: Api, msp: MultiSafepaySandbox
) -> None:
    """Findings 5 and 11: error 1006 (the id is taken) is a question for MultiSafepay, whose answer
    passes the gate: here completed at our amount, so `paid` — not `pending` with `completed`."""
    held_at_provider(api, msp, "r-1006", amount=1000)
    reply = api.request("POST", "/orders", body=order_body("r-1006", provider="multisafepay"))
    assert reply.status == 201, reply.body
    assert reply.json()["status"] == "paid"
    assert creates(msp) == 2  # the seed's, then ours (refused: 1006); then a query, never another create


def test_an_id_taken_at_another_amount_is_not_paid(api: Api, msp: MultiSafepaySandbox) -> None:
    held_at_provider(api, msp, "r-1006b", amount=1)
    reply = api.request("POST", "/orders", body=order_body("r-1006b", provider="multisafepay"))
    assert (reply.status, reply.json()["error"]["code"]) == (502, "provider_amount_mismatch")
    assert read(api, "r-1006b")["status"] == "unknown"


def test_a_second_retry_while_the_first_talks_to_the_provider_waits(
    api: Api, msp: MultiSafepaySandbox, link: ProviderLink, stack: Stack
) -> None:
    """Finding 8: one request at a time talks to the provider about an order."""
    link.inject("connect_timeout")  # MultiSafepay never saw it
    assert api.request("POST", "/orders", body=order_body("r-8", provider="multisafepay")).status == 504
    now = int(time.time())
    store = OrdersStore(Table(stack.table_name))
    assert store.acquire_lease("r-8", RESUMABLE, now, now + 60)  # another retry
    calls = len(msp.calls)
    reply = api.request("POST", "/orders", body=order_body("r-8", provider="multisafepay"))
    assert (reply.status, reply.json()["error"]["code"]) == (409, "request_in_progress")
    assert len(msp.calls) == calls  # neither a query nor a create
    assert read(api, "r-8")["status"] == "unknown"


def test_a_refused_repeat_create_asks_before_failing_the_order(
    api: Api, msp: MultiSafepaySandbox, link: ProviderLink
) -> None:
    """Finding 8: a retry that finds nothing, creates, and is refused because another attempt's order
    now holds the id, asks again: the live order is resumed, never `failed`."""
    link.inject("read_timeout_after_processing")
    assert api.request("POST", "/orders", body=order_body("r-8b", provider="multisafepay")).status == 504
    held = msp.orders.pop("r-8b")  # the first query will not find it (replicated late, say)
    original = msp.handle

    def query_then_reappear(method: str, url: str, headers: dict[str, str], body: bytes | None):  # type: ignore[no-untyped-def]
        reply = original(method, url, headers, body)
        if method == "GET":
            msp.orders["r-8b"] = held  # by the time we create, MultiSafepay has it
        return reply

    msp.handle = query_then_reappear  # type: ignore[method-assign]
    retry = api.request("POST", "/orders", body=order_body("r-8b", provider="multisafepay"))
    assert retry.status == 200, retry.body
    assert retry.json()["status"] == "pending"
    assert retry.json()["payment_url"]


def held_at_provider(api: Api, msp: MultiSafepaySandbox, order_id: str, amount: int) -> None:
    """MultiSafepay holds `order_id`, completed at `amount`, though we never stored it: an order made
    by an attempt whose first write here was lost."""
    assert (
        api.request("POST", "/orders", body=order_body(f"{order_id}-seed", provider="multisafepay")).status
        == 201
    )
    msp.orders[order_id] = {**msp.orders[f"{order_id}-seed"], "order_id": order_id, "amount": amount}
    msp.set_status(order_id, "completed")
