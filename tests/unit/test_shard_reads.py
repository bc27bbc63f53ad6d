"""A merged read's Queries (one per shard) go side by side, answers in the requests' order, and a
failed one is StoreUnavailable (payments/store/table.py `query_each`); every merged read uses it, with
as many Queries as one at a time would send (its paging inside a shard unchanged)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from payments.errors import StoreUnavailable, ValidationFailed
from payments.store.day_movements import MAX_DAY_LINES, MOVEMENTS_PAGE, DayMovements
from payments.store.merchant_events import MerchantEventStore
from payments.store.order_listing import ANY_FLAG, FILTERED_PAGE, OrderFilter, OrderListing
from payments.store.orders import OrdersStore
from payments.store.shards import SHARD_COUNT
from payments.store.table import QUERIES_AT_ONCE, Table

ROUND_TRIP_S = 0.02
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
Answer = Callable[[dict[str, Any]], dict[str, Any]]


def nothing(_: dict[str, Any]) -> dict[str, Any]:
    return {"Items": [], "Count": 0}


class SlowClient:
    """DynamoDB's client as the table calls it: each Query a round trip's wait, then `answer`'s page;
    it keeps the requests sent and how many were in flight at most."""

    def __init__(
        self, answer: Answer = nothing, wait: Callable[[dict[str, Any]], float] | None = None
    ) -> None:
        self.answer, self.wait = answer, wait or (lambda _: ROUND_TRIP_S)
        self.sent: list[dict[str, Any]] = []
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()

    def query(self, **request: Any) -> dict[str, Any]:
        with self.lock:
            self.sent.append(request)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.wait(request))
            return self.answer(request)
        finally:
            with self.lock:
                self.in_flight -= 1


def partition(request: dict[str, Any]) -> str:
    """The partition a Query reads (the due index names its key's value `:due`)."""
    values = request["ExpressionAttributeValues"]
    return str((values.get(":pk") or values[":due"])["S"])


def test_a_page_of_shards_is_read_side_by_side_and_answered_in_the_requests_order() -> None:
    requests = [{"ExpressionAttributeValues": {":pk": {"S": f"P#{n:02d}"}}} for n in range(SHARD_COUNT)]
    # The later a request, the sooner its answer: answers come back out of order.
    client = SlowClient(
        answer=lambda request: {"Items": [{"pk": {"S": partition(request)}}]},
        wait=lambda request: ROUND_TRIP_S * (2 - int(partition(request)[2:]) / SHARD_COUNT),
    )
    started = time.perf_counter()
    answers = Table("orders", client).query_each(requests)
    elapsed = time.perf_counter() - started
    assert [answer["Items"][0]["pk"]["S"] for answer in answers] == [f"P#{n:02d}" for n in range(SHARD_COUNT)]
    assert all(request["TableName"] == "orders" for request in client.sent)
    assert len(client.sent) == SHARD_COUNT
    assert client.most_in_flight == QUERIES_AT_ONCE
    # One at a time: at least 32 round trips (over 0.96 s here); 8 at once: about 4 to 8 of them.
    assert elapsed < SHARD_COUNT * ROUND_TRIP_S / 2


def test_a_failed_shard_is_store_unavailable_and_what_was_not_sent_is_not_sent() -> None:
    def answer(request: dict[str, Any]) -> dict[str, Any]:
        if partition(request) == "P#00":
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "secret"}}, "Query")
        return {"Items": []}

    client = SlowClient(answer=answer, wait=lambda request: 0 if partition(request) == "P#00" else 0.1)
    requests = [{"ExpressionAttributeValues": {":pk": {"S": f"P#{n:02d}"}}} for n in range(SHARD_COUNT)]
    with pytest.raises(StoreUnavailable) as raised:
        Table("orders", client).query_each(requests)
    assert "secret" not in str(raised.value)
    assert raised.value.__cause__ is None
    assert len(client.sent) < SHARD_COUNT


def test_one_request_or_none_needs_no_thread() -> None:
    client = SlowClient(answer=lambda request: {"Items": [{"pk": {"S": partition(request)}}]})
    table = Table("orders", client)
    assert table.query_each([]) == []
    answers = table.query_each([{"ExpressionAttributeValues": {":pk": {"S": "P#00"}}}])
    assert answers == [{"Items": [{"pk": {"S": "P#00"}}]}]


