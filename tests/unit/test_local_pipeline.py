"""The local stack's event source mappings (local/pipeline.py) hand functions what Lambda would."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from local.testing import QueuePoller, StreamPoller

STREAM_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-11-26T00:00:00.000"


class OneRecordStream:
    """A DynamoDB Streams client with one shard holding one record, as boto3 returns it."""

    def describe_table(self, **_: Any) -> dict[str, Any]:
        return {"Table": {"LatestStreamArn": STREAM_ARN}}

    def describe_stream(self, **_: Any) -> dict[str, Any]:
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, **_: Any) -> dict[str, Any]:
        return {"ShardIterator": "it-1"}

    def get_records(self, **request: Any) -> dict[str, Any]:
        if request["ShardIterator"] != "it-1":
            return {"Records": [], "NextShardIterator": request["ShardIterator"]}
        record = {
            "eventID": "1",
            "eventName": "INSERT",
            "eventSource": "aws:dynamodb",
            "dynamodb": {
                "ApproximateCreationDateTime": datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
                "Keys": {"pk": {"S": "ORDER#o-1"}, "sk": {"S": "EVENT#0000000001"}},
                "NewImage": {"pk": {"S": "ORDER#o-1"}, "blob": {"B": b"\x00\xff"}},
                "SequenceNumber": "100",
            },
        }
        return {"Records": [record], "NextShardIterator": "it-2"}


def test_a_stream_record_reaches_the_function_as_lambda_sends_it() -> None:
    """Under the Lambda emulator the batch travels as JSON: boto3's datetime and bytes must not stop
    it (the publish function never got a record in `make dev`: TypeError on every poll)."""
    batches: list[str] = []
    stream = OneRecordStream()
    poller = StreamPoller(stream, stream, "orders", lambda batch: batches.append(json.dumps(batch)), [])
    assert poller.poll_once() == 1
    (record,) = json.loads(batches[0])["Records"]
    assert record["dynamodb"]["ApproximateCreationDateTime"] == 1795694400.0  # epoch seconds
    assert record["dynamodb"]["NewImage"]["blob"] == {"B": "AP8="}  # base64, as Lambda gives binary
    assert record["eventSourceARN"] == STREAM_ARN


def test_the_stream_poller_tells_how_old_the_last_record_it_handed_over_was() -> None:
    """Lambda's IteratorAge, which `make dev` watches (local/watch.py)."""
    stream = OneRecordStream()
    handed_over_at = 1795694400.0 + 42  # the record was made at 1795694400.0
    poller = StreamPoller(stream, stream, "orders", lambda batch: None, [], clock=lambda: handed_over_at)
    assert poller.poll_once() == 1
    assert poller.behind_s == 42
    assert poller.poll_once() == 0  # nothing new: nothing is late
    assert poller.behind_s == 0


class FourMessages:
    """An SQS client holding four messages: two received for the first time, two again."""

    def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
        return {"Attributes": {"QueueArn": "arn:aws:sqs:eu-west-1:123456789012:webhooks.fifo"}}

    def receive_message(self, **_: Any) -> dict[str, Any]:
        def message(number: int, sent: int, receives: int) -> dict[str, Any]:
            attributes = {"SentTimestamp": str(sent * 1000), "ApproximateReceiveCount": str(receives)}
            return {
                "MessageId": str(number),
                "ReceiptHandle": str(number),
                "Body": "{}",
                "Attributes": attributes,
            }

        return {"Messages": [message(1, 900, 5), message(2, 990, 1), message(3, 970, 1), message(4, 100, 2)]}

    def delete_message(self, **_: Any) -> None:
        return None


def test_the_queue_poller_tells_how_long_a_first_delivery_waited_not_a_retry() -> None:
    """A retried message waits on purpose (the backoff its function set): only first tries count."""
    poller = QueuePoller(FourMessages(), "queue-url", lambda batch: None, clock=lambda: 1000.0)
    assert poller.poll_once() == 4
    assert poller.behind_s == 30
