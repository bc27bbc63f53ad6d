"""Signed webhooks to the merchant, from the FIFO queue the publisher fills (payments/publisher.py).

Each event is POSTed as JSON with `Payments-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<raw body>")>`. A 2xx acknowledges; anything else, or no answer within 10 s, leaves the message
on the queue, hidden for a backoff that doubles from 30 s up to 12 h, for at least 24 hours in all;
then the queue's redrive policy moves it to the dead-letter queue (an alarm). The queue is FIFO and
grouped by order, so while one event of an order waits, the later ones of that order wait behind it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from payments.clock import utc_now
from payments.errors import ProviderError
from payments.http import HttpClient
from payments.merchant_events import SIGNATURE_HEADER, sign

logger = Logger()

WEBHOOK_TIMEOUT_S = 10.0
# Hidden this long after the n-th failed delivery (n = 1, 2, …): 30 s doubling to 12 h. With the
# queue's maxReceiveCount (template.yaml: 14) that is 30.5 hours of retries before the dead-letter queue.
BACKOFF_S = (30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 30720, 43200, 43200, 43200)
MAX_DELIVERIES = len(BACKOFF_S)
# Compresses the backoff for the local stack's tests (0: retry at once). Never set in template.yaml.
SCALE = float(os.environ.get("WEBHOOK_BACKOFF_SCALE") or 1)


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
            raise DeliveryFailed(error.code) from None
        if not 200 <= reply.status < 300:
            logger.warning("webhook refused", extra={"event_id": event_id, "status": reply.status})
            raise DeliveryFailed(f"HTTP {reply.status}")


def postpone(sqs_client: Any, queue_url: str, receipt_handle: str, deliveries_so_far: int) -> int:
    """Hide a message that failed for its backoff; the delay chosen."""
    delay = backoff_s(deliveries_so_far)
    sqs_client.change_message_visibility(
        QueueUrl=queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=delay
    )
    return delay


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
