"""The orders table's stream -> merchant events: kept for catching up, put on the EventBridge bus, and
queued for the merchant's webhook, a batch's events sent in batches (payments/outbox/publisher.py).
Partial batch failures are reported, so a failed record is retried from itself onward (in order) and
nothing before it is published again but as a deduplicated retry."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from payments import coldstart, snapstart
from payments.outbox.publisher import EventPublisher, PublishFailed

snapstart.register_runtime_hooks()  # after a SnapStart restore: fresh randomness, credentials, sockets
logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
publisher = EventPublisher.from_env()


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)  # the dashboard's cold starts
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    records = event.get("Records") or []
    outcome = publisher.publish_records(records)
    if outcome.published:
        metrics.add_metric(name="MerchantEventsPublished", unit=MetricUnit.Count, value=outcome.published)
    # The stream gives a batch again from its first failed record: that record is the one reported
    # (nothing after it was sent), and the batch processor answers as it would for any failed record.
    failed = (
        records[outcome.failed_from]["dynamodb"]["SequenceNumber"]
        if outcome.failed_from is not None
        else None
    )

    def settle(record: DynamoDBRecord) -> None:
        if failed is not None and record.dynamodb is not None and record.dynamodb.sequence_number == failed:
            raise PublishFailed(outcome.reason)

    return process_partial_response(event=event, record_handler=settle, processor=processor, context=context)


coldstart.init_done()  # init ends here: the collector runs again (payments/coldstart.py)
