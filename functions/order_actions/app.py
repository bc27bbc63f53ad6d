"""POST /orders/{order_id}/refunds, /cancel and /sync — what a merchant does to an order after creating
it. One function: all of them read and write the order with the provider credentials, and none belongs
on the create path's hot, high-concurrency function."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from payments import coldstart, snapstart, web
from payments.request_body import parse_empty_body
from payments.web import Response  # Powertools' own, imported lazily: payments/coldstart.py

snapstart.register_runtime_hooks()  # after a SnapStart restore: fresh randomness, credentials, sockets
logger = Logger()
metrics = Metrics()
app = web.create_app()
service = web.build_service()
LOADED_BY_REQUESTS = (
    "payments.api",
    "payments.flows.refunds",
    "payments.flows.cancellation",
    "payments.flows.reconcile",
    "payments.providers.settings",
)  # preloaded into a snapshot


@app.post("/orders/<order_id>/refunds")
def refund(order_id: str) -> Response[str]:
    from payments.api import parse_refund_request  # pydantic: only this route reads a model

    request = parse_refund_request(web.raw_body(app.current_event))
    result = service.refund(order_id, request, web.public_base_url(app.current_event))
    return web.json_response(201 if result.created else 200, result.refund.to_public())


@app.post("/orders/<order_id>/cancel")
def cancel(order_id: str) -> Response[str]:
    parse_empty_body(web.raw_body(app.current_event))
    return web.json_response(200, service.cancel(order_id).to_public())


@app.post("/orders/<order_id>/sync")
def sync(order_id: str) -> Response[str]:
    parse_empty_body(web.raw_body(app.current_event))
    return web.json_response(200, service.sync(order_id).to_public())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)  # the dashboard's cold starts
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.init_done(LOADED_BY_REQUESTS)  # init ends here (payments/coldstart.py)
