"""Secrets and personal data never reach logs, responses or stored events."""

from __future__ import annotations

import json
import logging

import pytest

from local.providers.multisafepay.sandbox import MultiSafepaySandbox
from tests.conftest import Stack
from tests.providers.multisafepay.fixtures import MSP_API_KEY, MSP_BASE_URL
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.orders import order_body
from tests.support.store import event_items

CUSTOMER = order_body(provider="multisafepay")["customer"]
SENSITIVE = [
    MSP_API_KEY,
    "test-merchant-key",
    CUSTOMER["email"],
    CUSTOMER["phone"],
    CUSTOMER["ip_address"],
    "Wang",
]


def test_nothing_sensitive_is_logged_or_stored(
    api: Api,
    msp: MultiSafepaySandbox,
    link: ProviderLink,
    stack: Stack,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Third-party libraries at the production level (botocore dumps whole responses at DEBUG);
    # everything of ours at DEBUG, so every line we could ever write is checked.
    caplog.set_level(logging.INFO)
    for ours in ("alipay-payments", "alipay-payments-test", "payments"):
        caplog.set_level(logging.DEBUG, logger=ours)
    replies = [api.request("POST", "/orders", body=order_body("log-1", provider="multisafepay"))]
    msp.orders["log-1"]["customer"].update({"email": CUSTOMER["email"], "last_name": "Wang"})
    msp.set_status("log-1", "completed")
    url, headers, body = msp.notification("log-1")
    replies.append(api.request("POST", url, body=body, headers=headers, api_key=None))
    url, headers, forged = msp.notification("log-1", key="guess")
    replies.append(api.request("POST", url, body=forged, headers=headers, api_key=None))
    link.inject("http_500")
    replies.append(api.request("POST", "/orders", body=order_body("log-2", provider="multisafepay")))
    stack.put_secret({"multisafepay": {"api_key": MSP_API_KEY, "base_url": MSP_BASE_URL, "gateway": "BAD"}})
    replies.append(api.request("POST", "/orders", body=order_body("log-3", provider="multisafepay")))
    replies.append(api.request("GET", "/orders/log-1"))

    captured = capsys.readouterr()
    logged = (
        captured.out
        + captured.err
        + "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    )
    assert "notification rejected" in logged  # the logs were captured at all
    stored = json.dumps(event_items(stack.table_name, "log-1"), default=str)
    answered = "\n".join(reply.body for reply in replies)
    for value in SENSITIVE:
        assert value not in logged, f"{value!r} logged"
        assert value not in stored, f"{value!r} stored"
        assert value not in answered, f"{value!r} returned"