MERGED_READS: dict[str, tuple[Callable[[Table], object], int]] = {
    "GET /orders": (lambda table: OrderListing(table).page(OrderFilter(), 25, None), SHARD_COUNT),
    "GET /orders?flag": (
        lambda table: OrderListing(table).page(OrderFilter(flag=ANY_FLAG), 25, None),
        SHARD_COUNT,
    ),
    "GET /orders?q": (lambda table: OrderListing(table).lookup("PSP-1"), SHARD_COUNT),
    "GET /reports/daily": (
        lambda table: DayMovements(table).between(NOW, NOW + timedelta(hours=1)),
        SHARD_COUNT,
    ),
    "GET /events": (  # and the partition from before the events were sharded
        lambda table: MerchantEventStore(table).listed_after(None, 100, NOW),
        SHARD_COUNT + 1,
    ),
    "the reconciler's due index": (  # and the key from before the due index was sharded
        lambda table: OrdersStore(table).due_items(NOW, 100),
        SHARD_COUNT + 1,
    ),
}


@pytest.mark.parametrize("read", sorted(MERGED_READS))
def test_every_merged_read_sends_its_shards_side_by_side(read: str) -> None:
    reader, queries = MERGED_READS[read]
    client = SlowClient()
    reader(Table("orders", client))
    assert len(client.sent) == queries  # as many round trips as one at a time
    assert len({partition(request) for request in client.sent}) == queries  # each shard once
    assert client.most_in_flight == QUERIES_AT_ONCE


def listed(list_sk: str) -> dict[str, Any]:
    return {"list_sk": {"S": list_sk}, "order_id": {"S": list_sk[-2:]}}


def test_a_filtered_shard_short_of_its_share_reads_on_from_where_it_stopped() -> None:
    """FlaggedOrders filters after reading: a shard whose first page kept too few is read on (its next
    page, after the last key it evaluated), the others are not."""

    def answer(request: dict[str, Any]) -> dict[str, Any]:
        shard = partition(request)
        if shard.endswith("#03") and "ExclusiveStartKey" not in request:
            return {"Items": [listed("2026-12-01T10:00:00#03")], "LastEvaluatedKey": {"at": "x"}}
        if shard.endswith("#03"):
            return {"Items": [listed("2026-12-01T09:00:00#03"), listed("2026-12-01T08:00:00#03")]}
        if shard.endswith("#07") and "ExclusiveStartKey" not in request:
            return {"Items": [listed("2026-12-01T09:30:00#07")], "LastEvaluatedKey": {"at": "y"}}
        return {"Items": []}

    client = SlowClient(answer=answer, wait=lambda _: 0)
    page = OrderListing(Table("orders", client)).page(OrderFilter(flag=ANY_FLAG), 2, None)
    assert [item["list_sk"] for item in page] == ["2026-12-01T10:00:00#03", "2026-12-01T09:30:00#07"]
    read_on = [request for request in client.sent if "ExclusiveStartKey" in request]
    assert sorted((partition(r), r["ExclusiveStartKey"]) for r in read_on) == [
        ("FLAGGED#03", {"at": "x"}),
        ("FLAGGED#07", {"at": "y"}),
    ]
    assert all(request["Limit"] == FILTERED_PAGE for request in client.sent)
    assert len(client.sent) == SHARD_COUNT + 2


def movement(n: int) -> dict[str, Any]:
    at = f"2026-12-01T12:{n // 60 % 60:02d}:{n % 60:02d}.{n:06d}Z"
    return {"day_sk": {"S": f"{at}#o{n}#000000000002"}, "movement_json": {"S": json.dumps({"n": n})}}


def test_a_days_partitions_are_paged_to_their_ends_and_merged_in_time_order() -> None:
    def answer(request: dict[str, Any]) -> dict[str, Any]:
        shard = int(partition(request)[-2:])
        if shard == 5 and "ExclusiveStartKey" not in request:
            return {"Items": [movement(1)], "LastEvaluatedKey": {"at": "5"}}
        if shard == 5:
            return {"Items": [movement(3)]}
        return {"Items": [movement(2)] if shard == 9 else []}

    client = SlowClient(answer=answer, wait=lambda _: 0)
    movements = DayMovements(Table("orders", client))
    lines = movements.between(NOW, NOW + timedelta(hours=1))
    assert lines == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert movements.queries == len(client.sent) == SHARD_COUNT + 1
    assert [r["ExclusiveStartKey"] for r in client.sent if "ExclusiveStartKey" in r] == [{"at": "5"}]


def test_a_day_too_large_is_refused_after_as_many_pages_as_one_at_a_time_would_read() -> None:
    full_page = [movement(n) for n in range(MOVEMENTS_PAGE)]
    client = SlowClient(
        answer=lambda _: {"Items": full_page, "LastEvaluatedKey": {"at": "more"}}, wait=lambda _: 0
    )
    movements = DayMovements(Table("orders", client))
    with pytest.raises(ValidationFailed) as refused:
        movements.between(NOW, NOW + timedelta(hours=1))
    assert refused.value.code == "report_too_large"
    pages = MAX_DAY_LINES // MOVEMENTS_PAGE + 1  # the first page past the limit
    assert movements.queries == len(client.sent) == pages
