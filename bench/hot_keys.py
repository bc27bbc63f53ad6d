"""Hot keys at a peak: 10,000 orders' lives driven through the real handlers in this process against moto
(create, the provider's notification, a status read, one in ten refunded, the merchant events published
from the table's stream), every DynamoDB write counted per partition key, for the table and for each
global secondary index; and the reconciler's and the GET /events listing's reads per partition key.

Counted from the requests sent (moto's entry point sees each one): a write to the table per item put,
updated or deleted (a transaction's items each), and a write to an index per change of an item's entry
there, read from the item before and after the request (an entry added or removed, or its key or
projected attributes changed: a key change is a delete and a put). DynamoDB serves about 1,000 write
units a second per partition: the figure that matters is the hottest key's share of all writes (target
≤ 1/16), not growing with the number of orders.

Each batch of orders runs on a fresh table (moto answers a Query by reading every item of the table: a
10,000-order table would make each request slower than the last); the counts add up over the batches.
At the end of each batch the reconciler reads its due index as a run does (every shard, merged, bounded
by the run's limit) while the batch's orders are open, and the listing is paged from the start.
Also measured here: the size of each kind of item as written (moto's reckoning of DynamoDB's item
size), for docs/capacity.md.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import boto3
from moto.core.botocore_stubber import BotocoreStubber
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType

from bench.providers import first_variants
from bench.requests_cost import Harness, _fresh_table, api_event, create_body, harness, notification_event

ORDERS = int(os.environ.get("BENCH_HOT_KEY_ORDERS", "10000"))  # smaller only for a quick run
BATCH = 10  # orders per fresh table: moto reads (and sorts) every item of a table for each Query
REFUND_EVERY = 10
# The reads are counted on one batch in this many (a reconciler run and a listing over that batch's
# table cost 33 Queries a page, most of the step's time if done for every batch).
READ_EVERY = 10
TARGET_SHARE = 1 / 16
WRITES = ("PutItem", "UpdateItem", "DeleteItem")
SIZE = "size"  # an item's state: its size beside its index entries
HASH_OF_CONDITION = re.compile(r"^\s*(#?\w+)\s*=\s*(:\w+)")


class KeyLoad:
    """Writes per partition key (the table's and each index's), and reads per partition key of the
    phase being counted; item sizes by kind."""

    def __init__(self) -> None:
        self.writes: dict[str, Counter[str]] = defaultdict(Counter)  # "table" or an index -> key -> writes
        # The same in write units: 1 per KB of the item (rounded up), twice that in a transaction; an
        # index entry (keys and a few projected attributes) is 1.
        self.units: dict[str, Counter[str]] = defaultdict(Counter)
        self.reads: dict[str, Counter[str]] = defaultdict(Counter)  # phase -> key -> queries
        self.read_items: dict[str, Counter[str]] = defaultdict(Counter)  # phase -> key -> items returned
        self.reading: str | None = None  # the phase whose reads are counted
        self.reads_lock = threading.Lock()  # a merged read's Queries come from several threads
        self.writes_lock = threading.RLock()  # and the publisher's writes
        self.sizes: dict[str, list[int]] = defaultdict(list)
        # The audit events committed, in order: what the table's stream hands the publish function.
        self.committed_events: list[dict[str, Any]] = []

    @contextmanager
    def counting(self) -> Iterator[None]:
        underlying = BotocoreStubber.__call__
        load = self

        def counted(stubber: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
            target = request.headers.get("X-Amz-Target") or b""
            target = target.decode() if isinstance(target, bytes) else target
            if not target.startswith("DynamoDB_"):
                return underlying(stubber, event_name, request, **kwargs)
            with load.writes_lock:  # the publisher keeps several orders' events at once, in threads
                return counted_here(stubber, event_name, request, target, **kwargs)

        def counted_here(
            stubber: BotocoreStubber, event_name: str, request: Any, target: str, **kwargs: Any
        ) -> Any:
            operation = target.split(".")[-1]
            body = json.loads(request.body or b"{}")
            region = request.url.split(".")[1]
            touched = load._touched(operation, body)
            before = {key: load._entries(region, *key) for key in touched}
            response = underlying(stubber, event_name, request, **kwargs)
            for key in touched:
                after = load._entries(region, *key)
                size = max(int(before[key].pop(SIZE) or 0), int(after.pop(SIZE) or 0), 1)
                load.writes["table"][key[1]] += 1
                load.units["table"][key[1]] += -(-size // 1024) * (
                    2 if operation == "TransactWriteItems" else 1
                )
                load._count_index_writes(before[key], after)
            if touched and response is not None and response.status_code == 200:
                load.committed_events.extend(_audit_events(operation, body))
            if operation == "Query" and load.reading is not None:
                load._count_read(load.reading, body, response)
            return response

        BotocoreStubber.__call__ = counted  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            BotocoreStubber.__call__ = underlying  # type: ignore[method-assign]

    @staticmethod
    def _touched(operation: str, body: dict[str, Any]) -> list[tuple[str, str, str]]:
        """(table, pk, sk) of each item a write request names."""
        items: list[tuple[str, Any]] = []
        if operation in WRITES:
            items.append((body["TableName"], body.get("Item") or body.get("Key")))
        elif operation == "TransactWriteItems":
            for entry in body["TransactItems"]:
                for kind, request in entry.items():
                    if kind in ("Put", "Update", "Delete"):
                        items.append((request["TableName"], request.get("Item") or request.get("Key")))
        return [(table, key["pk"]["S"], key["sk"]["S"]) for table, key in items]

    @staticmethod
    def _entries(region: str, table_name: str, pk: str, sk: str) -> dict[str, Any]:
        """The item's entry in each index: its key and projected attributes (None: not in it); and
        under SIZE, the item's size in bytes (0: no such item)."""
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].get_table(table_name)
        item = table.get_item(DynamoType({"S": pk}), DynamoType({"S": sk}))
        entries: dict[str, Any] = {SIZE: item.size() if item is not None else 0}
        for index in table.global_indexes:
            names = [key["AttributeName"] for key in index.schema]
            projected = index.projection.get("NonKeyAttributes") or []
            attrs = item.attrs if item is not None else {}
            if item is None or not all(name in attrs for name in names):
                entries[index.name] = None
                continue
            key = tuple(attrs[name].value for name in names)
            entries[index.name] = (
                key,
                tuple(json.dumps(attrs[n].to_json()) if n in attrs else None for n in projected),
            )
        return entries

    def _count_index_writes(
        self, before: dict[str, tuple[Any, ...] | None], after: dict[str, tuple[Any, ...] | None]
    ) -> None:
        for index in before.keys() | after.keys():
            old, new = before.get(index), after.get(index)
            if old == new:
                continue
            if old is not None and (new is None or old[0] != new[0]):
                self.writes[index][old[0][0]] += 1  # the old entry deleted
                self.units[index][old[0][0]] += 1
            if new is not None:
                self.writes[index][new[0][0]] += 1  # the new (or changed) entry written
                self.units[index][new[0][0]] += 1

    def _count_read(self, phase: str, body: dict[str, Any], response: Any) -> None:
        match = HASH_OF_CONDITION.match(body.get("KeyConditionExpression", ""))
        if match is None:
            return
        value = body["ExpressionAttributeValues"][match.group(2)]["S"]
        where = value  # the phase says which: the due index's shards, the table's listing shards
        returned = int(json.loads(response.content).get("Count", 0))
        with self.reads_lock:
            self.reads[phase][where] += 1
            self.read_items[phase][where] += returned

    def measure_sizes(self, table_name: str) -> None:
        """The size of each kind of item in the table now, as moto reckons DynamoDB's item size."""
        region = boto3.session.Session().region_name or "eu-west-1"
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].get_table(table_name)
        for item in table.all_items():
            sort_key = str(item.range_key.value) if item.range_key is not None else ""
            kind = (
                "order"
                if sort_key == "ORDER"
                else "refund"
                if sort_key.startswith("REFUND#")
                else "audit event"
                if sort_key.startswith("EVENT#")
                else "listing item"
                if sort_key.startswith("LISTED#")
                else "merchant event"
                if sort_key.startswith("evt_")
                else "other"
            )
            self.sizes[kind].append(item.size())


