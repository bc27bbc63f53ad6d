"""The local stack's stream poller (local/pipeline.py) on moto's real stream: records written after a
cancelled transaction still reach the function, though moto restores a copy of the table (stream
shard included) when it cancels one, and records moto takes back after they were read are said."""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import dynamodb_backends

from local.testing import StreamPoller, filters_of
from tests.conftest import Stack


class Collected:
    """The stream poller of the template's publish function, handing batches to a list."""

    def __init__(self, stack: Stack) -> None:
        self.table = stack.table_name
        self.keys: list[str] = []
        self.warnings: list[str] = []
        events = stack.template.resources["PublishEventsFunction"]["Properties"]["Events"]
        self.poller = StreamPoller(
            boto3.client("dynamodb"),
            boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.eu-west-1.amazonaws.com"),
            self.table,
            self._invoke,
            filters_of(events["OrdersStream"]["Properties"]),
            warn=self.warnings.append,
        )

    def _invoke(self, batch: dict[str, Any]) -> None:
        self.keys += [record["dynamodb"]["Keys"]["sk"]["S"] for record in batch["Records"]]

    def put_event(self, number: int) -> None:
        boto3.client("dynamodb").put_item(TableName=self.table, Item=event_item(number))


def event_item(number: int) -> dict[str, Any]:
    return {"pk": {"S": "ORDER#poller-1"}, "sk": {"S": f"EVENT#{number:04d}"}}


def moto_tables() -> dict[str, Any]:
    tables: dict[str, Any] = dynamodb_backends["123456789012"]["eu-west-1"].tables
    return tables


@pytest.fixture
def collected(stack: Stack) -> Collected:
    return Collected(stack)


def test_records_written_after_a_cancelled_transaction_reach_the_function(collected: Collected) -> None:
    """What stopped merchant events for the rest of a `make dev` session (a 409 order_id_conflict was
    enough): the poller kept its iterator of the shard moto had replaced, which returned nothing new,
    only the cancelled transaction's own write (an event for a change never committed)."""
    collected.put_event(1)
    assert collected.poller.poll_once() == 1
    boto3.client("dynamodb").put_item(
        TableName=collected.table, Item={"pk": {"S": "ORDER#poller-1"}, "sk": {"S": "ORDER"}}
    )
    with pytest.raises(ClientError, match="TransactionCanceled"):
        boto3.client("dynamodb").transact_write_items(
            TransactItems=[
                {"Put": {"TableName": collected.table, "Item": event_item(2)}},
                {
                    "Put": {
                        "TableName": collected.table,
                        "Item": {"pk": {"S": "ORDER#poller-1"}, "sk": {"S": "ORDER"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    collected.put_event(3)
    assert collected.poller.poll_once() == 1
    assert collected.keys == ["EVENT#0001", "EVENT#0003"]
    assert collected.warnings == []


def test_records_written_to_a_replaced_shard_reach_the_function(collected: Collected) -> None:
    """The table swapped for a copy made before a change, as moto's rollback does it (whatever moto's
    version or local/moto_long_runs.py do to transactions, this is the case the poller must survive)."""
    collected.put_event(1)
    assert collected.poller.poll_once() == 1
    moto_tables()[collected.table] = copy.deepcopy(moto_tables()[collected.table])
    collected.put_event(2)
    collected.put_event(3)
    assert collected.poller.poll_once() == 2
    assert collected.poller.poll_once() == 0  # nothing twice
    assert collected.keys == ["EVENT#0001", "EVENT#0002", "EVENT#0003"]


def test_records_taken_back_after_they_were_read_are_said_and_their_numbers_read_again(
    collected: Collected,
) -> None:
    """A cancelled transaction's writes reach the shard before moto restores the copy it took: a poll
    in between reads them. The next records reuse their sequence numbers: none of those is skipped."""
    collected.put_event(1)
    assert collected.poller.poll_once() == 1
    before = copy.deepcopy(moto_tables()[collected.table])
    collected.put_event(2)  # written by a transaction that moto is about to cancel
    assert collected.poller.poll_once() == 1
    moto_tables()[collected.table] = before  # the rollback
    collected.put_event(3)  # the sequence number record 2 had
    collected.put_event(4)
    assert collected.poller.poll_once() == 2
    assert collected.keys == ["EVENT#0001", "EVENT#0002", "EVENT#0003", "EVENT#0004"]
    [warning] = collected.warnings
    assert warning.startswith("1 stream record(s) already handed to the function were taken back")
    assert collected.poller.poll_once() == 0
