"""Antom's test kit: the run's key pairs, its secret entry, its sandbox on `wire`, and below the
handlers, the adapter wired straight to a sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import responses

from local.providers.antom.sandbox import AntomSandbox
from local.testing import kit_of
from payments.api import CreateOrderRequest, parse_create_order
from payments.flows.creation import new_order
from payments.orders import Order
from payments.providers.antom.adapter import Antom, AntomSettings
from payments.providers.base import CallContext, RawRequest
from tests.support.link import ProviderLink
from tests.support.orders import order_body
from tests.support.providers import mount
from tests.support.sandbox_client import SandboxHttp

KIT = kit_of("antom")
_CREDENTIALS = KIT.test_credentials()
CLIENT_ID = _CREDENTIALS.client_id
# Fresh per test run: the merchant's pair (signs requests) and Antom's (signs replies, notifications).
MERCHANT_KEY = _CREDENTIALS.merchant_key
ANTOM_KEY = _CREDENTIALS.antom_key
BASE_URL = KIT.test_base_url


@pytest.fixture
def antom(stack: Any, wire: responses.RequestsMock, link: ProviderLink) -> AntomSandbox:
    """The adapter's real HTTP client talks to the sandbox (through `link`, for fault injection)."""
    sandbox: AntomSandbox = mount(KIT, stack, wire, link)
    return sandbox


# -- below the handlers: the adapter wired straight to a sandbox -------------------------------------
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
# A stage URL: notifications are signed over /v1/notify/antom, the path Antom was given.
NOTIFY_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/notify/antom"


def new_sandbox(client_id: str = CLIENT_ID) -> AntomSandbox:
    return AntomSandbox(
        client_id=client_id, merchant_public_key=MERCHANT_KEY.public_key(), antom_private_key=ANTOM_KEY
    )


def settings_entry(**overrides: Any) -> dict[str, Any]:
    return {**KIT.test_secret_entry(), **overrides}


def make_adapter(sandbox: AntomSandbox | None = None, **settings: Any) -> tuple[Antom, SandboxHttp]:
    entry = settings_entry(**settings)
    http = SandboxHttp(sandbox or new_sandbox(entry["client_id"]))
    return Antom(AntomSettings.model_validate(entry), http, clock=lambda: NOW), http


def create_request(order_id: str = "a-1", **overrides: Any) -> CreateOrderRequest:
    return parse_create_order(json.dumps(order_body(order_id, provider="antom", **overrides)))


def order_for(request: CreateOrderRequest, expires_in: int = 840) -> Order:
    """The Order the service would hold for `request`, created at NOW."""
    return new_order(request, NOW, request.expires_in_seconds or expires_in)


def context_for(request: CreateOrderRequest) -> CallContext:
    return CallContext(notify_url=NOTIFY_URL, now=NOW, request=request)


def raw_request(headers: dict[str, str], body: bytes, url: str = NOTIFY_URL) -> RawRequest:
    """A notification as the notify function hands it to the adapter."""
    lowered = {name.lower(): value for name, value in headers.items()}
    return RawRequest("POST", body, lowered, {}, datetime.now(UTC), url=url)
