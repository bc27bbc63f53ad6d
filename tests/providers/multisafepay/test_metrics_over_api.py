"""The metrics the alarms and the dashboard read, as the real handlers emit them (Powertools' EMF lines
on stdout): same names, namespace, dimensions and values as template.yaml asks for. The static checks of
tests/unit/test_template_operations.py read the code; this one runs it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
import responses
from aws_lambda_powertools.metrics.provider import cold_start

from local.providers.multisafepay.sandbox import MultiSafepaySandbox
from local.testing import Template
from payments.errors import StoreUnavailable
from payments.schedule import CHECK_OFFSETS
from tests.conftest import Stack
from tests.providers.multisafepay.fixtures import MSP_BASE_URL
from tests.support.event_pipeline import Receiver, with_webhooks
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.orders import order_body
from tests.unit.test_template_operations import (
    AWAITED_FROM_SERVICE,
    alarm_metrics,
    alarms,
    dashboard_widgets,
)

Dims = tuple[tuple[str, str], ...]


def status_not_written(*_: object, **__: object) -> None:
    raise StoreUnavailable("the order store is unavailable; retry later")


Emitted = dict[str, set[tuple[str, Dims]]]  # metric -> {(namespace, sorted dimensions)}


def emf_metrics(stdout: str) -> Emitted:
    emitted: Emitted = {}
    for line in stdout.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or "_aws" not in record:
            continue
        for directive in record["_aws"]["CloudWatchMetrics"]:
            [dimension_names] = directive["Dimensions"]
            dimensions = tuple(sorted((name, record[name]) for name in dimension_names))
            for metric in directive["Metrics"]:
                emitted.setdefault(metric["Name"], set()).add((directive["Namespace"], dimensions))
    return emitted


def read_by_template(template: Template, function_names: dict[str, str]) -> set[tuple[str, str, Dims]]:
    """(metric, namespace, dimensions) of each of our metrics an alarm or the dashboard reads."""
    read: set[tuple[str, str, Dims]] = set()
    for alarm in alarms(template).values():
        for namespace, name, dimensions in alarm_metrics(alarm):
            if not namespace.startswith("AWS/"):
                read.add((name, namespace, tuple(sorted((d["Name"], d["Value"]) for d in dimensions))))
    for widget in dashboard_widgets(template):
        for metric in widget["properties"].get("metrics", []):
            parts = [part for part in metric if isinstance(part, str)]
            if not parts or parts[0].startswith("AWS/") or parts[1] in AWAITED_FROM_SERVICE:
                continue
            namespace, name, *rest = parts
            # Placeholders (<CreateOrderFunction>) stand for the function's name on Lambda.
            values = [function_names.get(value.strip("<>"), value) for value in rest[1::2]]
            read.add((name, namespace, tuple(sorted(zip(rest[::2], values, strict=True)))))
    return read


def test_what_the_alarms_and_the_dashboard_read_is_what_the_handlers_emit(
    api: Api,
    msp: MultiSafepaySandbox,
    link: ProviderLink,
    stack: Stack,
    template: Template,
    capsys: pytest.CaptureFixture[str],
    wire: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def first_invocation() -> None:  # of a fresh process: a cold start
        cold_start.reset_cold_start_flag()  # type: ignore[no-untyped-call]  # Powertools: unannotated

    first_invocation()
    assert api.request("POST", "/orders", body=order_body("metrics-1", provider="multisafepay")).status == 201
    msp.orders["metrics-1"]["amount"] = 1  # the provider reports another amount
    msp.set_status("metrics-1", "completed")
    url, headers, body = msp.notification("metrics-1")
    first_invocation()
    assert api.request("POST", url, body=body, headers=headers, api_key=None).status == 200
    url, headers, body = msp.notification("metrics-1", key="attacker-guess")
    assert api.request("POST", url, body=body, headers=headers, api_key=None).status == 401
    link.inject("read_timeout_after_processing")
    assert api.request("POST", "/orders", body=order_body("metrics-2", provider="multisafepay")).status == 504
    first_invocation()
    assert api.request("GET", "/orders/metrics-1").status == 200
    assert api.request("POST", "/orders", body=order_body("metrics-4", provider="multisafepay")).status == 201
    msp.set_status("metrics-4", "completed")
    url, headers, body = msp.notification("metrics-4")
    assert api.request("POST", url, body=body, headers=headers, api_key=None).status == 200  # paid
    first_invocation()
    refund = {"refund_id": "m-1", "amount": {"value": 100, "currency": "EUR"}}
    assert api.request("POST", "/orders/metrics-4/refunds", body=refund).status == 201  # recorded
    link.inject("connect_timeout")
    lost = {"refund_id": "m-2", "amount": {"value": 100, "currency": "EUR"}}
    assert api.request("POST", "/orders/metrics-4/refunds", body=lost).status == 504  # outcome unknown
    boto3.client("dynamodb").update_item(  # one check before reconciliation gives up on it
        TableName=stack.table_name,
        Key={"pk": {"S": "ORDER#metrics-4"}, "sk": {"S": "REFUND#m-2"}},
        UpdateExpression="SET checks = :spent_but_one",
        ExpressionAttributeValues={":spent_but_one": {"N": str(len(CHECK_OFFSETS) - 1)}},
    )
    reconcile = api.functions["ReconcileFunction"]
    reconcile.module.service.clock = lambda: datetime.now(UTC) + timedelta(days=8)
    first_invocation()
    assert reconcile.run({})["checked"] >= 1
    receiver = Receiver().start()  # the merchant's webhook: events published and delivered
    try:
        wire.add_passthru(receiver.url)
        pipeline = with_webhooks(api, stack.table_name, stack.refs["WebhookQueue"], receiver)
        first_invocation()
        assert pipeline.stream.poll_once()  # the publish function's first invocation
        first_invocation()
        assert pipeline.queue.poll_once()  # the webhook function's
        pipeline.drain()
        assert receiver.received
        with monkeypatch.context() as table_down:  # a delivery whose status cannot be written
            table_down.setattr(
                "payments.store.webhook_deliveries.WebhookDeliveries.record", status_not_written
            )
            delivered = len(receiver.received)
            assert (
                api.request("POST", "/orders", body=order_body("metrics-6", provider="multisafepay")).status
                == 201
            )
            pipeline.drain()
            assert len(receiver.received) > delivered  # delivered all the same
        first_invocation()
        assert api.request("GET", "/events").status == 200
        first_invocation()
        assert api.request("GET", "/orders?q=metrics-1").status == 200  # the operator's reads
        first_invocation()
        assert api.request("GET", "/console", api_key=None).status == 200  # and the console
        first_invocation()
        assert api.request("GET", "/notifications/rejected").status == 200  # the doctor's function
    finally:
        receiver.stop()
    assert "needs_attention" in api.request("GET", "/orders/metrics-4").json()["flags"]  # a person looks
    assert api.request("POST", "/orders", body=order_body("metrics-5", provider="multisafepay")).status == 201
    msp.set_status("metrics-5", "completed")
    url, headers, body = msp.notification("metrics-5")
    assert api.request("POST", url, body=body, headers=headers, api_key=None).status == 200  # paid
    msp.orders["metrics-5"]["amount_refunded"] = msp.orders["metrics-5"]["amount"] + 1  # more than paid
    msp.set_status("metrics-5", "refunded")
    url, headers, body = msp.notification("metrics-5")
    assert api.request("POST", url, body=body, headers=headers, api_key=None).status == 200  # flagged
    assert "refund_exceeds_amount" in api.request("GET", "/orders/metrics-5").json()["flags"]
    stack.put_secret({"multisafepay": {"api_key": "revoked-key", "base_url": MSP_BASE_URL}})
    assert (
        api.request("POST", "/orders", body=order_body("metrics-3", provider="multisafepay")).status == 502
    )  # refused

    emitted = emf_metrics(capsys.readouterr().out)
    # In-process, a function's name (the ColdStart dimension function_name) is its logical id.
    read = read_by_template(template, {name: name for name in api.functions})
    assert {"NotificationAmountMismatch", "ProviderOutcomeUnknown", "ProviderCallLatency", "ColdStart"} <= {
        name for name, _, _ in read
    }
    never = [entry for entry in sorted(read) if (entry[1], entry[2]) not in emitted.get(entry[0], set())]
    assert not never, f"read by template.yaml, never emitted so: {never}; emitted: {emitted}"
    for name, ways in emitted.items():
        expected = {(namespace, dims) for read_name, namespace, dims in read if read_name == name}
        assert not expected or ways <= expected, f"{name} also emitted as {ways - expected}"
