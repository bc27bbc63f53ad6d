"""The webhook queue (FIFO, grouped by order) -> signed POSTs to the merchant. A failed delivery is
hidden for its backoff and reported failed; the later events of the same order wait behind it. After
24 hours of its own tries it is moved to the dead-letter queue and acknowledged: the next goes next.
Each outcome (delivered, retrying, dead-lettered) is recorded for GET /orders/{order_id}/events."""

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from payments import aws_clients, coldstart, secret_values, snapstart
from payments.outbox.webhooks import (
    DeliveryFailed,
    DeliveryLog,
    FailedDeliveries,
    WebhookSender,
    release_held_back,
)
from payments.store.webhook_deliveries import DEAD_LETTERED, WebhookDeliveries
from payments.store.webhook_tries import WebhookTries

snapstart.register_runtime_hooks()  # after a SnapStart restore: fresh randomness, credentials, sockets
logger = Logger()
metrics = Metrics()
processor = SqsFifoPartialProcessor(skip_group_on_error=True)  # one order's failure holds that order only
# A merchant endpoint that is down fails whole batches: that is a retry (reported per message), not a
# crash of this function (which would also set off its Errors alarm).
processor.raise_on_entire_batch_failure = False
QUEUE_URL = os.environ["WEBHOOK_QUEUE_URL"]
DEAD_LETTER_URL = os.environ["WEBHOOK_DEAD_LETTER_QUEUE_URL"]
SECRET_ARN = os.environ["WEBHOOK_SECRET_ARN"]
sender = WebhookSender(
    os.environ.get("WEBHOOK_URL", ""),
    lambda: str(secret_values.get_secret(SECRET_ARN, max_age=300)),
)
_sqs: Any = None
_failures: FailedDeliveries | None = None
_log: DeliveryLog | None = None
postponed: set[str] = set()  # of this invocation: messages tried (hidden for their own backoff)


def sqs() -> Any:
    global _sqs
    if _sqs is None:
        _sqs = aws_clients.client("sqs")
    return _sqs


def failures() -> FailedDeliveries:
    global _failures
    if _failures is None:
        _failures = FailedDeliveries(WebhookTries.from_env(), sqs(), QUEUE_URL, DEAD_LETTER_URL)
    return _failures


def delivery_log() -> DeliveryLog:
    global _log
    if _log is None:
        _log = DeliveryLog(WebhookDeliveries.from_env())
    return _log


def recorded(written: bool) -> None:
    """A status not recorded is counted (a metric of its own), never a failed delivery."""
    if not written:
        metrics.add_metric(name="WebhookStatusNotRecorded", unit=MetricUnit.Count, value=1)


def deliver(record: SQSRecord) -> None:
    try:
        sender.deliver(record.body)
    except DeliveryFailed as failure:
        # Tried: never made visible again at once with the held-back ones, even if what follows fails
        # (then the queue's visibility timeout spaces the tries).
        postponed.add(record.message_id)
        metrics.add_metric(name="WebhookDeliveryFailed", unit=MetricUnit.Count, value=1)
        enqueued_at = datetime.fromtimestamp(int(record.attributes.sent_timestamp) / 1000, UTC)
        group = record.attributes.message_group_id or ""
        settled = failures().settle(record.message_id, record.receipt_handle, record.body, group, enqueued_at)
        recorded(delivery_log().failed(record.body, str(failure), settled))
        if settled.outcome == DEAD_LETTERED:  # acknowledged here: the next event of its order goes next
            metrics.add_metric(name="WebhookDeadLettered", unit=MetricUnit.Count, value=1)
            return
        raise
    metrics.add_metric(name="WebhooksDelivered", unit=MetricUnit.Count, value=1)
    recorded(delivery_log().delivered(record.body))


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)  # the dashboard's cold starts
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    if not sender.url:  # no webhook configured: nothing is queued, but say so if something is
        logger.warning("webhook queue has messages but WEBHOOK_URL is empty")
    postponed.clear()
    response = process_partial_response(
        event=event, record_handler=deliver, processor=processor, context=context
    )
    failed = {str(item["itemIdentifier"]) for item in response.get("batchItemFailures", [])}
    release_held_back(sqs(), QUEUE_URL, event.get("Records", []), failed, postponed)
    return response


coldstart.init_done()  # init ends here: the collector runs again (payments/coldstart.py)