def _audit_events(operation: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The audit-event items a successful write request put (the stream's INSERTs the publish
    function's filter lets through)."""
    if operation == "PutItem":
        puts = [body["Item"]]
    elif operation == "TransactWriteItems":
        puts = [entry["Put"]["Item"] for entry in body["TransactItems"] if "Put" in entry]
    else:
        puts = []
    return [item for item in puts if item["sk"]["S"].startswith("EVENT#")]


def share_row(counts: Counter[str]) -> dict[str, Any]:
    total = sum(counts.values())
    key, hottest = counts.most_common(1)[0] if counts else ("", 0)
    return {
        "total": total,
        "keys": len(counts),
        "hottest_key": key,
        "hottest": hottest,
        "hottest_share": hottest / total if total else 0.0,
    }


class Lives:
    """Orders' lives through the handlers, a batch at a time."""

    def __init__(self, bench: Harness, load: KeyLoad) -> None:
        self.bench, self.load = bench, load
        self.table = bench.envs["NotifyFunction"]["ORDERS_TABLE_NAME"]
        self.providers = [case.kit.name for case in first_variants()]
        self.published = 0

    def call(self, function: str, event: dict[str, Any], expect: int) -> None:
        result = self.bench.functions[function].run(event)
        if result["statusCode"] != expect:
            raise RuntimeError(f"{function}: {result['statusCode']}, expected {expect}: {result.get('body')}")

    def batch(self, indices: range) -> None:
        _fresh_table(self.table)
        orders = [(f"hot-{index}", self.providers[index % len(self.providers)]) for index in indices]
        for order_id, provider in orders:
            self.call(
                "CreateOrderFunction",
                api_event("POST", "/orders", "/orders", create_body(order_id, provider), None),
                201,
            )
        reads = indices.start % (BATCH * READ_EVERY) == 0
        if reads:
            self.reconciler_reads()  # while the batch's orders are open and due
        for position, (order_id, provider) in enumerate(orders):
            notify = notification_event(self.bench, provider, order_id)
            self.call("NotifyFunction", notify, 200)
            path = f"/orders/{order_id}"
            self.call(
                "GetOrderFunction",
                api_event("GET", path, "/orders/{order_id}", None, {"order_id": order_id}),
                200,
            )
            if position % REFUND_EVERY == 0:
                refund = json.dumps(
                    {"refund_id": "r-1", "amount": {"value": 400, "currency": "EUR"}}
                ).encode()
                self.call(
                    "OrderActionsFunction",
                    api_event(
                        "POST",
                        f"{path}/refunds",
                        "/orders/{order_id}/refunds",
                        refund,
                        {"order_id": order_id},
                    ),
                    201,
                )
        self.publish()
        for box in self.bench.boxes.values():  # what the providers sent on their own: not delivered here
            box.take_notifications()
        if reads:
            self.listing_reads()
            self.load.measure_sizes(self.table)

    def publish(self) -> None:
        """The batch's committed audit events handed to the publish function as the stream would,
        100 records a call (the template's BatchSize). Built from the writes rather than read back
        from moto's stream: the same records, without moto's slow GetRecords."""
        events, self.load.committed_events = self.load.committed_events, []
        for start in range(0, len(events), 100):
            records = [
                {
                    "eventID": f"{start + offset}",
                    "eventName": "INSERT",
                    "eventSource": "aws:dynamodb",
                    "dynamodb": {
                        "Keys": {"pk": item["pk"], "sk": item["sk"]},
                        "NewImage": item,
                        "SequenceNumber": f"{start + offset:021d}",
                        "StreamViewType": "NEW_IMAGE",
                    },
                }
                for offset, item in enumerate(events[start : start + 100])
            ]
            answer = self.bench.functions["PublishEventsFunction"].run({"Records": records})
            if answer.get("batchItemFailures"):
                raise RuntimeError(f"publish: {answer['batchItemFailures']}")

    def reconciler_reads(self) -> None:
        """The due index read as a reconciler run reads it: pages of the run's limit, every shard."""
        from payments.clock import utc_now
        from payments.flows.reconcile import INDEX_READ_FACTOR
        from payments.store.orders import OrdersStore
        from payments.store.table import Table

        store = OrdersStore(Table(self.table))
        limit = int(self.bench.envs["ReconcileFunction"]["RECONCILE_MAX_ITEMS"])  # the template's default
        self.load.reading = "reconciler"
        cursor = None
        for _ in range(INDEX_READ_FACTOR):
            page = store.due_items(utc_now() + timedelta(minutes=3), limit, cursor)
            if page.cursor is None:
                break
            cursor = page.cursor
        self.load.reading = None

    def listing_reads(self) -> None:
        """GET /events paged from the start, 100 a page (the store's read: the route adds a settle
        window that would hide what was just published)."""
        from payments.clock import utc_now
        from payments.store.merchant_events import MerchantEventStore
        from payments.store.table import Table

        store = MerchantEventStore(Table(self.table))
        self.load.reading = "listing"
        after = None
        while page := store.listed_after(after, 100, utc_now() + timedelta(days=1)):
            self.published += len(page)
            after = json.loads(page[-1])["id"]
        self.load.reading = None


def hot_keys() -> dict[str, Any]:
    started = time.perf_counter()
    load = KeyLoad()
    with harness() as bench, load.counting():
        lives = Lives(bench, load)
        first_batch = time.perf_counter()
        for start in range(0, ORDERS, BATCH):
            lives.batch(range(start, min(ORDERS, start + BATCH)))
            if start == 0:
                per_order_ms = (time.perf_counter() - first_batch) * 1000 / min(ORDERS, BATCH)
                print(f"  {per_order_ms:.0f} ms an order's life", file=sys.stderr, flush=True)
            if (start // BATCH) % 10 == 9:
                print(f"  {start + BATCH} orders", file=sys.stderr, flush=True)
    return {
        "orders": ORDERS,
        "merchant_events_listed": lives.published,
        "writes": {where: share_row(counts) for where, counts in sorted(load.writes.items())},
        "write_units": {where: share_row(counts) for where, counts in sorted(load.units.items())},
        "reads": {phase: share_row(counts) for phase, counts in sorted(load.reads.items())},
        "read_items": {phase: share_row(counts) for phase, counts in sorted(load.read_items.items())},
        "item_bytes": {
            kind: {"median": statistics.median(sizes), "max": max(sizes), "items": len(sizes)}
            for kind, sizes in sorted(load.sizes.items())
        },
        "ms_per_order": (time.perf_counter() - started) * 1000 / ORDERS,
        "target_share": TARGET_SHARE,
        "wall_s": time.perf_counter() - started,
    }


def render(row: dict[str, Any]) -> list[str]:
    """Section 10 of the table."""
    lines = [
        "",
        f"11. Hot keys: {row['orders']:,} orders' lives through the handlers (create, notification, status"
        f" read, 1 in {REFUND_EVERY} refunded, merchant events published): the hottest partition key's share",
        f"   {'where':34}{'writes':>9}{'keys':>7}  {'hottest key':24}{'share':>8}  target <= 1/16",
    ]
    for where, counts in row["writes"].items():
        lines.append(_share_line(f"writes, {where}", counts))
    for where, counts in row.get("write_units", {}).items():
        lines.append(_share_line(f"write units, {where}", counts))
    for phase, counts in row["read_items"].items():
        lines.append(_share_line(f"reads, {phase} (items)", counts))
    for phase, counts in row["reads"].items():
        lines.append(_share_line(f"reads, {phase} (Queries)", counts))
    sizes = "; ".join(
        f"{kind} {size['median']:.0f} B (max {size['max']})" for kind, size in row["item_bytes"].items()
    )
    lines += [
        f"   item sizes as written, median: {sizes}",
        f"   {row['wall_s']:.0f} s in all, {row['ms_per_order']:.0f} ms an order's life"
        f" ({row['merchant_events_listed']:,} merchant events listed in the sampled batches)",
    ]
    return lines


def _share_line(label: str, counts: dict[str, Any]) -> str:
    ok = counts["hottest_share"] <= TARGET_SHARE
    return (
        f"   {label:34}{counts['total']:9,}{counts['keys']:7,}  {counts['hottest_key'][-24:]:24}"
        f"{counts['hottest_share']:8.2%}  {'ok' if ok else 'MISSED'}"
    )
