"""What Lambda's event source mappings do, for the local stack and the tests: read the orders table's
stream (moto keeps its records) into the stream function, and the webhook queue into the webhook
function, in order, with partial batch failures honoured.

- `StreamPoller`: each shard from its start, the template's filter applied (only audit events' own
  writes), records in batches of up to 100; a record the function reports failed is given again, from
  itself onward, on the next poll (Lambda's `ReportBatchItemFailures` for streams). Every poll reads
  from the last record read, by its sequence number, and checks that record is still there: moto
  restores a copy of the table when a transaction is cancelled, stream shard included, so an iterator
  kept from before reads an orphaned shard (nothing new ever, but the cancelled writes), and records
  already read may be taken back (`ShardCursor`).
- `QueuePoller`: up to 5 messages at a time with all their attributes (receive count, message group),
  the ones the function does not report failed deleted; the failed ones stay, hidden for the backoff
  the function set (Lambda's `ReportBatchItemFailures` for SQS).

Both keep `behind_s`, how old the work they last handed over was (Lambda's IteratorAge; for the queue,
a first delivery's wait), which `make dev` watches (local/watch.py).
"""

from __future__ import annotations

import base64
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
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


READ_LIMIT = 100  # records per GetRecords, as the template's BatchSize
REMEMBERED = 100  # records of a shard whose ids are kept, to find where a rewound shard departs


@dataclass
class ShardCursor:
    """Where a shard was read up to: the sequence numbers and event ids of its latest records read,
    oldest first (at most REMEMBERED)."""

    read: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=REMEMBERED))

    def remember(self, records: list[dict[str, Any]]) -> None:
        self.read.extend((record["dynamodb"]["SequenceNumber"], record["eventID"]) for record in records)


class StreamPoller:
    def __init__(
        self,
        dynamodb: Any,
        streams: Any,
        table_name: str,
        invoke: Invoke,
        filters: list[dict[str, Any]],
        warn: Callable[[str], None] = lambda _: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.streams = streams
        self.invoke = invoke
        self.filters = filters
        self.warn = warn
        self.clock = clock
        self.stream_arn: str = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self.cursors: dict[str, ShardCursor] = {}
        self.pending: dict[str, list[dict[str, Any]]] = {}  # shard -> records given again (failed)
        # Lambda's IteratorAge: how old the last record handed to the function was, when handed over
        # (0 when there was nothing to hand over).
        self.behind_s = 0.0

    def poll_once(self) -> int:
        """One pass over every shard; the number of records the function accepted."""
        accepted = 0
        self.behind_s = 0.0
        for shard in self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            fresh = [
                lambda_record(record, self.stream_arn)
                for record in self._read(shard_id)
                if not self.filters or any(matches(record, pattern) for pattern in self.filters)
            ]
            records = self.pending.pop(shard_id, []) + fresh
            if not records:
                continue
            created = records[-1]["dynamodb"].get("ApproximateCreationDateTime")
            if isinstance(created, int | float):
                self.behind_s = max(self.behind_s, self.clock() - created)
            result = self.invoke({"Records": records})
            failed = [item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])]
            if failed:
                first = next(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] in failed)
                self.pending[shard_id] = records[first:]
                accepted += first
            else:
                accepted += len(records)
        return accepted

    def _read(self, shard_id: str) -> list[dict[str, Any]]:
        """The shard's records after the last one read. Read afresh from that record every time, and
        only if it is still the record read: an iterator kept from an earlier poll may belong to a
        shard moto has since replaced (a cancelled transaction), which never returns anything again."""
        cursor = self.cursors.setdefault(shard_id, ShardCursor())
        if not cursor.read:
            records = self._records(shard_id, "TRIM_HORIZON", None, READ_LIMIT)
        else:
            last_sequence, last_event = cursor.read[-1]
            records = self._records(shard_id, "AT_SEQUENCE_NUMBER", last_sequence, READ_LIMIT + 1)
            if records and records[0]["eventID"] == last_event:
                records = records[1:]
            else:
                records = self._after_rewind(shard_id, cursor)
        cursor.remember(records)
        return records

    def _after_rewind(self, shard_id: str, cursor: ShardCursor) -> list[dict[str, Any]]:
        """The last record read is gone: moto took back a cancelled transaction's writes after this
        poller had read them (the function has seen them: said in a warning). Find where the shard
        departs from what was read, and read on from there."""
        oldest_sequence = cursor.read[0][0]
        records = self._records(
            shard_id, "AT_SEQUENCE_NUMBER", oldest_sequence, len(cursor.read) + READ_LIMIT
        )
        kept = 0
        while (
            kept < len(cursor.read)
            and kept < len(records)
            and records[kept]["eventID"] == cursor.read[kept][1]
        ):
            kept += 1
        undone = len(cursor.read) - kept
        if undone:
            self.warn(
                f"{undone} stream record(s) already handed to the function were taken back (a cancelled "
                f"transaction, rolled back by moto after they were read): reading on from sequence "
                f"number {cursor.read[kept][0]}"
            )
        for _ in range(undone):
            cursor.read.pop()
        return records[kept:]

    def _records(self, shard_id: str, kind: str, sequence: str | None, limit: int) -> list[dict[str, Any]]:
        position = {"SequenceNumber": sequence} if sequence is not None else {}
        iterator = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=kind, **position
        )["ShardIterator"]
        records: list[dict[str, Any]] = self.streams.get_records(ShardIterator=iterator, Limit=limit).get(
            "Records", []
        )
        return records


class QueuePoller:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        invoke: Invoke,
        batch_size: int = 5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.invoke = invoke
        self.batch_size = batch_size
        self.clock = clock
        # How long the oldest message received for the first time had waited in the queue (0 when
        # none): a retry waits on purpose, for the backoff its function set, and is not counted.
        self.behind_s = 0.0
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
        first_tries = [
            int(message["Attributes"]["SentTimestamp"]) / 1000
            for message in messages
            if message.get("Attributes", {}).get("ApproximateReceiveCount") == "1"
            and "SentTimestamp" in message["Attributes"]
        ]
        self.behind_s = max((self.clock() - sent for sent in first_tries), default=0.0)
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
