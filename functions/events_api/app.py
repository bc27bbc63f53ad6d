"""GET /events (catch up on missed merchant events, oldest first), POST /events/{event_id}/redeliver
(send one again to the bus and the webhook) and GET /orders/{order_id}/events (an order's events and
where each one's webhook delivery stands)."""

from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from payments import coldstart, snapstart, web
from payments.outbox.event_queries import events_page
from payments.outbox.publisher import EventPublisher
from payments.request_body import parse_empty_body
from payments.store.merchant_events import MerchantEventStore
from payments.web import Response  # Powertools' own, imported lazily: payments/coldstart.py

if TYPE_CHECKING:
    from payments.store.orders import OrdersStore
    from payments.store.webhook_deliveries import WebhookDeliveries

snapstart.register_runtime_hooks()  # after a SnapStart restore: fresh randomness, credentials, sockets
logger = Logger()
metrics = Metrics()
app = web.create_app()
events = MerchantEventStore.from_env()


@cache
def publisher() -> EventPublisher:
    """Built at the first redelivery: the bus and queue clients serve nothing else here."""
    return EventPublisher.from_env()


@cache
def order_stores() -> tuple["OrdersStore", "WebhookDeliveries"]:
    """Built at the first GET /orders/{order_id}/events: the catch-up routes need neither."""
    from payments.store.orders import OrdersStore
    from payments.store.webhook_deliveries import WebhookDeliveries

    return OrdersStore(events.table), WebhookDeliveries(events.table)


@app.get("/orders/<order_id>/events")
def list_order_events(order_id: str) -> Response[str]:
    from payments.outbox.order_events import order_events

    return web.json_response(200, order_events(*order_stores(), order_id))


@app.get("/events")
def list_events() -> Response[str]:
    query = app.current_event
    body = events_page(events, query.get_query_string_value("after"), query.get_query_string_value("limit"))
    return web.json_response(200, body)


@app.post("/events/<event_id>/redeliver")
def redeliver_event(event_id: str) -> Response[str]:
    parse_empty_body(web.raw_body(app.current_event))
    return web.json_response(202, {"redelivered": publisher().redeliver(event_id).to_dict()})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)  # the dashboard's cold starts
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.init_done()  # init ends here: the collector runs again (payments/coldstart.py)
