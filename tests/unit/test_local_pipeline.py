"""The local stack's event source mappings (local/pipeline.py) hand functions what Lambda would."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from local.testing import StreamPoller

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
