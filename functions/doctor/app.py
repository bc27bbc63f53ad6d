"""The integration doctor: GET /notifications/rejected (the refused notifications of the last 7 days,
masked), POST /notifications/rejected/{attempt_id}/replay (one of them through today's configuration
and the gate, as a fresh delivery), GET /diagnostics (each provider's configuration checked, and
checked against the provider)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from payments import coldstart, doctor, snapstart, web
from payments.clock import iso
from payments.refused_queries import rejected_page
from payments.request_body import parse_empty_body
from payments.web import Response  # Powertools' own, imported lazily: payments/coldstart.py

snapstart.register_runtime_hooks()  # after a SnapStart restore: fresh randomness, credentials, sockets
logger = Logger()
metrics = Metrics()
app = web.create_app()
service = web.build_service()


@app.get("/notifications/rejected")
def list_rejected() -> Response[str]:
    query = app.current_event
    body = rejected_page(
        service.notifications.rejected,
        service.clock(),
        provider=query.get_query_string_value("provider"),
        after=query.get_query_string_value("after"),
        limit_text=query.get_query_string_value("limit"),
    )
    return web.json_response(200, body)


@app.post("/notifications/rejected/<attempt_id>/replay")
def replay_rejected(attempt_id: str) -> Response[str]:
    parse_empty_body(web.raw_body(app.current_event))
    verdict = service.replay_notification(attempt_id, web.public_base_url(app.current_event))
    return web.json_response(200, verdict)


@app.get("/diagnostics")
def diagnostics() -> Response[str]:
    now = service.clock()
    flow = service.notifications
    checks = doctor.report(
        service.providers.entries(),
        http=service.providers.http,
        notify_base_url=web.public_base_url(app.current_event),
        now=now,
        seen=doctor.stored_seen(flow.rejected, flow.marks, now),
    )
    return web.json_response(200, {"checked_at": iso(now), "providers": checks})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)  # the dashboard's cold starts
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


coldstart.init_done()  # init ends here: the collector runs again (payments/coldstart.py)
