"""The provider-call latency metric, as the real handlers emit it (Powertools' EMF lines on stdout), for
every provider. What the alarms and the dashboard read is checked against one provider's whole story in
tests/providers/<name>/test_metrics_over_api.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses

from local.testing import kit_of, kits
from tests.conftest import Stack
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.orders import order_body
from tests.support.providers import mount


@pytest.fixture(params=list(kits()))
def provider(
    request: pytest.FixtureRequest, stack: Stack, wire: responses.RequestsMock, link: ProviderLink
) -> str:
    """Each provider in turn, its sandbox answering the adapter."""
    name: str = request.param
    mount(kit_of(name), stack, wire, link)
    return name


def test_provider_call_latency_is_in_milliseconds(
    api: Api, provider: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert api.request("POST", "/orders", body=order_body("metrics-4", provider=provider)).status == 201
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    [record] = [r for r in records if "ProviderCallLatency" in r]
    [unit] = [
        metric["Unit"]
        for directive in record["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
        if metric["Name"] == "ProviderCallLatency"
    ]
    values: Any = record["ProviderCallLatency"]
    assert unit == "Milliseconds"
    assert all(0 < value < 10_000 for value in (values if isinstance(values, list) else [values]))
