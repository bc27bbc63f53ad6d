"""The operator's reads at size (moto): a filtered page of GET /orders with 1,000 and with 100,000 orders
in the table, and a day of 10,000 money movements read for GET /reports/daily in bounded pages.

The items are loaded directly with batch writes, shaped by the store's own item functions (not through
the handlers: 100,000 creates through the providers would measure the providers). The figure that
holds on DynamoDB is the reads: Query requests and the items they return, the same at any table size.
moto answers an index Query by reading every item of the table (at 100,000 orders, minutes a page),
where DynamoDB reads the partition asked for: once loaded, the tables here are read through a map of
each index partition's items (`PartitionedIndexes`), so that moto's time, like DynamoDB's, follows
the partitions read and not the table. The items, their order and the answers are moto's own.

`python -m bench.operator_reads` runs these rows alone and prints them.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws

from local.testing import Template, fit_moto_for_long_runs, table_arguments
from payments.clock import iso
from payments.money import Money
from payments.orders import Order, OrderEvent, OrderStatus
from payments.provider_names import provider_names
from payments.store.day_movements import MOVEMENTS_PAGE, DayMovements
from payments.store.order_items import event_item, order_item
from payments.store.order_listing import ANY_FLAG, OrderFilter, OrderListing
from payments.store.table import Table

SIZES = (1_000, int(os.environ.get("BENCH_OPERATOR_ORDERS", "100000")))
DAY_MOVEMENTS = int(os.environ.get("BENCH_DAY_MOVEMENTS", "10000"))
PAGE = 25
START = datetime(2026, 10, 1, tzinfo=UTC)
DAY = datetime(2026, 11, 5, tzinfo=UTC)
STATUSES = (
    OrderStatus.PAID,
    OrderStatus.PENDING,
    OrderStatus.EXPIRED,
    OrderStatus.CANCELLED,
    OrderStatus.REFUNDED,
)


class PartitionedIndexes:
    """moto's index Query, answered from the items of the partition asked for (see above): a map made
    once a table is loaded (the reads here write nothing), handed to moto's own query in place of the
    table's every item."""

    def __init__(self) -> None:
        self.partitions: dict[str, dict[tuple[str, str], list[Any]]] = {}
        from moto.dynamodb.models.table import Table as MotoTable

        original = MotoTable.query
        partitions = self.partitions

        def query(table: Any, *args: Any, **kwargs: Any) -> Any:
            mapped = partitions.get(table.name)
            conditions = kwargs.get("hash_key_conditions") or []
            index_name = args[7] if len(args) > 7 else kwargs.get("index_name")  # moto passes it 8th
            if mapped is None or not index_name or len(conditions) != 1:
                return original(table, *args, **kwargs)
            ((attribute, value),) = conditions
            items = mapped.get((attribute, value.value), [])
            table.all_items = lambda: iter(items)
            try:
                return original(table, *args, **kwargs)
            finally:
                del table.all_items

        MotoTable.query = query  # type: ignore[method-assign, assignment]

    def map(self, table_name: str) -> None:
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].tables[table_name]
        keys = {
            key["AttributeName"]
            for index in table.global_indexes
            for key in index.schema
            if key["KeyType"] == "HASH"
        }
        mapped: dict[tuple[str, str], list[Any]] = {}
        for item in table.all_items():
            for attribute in keys:
                value = item.attrs.get(attribute)
                if value is not None:
                    mapped.setdefault((attribute, value.value), []).append(item)
        self.partitions[table_name] = mapped


class MeteredTable(Table):
    """The table, counting Query requests and the items they returned (a merged read's Queries come
    from several threads: Table.query_each)."""

    queries = 0
    items = 0
    counting = threading.Lock()

    def call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        answer = super().call(operation, **kwargs)
        if operation == "query":
            with self.counting:
                self.queries += 1
                self.items += int(answer.get("Count", 0))
        return answer


def _order(index: int) -> Order:
    created = START + timedelta(seconds=index * 26)  # 100,000 orders over a month
    providers = provider_names()
    order = Order(
        order_id=f"bench-{index:07d}",
        provider=providers[index % len(providers)],
        status=STATUSES[index % len(STATUSES)],
        amount=Money(1000 + index % 5000, "EUR"),
        description="Tea",
        return_url=None,
        cancel_url=None,
        flow="redirect",
        terminal_type="WEB",
        request_hash="h",
        created_at=iso(created),
        updated_at=iso(created),
        expires_at=iso(created + timedelta(hours=1)),
        provider_reference=f"PSP-{index:07d}",
    )
    if index % 997 == 0:  # about 0.1 % flagged, as a shop that needs a person now and then
        order.flags = ("needs_attention",)
    return order


