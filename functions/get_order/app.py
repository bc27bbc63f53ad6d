"""GET /orders/{order_id} — the order and its audit history (read-only)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from payments import coldstart, snapstart, web
from payments.queries import order_page, public_order
from payments.store.orders import OrdersStore
from payments.web import Response  # Powertools' own, imported lazily: payments/coldstart.py

snapstart.register_runtime_hooks()  # after a SnapStart restore: fresh randomness, credentials, sockets
logger = Logger()
metrics = Metrics()
app = web.create_app()
store = OrdersStore.from_env()


@app.get("/orders/<order_id>")
def get_order(order_id: str) -> Response[str]:
    events_before = app.current_event.get_query_string_value("events_before")
    return web.json_response(200, public_order(order_page(store, order_id, events_before)))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)  # the dashboard's cold starts
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.init_done()  # init ends here: the collector runs again (payments/coldstart.py)
