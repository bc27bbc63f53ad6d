"""The hot-keys bench counts what DynamoDB would: a write per item a request names (each item of a
transaction), and an index write per change of an item's entry there (a key change is a delete and a
put), read from moto before and after the request; nothing for a write that leaves the entry alone."""

from __future__ import annotations

from typing import Any

import boto3

from bench.hot_keys import KeyLoad
from tests.conftest import Stack


def put(table: str, pk: str, **attributes: Any) -> dict[str, Any]:
    item = {"pk": {"S": pk}, "sk": {"S": "ORDER"}, **{k: {"S": v} for k, v in attributes.items()}}
    return {"TableName": table, "Item": item}


def test_index_writes_follow_the_entry_not_the_item(stack: Stack) -> None:
    client, table, load = boto3.client("dynamodb"), stack.table_name, KeyLoad()
    with load.counting():
        client.put_item(**put(table, "ORDER#a", due_pk="DUE#01", due_at="t1", provider="p"))  # entry added
        client.put_item(
            **put(table, "ORDER#a", due_pk="DUE#01", due_at="t1", provider="p", x="1")
        )  # untouched
        client.put_item(**put(table, "ORDER#a", due_pk="DUE#02", due_at="t2", provider="p"))  # moved: 2
        client.put_item(**put(table, "ORDER#a", due_pk="DUE#02", due_at="t2", provider="q"))  # projected: 1
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "ORDER#a"}, "sk": {"S": "ORDER"}},
                        "UpdateExpression": "REMOVE due_pk, due_at",  # the entry removed
                    }
                },
                {"Put": put(table, "ORDER#b", status="paid")},  # type: ignore[typeddict-item]  # never indexed
            ]
        )
    assert load.writes["table"] == {"ORDER#a": 5, "ORDER#b": 1}
    assert load.writes["DueIndex"] == {"DUE#01": 2, "DUE#02": 3}
    assert load.units["table"]["ORDER#b"] == 2  # under 1 KB, in a transaction: twice
    assert load.units["table"]["ORDER#a"] == 4 + 2  # four puts, one transactional update
