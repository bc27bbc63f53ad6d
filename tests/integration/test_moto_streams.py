"""local/moto_streams.py: moto's transaction rollback copies a table without copying its stream
records, and stays exact: a refused transaction leaves items and stream as they were."""

from __future__ import annotations

import copy

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import dynamodb_backends

from tests.conftest import Stack


def _stream_records(table: str) -> list[dict[str, object]]:
    backend = dynamodb_backends["123456789012"]["eu-west-1"]
    shard = backend.get_table(table).stream_shard
    assert shard is not None
    return [record.to_json() for record in shard.items]


def test_a_copied_table_shares_its_stream_records(stack: Stack) -> None:
    client = boto3.client("dynamodb")
    client.put_item(TableName=stack.table_name, Item={"pk": {"S": "moto-1"}, "sk": {"S": "A"}})
    table = dynamodb_backends["123456789012"]["eu-west-1"].get_table(stack.table_name)
    twin = copy.deepcopy(table)
    assert table.stream_shard is not None
    assert twin.stream_shard is not None
    assert twin.stream_shard is not table.stream_shard
    assert twin.stream_shard.table is twin  # the copy's shard belongs to the copied table
    assert twin.stream_shard.items == table.stream_shard.items
    assert twin.stream_shard.items is not table.stream_shard.items
    assert all(a is b for a, b in zip(twin.stream_shard.items, table.stream_shard.items, strict=True))


def test_a_refused_transaction_leaves_items_and_stream_unchanged(stack: Stack) -> None:
    client = boto3.client("dynamodb")
    client.put_item(TableName=stack.table_name, Item={"pk": {"S": "moto-2"}, "sk": {"S": "A"}})
    before = _stream_records(stack.table_name)
    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": stack.table_name, "Item": {"pk": {"S": "moto-2"}, "sk": {"S": "B"}}}},
                {
                    "Put": {
                        "TableName": stack.table_name,
                        "Item": {"pk": {"S": "moto-2"}, "sk": {"S": "A"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    assert _stream_records(stack.table_name) == before
    page = client.query(
        TableName=stack.table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "moto-2"}},
    )
    assert [item["sk"]["S"] for item in page["Items"]] == ["A"]
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": stack.table_name, "Item": {"pk": {"S": "moto-2"}, "sk": {"S": "B"}}}}
        ]
    )
    assert len(_stream_records(stack.table_name)) == len(before) + 1
