"""GET /orders through the real handler and moto's DynamoDB: every filter on the index made for it,
the search by order id, provider reference and refund id, pages that give every order once while
orders are created, and refused queries (422 naming the field)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from payments.clock import iso
from payments.engine import Plan
from payments.facts import RefundStatus
from payments.ledger import MERCHANT, Refund, reserve
from payments.money import Money
from payments.orders import OrderEvent, OrderStatus
from payments.store.order_items import order_key
from payments.store.order_listing import listing_attributes
from payments.store.orders import OrdersStore
from payments.store.table import Table
from tests.conftest import Stack
from tests.support.lambdas import Api
from tests.support.orders import stored_order
from tests.support.providers import ANOTHER_PROVIDER, ANY_PROVIDER

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(stack: Stack) -> OrdersStore:
    return OrdersStore(Table(stack.table_name))


def created(store: OrdersStore, order_id: str, minutes: int, provider: str = ANY_PROVIDER) -> None:
    at = START + timedelta(minutes=minutes)
    order = stored_order(order_id, at, provider=provider)
    assert store.create(order, OrderEvent(type="order_created", at=iso(at), source="test")) is None


def change(store: OrdersStore, order_id: str, decide: Callable[[Plan], object]) -> None:
    found = store.get_with_refunds(order_id)
    assert found is not None
    order, refunds = found
    plan = Plan(
        order, iso(START), OrderEvent(type="test", at=iso(START), source="test"), initial_refunds=refunds
    )
    decide(plan)
    store.commit(plan)


def listed(api: Api, **query: str) -> dict[str, Any]:
    reply = api.request("GET", "/orders", query=list(query.items()))
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.json()
    return body


def ids(api: Api, **query: str) -> list[str]:
    return [order["order_id"] for order in listed(api, **query)["orders"]]


@pytest.fixture
def orders(store: OrdersStore) -> OrdersStore:
    """o-0 … o-5, a minute apart: two paid (one with a reference), one flagged, one of another provider."""
    for minute in range(6):
        created(store, f"o-{minute}", minute, ANOTHER_PROVIDER if minute == 5 else ANY_PROVIDER)
    change(store, "o-1", lambda plan: plan.move(OrderStatus.PAID, changes={"provider_reference": "PSP-771"}))
    change(store, "o-2", lambda plan: plan.move(OrderStatus.PAID))
    change(store, "o-3", lambda plan: plan.flag("amount_mismatch", event_type="amount_mismatch", reason="t"))
    change(store, "o-4", lambda plan: plan.move(OrderStatus.PENDING))
    return store


def test_every_filter_is_served_newest_first(api: Api, orders: OrdersStore) -> None:
    assert ids(api) == ["o-5", "o-4", "o-3", "o-2", "o-1", "o-0"]
    assert ids(api, status="paid") == ["o-2", "o-1"]
    assert ids(api, provider=ANOTHER_PROVIDER) == ["o-5"]
    assert ids(api, provider=ANY_PROVIDER, status="created") == ["o-3", "o-0"]
    assert ids(api, flag="amount_mismatch") == ["o-3"]
    assert ids(api, flag="amount_mismatch", status="paid") == []
    assert ids(api, flag="late_payment") == []
    assert ids(api, flag="any") == ["o-3"]
    assert ids(
        api, created_from=iso(START + timedelta(minutes=2)), created_to="2026-11-01T10:04:00+01:00"
    ) == [
        "o-4",
        "o-3",
        "o-2",
    ]
    assert ids(api, status="paid", created_to=iso(START + timedelta(minutes=1))) == ["o-1"]


def test_a_summary_shows_what_the_list_needs_and_explains_its_flags(api: Api, orders: OrdersStore) -> None:
    body = listed(api, flag="amount_mismatch")
    (order,) = body["orders"]
    assert order == {
        "order_id": "o-3",
        "provider": ANY_PROVIDER,
        "wallet": "alipay_cn",
        "status": "created",
        "amount": {"value": 1000, "currency": "EUR"},
        "refunded_amount": {"value": 0, "currency": "EUR"},
        "flags": ["amount_mismatch"],
        "created_at": iso(START + timedelta(minutes=3)),
        "updated_at": order["updated_at"],
    }
    assert "provider's dashboard" in body["flag_notes"]["amount_mismatch"]


def test_a_status_change_moves_the_order_between_the_status_indexes(api: Api, orders: OrdersStore) -> None:
    change(orders, "o-4", lambda plan: plan.move(OrderStatus.FAILED))
    assert "o-4" not in ids(api, status="pending")
    assert ids(api, status="failed") == ["o-4"]
    assert ids(api, provider=ANY_PROVIDER, status="failed") == ["o-4"]


def test_search_by_order_id_provider_reference_and_refund_id(api: Api, orders: OrdersStore) -> None:
    refund = Refund(
        "refund-9", "o-2", Money(300, "EUR"), RefundStatus.PENDING, MERCHANT, "key-9", iso(START), iso(START)
    )
    change(orders, "o-2", lambda plan: reserve(plan, refund))
    assert ids(api, q="o-3") == ["o-3"]
    assert ids(api, q="PSP-771") == ["o-1"]
    assert ids(api, q="refund-9") == ["o-2"]
    assert ids(api, q="refund-9", status="failed") == []
    assert ids(api, q="nothing like it") == []
    assert listed(api, q="o-3")["next_after"] is None


def test_pages_give_every_order_once_while_orders_are_created(api: Api, store: OrdersStore) -> None:
    """Between two page reads, orders are created newer than every page, older than the cursor, and at
    the cursor's very time: none is listed twice, none that was there before the first page is missed,
    and those older than the cursor come on a later page."""
    for minute in range(24):
        created(store, f"p-{minute:02d}", minute * 2, ANY_PROVIDER if minute % 3 else ANOTHER_PROVIDER)
    before = {f"p-{minute:02d}" for minute in range(24)}
    seen: list[tuple[str, str]] = []
    older_than_cursor: set[str] = set()
    after: str | None = None
    for page in range(20):
        body = listed(api, limit="7", **({"after": after} if after else {}))
        seen.extend((order["created_at"], order["order_id"]) for order in body["orders"])
        after = body["next_after"]
        if after is None:
            break
        cursor_minute = int((datetime.fromisoformat(after.split("#")[0]) - START).total_seconds() // 60)
        created(store, f"new-{page}", 1000 + page)  # newer than every page: not in this listing
        created(store, f"same-{page}", cursor_minute)  # the cursor's time; its id decides the side
        if cursor_minute > 1:
            created(store, f"old-{page}", cursor_minute - 1)  # older than the cursor: a later page
            older_than_cursor.add(f"old-{page}")
    listed_ids = [order_id for _, order_id in seen]
    assert len(listed_ids) == len(set(listed_ids)), "an order on two pages"
    assert before <= set(listed_ids), f"missing: {sorted(before - set(listed_ids))}"
    assert older_than_cursor <= set(listed_ids)
    assert not any(order_id.startswith("new-") for order_id in listed_ids)
    assert seen == sorted(seen, reverse=True), "not newest first"


def test_a_page_is_newest_first_across_shards_and_ends_with_null(api: Api, store: OrdersStore) -> None:
    for minute in range(9):
        created(store, f"s-{minute}", minute)
    first = listed(api, limit="5")
    second = listed(api, limit="5", after=first["next_after"])
    assert [o["order_id"] for o in first["orders"]] == ["s-8", "s-7", "s-6", "s-5", "s-4"]
    assert [o["order_id"] for o in second["orders"]] == ["s-3", "s-2", "s-1", "s-0"]
    assert second["next_after"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "settled"),
        ("flag", "odd"),
        ("provider", "nobody"),
        ("created_from", "yesterday"),
        ("created_from", "2026-11-01"),
        ("created_to", "2026-11-01T10:00:00"),
        ("limit", "0"),
        ("limit", "101"),
        ("limit", "ten"),
        ("after", "2026-11-01T10:00:00.000000Z"),
        ("after", "garbage#o-1"),
        ("q", ""),
        ("q", "x" * 201),
        ("q", "a\nb"),
        ("sort", "asc"),
    ],
)
def test_an_invalid_filter_is_a_422_naming_the_field(api: Api, stack: Stack, field: str, value: str) -> None:
    reply = api.request("GET", "/orders", query=[(field, value)])
    assert reply.status == 422, reply.body
    error = reply.json()["error"]
    assert error["code"] == "invalid_field"
    assert error["field"] == field
    assert error["message"].startswith(f"{field}: ")


def test_created_to_before_created_from_is_refused(api: Api, stack: Stack) -> None:
    reply = api.request(
        "GET",
        "/orders",
        query=[("created_from", "2026-11-02T00:00:00Z"), ("created_to", "2026-11-01T00:00:00Z")],
    )
    assert reply.status == 422
    assert reply.json()["error"]["field"] == "created_to"


def test_without_the_api_key_nothing_is_listed(api: Api, stack: Stack) -> None:
    assert api.request("GET", "/orders", api_key=None).status == 403


def test_no_order_is_listed_twice_when_its_flags_change_between_pages(api: Api, orders: OrdersStore) -> None:
    first = listed(api, limit="3")
    change(orders, "o-1", lambda plan: plan.flag("late_payment", event_type="x", reason="y"))
    rest = listed(api, limit="3", after=first["next_after"])
    seen = [o["order_id"] for o in first["orders"] + rest["orders"]]
    assert seen == ["o-5", "o-4", "o-3", "o-2", "o-1", "o-0"]


def test_an_order_stored_before_the_indexes_is_listed_from_its_next_change(
    api: Api, store: OrdersStore, stack: Stack
) -> None:
    created(store, "old-1", 0)
    client = boto3.client("dynamodb")
    client.update_item(  # as an order written before this release: none of the index attributes
        TableName=stack.table_name,
        Key=order_key("old-1"),
        UpdateExpression="REMOVE " + ", ".join(listing_attributes(store.get("old-1")).keys()),  # type: ignore[arg-type]
    )
    assert ids(api) == []
    change(store, "old-1", lambda plan: plan.move(OrderStatus.PENDING))
    assert ids(api) == ["old-1"]
    assert ids(api, status="pending", provider=ANY_PROVIDER) == ["old-1"]
