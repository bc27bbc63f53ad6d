"""Direct reads of the orders table, to check what the handlers wrote."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from tests.support.aws import client

_deserializer = TypeDeserializer()


def items(table: str, order_id: str) -> list[dict[str, Any]]:
    page = client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_id}"}},
    )
    return [{k: _deserializer.deserialize(v) for k, v in item.items()} for item in page["Items"]]


def order_item(table: str, order_id: str) -> dict[str, Any] | None:
    return next((item for item in items(table, order_id) if item["sk"] == "ORDER"), None)


def event_items(table: str, order_id: str) -> list[dict[str, Any]]:
    return [item for item in items(table, order_id) if item["sk"].startswith("EVENT#")]


def rejected_items(table: str, provider: str) -> list[dict[str, Any]]:
    """Refused notification attempts of `provider` filed today or yesterday (UTC), oldest first."""
    today = datetime.now(UTC)
    found: list[dict[str, Any]] = []
    for day in (today - timedelta(days=1), today):
        page = client("dynamodb").query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"REJECTED#{provider}#{day:%Y-%m-%d}"}},
        )
        found.extend({k: _deserializer.deserialize(v) for k, v in item.items()} for item in page["Items"])
    return found


def last_rejected(table: str, provider: str) -> dict[str, Any]:
    items = rejected_items(table, provider)
    assert items, f"no rejected attempt recorded for {provider}"
    item = items[-1]
    item["payload"] = json.loads(item["payload_json"])
    return item


def history(source: Any, order_id: str) -> tuple[Any, list[Any]]:
    """The order and its whole audit history, oldest first, as the store reads them. `source`: an
    OrdersStore (its own client, e.g. one on a moto server) or a table name (the mocked default)."""
    from payments.store.order_items import event_from_item
    from payments.store.orders import OrdersStore
    from payments.store.table import Table

    store = source if isinstance(source, OrdersStore) else OrdersStore(Table(source))
    found = store.get_with_refunds(order_id)
    assert found is not None, f"no order {order_id}"
    page = store.table.client.query(
        TableName=store.table.name,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :events)",
        ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_id}"}, ":events": {"S": "EVENT#"}},
        ConsistentRead=True,
    )
    return found[0], [event_from_item(item) for item in page["Items"]]
