"""From a committed change to the merchant: the orders table's stream -> merchant events.

For each audit event the stream carries (an INSERT of an `EVENT#` item: the change's own write), the
merchant events it stands for (payments/outbox/merchant_events.py) are kept for catching up (GET /events),
put on the EventBridge bus (`source` = the service, `detail-type` = the event type), and, when the
merchant has a webhook, queued for delivery on a FIFO queue grouped by order (so one order's events go
out in sequence, a later one never before an earlier one is acknowledged or dead-lettered).

Each step is idempotent or deduplicated by the event's id, so a stream batch delivered again (after a
partial failure) publishes nothing twice that a merchant could tell apart from a retry.

A stream batch is sent in batches: EventBridge `PutEvents` and SQS `SendMessageBatch` take up to 10
entries a call, in the records' order. Either answers per entry; the first record with an entry not
taken (or not kept, or not sent) is the batch's failure, and nothing of the records after it is sent:
the stream gives them again from that record on (functions/publish_events/app.py).

A batch's events are kept (one transaction each) for several orders at once, each order's events one
after another in its records' order: one at a time, a stream shard's batch would wait a transaction's
round trip per event, about the rate at which a partition's own writes produce events at a peak
(docs/capacity.md, "The publisher"). Lambda's ParallelizationFactor would not keep one order's events
in order: on a DynamoDB stream it keeps order per item, and each audit event is an item of its own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from payments import aws_clients
from payments.clock import utc_now
from payments.errors import NotFound, StoreUnavailable
from payments.outbox.merchant_events import EVENT_ID_RE, SOURCE, MerchantEvent, events_of
from payments.records import frozen
from payments.store.merchant_events import MerchantEventStore
from payments.store.order_items import EVENT_PREFIX

# PutEvents and SendMessageBatch: at most 10 entries a call (each event's body is far below the
# calls' 256 KB and 1 MiB request limits: payments/outbox/merchant_events.py bounds what it carries).
ENTRIES_PER_CALL = 10
KEEPERS = 8  # orders whose events are kept at once (threads; botocore's clients are thread-safe)


class PublishFailed(Exception):
    """EventBridge or SQS did not take an event: the stream batch is retried from this record."""


@frozen
class _Outgoing:
    """A merchant event on its way to the bus and the queue, with the stream record it came from."""

    record: int  # the position of its stream record in the batch
    event: MerchantEvent
    body: str
    deduplication_id: str


@frozen
class BatchOutcome:
    """What publishing a stream batch did: the merchant events sent, and the first record that was
    not published (None: every one was). The records from it on are to be given again."""

    published: int
    failed_from: int | None
    reason: str = ""


def audit_image(record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The new image of a stream record that carries an audit event, or None."""
    if record.get("eventName") != "INSERT":
        return None
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    sort_key = (image.get("sk") or {}).get("S", "")
    return image if sort_key.startswith(EVENT_PREFIX) and "order_json" in image else None


