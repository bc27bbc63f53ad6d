"""What the tests (and bench/, events/) use of the local stack, in one place: test code imports from
here, never from the modules below, so that those can move without touching a test.

A provider's own sandbox, checkout page and signing helpers are the exception: they are that
provider's business and are imported from its folder, `local.providers.<name>.*`, by the tests in
`tests/providers/<name>/`.
"""

from local.apigw import match_route, proxy_event
from local.backfill import TABLE_OUTPUT as BACKFILL_TABLE_OUTPUT
from local.backfill import Pacer as BackfillPacer
from local.backfill import main as backfill_main
from local.checkout import OUTCOMES, Checkout, checkout_page, major_units
from local.doctor import API_KEY_OUTPUT, API_URL_OUTPUT
from local.doctor import main as doctor_main
from local.emulator import EmulatedFunction, free_port
from local.gateway import Gateway
from local.inprocess import (
    FakeContext,
    InProcessBackend,
    InvocationFailed,
    LambdaUnderTest,
    Reply,
    environment,
    reply_of,
)
from local.pipeline import QueuePoller, StreamPoller, filters_of
from local.preflight import PreflightError, check_api_key, check_providers_file, parse_port
from local.providers import kit_of, kits
from local.providers.controls import (
    NothingToRedeliver,
    Notification,
    OrderClosed,
    ReplyLost,
    UnknownAction,
)
from local.providers.kit import ProviderKit, SignedNotification, pem_body, private_pem, public_pem
from local.replay import verdict as replay_verdict
from local.router import API_GATEWAY_MAX_BODY, LAMBDA_MAX_PAYLOAD, GatewayResponses, Router
from local.sandbox_server import SandboxServer
from local.shop import (
    AmountError,
    FormErrors,
    OrderForm,
    RefundForm,
    api_errors,
    cancel_errors,
    form_after_error,
    minor_units,
    money_text,
    next_refund_id,
    order_page,
    payment_method,
    provider_label,
    refund_errors,
    refused_page,
    shop_page,
)
from local.shop_server import DemoShop
from local.stack import Ready, banner
from local.template import ROOT, FunctionSpec, Route, Template, table_arguments
from local.watch import BEHIND_AFTER_S, REPEAT_AFTER_S, SourceWatch, watched

__all__ = [
    "API_GATEWAY_MAX_BODY",
    "API_KEY_OUTPUT",
    "API_URL_OUTPUT",
    "BACKFILL_TABLE_OUTPUT",
    "BEHIND_AFTER_S",
    "LAMBDA_MAX_PAYLOAD",
    "OUTCOMES",
    "REPEAT_AFTER_S",
    "ROOT",
    "AmountError",
    "BackfillPacer",
    "Checkout",
    "DemoShop",
    "EmulatedFunction",
    "FakeContext",
    "FormErrors",
    "FunctionSpec",
    "Gateway",
    "GatewayResponses",
    "InProcessBackend",
    "InvocationFailed",
    "LambdaUnderTest",
    "NothingToRedeliver",
    "Notification",
    "OrderClosed",
    "OrderForm",
    "PreflightError",
    "ProviderKit",
    "QueuePoller",
    "Ready",
    "RefundForm",
    "Reply",
    "ReplyLost",
    "Route",
    "Router",
    "SandboxServer",
    "SignedNotification",
    "SourceWatch",
    "StreamPoller",
    "Template",
    "UnknownAction",
    "api_errors",
    "backfill_main",
    "banner",
    "cancel_errors",
    "check_api_key",
    "check_providers_file",
    "checkout_page",
    "doctor_main",
    "environment",
    "filters_of",
    "fit_moto_for_long_runs",
    "form_after_error",
    "free_port",
    "kit_of",
    "kits",
    "major_units",
    "match_route",
    "minor_units",
    "money_text",
    "next_refund_id",
    "order_page",
    "parse_port",
    "payment_method",
    "pem_body",
    "private_pem",
    "provider_label",
    "proxy_event",
    "public_pem",
    "refund_errors",
    "refused_page",
    "replay_verdict",
    "reply_of",
    "shop_page",
    "table_arguments",
    "watched",
]


def fit_moto_for_long_runs() -> None:
    """local/moto_long_runs.py's, imported when called: tests that need no AWS run without moto."""
    from local.moto_long_runs import fit_moto_for_long_runs as fit

    fit()
