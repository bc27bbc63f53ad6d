"""From a committed change to the merchant: the orders table's stream -> merchant events.

For each audit event the stream carries (an INSERT of an `EVENT#` item: the change's own write), the
merchant events it stands for (payments/outbox/merchant_events.py) are kept for catching up (GET /events),
put on the EventBridge bus (`source` = the service, `detail-type` = the event type), and, when the
merchant has a webhook, queued for delivery on a FIFO queue grouped by order (so one order's events go
out in sequence, a later one never before an earlier one is acknowledged or dead-lettered).

Each step is idempotent or deduplicated by the event's id, so a stream batch delivered again (after a
partial failure) publishes nothing twice that a merchant could tell apart from a retry.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from payments import aws_clients
from payments.clock import utc_now
from payments.errors import NotFound, StoreUnavailable
from payments.outbox.merchant_events import EVENT_ID_RE, SOURCE, MerchantEvent, merchant_events
from payments.store.merchant_events import MerchantEventStore
from payments.store.order_items import EVENT_PREFIX, event_from_item


class PublishFailed(Exception):
    """EventBridge or SQS did not take an event: the stream batch is retried from this record."""


def audit_image(record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The new image of a stream record that carries an audit event, or None."""
    if record.get("eventName") != "INSERT":
        return None
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    sort_key = (image.get("sk") or {}).get("S", "")
    return image if sort_key.startswith(EVENT_PREFIX) and "order_json" in image else None


def events_of(image: Mapping[str, Any]) -> list[MerchantEvent]:
    audit = event_from_item(image)
    order = json.loads(image["order_json"]["S"])
    return merchant_events(order, audit, image["order_id"]["S"])


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

    def publish_record(self, record: Mapping[str, Any], now: datetime | None = None) -> int:
        """Publish what one stream record stands for; the number of merchant events."""
        image = audit_image(record)
        if image is None:
            return 0
        events = events_of(image)
        for event in events:
            self.publish(event, now or utc_now())
        return len(events)

    def publish(self, event: MerchantEvent, now: datetime, *, again: bool = False) -> None:
        body = event.body()
        if not again:
            try:
                # Stamped just before the write: GET /events lists only what was stamped before its
                # settle window, by when every such write has landed (payments/outbox/event_queries.py).
                self.store.put(event.id, event.order_id, event.type, body, now, stored_at=utc_now())
            except StoreUnavailable as down:
                raise PublishFailed("the event could not be kept") from down
        answer = self.events_client.put_events(
            Entries=[
                {
                    "Source": SOURCE,
                    "DetailType": event.type,
                    "Detail": body,
                    "EventBusName": self.bus_name,
                    "Resources": [],
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            raise PublishFailed("EventBridge did not take the event")
        if self.sqs_client is not None and self.queue_url:
            self.sqs_client.send_message(
                QueueUrl=self.queue_url,
                MessageBody=body,
                MessageGroupId=event.order_id,
                # A redelivery asked for by the merchant is a new message; a stream retry is not.
                MessageDeduplicationId=f"{event.id}-again-{int(now.timestamp())}" if again else event.id,
            )

    def redeliver(self, event_id: str, now: datetime | None = None) -> MerchantEvent:
        """POST /events/{event_id}/redeliver: send a kept event again (to the bus and the webhook);
        404 for an id that is not an event's or no longer kept."""
        body = self.store.get(event_id) if EVENT_ID_RE.fullmatch(event_id) else None
        if body is None:
            raise NotFound("no such event", field="event_id", code="event_not_found")
        event = MerchantEvent.from_dict(json.loads(body))
        self.publish(event, now or utc_now(), again=True)
        return event