class EventPublisher:
    def __init__(
        self,
        store: MerchantEventStore,
        events_client: Any,
        bus_name: str,
        sqs_client: Any | None = None,
        queue_url: str | None = None,
    ) -> None:
        self.store = store
        self.events_client = events_client
        self.bus_name = bus_name
        self.sqs_client = sqs_client
        self.queue_url = queue_url

    @classmethod
    def from_env(cls) -> EventPublisher:
        """Wired by template.yaml: the table, the bus, and the webhook queue when a URL is configured."""
        queue_url = os.environ.get("WEBHOOK_QUEUE_URL") if os.environ.get("WEBHOOK_URL") else None
        return cls(
            MerchantEventStore.from_env(),
            aws_clients.client("events"),
            os.environ["EVENT_BUS_NAME"],
            aws_clients.client("sqs") if queue_url else None,
            queue_url,
        )

    def publish_records(
        self, records: Sequence[Mapping[str, Any]], now: datetime | None = None
    ) -> BatchOutcome:
        """Publish what a stream batch's records stand for: each event kept, then put on the bus and
        queued for the webhook ENTRIES_PER_CALL at a time, in the records' order."""
        moment = now or utc_now()
        planned: list[_Outgoing] = []
        failed_from: int | None = None
        reason = ""
        for position, record in enumerate(records):
            image = audit_image(record)
            if image is None:
                continue
            try:
                planned.extend(
                    _Outgoing(position, event, event.body(), event.id) for event in events_of(image)
                )
            except (KeyError, ValueError) as failure:
                failed_from, reason = position, f"not kept: {type(failure).__name__}"
                break
        not_kept = self._keep(planned, moment)
        if not_kept is not None and (failed_from is None or not_kept < failed_from):
            failed_from, reason = not_kept, "not kept: StoreUnavailable"
        outgoing = [entry for entry in planned if failed_from is None or entry.record < failed_from]
        sent, send_failed, send_reason = self._send(outgoing)
        if send_failed is not None:
            failed_from, reason = send_failed, send_reason
        return BatchOutcome(sent, failed_from, reason)

    def _keep(self, planned: list[_Outgoing], moment: datetime) -> int | None:
        """Keep the planned events, each order's in turn and the orders side by side; the record of the
        first event not kept (None: all were). An order stops at its first failure; a later record kept
        meanwhile is kept again, as a duplicate, when the stream gives it again."""
        by_order: dict[str, list[_Outgoing]] = {}
        for entry in planned:
            by_order.setdefault(entry.event.order_id, []).append(entry)

        def keep_in_turn(entries: list[_Outgoing]) -> int | None:
            for entry in entries:
                event = entry.event
                try:
                    # Stamped just before the write: GET /events lists only what was stamped before its
                    # settle window, by when every such write has landed (payments/outbox/event_queries.py).
                    self.store.put(
                        event.id, event.order_id, event.type, entry.body, moment, stored_at=utc_now()
                    )
                except StoreUnavailable:
                    return entry.record
            return None

        groups = list(by_order.values())
        if len(groups) <= 1:
            failures = [keep_in_turn(entries) for entries in groups]
        else:
            with ThreadPoolExecutor(max_workers=min(KEEPERS, len(groups))) as keepers:
                # Each in a copy of this context: what the invocation set (its logging and tracing
                # context) holds in the keepers' threads too.
                kept = [keepers.submit(copy_context().run, keep_in_turn, entries) for entries in groups]
                failures = [future.result() for future in kept]
        return min((failed for failed in failures if failed is not None), default=None)

    def publish(self, event: MerchantEvent, now: datetime, *, again: bool = False) -> None:
        """One event: kept (unless sent `again`), on the bus, queued for the webhook."""
        body = event.body()
        if not again:
            try:
                self.store.put(event.id, event.order_id, event.type, body, now, stored_at=utc_now())
            except StoreUnavailable as down:
                raise PublishFailed("the event could not be kept") from down
        # A redelivery asked for by the merchant is a new message; a stream retry is not.
        deduplication_id = f"{event.id}-again-{int(now.timestamp())}" if again else event.id
        _, failed, reason = self._send([_Outgoing(0, event, body, deduplication_id)])
        if failed is not None:
            raise PublishFailed(reason)

    def _send(self, outgoing: list[_Outgoing]) -> tuple[int, int | None, str]:
        """Put `outgoing` on the bus and queue them, ENTRIES_PER_CALL at a time (the bus, then the queue,
        for each call's worth). The events sent to both; the record of the first entry one of them did
        not take (None: all were taken) and why. After a call with a failed entry nothing more is sent:
        the stream's retry from that record sends the rest."""
        sent = 0
        for chunk in _chunks(outgoing):
            failed = self._put_on_bus(chunk)
            reason = "EventBridge did not take the event" if failed is not None else ""
            taken = [entry for entry in chunk if failed is None or entry.record < failed]
            if taken and self.sqs_client is not None and self.queue_url:
                not_queued = self._queue(taken)
                if not_queued is not None:
                    failed, reason = not_queued, "the webhook queue did not take the event"
            if failed is not None:
                return sent + sum(entry.record < failed for entry in chunk), failed, reason
            sent += len(chunk)
        return sent, None, ""

    def _put_on_bus(self, chunk: list[_Outgoing]) -> int | None:
        """The record of the first entry the bus did not take; None when it took them all."""
        try:
            answer = self.events_client.put_events(
                Entries=[
                    {
                        "Source": SOURCE,
                        "DetailType": entry.event.type,
                        "Detail": entry.body,
                        "EventBusName": self.bus_name,
                        "Resources": [],
                    }
                    for entry in chunk
                ]
            )
        except (BotoCoreError, ClientError):
            return chunk[0].record
        if not answer.get("FailedEntryCount"):
            return None
        results = answer.get("Entries") or []
        # The answer's entries are in the request's order; an entry with an ErrorCode was not taken.
        failed = [
            entry.record for entry, result in zip(chunk, results, strict=False) if result.get("ErrorCode")
        ]
        return min(failed, default=chunk[0].record)

    def _queue(self, chunk: list[_Outgoing]) -> int | None:
        """The record of the first entry the queue did not take; None when it took them all."""
        try:
            answer = self.sqs_client.send_message_batch(  # type: ignore[union-attr]
                QueueUrl=self.queue_url,
                Entries=[
                    {
                        "Id": str(index),
                        "MessageBody": entry.body,
                        "MessageGroupId": entry.event.order_id,
                        "MessageDeduplicationId": entry.deduplication_id,
                    }
                    for index, entry in enumerate(chunk)
                ],
            )
        except (BotoCoreError, ClientError):
            return chunk[0].record
        failed = [chunk[int(result["Id"])].record for result in answer.get("Failed") or []]
        return min(failed, default=None)

    def redeliver(self, event_id: str, now: datetime | None = None) -> MerchantEvent:
        """POST /events/{event_id}/redeliver: send a kept event again (to the bus and the webhook);
        404 for an id that is not an event's or no longer kept."""
        body = self.store.get(event_id) if EVENT_ID_RE.fullmatch(event_id) else None
        if body is None:
            raise NotFound("no such event", field="event_id", code="event_not_found")
        event = MerchantEvent.from_dict(json.loads(body))
        self.publish(event, now or utc_now(), again=True)
        return event


def _chunks(outgoing: list[_Outgoing]) -> list[list[_Outgoing]]:
    return [outgoing[start : start + ENTRIES_PER_CALL] for start in range(0, len(outgoing), ENTRIES_PER_CALL)]
