"""local/moto_long_runs.py: moto keeps nothing per request (no table copy, no replaced item, no
deleted message) and a transaction copies only what it names, while a cancelled transaction still
changes nothing and a committed one writes its stream records."""

from __future__ import annotations

import gc
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table
from moto.sqs.models import Message

from local import moto_long_runs
from tests.support.aws import client

_every_item = moto_long_runs._every_item  # moto's own Table.all_items

RANGE_KEYED = "range-keyed"
HASH_KEYED = "hash-keyed"


def _backend() -> DynamoDBBackend:
    return dynamodb_backends["123456789012"]["eu-west-1"]


@pytest.fixture(params=[RANGE_KEYED, HASH_KEYED])
def table(request: pytest.FixtureRequest, mocked_aws: None) -> Iterator[str]:
    """A table with a stream, holding partitions p1 (items a, b, c) and p2 (item a); hash-keyed, the
    same keys joined (p1#a ...)."""
    name = f"moto-{uuid.uuid4().hex[:8]}"
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    if request.param == RANGE_KEYED:
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attributes.append({"AttributeName": "sk", "AttributeType": "S"})
    client("dynamodb").create_table(
        TableName=name,
        KeySchema=schema,
        AttributeDefinitions=attributes,
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    for partition, sort in (("p1", "a"), ("p1", "b"), ("p1", "c"), ("p2", "a")):
        client("dynamodb").put_item(TableName=name, Item={**_key(name, partition, sort), "n": {"N": "1"}})
    yield name
    client("dynamodb").delete_table(TableName=name)


def _key(table: str, partition: str, sort: str) -> dict[str, Any]:
    if _backend().get_table(table).range_key_attr is None:
        return {"pk": {"S": f"{partition}#{sort}"}}
    return {"pk": {"S": partition}, "sk": {"S": sort}}


def _picture(table: str) -> dict[str, Any]:
    """Everything a cancelled transaction must leave as it was: the table and shard objects, every
    item in moto's order (what Scan follows), every partition, every stream record."""
    state = _backend().get_table(table)
    shard = state.stream_shard
    assert shard is not None
    items = [
        (key, [(k, v.to_json()) for k, v in value.items()] if isinstance(value, dict) else value.to_json())
        for key, value in state.items.items()
    ]
    return {
        "table": id(state),
        "shard": id(shard),
        "items": items,
        "records": [id(record) for record in shard.items],
        "record bodies": [record.to_json() for record in shard.items],
    }


def _set_n(table: str, key: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table,
            "Key": key,
            "UpdateExpression": "SET n = :n",
            "ExpressionAttributeValues": {":n": {"N": str(n)}},
        }
    }


def _cancelled_by_a_condition(table: str) -> list[dict[str, Any]]:
    return [
        _set_n(table, _key(table, "p1", "b"), 2),  # moto changes the item in place
        {"Delete": {"TableName": table, "Key": _key(table, "p1", "a")}},
        {"Put": {"TableName": table, "Item": {**_key(table, "p1", "d"), "n": {"N": "1"}}}},
        {"Put": {"TableName": table, "Item": {**_key(table, "p3", "a"), "n": {"N": "1"}}}},
        {
            "ConditionCheck": {
                "TableName": table,
                "Key": _key(table, "p4", "a"),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Put": {
                "TableName": table,
                "Item": _key(table, "p1", "c"),
                "ConditionExpression": "attribute_not_exists(pk)",  # c exists: the transaction is cancelled
            }
        },
    ]


def _refused_as_invalid(table: str) -> list[dict[str, Any]]:
    """Refused when moto reaches the second operation on the same item, the first one written."""
    return [
        {"Delete": {"TableName": table, "Key": _key(table, "p1", "a")}},
        {"Put": {"TableName": table, "Item": {**_key(table, "p1", "d"), "n": {"N": "1"}}}},
        {"Put": {"TableName": table, "Item": {**_key(table, "p1", "d"), "n": {"N": "2"}}}},
    ]


@pytest.mark.parametrize(
    ("transaction", "error"),
    [
        (_cancelled_by_a_condition, "TransactionCanceledException"),
        (_refused_as_invalid, "ValidationException"),
    ],
)
def test_a_refused_transaction_leaves_the_table_its_items_and_its_stream_as_they_were(
    table: str, transaction: Any, error: str
) -> None:
    before = _picture(table)
    scan_before = client("dynamodb").scan(TableName=table)["Items"]
    with pytest.raises(ClientError) as refused:
        client("dynamodb").transact_write_items(TransactItems=transaction(table))
    assert refused.value.response["Error"]["Code"] == error
    assert _picture(table) == before
    assert client("dynamodb").scan(TableName=table)["Items"] == scan_before


def test_a_committed_transaction_writes_its_items_and_their_stream_records(table: str) -> None:
    before = _picture(table)
    client("dynamodb").transact_write_items(
        TransactItems=[
            _set_n(table, _key(table, "p1", "b"), 2),
            {"Delete": {"TableName": table, "Key": _key(table, "p1", "a")}},
            {"Put": {"TableName": table, "Item": {**_key(table, "p3", "a"), "n": {"N": "1"}}}},
        ]
    )
    after = _picture(table)
    assert (after["table"], after["shard"]) == (before["table"], before["shard"])
    assert after["records"][: len(before["records"])] == before["records"]
    added = after["record bodies"][len(before["records"]) :]
    assert [(r["eventName"], r["dynamodb"]["Keys"]) for r in added] == [
        ("MODIFY", _key(table, "p1", "b")),
        ("REMOVE", _key(table, "p1", "a")),
        ("INSERT", _key(table, "p3", "a")),
    ]
    assert added[0]["dynamodb"]["NewImage"]["n"] == {"N": "2"}
    assert added[0]["dynamodb"]["OldImage"]["n"] == {"N": "1"}
    got = client("dynamodb").get_item(TableName=table, Key=_key(table, "p1", "b"), ConsistentRead=True)
    assert got["Item"]["n"] == {"N": "2"}
    assert "Item" not in client("dynamodb").get_item(TableName=table, Key=_key(table, "p1", "a"))