def _write(client: Any, table: str, items: Iterable[dict[str, Any]]) -> None:
    """Batch-write `items` as they are made: 100,000 orders' items held at once cost as much memory as
    moto's copy of them (the step's peak went over 2 GB)."""
    pending = iter(items)
    while batch := list(itertools.islice(pending, 25)):
        request = {table: [{"PutRequest": {"Item": item}} for item in batch]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def _timed(table: MeteredTable, read: Callable[[], Any]) -> dict[str, Any]:
    table.queries = table.items = 0
    started = time.perf_counter()
    found = read()
    return {
        "ms": round((time.perf_counter() - started) * 1000, 1),
        "queries": table.queries,
        "items_read": table.items,
        "returned": len(found),
    }


# At 100,000 orders moto takes minutes a page (see above): these rows only; all of them at 1,000.
BIG_ROWS = ("newest page", "status=paid&provider", "flag=any (sparse)", "q=provider reference")


def _pages(table: MeteredTable, size: int, rows: tuple[str, ...] | None) -> dict[str, Any]:
    listing = OrderListing(table)
    provider = provider_names()[0]
    newest = listing.page(OrderFilter(), PAGE, None) if rows is None else []
    hour_from = iso(START + timedelta(seconds=size * 13))
    hour_to = iso(START + timedelta(seconds=size * 13 + 3600))
    reads: dict[str, Callable[[], Any]] = {
        "newest page": lambda: listing.page(OrderFilter(), PAGE, None),
        "next page": lambda: listing.page(OrderFilter(), PAGE, str(newest[-1]["list_sk"])),
        "status=paid": lambda: listing.page(OrderFilter(status="paid"), PAGE, None),
        "status=paid&provider": lambda: listing.page(
            OrderFilter(status="paid", provider=provider), PAGE, None
        ),
        "flag=any (sparse)": lambda: listing.page(OrderFilter(flag=ANY_FLAG), PAGE, None),
        "created in one hour": lambda: listing.page(
            OrderFilter(created_from=hour_from, created_to=hour_to), PAGE, None
        ),
        "q=provider reference": lambda: listing.lookup(f"PSP-{size // 2:07d}"),
    }
    return {name: _timed(table, read) for name, read in reads.items() if rows is None or name in rows}


def _movements(client: Any, table_name: str, count: int, indexes: PartitionedIndexes) -> dict[str, Any]:
    items = []
    for index in range(count):
        order = _order(10_000_000 + index)
        order.status = OrderStatus.PAID
        at = iso(DAY + timedelta(seconds=index * 86_000 // count))
        paid = OrderEvent(
            type="notification",
            at=at,
            source="notification",
            seq=2,
            from_status=OrderStatus.PENDING,
            to_status=OrderStatus.PAID,
        )
        items.append(event_item(order.order_id, paid, order, recorded_at=at))
    _write(client, table_name, items)
    indexes.map(table_name)
    table = MeteredTable(table_name)
    store = DayMovements(table)
    row = _timed(table, lambda: store.between(DAY, DAY + timedelta(days=1)))
    row["movements"] = count
    row["items_per_query_at_most"] = MOVEMENTS_PAGE
    return row


def operator_reads() -> dict[str, Any]:
    fit_moto_for_long_runs()
    props = Template().resources["OrdersTable"]["Properties"]
    results: dict[str, Any] = {"list": {}}
    indexes = PartitionedIndexes()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        for size in SIZES:
            table_name = f"bench-operator-{size}"
            client.create_table(**table_arguments(props, table_name))
            started = time.perf_counter()
            _write(client, table_name, (order_item(_order(index)) for index in range(size)))
            print(
                f"  {size} orders loaded in {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )
            indexes.map(table_name)
            rows = None if size == SIZES[0] else BIG_ROWS
            results["list"][str(size)] = _pages(MeteredTable(table_name), size, rows)
            client.delete_table(TableName=table_name)
            indexes.partitions.pop(table_name, None)  # its items go with it
        # The day's movements in a table of their own: moto's time is then the reads', not the table's.
        client.create_table(**table_arguments(props, "bench-operator-day"))
        results["day"] = _movements(client, "bench-operator-day", DAY_MOVEMENTS, indexes)
    return results


if __name__ == "__main__":
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    print(json.dumps(operator_reads(), indent=2))
