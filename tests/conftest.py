"""Shared fixtures: a moto AWS provisioned from template.yaml, the provider sandboxes, the API.

Provider-specific fixtures live in tests/providers/<name>/fixtures.py and are loaded automatically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Set before anything imports boto3 or Powertools: no real AWS, no real credentials, ever.
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_METRICS_NAMESPACE": "AlipayPaymentsTest",
        "POWERTOOLS_SERVICE_NAME": "alipay-payments-test",
        "POWERTOOLS_DEV": "false",
    }
)
for _name in (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
):
    os.environ.pop(_name, None)

import pytest  # noqa: E402
import responses  # noqa: E402
from aws_lambda_powertools.utilities import parameters  # noqa: E402
from moto import mock_aws  # noqa: E402

from local.testing import (  # noqa: E402
    Template,
    fit_moto_for_long_runs,
)
from tests.support.aws import client, empty_stack_services, share_botocore_data_loader  # noqa: E402
from tests.support.lambdas import Api  # noqa: E402
from tests.support.link import ProviderLink  # noqa: E402
from tests.support.secrets import PROVIDER_SECRET, WEBHOOK_SIGNING_SECRET  # noqa: E402

fit_moto_for_long_runs()  # no test pays for the ones before it: see local/moto_long_runs.py
share_botocore_data_loader()  # speed only: tests/support/aws.py

pytest_plugins = [
    # each provider's test fixtures (its sandbox on the wire, its secret entry): tests/providers/<name>/
    *sorted(
        f"tests.providers.{path.parent.name}.fixtures"
        for path in (Path(__file__).parent / "providers").glob("*/fixtures.py")
    ),
    "tests.support.shop_kit",  # the `shop` fixture: a test once per provider
    "tests.reliability.figures_plugin",  # the figures table, across pytest-xdist workers
    "tests.parallel",  # how pytest-xdist shares the tests
]

__all__ = ["Stack"]


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
        client("secretsmanager").put_secret_value(SecretId=self.secret_arn, SecretString=json.dumps(value))
        parameters.clear_caches()


@pytest.fixture(scope="session")
def template() -> Template:
    return Template()


@pytest.fixture(scope="session", autouse=True)
def mocked_aws() -> Iterator[None]:
    """One moto for each pytest process, started before its first test: every test runs with AWS
    mocked, and each that provisions the stack has DynamoDB, Secrets Manager, SQS and EventBridge
    to itself (`stack`). Why not a moto per test: tests/support/aws.py."""
    with mock_aws():
        yield


@pytest.fixture
def stack(template: Template) -> Iterator[Stack]:
    parameters.clear_caches()
    empty_stack_services()
    refs = template.provision(
        client("dynamodb"),
        client("secretsmanager"),
        prefix="test",
        secret_values={
            "ProviderCredentialsSecret": json.dumps(PROVIDER_SECRET),
            "WebhookSigningSecret": WEBHOOK_SIGNING_SECRET,
        },
    )
    yield Stack(template, refs)
    empty_stack_services()
    parameters.clear_caches()


@pytest.fixture
def link() -> ProviderLink:
    return ProviderLink()


@pytest.fixture
def wire() -> Iterator[responses.RequestsMock]:
    """The one mock of the network below `requests`: each provider kit registers its sandbox on it.
    Anything unregistered fails with ConnectionError: tests never reach the internet."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def api(stack: Stack) -> Api:
    return Api(stack.template, stack.refs)
