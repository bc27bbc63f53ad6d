"""POST|GET /notify/{provider} — receive, verify and apply a provider's notification."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from payments import coldstart, snapstart, web
from payments.web import Response  # Powertools' own, imported lazily: payments/coldstart.py

snapstart.register_runtime_hooks()  # after a SnapStart restore: fresh randomness, credentials, sockets
logger = Logger()
metrics = Metrics()
app = web.create_app(refuse_large_bodies=False)  # the flow refuses them, and records each one
service = web.build_service()
LOADED_BY_REQUESTS = (
    "payments.flows.notifications",
    "payments.providers.settings",
)  # preloaded into a snapshot


@app.route("/notify/<provider>", method=["POST", "GET"])
def notify(provider: str) -> Response[str]:
    raw = web.raw_request(app.current_event, service.clock())
    reply = service.receive_notification(provider, raw)
    return Response(status_code=reply.status, content_type=reply.content_type, body=reply.body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)  # the dashboard's cold starts
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.init_done(LOADED_BY_REQUESTS)  # init ends here (payments/coldstart.py)
