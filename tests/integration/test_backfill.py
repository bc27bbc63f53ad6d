"""`make backfill` (local/backfill.py, payments/store/index_backfill.py) against moto's DynamoDB: orders,
refunds and audit events written by the real handlers, then stripped of the operator's index attributes
as an earlier version stored them, are listed by GET /orders and reported by GET /reports/daily again
after one run, exactly as before; a second run updates nothing; a write made since the scan wins."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import responses

from local.testing import BACKFILL_TABLE_OUTPUT, BackfillPacer, Template, backfill_main, kit_of
from payments.store.day_movements import MOVEMENTS_INDEX
from payments.store.index_backfill import SKIPPED_BY_CONDITION, UPDATED, IndexBackfill
from payments.store.order_items import order_key
from payments.store.order_listing import (
    FLAGGED_INDEX,
    LOOKUP_INDEX,
    ORDERS_INDEX,
    PROVIDER_INDEX,
    PROVIDER_STATUS_INDEX,
    STATUS_INDEX,
)
from payments.store.table import Table
from tests.conftest import Stack
from tests.support.aws import client
from tests.support.deployed import deploy_outputs
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.providers import ANY_PROVIDER, mount
from tests.support.shop_kit import Shop

OPERATORS_INDEXES = (
    ORDERS_INDEX,
    STATUS_INDEX,
    PROVIDER_INDEX,
    PROVIDER_STATUS_INDEX,
    FLAGGED_INDEX,
    LOOKUP_INDEX,
    MOVEMENTS_INDEX,
)


@pytest.fixture
def shop(stack: Stack, wire: responses.RequestsMock, link: ProviderLink, api: Api) -> Shop:
    """Three orders through the handlers: two paid, one of them partly refunded; one pending."""
    shop = Shop(ANY_PROVIDER, mount(kit_of(ANY_PROVIDER), stack, wire, link), api)
    shop.paid("bf-1", 1250)
    shop.paid("bf-2", 800)
    shop.create("bf-3")
    assert shop.refund("bf-1", "r-1", amount={"value": 450, "currency": "EUR"}).status == 201
    shop.deliver()
    assert shop.read("bf-1")["status"] == "partially_refunded"
    return shop


def index_only_attributes(template: Template) -> set[str]:
    """What an earlier version did not write: the operator's indexes' keys, and what only they project."""
    table = template.resources["OrdersTable"]["Properties"]
    names: set[str] = set()
    for index in table["GlobalSecondaryIndexes"]:
        if index["IndexName"] in OPERATORS_INDEXES:
            names |= {key["AttributeName"] for key in index["KeySchema"]}
    (movements,) = [i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == MOVEMENTS_INDEX]
    return names | set(movements["Projection"]["NonKeyAttributes"])


def scanned(table_name: str) -> Iterator[dict[str, Any]]:
    request: dict[str, Any] = {"TableName": table_name, "ConsistentRead": True}
    while True:
        page = client("dynamodb").scan(**request)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def strip(table_name: str, names: set[str]) -> int:
    """The index attributes removed from every item, as an earlier version left it; how many had some."""
    stripped = 0
    for item in scanned(table_name):
        present = sorted(names & set(item))
        if present:
            stripped += 1
            client("dynamodb").update_item(
                TableName=table_name,
                Key={"pk": item["pk"], "sk": item["sk"]},
                UpdateExpression="REMOVE " + ", ".join(f"#n{i}" for i in range(len(present))),
                ExpressionAttributeNames={f"#n{i}": name for i, name in enumerate(present)},
            )
    return stripped


def comparable(items: Iterator[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The items by key; a report line's `recorded_at` left out (when the item was written: a backfilled
    line counts as recorded at its fact's time, the only time kept)."""
    found = {}
    for item in items:
        if "movement_json" in item:
            line = json.loads(item["movement_json"]["S"])
            line.pop("recorded_at")
            item = {**item, "movement_json": {"S": json.dumps(line, sort_keys=True)}}
        found[(item["pk"]["S"], item["sk"]["S"])] = item
    return found


def operator_view(api: Api) -> tuple[Any, ...]:
    today = datetime.now(UTC).date().isoformat()
    orders = api.request("GET", "/orders", query=[("limit", "100")]).json()["orders"]
    by_refund = api.request("GET", "/orders", query=[("q", "r-1")]).json()["orders"]
    paid = api.request("GET", "/orders", query=[("status", "paid"), ("provider", ANY_PROVIDER)]).json()[
        "orders"
    ]
    report = api.request("GET", "/reports/daily", query=[("date", today)]).json()
    return orders, by_refund, paid, report["lines"], report["totals"]


