"""GET /orders — the operator finds orders: filters, an exact search, pages; GET /reports/daily — a day's
money movements and totals, JSON or CSV (read-only)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from payments import coldstart, snapstart, web
from payments.daily_report import daily_report, parse_report_query, report_csv
from payments.order_search import find_orders
from payments.store.day_movements import DayMovements
from payments.store.order_listing import OrderListing
from payments.store.orders import OrdersStore
from payments.store.table import Table
from payments.web import Response  # Powertools' own, imported lazily: payments/coldstart.py

snapstart.register_runtime_hooks()  # after a SnapStart restore: fresh randomness, credentials, sockets
logger = Logger()
metrics = Metrics()
app = web.create_app()
table = Table.from_env()
listing, orders, movements = OrderListing(table), OrdersStore(table), DayMovements(table)


@app.get("/orders")
def list_orders() -> Response[str]:
    query = app.current_event.query_string_parameters or {}
    return web.json_response(200, find_orders(listing, orders, query))


@app.get("/reports/daily")
def report_of_the_day() -> Response[str]:
    day, zone, output = parse_report_query(app.current_event.query_string_parameters or {})
    report = daily_report(movements, day, zone)
    if output == "json":
        return web.json_response(200, report)
    return Response(
        status_code=200,
        content_type="text/csv; charset=utf-8",
        body=report_csv(report),
        headers={"Content-Disposition": f'attachment; filename="payments-{day.isoformat()}.csv"'},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)  # the dashboard's cold starts
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.init_done()  # init ends here: the collector runs again (payments/coldstart.py)
