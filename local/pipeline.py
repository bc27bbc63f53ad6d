"""What Lambda's event source mappings do, for the local stack and the tests: read the orders table's
stream (moto keeps its records) into the stream function, and the webhook queue into the webhook
function, in order, with partial batch failures honoured.

- `StreamPoller`: each shard from its start, the template's filter applied (only audit events' own
  writes), records in batches of up to 100; a record the function reports failed is given again, from
  itself onward, on the next poll (Lambda's `ReportBatchItemFailures` for streams).
- `QueuePoller`: up to 5 messages at a time with all their attributes (receive count, message group),
  the ones the function does not report failed deleted; the failed ones stay, hidden for the backoff
  the function set (Lambda's `ReportBatchItemFailures` for SQS).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

Invoke = Callable[[dict[str, Any]], Any]


def matches(record: dict[str, Any], pattern: dict[str, Any]) -> bool:
    """EventBridge-style filter matching, for what the template's filters use: value lists and
    `{"prefix": …}`."""
    for key, wanted in pattern.items():
        value = record.get(key) if isinstance(record, dict) else None
        if isinstance(wanted, dict):
            if not isinstance(value, dict) or not matches(value, wanted):
                return False
            continue
        if not any(
            (
                isinstance(option, dict)
                and isinstance(value, str)
                and value.startswith(option.get("prefix", "\0"))
            )
            or option == value
            for option in wanted
        ):
            return False
    return True


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A stream record as Lambda hands it to a function: JSON (boto3 gives the creation time as a
    datetime and binary attributes as bytes; Lambda as epoch seconds and base64), with its stream."""

    def as_json(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, bytes | bytearray):
            return base64.b64encode(value).decode("ascii")
        raise TypeError(f"not JSON: {type(value).__name__}")

    converted: dict[str, Any] = json.loads(json.dumps(record, default=as_json))
    converted["eventSourceARN"] = stream_arn
    return converted


class StreamPoller:
    def __init__(
        self, dynamodb: Any, streams: Any, table_name: str, invoke: Invoke, filters: list[dict[str, Any]]
    ) -> None:
        self.streams = streams
        self.invoke = invoke
        self.filters = filters
        self.stream_arn: str = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self.iterators: dict[str, str] = {}
        self.pending: dict[str, list[dict[str, Any]]] = {}  # shard -> records given again (failed)

    def poll_once(self) -> int:
        """One pass over every shard; the number of records the function accepted."""
        accepted = 0
        for shard in self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self.iterators:
                self.iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            page = self.streams.get_records(ShardIterator=self.iterators[shard_id], Limit=100)
            self.iterators[shard_id] = page.get("NextShardIterator") or self.iterators[shard_id]
            fresh = [
                lambda_record(record, self.stream_arn)
                for record in page.get("Records", [])
                if not self.filters or any(matches(record, pattern) for pattern in self.filters)
            ]
            records = self.pending.pop(shard_id, []) + fresh
            if not records:
                continue
            result = self.invoke({"Records": records})
            failed = [item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])]
            if failed:
                first = next(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] in failed)
                self.pending[shard_id] = records[first:]
                accepted += first
            else:
                accepted += len(records)
        return accepted


class QueuePoller:
    def __init__(self, sqs: Any, queue_url: str, invoke: Invoke, batch_size: int = 5) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.invoke = invoke
        self.batch_size = batch_size
        self.queue_arn: str = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def poll_once(self) -> int:
        """One receive; the number of messages the function acknowledged."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            AttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        records = [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": self.queue_arn,
                "awsRegion": "eu-west-1",
            }
            for message in messages
        ]
        try:
            result = self.invoke({"Records": records})
        except Exception:  # the function failed: Lambda retries the whole batch after its timeout
            return 0
        failed = {item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])}
        acknowledged = 0
        for record in records:
            if record["messageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"])
                acknowledged += 1
        return acknowledged


def filters_of(event_properties: dict[str, Any]) -> list[dict[str, Any]]:
    """The filter patterns of a template event source (`FilterCriteria.Filters[].Pattern`)."""
    return [
        json.loads(item["Pattern"]) for item in event_properties.get("FilterCriteria", {}).get("Filters", [])
    ]
