"""The sharded due index against moto: every shard is read and merged oldest due first, a page stays
bounded, paging and successive runs reach every due item, and an item still under the index's old
single key is read until a check moves it to its shard."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from payments.clock import iso
from payments.engine import Engine, event
from payments.flows.reconcile import ReconcileFlow
from payments.orders import OrderStatus
from payments.schedule import LEGACY_DUE_PARTITION, due_partition, due_partitions
from payments.store.orders import DueItem, OrdersStore
from payments.store.shards import SHARD_COUNT
from payments.store.table import Table
from tests.conftest import Stack
from tests.support.orders import stored_order
from tests.support.providers import ANY_PROVIDER

CREATED = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LATER = CREATED + timedelta(hours=1)  # every order made below is due by then


@pytest.fixture
def store(stack: Stack) -> OrdersStore:
    return OrdersStore(Table(stack.table_name))


def open_order(store: OrdersStore, order_id: str, created: datetime = CREATED) -> None:
    order = stored_order(order_id, created, provider=ANY_PROVIDER)
    order.status = OrderStatus.PENDING
    order.expires_at = iso(created + timedelta(days=30))
    assert store.create(order, event("order_created", "merchant", created)) is None


def ids_in_shard(partition: str, count: int, prefix: str) -> list[str]:
    """`count` order ids whose due items fall in `partition`."""
    found: list[str] = []
    index = 0
    while len(found) < count:
        candidate = f"{prefix}-{index}"
        if due_partition(candidate) == partition:
            found.append(candidate)
        index += 1
    return found


def queried(store: OrdersStore, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """The due index's partitions each Query asked for."""
    asked: Counter[str] = Counter()
    call = store.table.call

    def counted(operation: str, **request: Any) -> Any:
        if request.get("IndexName") == "DueIndex":
            asked[request["ExpressionAttributeValues"][":due"]["S"]] += 1
        return call(operation, **request)

    monkeypatch.setattr(store.table, "call", counted)
    return asked


def page_through(store: OrdersStore, limit: int) -> list[list[DueItem]]:
    pages: list[list[DueItem]] = []
    cursor = None
    while True:
        page = store.due_items(LATER, limit, cursor)
        pages.append(page.items)
        if page.cursor is None:
            return pages
        cursor = page.cursor


def test_a_page_reads_every_shard_and_merges_oldest_due_first(
    store: OrdersStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(40):
        open_order(store, f"m-{index}", CREATED + timedelta(seconds=index))
    asked = queried(store, monkeypatch)
    page = store.due_items(LATER, 10)
    assert set(asked) == set(due_partitions())
    assert len(asked) == SHARD_COUNT + 1
    assert len(page.items) == 10
    assert [item.due_at for item in page.items] == sorted(item.due_at for item in page.items)
    assert page.cursor is not None


def test_paging_on_gives_every_due_item_once_each_page_bounded(store: OrdersStore) -> None:
    made = [f"p-{index}" for index in range(45)]
    for index, order_id in enumerate(made):
        open_order(store, order_id, CREATED + timedelta(seconds=index % 7))
    pages = page_through(store, 8)
    assert all(len(page) <= 8 for page in pages)
    listed = [item.order_id for page in pages for item in page]
    assert sorted(listed) == sorted(made)  # each once
    assert not store.due_items(CREATED, 8).items  # nothing due before its first check


def test_a_shard_with_a_backlog_does_not_hold_up_the_others(store: OrdersStore) -> None:
    backlog_shard = due_partition("backlog")
    for order_id in ids_in_shard(backlog_shard, 60, "old"):  # older than everything else
        open_order(store, order_id, CREATED - timedelta(hours=1))
    others = [f"new-{index}" for index in range(80)]
    for order_id in others:
        open_order(store, order_id, CREATED)
    other_shards = {due_partition(order_id) for order_id in others} - {backlog_shard}
    first = store.due_items(LATER, 40).items
    assert len(first) == 40
    # Each shard got its share of the page: every other shard's oldest item is on it.
    assert other_shards <= {due_partition(item.order_id) for item in first}
    # Merged, the backlog's older items still come first within the page.
    assert [item.due_at for item in first] == sorted(item.due_at for item in first)


class UnknowingProvider:
    """Answers every query with "no such order": each check is counted and the order waits."""

    name = ANY_PROVIDER

    def __init__(self) -> None:
        from tests.support.providers import capabilities_with

        self.capabilities = capabilities_with(withdraws_unclear_creates=False, expiry_grace_seconds=900)
        self.asked: Counter[str] = Counter()

    def query(self, order: Any) -> None:
        self.asked[order.order_id] += 1


def test_successive_bounded_runs_reach_every_due_order(store: OrdersStore) -> None:
    made = [f"r-{index}" for index in range(50)]
    for order_id in made:
        open_order(store, order_id)
    provider = UnknowingProvider()

    class Directory:
        def get(self, name: str) -> Any:
            return provider

    run = ReconcileFlow(store, Directory(), Engine(store, lambda: CREATED + timedelta(minutes=5)))  # type: ignore[arg-type]
    runs = 0
    while len(provider.asked) < len(made) and runs < 10:
        report = run.run(12, lambda: 100.0, 1.0)
        assert report.checked <= 12
        runs += 1
    assert set(provider.asked) == set(made)
    assert max(provider.asked.values()) == 1  # a checked order waits for its next check: not asked again
    assert runs == 5  # ceil(50 / 12): every run took its full share


def test_an_item_under_the_old_single_key_is_read_and_moved_to_its_shard(
    stack: Stack, store: OrdersStore
) -> None:
    open_order(store, "legacy-1")
    store.table.client.update_item(
        TableName=stack.table_name,
        Key={"pk": {"S": "ORDER#legacy-1"}, "sk": {"S": "ORDER"}},
        UpdateExpression="SET due_pk = :legacy",
        ExpressionAttributeValues={":legacy": {"S": LEGACY_DUE_PARTITION}},
    )
    page = store.due_items(LATER, 5)
    assert [item.order_id for item in page.items] == ["legacy-1"]
    order = store.get("legacy-1")
    assert order is not None
    assert store.record_check(order)
    item = store.table.client.get_item(
        TableName=stack.table_name, Key={"pk": {"S": "ORDER#legacy-1"}, "sk": {"S": "ORDER"}}
    )["Item"]
    assert item["due_pk"]["S"] == due_partition("legacy-1") != LEGACY_DUE_PARTITION
