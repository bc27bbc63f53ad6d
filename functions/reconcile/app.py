"""Scheduled: ask the providers about open orders and refunds in flight that are due a check."""

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from payments import coldstart, snapstart, web
from payments.flows import reconcile as reconciliation

snapstart.register_runtime_hooks()  # after a SnapStart restore: fresh randomness, credentials, sockets
logger = Logger()
metrics = Metrics()
service = web.build_service()
LOADED_BY_REQUESTS = ("payments.providers.settings",)  # preloaded into a snapshot
MAX_ITEMS = int(os.environ.get("RECONCILE_MAX_ITEMS", "100"))
RESERVE_S = reconciliation.ITEM_WORST_CASE_S  # start an item only while its worst case fits


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)  # the dashboard's cold starts
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = service.reconciliation.run(
        MAX_ITEMS, lambda: context.get_remaining_time_in_millis() / 1000, reserve_s=RESERVE_S
    )
    return report.as_dict()


coldstart.init_done(LOADED_BY_REQUESTS)  # init ends here (payments/coldstart.py)