def summary(out: str) -> dict[str, int]:
    (done,) = [line for line in out.splitlines() if line.startswith("done: ")]
    return {
        name: int(count)
        for count, name in re.findall(r"(\d+) ([a-z ]+?)(?:,|$)", done.removeprefix("done: "))
    }


def test_orders_stored_before_the_indexes_are_listed_and_reported_after_the_backfill(
    shop: Shop, stack: Stack, template: Template, capsys: pytest.CaptureFixture[str]
) -> None:
    before = operator_view(shop.api)
    assert [len(part) for part in before[:4]] == [3, 1, 1, 3]  # 3 orders; bf-1 by its refund; 3 lines
    items = comparable(scanned(stack.table_name))
    stripped = strip(stack.table_name, index_only_attributes(template))
    assert operator_view(shop.api)[:4] == ([], [], [], [])

    arguments = ["--table", stack.table_name, "--segments", "3", "--page-size", "4", "--rate", "1000"]
    capsys.readouterr()
    assert backfill_main(arguments) == 0
    first = summary(capsys.readouterr().out)
    assert first["scanned"] == len(items)
    assert (first["updated"], first["already indexed"], first["skipped by condition"]) == (stripped, 0, 0)
    assert comparable(scanned(stack.table_name)) == items  # as the write path wrote them
    assert operator_view(shop.api) == before

    assert backfill_main(arguments) == 0
    second = summary(capsys.readouterr().out)
    assert (second["updated"], second["already indexed"]) == (0, stripped)


def test_a_deployed_stack_is_backfilled_through_its_table_output(
    shop: Shop, stack: Stack, template: Template, capsys: pytest.CaptureFixture[str]
) -> None:
    stripped = strip(stack.table_name, index_only_attributes(template))
    deploy_outputs("payments-upgraded", template, {BACKFILL_TABLE_OUTPUT: stack.table_name})
    capsys.readouterr()
    assert backfill_main(["--stack", "payments-upgraded"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"backfilling the operator's index attributes in {stack.table_name}: 4 segments")
    assert summary(out)["updated"] == stripped
    assert [order["order_id"] for order in operator_view(shop.api)[0]] == ["bf-3", "bf-2", "bf-1"]


def test_a_table_it_cannot_read_stops_it_with_what_to_do(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert backfill_main(["--table", "payments-no-such-table"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-2].startswith("stopped: the table could not be read or written")
    assert out[-1].startswith("so far: 0 scanned")


def test_a_write_made_since_the_scan_wins_over_the_backfill(
    shop: Shop, stack: Stack, template: Template
) -> None:
    strip(stack.table_name, index_only_attributes(template))
    worker = IndexBackfill(Table(stack.table_name))

    def read(order_id: str) -> dict[str, Any]:
        found = client("dynamodb").get_item(
            TableName=stack.table_name, Key=order_key(order_id), ConsistentRead=True
        )
        return found["Item"]  # type: ignore[no-any-return]

    def listed(status: str) -> list[str]:
        orders = shop.api.request("GET", "/orders", query=[("status", status)]).json()["orders"]
        return [order["order_id"] for order in orders]

    # This version's write: it sets the index attributes itself.
    scanned_bf3 = read("bf-3")
    assert shop.cancel("bf-3").status == 200
    assert worker.fill(scanned_bf3) == SKIPPED_BY_CONDITION
    assert (listed("cancelled"), listed("pending")) == (["bf-3"], [])

    # An earlier version's write, still running while the stack is upgraded: no index attributes, a new
    # version. What was read before it is not written over it; a run after it indexes what it left.
    scanned_bf2 = read("bf-2")
    client("dynamodb").update_item(
        TableName=stack.table_name,
        Key=order_key("bf-2"),
        UpdateExpression="SET #status = :refunded, #version = #version + :one",
        ExpressionAttributeNames={"#status": "status", "#version": "version"},
        ExpressionAttributeValues={":refunded": {"S": "refunded"}, ":one": {"N": "1"}},
    )
    assert worker.fill(scanned_bf2) == SKIPPED_BY_CONDITION
    assert listed("paid") == []
    assert worker.fill(read("bf-2")) == UPDATED
    assert (listed("refunded"), listed("paid")) == (["bf-2"], [])


def test_the_pacer_gives_each_request_its_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)  # the pacer sleeps through time.sleep
    now = [100.0]
    pacer = BackfillPacer(rate=4, clock=lambda: now[0])
    for _ in range(4):
        pacer.wait()
    assert slept == [0.25, 0.5, 0.75]  # four at once: the first goes, each next a quarter second later
    now[0] = 102.0  # idle since: no wait
    pacer.wait()
    assert slept == [0.25, 0.5, 0.75]
