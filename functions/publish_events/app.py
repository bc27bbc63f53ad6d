"""The orders table's stream -> merchant events: kept for catching up, put on the EventBridge bus, and
queued for the merchant's webhook. Partial batch failures are reported, so a failed record is retried
from itself onward (in order) and nothing before it is published again but as a deduplicated retry."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from payments import coldstart, snapstart
from payments.outbox.publisher import EventPublisher

snapstart.register_runtime_hooks()  # after a SnapStart restore: fresh randomness, credentials, sockets
logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
publisher = EventPublisher.from_env()


def publish(record: DynamoDBRecord) -> None:
    published = publisher.publish_record(record.raw_event)
    if published:
        metrics.add_metric(name="MerchantEventsPublished", unit=MetricUnit.Count, value=published)


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)  # the dashboard's cold starts
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=publish, processor=processor, context=context)


coldstart.init_done()  # init ends here: the collector runs again (payments/coldstart.py)
