"""Signed webhooks to the merchant, from the FIFO queue the publisher fills (payments/outbox/publisher.py).

Each event is POSTed as JSON with `Payments-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<raw body>")>`. A 2xx acknowledges; anything else, or no answer within 10 s, leaves the message
on the queue, hidden for a backoff that doubles from 30 s, for 24 hours from its own first attempt;
a failure after that moves it to the dead-letter queue (an alarm) and acknowledges it. The queue is
FIFO and grouped by order, so while one event of an order waits, the later ones wait behind it, and
once it is settled (delivered or dead-lettered) the next is attempted, with a 24 hours of its own.

Why the events behind are attempted rather than dead-lettered with it: the endpoint may be back by
then, and an event in the dead-letter queue needs a person. Its own 24 hours are counted in the table
(payments/store/webhook_tries.py), not by the queue's receive count, which also grows while a message
is only held back. The queue's maxReceiveCount is a safety net for a failing function, never reached
by retries. An event that has waited 13 days (the queue keeps a message 14) is dead-lettered at its
next failure, so a long backlog is never dropped by the queue unseen.

Each outcome (delivered, retrying until a time, dead-lettered) is recorded per event (DeliveryLog,
payments/store/webhook_deliveries.py) for GET /orders/{order_id}/events.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from aws_lambda_powertools import Logger

from payments import clock
from payments.clock import utc_now
from payments.errors import ProviderError, StoreUnavailable
from payments.http import HttpClient
from payments.store.webhook_deliveries import DEAD_LETTERED, DELIVERED, RETRYING, WebhookDeliveries
from payments.store.webhook_tries import WebhookTries

logger = Logger()

WEBHOOK_TIMEOUT_S = 10.0
# Hidden this long after the n-th failed delivery (n = 1, 2, …): 30 s doubling, capped so the last try
# comes 24 h after the first (next_try_in): 13 tries, at 0 s, 30 s, 1.5 min, … 8.5 h, 17 h and 24 h.
BACKOFF_S = (30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 30720, 43200)
RETRY_FOR_S = 24 * 3600
QUEUE_AGE_LIMIT_S = 13 * 24 * 3600  # the queue (template.yaml) keeps a message 14 days
# Compresses the backoff for the local stack's tests (0: retry at once). Never set in template.yaml.
SCALE = float(os.environ.get("WEBHOOK_BACKOFF_SCALE") or 1)
SIGNATURE_HEADER = "Payments-Signature"
# What a failed delivery is recorded as (payments/store/webhook_deliveries.py): a code, never a body.
FAILURE_CODES = {"provider_timeout": "timeout", "provider_unavailable": "unreachable"}


def sign(secret: str, timestamp: int, body: str) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (Stripe's scheme)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class DeliveryFailed(Exception):
    """The merchant did not acknowledge the event: it stays queued for its next try."""


def backoff_s(deliveries_so_far: int) -> int:
    return int(BACKOFF_S[min(max(deliveries_so_far, 1), len(BACKOFF_S)) - 1] * SCALE)


class WebhookSender:
    def __init__(
        self,
        url: str,
        secret: Callable[[], str],
        http: HttpClient | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.url = url
        self.secret = secret
        self.http = http or HttpClient(provider_calls=False)
        self.clock = clock

    def deliver(self, body: str) -> None:
        """POST one event; raises DeliveryFailed unless the merchant answered 2xx in time."""
        timestamp = int(self.clock().timestamp())
        event_id = json.loads(body).get("id", "")
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secret(), timestamp, body),
            "Payments-Event-Id": str(event_id),
        }
        try:
            reply = self.http.request(
                "POST", self.url, headers=headers, body=body.encode(), timeout=(3.05, WEBHOOK_TIMEOUT_S)
            )
        except ProviderError as error:
            logger.warning("webhook not delivered", extra={"event_id": event_id, "reason": error.code})
            raise DeliveryFailed(FAILURE_CODES.get(error.code, "unreachable")) from None
        if not 200 <= reply.status < 300:
            logger.warning("webhook refused", extra={"event_id": event_id, "status": reply.status})
            raise DeliveryFailed(f"HTTP {reply.status}")


def next_try_in(attempts: int, first_failed_at: datetime, enqueued_at: datetime, now: datetime) -> int | None:
    """Seconds until the next try of a message that failed `attempts` times; None: dead-letter it."""
    tried_for = (now - first_failed_at).total_seconds()
    if tried_for >= RETRY_FOR_S or (now - enqueued_at).total_seconds() >= QUEUE_AGE_LIMIT_S:
        return None
    return min(backoff_s(attempts), int(max(RETRY_FOR_S - tried_for, 1) * SCALE))


POSTPONED = "postponed"  # or DEAD_LETTERED (as the delivery's recorded status)


class Settled(NamedTuple):
    outcome: str  # POSTPONED or DEAD_LETTERED
    at: datetime  # when it was settled
    next_try_at: datetime | None  # when postponed


class FailedDeliveries:
    """What becomes of a message whose delivery failed: hidden for its backoff, or, after 24 hours of
    tries, moved to the dead-letter queue and acknowledged (so the next of its order goes next)."""

    def __init__(self, tries: WebhookTries, sqs_client: Any, queue_url: str, dead_letter_url: str) -> None:
        self.tries = tries
        self.sqs = sqs_client
        self.queue_url = queue_url
        self.dead_letter_url = dead_letter_url

    def settle(
        self, message_id: str, receipt_handle: str, body: str, group_id: str, enqueued_at: datetime
    ) -> Settled:
        now = utc_now()
        attempts, first_failed_at = self.tries.record_failure(message_id, now)
        delay = next_try_in(attempts, first_failed_at, enqueued_at, now)
        if delay is None:
            self.sqs.send_message(
                QueueUrl=self.dead_letter_url,
                MessageBody=body,
                MessageGroupId=group_id,
                MessageDeduplicationId=message_id,  # moved once, even if acknowledging it fails
            )
            event_id = json.loads(body).get("id", "")
            logger.error("webhook dead-lettered", extra={"event_id": event_id, "attempts": attempts})
            return Settled(DEAD_LETTERED, now, None)
        self.sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=delay
        )
        return Settled(POSTPONED, now, now + timedelta(seconds=delay))


class DeliveryLog:
    """Each delivery's outcome, recorded for GET /orders/{order_id}/events. Recording never fails nor
    repeats a delivery (the webhook already went out, its retry is already set): a failure to record is
    logged and answered False (the function counts it), and the event's next outcome is recorded anew."""

    def __init__(self, deliveries: WebhookDeliveries) -> None:
        self.deliveries = deliveries

    def record(
        self,
        body: str,
        status: str,
        at: datetime,
        *,
        error: str | None = None,
        next_try_at: datetime | None = None,
    ) -> bool:
        try:
            event_id = str(json.loads(body)["id"])
            self.deliveries.record(event_id, status, at, error=error, next_try_at=next_try_at)
        except (StoreUnavailable, KeyError, ValueError) as failure:
            logger.warning(
                "webhook delivery status not recorded",
                extra={"status": status, "reason": type(failure).__name__},
            )
            return False
        return True

    def delivered(self, body: str) -> bool:
        return self.record(body, DELIVERED, clock.utc_now())

    def failed(self, body: str, error: str, settled: Settled) -> bool:
        """A failed delivery: retrying at `settled.next_try_at`, or dead-lettered."""
        if settled.outcome == DEAD_LETTERED:
            return self.record(body, DEAD_LETTERED, settled.at, error=error)
        return self.record(body, RETRYING, settled.at, error=error, next_try_at=settled.next_try_at)


def release_held_back(
    sqs_client: Any, queue_url: str, records: list[dict[str, Any]], failed: set[str], postponed: set[str]
) -> None:
    """Messages reported failed only because an earlier one of their order failed: visible again
    now. Their order still waits, as SQS returns none of a group while one of it is hidden."""
    for record in records:
        message_id = record["messageId"]
        if message_id in failed and message_id not in postponed:
            sqs_client.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
            )
