"""GET /orders — the operator finds orders: filters, an exact search, pages (read-only)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from payments import snapstart, web
from payments.order_search import find_orders
from payments.store.order_listing import OrderListing
from payments.store.orders import OrdersStore
from payments.store.table import Table

snapstart.register_runtime_hooks()  # after a SnapStart restore: fresh randomness, credentials, sockets
logger = Logger()
metrics = Metrics()
app = web.create_app()
table = Table.from_env()
listing, orders = OrderListing(table), OrdersStore(table)


@app.get("/orders")
def list_orders() -> Response[str]:
    query = app.current_event.query_string_parameters or {}
    return web.json_response(200, find_orders(listing, orders, query))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)  # the dashboard's cold starts
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
