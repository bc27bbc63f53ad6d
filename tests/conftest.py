"""Shared fixtures: a moto AWS provisioned from template.yaml, the provider sandboxes, the API.

Provider-specific fixtures live in tests/providers/<name>/fixtures.py and are loaded automatically.

Moto starts only in a process that runs a test needing AWS: such a test asks for `mocked_aws`
(directly, or through `stack` and what builds on it) and is marked `aws` at collection, so that
`make unit` runs the others, with moto unimportable (WITHOUT_MOTO=1). No AWS call leaves the machine
either way (tests/support/aws.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Iterator
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

import boto3  # noqa: E402
import pytest  # noqa: E402
import responses  # noqa: E402

from tests.support.aws import (  # noqa: E402
    REFUSED,
    AwsCallOutsideMoto,
    clear_parameter_caches,
    client,
    empty_stack_services,
    forbid_moto,
    keep_aws_calls_local,
    share_botocore_data_loader,
)

if os.environ.get("WITHOUT_MOTO"):
    forbid_moto()  # before anything below imports it

from local.testing import Template, fit_moto_for_long_runs  # noqa: E402
from payments import aws_clients  # noqa: E402
from tests.support.lambdas import Api  # noqa: E402
from tests.support.link import ProviderLink  # noqa: E402
from tests.support.secrets import PROVIDER_SECRET, WEBHOOK_SIGNING_SECRET  # noqa: E402

keep_aws_calls_local()
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
        clear_parameter_caches()


@pytest.fixture(scope="session")
def template() -> Template:
    return Template()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "aws: needs moto's AWS (asks for `mocked_aws`); set at collection (tests/conftest.py)"
    )


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "mocked_aws" in getattr(item, "fixturenames", ()):  # its whole fixture closure
            item.add_marker(pytest.mark.aws)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call() -> Generator[None, object, object]:
    """A test fails when it made an AWS call that no moto answered, even one the code under test caught."""
    before = len(REFUSED)
    outcome = yield
    if len(REFUSED) > before:
        raise AwsCallOutsideMoto(REFUSED[before])
    return outcome


@pytest.fixture(scope="session")
def mocked_aws() -> Iterator[None]:
    """One moto for each pytest process that runs a test needing AWS, started before the first such
    test and kept for the others: each that provisions the stack has DynamoDB, Secrets Manager, SQS
    and EventBridge to itself (`stack`). Why not a moto per test: tests/support/aws.py."""
    from moto import mock_aws

    fit_moto_for_long_runs()  # no test pays for the ones before it: see local/moto_long_runs.py
    # A session made before moto was imported lacks its hook: a new one for the tests' own clients,
    # and the handlers' next client makes a new one too.
    boto3.setup_default_session()
    aws_clients.forget_session()
    client.cache_clear()
    with mock_aws():
        yield


@pytest.fixture
def stack(mocked_aws: None, template: Template) -> Iterator[Stack]:
    clear_parameter_caches()
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
    clear_parameter_caches()


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
