"""Shared fixtures: a moto AWS provisioned from template.yaml, the MultiSafepay sandbox, the API."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

# Set before anything imports boto3 or Powertools: no real AWS, no real credentials, ever.
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "AlipayPaymentsTest",
        "POWERTOOLS_SERVICE_NAME": "alipay-payments-test",
        "POWERTOOLS_DEV": "false",
    }
)
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
    os.environ.pop(_name, None)

import boto3  # noqa: E402
import pytest  # noqa: E402
import requests  # noqa: E402
import responses  # noqa: E402
from aws_lambda_powertools.utilities import parameters  # noqa: E402
from moto import mock_aws  # noqa: E402
from requests import PreparedRequest  # noqa: E402

from local.sandboxes.multisafepay import MultiSafepaySandbox  # noqa: E402
from local.template import Template  # noqa: E402
from tests.support.lambdas import Api  # noqa: E402

MSP_API_KEY = "msp-sandbox-key-0123456789"
MSP_BASE_URL = "https://testapi.multisafepay.com/v1/json/"
PROVIDER_SECRET = {"multisafepay": {"api_key": MSP_API_KEY, "base_url": MSP_BASE_URL, "gateway": "ALIPAY"}}


@dataclass
class Stack:
    template: Template
    refs: dict[str, str]

    @property
    def table_name(self) -> str:
        return self.refs["OrdersTable"]

    @property
    def secret_arn(self) -> str:
        return self.refs["ProviderCredentialsSecret"]

    def put_secret(self, value: dict[str, object]) -> None:
        boto3.client("secretsmanager").put_secret_value(
            SecretId=self.secret_arn, SecretString=json.dumps(value)
        )
        parameters.clear_caches()


@pytest.fixture(scope="session")
def template() -> Template:
    return Template()


@pytest.fixture
def stack(template: Template) -> Iterator[Stack]:
    parameters.clear_caches()
    with mock_aws():
        refs = template.provision(
            boto3.client("dynamodb"),
            boto3.client("secretsmanager"),
            prefix="test",
            secret_values={"ProviderCredentialsSecret": json.dumps(PROVIDER_SECRET)},
        )
        yield Stack(template, refs)
    parameters.clear_caches()


class ProviderLink:
    """Faults on the wire between the adapter and the sandbox, consumed one per request."""

    def __init__(self) -> None:
        self.faults: list[str] = []

    def inject(self, *faults: str) -> None:
        self.faults.extend(faults)

    def exchange(
        self, sandbox: MultiSafepaySandbox, request: PreparedRequest
    ) -> tuple[int, dict[str, str], bytes]:
        fault = self.faults.pop(0) if self.faults else None
        if fault == "connect_timeout":
            raise requests.ConnectTimeout("connect timed out")
        if fault == "reset":
            raise requests.ConnectionError("connection reset by peer")
        if fault == "http_500":
            return 500, {"Content-Type": "text/html"}, b"<html>Internal Server Error</html>"
        if fault == "garbage":
            return 200, {"Content-Type": "application/json"}, b'{"success": tr'
        body = request.body.encode() if isinstance(request.body, str) else request.body
        reply = sandbox.handle(request.method or "GET", request.url or "", dict(request.headers), body)
        if fault == "read_timeout_after_processing":  # the provider acted; we never heard back
            raise requests.ReadTimeout("read timed out")
        return reply


@pytest.fixture
def link() -> ProviderLink:
    return ProviderLink()


@pytest.fixture
def msp(stack: Stack, link: ProviderLink) -> Iterator[MultiSafepaySandbox]:
    """MultiSafepay's API on `responses`: the adapter's real HTTP client talks to the sandbox."""
    sandbox = MultiSafepaySandbox(api_key=MSP_API_KEY)

    def callback(request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        return link.exchange(sandbox, request)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in (responses.GET, responses.POST):
            mock.add_callback(method, re.compile(re.escape(MSP_BASE_URL) + ".*"), callback=callback)
        yield sandbox


@pytest.fixture
def api(stack: Stack, msp: MultiSafepaySandbox) -> Api:
    return Api(stack.template, stack.refs)
