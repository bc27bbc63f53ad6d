"""Direct reads of the orders table, to check what the handlers wrote."""

from __future__ import annotations

from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

_deserializer = TypeDeserializer()


def items(table: str, order_id: str) -> list[dict[str, Any]]:
    page = boto3.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_id}"}},
    )
    return [{k: _deserializer.deserialize(v) for k, v in item.items()} for item in page["Items"]]


def order_item(table: str, order_id: str) -> dict[str, Any] | None:
    return next((item for item in items(table, order_id) if item["sk"] == "ORDER"), None)


def event_items(table: str, order_id: str) -> list[dict[str, Any]]:
    return [item for item in items(table, order_id) if item["sk"].startswith("EVENT#")]
