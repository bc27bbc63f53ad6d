"""POST /orders — create an Alipay payment with the chosen provider."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from payments import coldstart, snapstart, web
from payments.web import Response  # Powertools' own, imported lazily: payments/coldstart.py

snapstart.register_runtime_hooks()  # after a SnapStart restore: fresh randomness, credentials, sockets
logger = Logger()
metrics = Metrics()
app = web.create_app()
service = web.build_service()
LOADED_BY_REQUESTS = (
    "payments.api",
    "payments.flows.creation",
    "payments.providers.settings",
)  # preloaded into a snapshot


@app.post("/orders")
def create_order() -> Response[str]:
    from payments.api import parse_create_order  # pydantic: loaded by the request, not at init

    request = parse_create_order(web.raw_body(app.current_event))
    result = service.create_order(request, web.public_base_url(app.current_event))
    return web.json_response(201 if result.created else 200, result.order.to_public())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)  # the dashboard's cold starts
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.init_done(LOADED_BY_REQUESTS)  # init ends here (payments/coldstart.py)