def _alive(kind: type) -> int:
    gc.collect()
    return sum(1 for thing in gc.get_objects() if isinstance(thing, kind))


def test_what_moto_keeps_does_not_grow_with_the_transactions(table: str) -> None:
    """moto kept every table copy a transaction made (and every item in it) for good: here, after many
    transactions, committed and cancelled, as many items and tables are alive as before."""
    key = _key(table, "p1", "b")
    items, tables = _alive(Item), _alive(Table)
    for version in range(20):
        client("dynamodb").transact_write_items(TransactItems=[_set_n(table, key, version)])
        with pytest.raises(ClientError):
            client("dynamodb").transact_write_items(TransactItems=_cancelled_by_a_condition(table))
        client("dynamodb").query(
            TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": key["pk"]}
        )
    assert (_alive(Item), _alive(Table)) == (items, tables)


def _query(table: str, partition: str, **extra: Any) -> list[dict[str, Any]]:
    pk = _key(table, partition, "a")["pk"]
    answer = client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": pk},
        ConsistentRead=True,
        **extra,
    )
    return list(answer["Items"])


def test_a_query_of_the_table_reads_its_partition_only_and_answers_as_moto_did(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto sorted every item of the table for each Query of it (a cost growing with the table): here
    a Query reads its partition's items, and answers exactly what moto's own reading answers."""
    fitted = {
        (p, extra): _query(table, p, **dict(extra))
        for p in ("p1", "p2", "p9")
        for extra in ((), (("ScanIndexForward", False),), (("Limit", 2),))
    }
    monkeypatch.setattr(Table, "all_items", _every_item)  # moto's own reading: every item, sorted
    assert {(p, extra): _query(table, p, **dict(extra)) for p, extra in fitted} == fitted
    assert [item["n"] for item in fitted[("p1", ())]] == [{"N": "1"}] * (3 if _is_range_keyed(table) else 1)

    def whole_table(self: Table) -> list[Item]:
        raise AssertionError("a Query of one partition read the whole table")

    monkeypatch.setattr(moto_long_runs, "_every_item", whole_table)
    monkeypatch.setattr(Table, "all_items", moto_long_runs._items_read)
    assert _query(table, "p1") == fitted[("p1", ())]
    with pytest.raises(AssertionError, match="whole table"):  # a Scan still reads every item
        client("dynamodb").scan(TableName=table)


def _is_range_keyed(table: str) -> bool:
    return _backend().get_table(table).range_key_attr is not None


def test_deleted_messages_are_not_kept(mocked_aws: None) -> None:
    queue = client("sqs").create_queue(QueueName=f"moto-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    alive = _alive(Message)
    for number in range(20):
        client("sqs").send_message(QueueUrl=queue, MessageBody=f"message {number}")
        for message in client("sqs").receive_message(QueueUrl=queue)["Messages"]:
            client("sqs").delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert _alive(Message) == alive
    client("sqs").delete_queue(QueueUrl=queue)


def _from_another_thread_mid_transaction(
    table: str, monkeypatch: pytest.MonkeyPatch, request: Callable[[], None]
) -> None:
    """`request` made from another thread once a transaction has written all it writes, just before
    its last operation fails and cancels it (the moto server answers each request in a thread of its
    own); given half a second to finish before the transaction goes on."""
    backend = _backend()
    other = threading.Thread(target=request)
    read = backend.get_item
    last = _key(table, "p1", "c")  # the operation that cancels the transaction

    def read_and_let_the_other_thread_in(table_name: str, keys: dict[str, Any], *rest: Any) -> Any:
        if keys == last and other.ident is None:
            other.start()
            other.join(timeout=0.5)
        return read(table_name, keys, *rest)

    monkeypatch.setattr(backend, "get_item", read_and_let_the_other_thread_in)
    with pytest.raises(ClientError, match="TransactionCanceled"):
        client("dynamodb").transact_write_items(TransactItems=_cancelled_by_a_condition(table))
    monkeypatch.undo()
    other.join(timeout=10)


def test_a_write_from_another_thread_waits_for_a_transaction_and_keeps_its_stream_record(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written in the middle of the transaction, its stream record would be cut by the undo."""
    item = {**_key(table, "p9", "z"), "n": {"N": "1"}}
    _from_another_thread_mid_transaction(
        table, monkeypatch, lambda: client("dynamodb").put_item(TableName=table, Item=item)
    )
    assert client("dynamodb").get_item(TableName=table, Key=_key(table, "p9", "z"))["Item"] == item
    [*_, last] = _picture(table)["record bodies"]
    assert (last["eventName"], last["dynamodb"]["Keys"]) == ("INSERT", _key(table, "p9", "z"))


def test_a_read_from_another_thread_never_sees_a_cancelled_transactions_writes(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, Any]] = []

    def read_what_the_transaction_put() -> None:
        seen.append(client("dynamodb").get_item(TableName=table, Key=_key(table, "p1", "d")))

    _from_another_thread_mid_transaction(table, monkeypatch, read_what_the_transaction_put)
    assert [reply.get("Item") for reply in seen] == [None]
