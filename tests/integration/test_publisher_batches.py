"""The publisher sends a stream batch's events in batches of 10 (EventBridge PutEvents, SQS
SendMessageBatch) against moto, and a partial failure of either call is the batch's failure from the
failed entry's record on: nothing of a later record is queued, and the stream's retry from that record
queues every event exactly once (the queue deduplicates by event id)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from payments.engine import event
from payments.orders import OrderStatus
from payments.outbox.publisher import ENTRIES_PER_CALL, EventPublisher
from payments.store.merchant_events import MerchantEventStore
from payments.store.order_items import event_item
from payments.store.table import Table
from tests.conftest import Stack
from tests.support.orders import stored_order
from tests.support.providers import ANY_PROVIDER

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def paid_record(index: int) -> dict[str, Any]:
    """The stream record of an order's audit event pending -> paid: one merchant event (order.paid)."""
    order = stored_order(f"batch-{index}", T0, provider=ANY_PROVIDER)
    order.status = OrderStatus.PAID
    audit = event(
        "notification", "notification", T0, from_status=OrderStatus.PENDING, to_status=OrderStatus.PAID, seq=2
    )
    image = event_item(order.order_id, audit, order)
    return {"eventName": "INSERT", "dynamodb": {"NewImage": image, "SequenceNumber": f"{index:021d}"}}


class RecordingBus:
    """The EventBridge client; refuses the entries of `refuse` (order ids) on the first put that has them."""

    def __init__(self, real: Any, refuse: set[str] | None = None) -> None:
        self.real, self.refuse = real, set(refuse or ())
        self.calls: list[int] = []
        self.taken: Counter[str] = Counter()

    def put_events(self, **request: Any) -> dict[str, Any]:
        entries = request["Entries"]
        self.calls.append(len(entries))
        results: list[dict[str, Any]] = []
        for entry in entries:
            order_id = json.loads(entry["Detail"])["order_id"]
            if order_id in self.refuse:
                self.refuse.discard(order_id)
                results.append({"ErrorCode": "InternalFailure", "ErrorMessage": "try again"})
                continue
            answer = self.real.put_events(Entries=[entry])
            results.append(answer["Entries"][0])
            self.taken[order_id] += 1
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}


class RecordingQueue:
    """The SQS client; refuses the entries of `refuse` (order ids) on the first batch that has them."""

    def __init__(self, real: Any, refuse: set[str] | None = None) -> None:
        self.real, self.refuse = real, set(refuse or ())
        self.calls: list[int] = []
        self.taken: list[str] = []  # the order ids of the entries taken, in order

    def send_message_batch(self, **request: Any) -> dict[str, Any]:
        entries = request["Entries"]
        self.calls.append(len(entries))
        refused = [e for e in entries if e["MessageGroupId"] in self.refuse]
        self.refuse -= {e["MessageGroupId"] for e in refused}
        taken = [e for e in entries if e not in refused]
        answer = self.real.send_message_batch(QueueUrl=request["QueueUrl"], Entries=taken) if taken else {}
        self.taken.extend(e["MessageGroupId"] for e in taken)
        failed = [{"Id": e["Id"], "SenderFault": False, "Code": "InternalError"} for e in refused]
        return {"Successful": answer.get("Successful", []), "Failed": failed}


@pytest.fixture
def queue_url(stack: Stack) -> str:
    return stack.refs["WebhookQueue"]


def publisher(stack: Stack, bus: RecordingBus, queue: RecordingQueue, queue_url: str) -> EventPublisher:
    return EventPublisher(
        MerchantEventStore(Table(stack.table_name)), bus, stack.refs["MerchantEventBus"], queue, queue_url
    )


def queued(queue_url: str) -> Counter[str]:
    """The order ids of every message on the (FIFO) queue, counted."""
    sqs, seen = boto3.client("sqs"), Counter[str]()
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            seen[json.loads(message["Body"])["order_id"]] += 1
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return seen


def test_a_batch_goes_out_ten_entries_a_call(stack: Stack, queue_url: str) -> None:
    bus, queue = RecordingBus(boto3.client("events")), RecordingQueue(boto3.client("sqs"))
    records = [paid_record(index) for index in range(25)]
    outcome = publisher(stack, bus, queue, queue_url).publish_records(records, T0)
    assert (outcome.published, outcome.failed_from) == (25, None)
    assert bus.calls == queue.calls == [ENTRIES_PER_CALL, ENTRIES_PER_CALL, 5]
    assert queued(queue_url) == Counter({f"batch-{index}": 1 for index in range(25)})


@pytest.mark.parametrize("refused_by", ["bus", "queue"])
def test_a_partially_failed_call_fails_the_batch_from_that_record_and_the_retry_queues_each_once(
    stack: Stack, queue_url: str, refused_by: str
) -> None:
    refuse = {"batch-13"}  # in the second call of each
    bus = RecordingBus(boto3.client("events"), refuse if refused_by == "bus" else None)
    queue = RecordingQueue(boto3.client("sqs"), refuse if refused_by == "queue" else None)
    sender = publisher(stack, bus, queue, queue_url)
    records = [paid_record(index) for index in range(25)]
    outcome = sender.publish_records(records, T0)
    assert outcome.failed_from == 13
    assert outcome.published == 13
    assert len(bus.calls) == len(queue.calls) == 2  # nothing sent after the call with the failed entry
    before_retry = set(queue.taken)
    assert {f"batch-{index}" for index in range(13)} <= before_retry
    assert "batch-13" not in before_retry
    if refused_by == "bus":  # nothing of a record after the failed one was queued
        assert before_retry == {f"batch-{index}" for index in range(13)}
    retried = sender.publish_records(records[13:], T0)  # the stream gives them again from it
    assert (retried.published, retried.failed_from) == (12, None)
    # Each once on the queue (what the call took again is deduplicated by event id), none lost.
    assert queued(queue_url) == Counter({f"batch-{index}": 1 for index in range(25)})
    assert all(bus.taken[f"batch-{index}"] >= 1 for index in range(25))  # on the bus at least once
