"""The reliability suite's fixtures: a provider harness per provider (and per variant of one, such as a
sign type), and a guard that reads every log line of every test for secrets and personal data. The
figures table is made by tests/reliability/figures_plugin.py."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from local.testing import kits
from payments.providers.directory import ProviderDirectory
from payments.service import PaymentsService
from payments.store.orders import OrdersStore
from payments.store.table import Table
from tests.conftest import Stack
from tests.reliability.harness import Harness
from tests.reliability.kits import VARIANTS, sandbox_on_wire, split_label
from tests.reliability.report import FIGURES
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.orders import order_body
from tests.support.secrets import PROVIDER_SECRET, WEBHOOK_SIGNING_SECRET


@pytest.fixture(params=VARIANTS)
def harness(
    request: pytest.FixtureRequest,
    stack: Stack,
    wire: responses.RequestsMock,
    link: ProviderLink,
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
) -> Harness:
    label: str = request.param
    monkeypatch.setenv("PROVIDER_SECRET_ARN", stack.secret_arn)
    provider, variant = split_label(label)
    sandbox = mount(stack, wire, link, provider, variant)
    service = PaymentsService(OrdersStore(Table(stack.table_name)), ProviderDirectory())
    return Harness(provider, sandbox, service, api, variant=variant)


def mount(
    stack: Stack, wire: responses.RequestsMock, link: ProviderLink, provider: str, variant: str = ""
) -> Any:
    """The provider's sandbox for `variant` on the wire, and the secret set to match."""
    kit = kits()[provider]
    stack.put_secret({**PROVIDER_SECRET, provider: kit.test_secret_entry(variant)})
    return sandbox_on_wire(provider, wire, link, variant)


@pytest.fixture
def all_providers(stack: Stack, wire: responses.RequestsMock, link: ProviderLink) -> dict[str, Any]:
    """Every provider's sandbox on the wire (each in its first variant)."""
    return {name: mount(stack, wire, link, name) for name in kits()}


# -- secrets and personal data: every log line of every test here ------------------------------------
CUSTOMER = order_body(provider=next(iter(kits())))["customer"]
SENSITIVE: list[str] = [
    # every provider's secrets, in every variant: API keys, MD5 keys, fragments of private keys
    *(
        text
        for kit in kits().values()
        for variant in kit.variants
        for text in kit.secret_texts(kit.test_credentials(variant))
    ),
    "test-merchant-key",  # the merchant API key the test gateway checks
    WEBHOOK_SIGNING_SECRET,  # what merchant webhooks are signed with (every test stack's)
    "PRIVATE KEY",
    CUSTOMER["email"],
    CUSTOMER["phone"],
    CUSTOMER["phone"].lstrip("+"),
    CUSTOMER["ip_address"],
]
OUR_LOGGERS = ("alipay-payments", "alipay-payments-test", "payments")


class LogSink(logging.Handler):
    """Every record, with all its fields (Powertools' `extra` keys included) and any traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        fields = {key: value for key, value in vars(record).items() if key not in ("exc_info", "args")}
        text = record.getMessage() + " " + json.dumps(fields, default=str, ensure_ascii=False)
        if record.exc_info:
            text += "\n" + self._formatter.formatException(record.exc_info)
        self.lines.append(text)


def leaks_in(texts: list[str]) -> list[str]:
    return [value for value in SENSITIVE if any(value in text for text in texts)]


@pytest.fixture(autouse=True)
def log_guard(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> Iterator[LogSink]:
    """Our loggers at DEBUG (every line we could ever write), third parties at their production level."""
    if "api" in request.fixturenames:
        request.getfixturevalue("api")  # importing the handlers sets their loggers' level: first
    sink = LogSink()
    root = logging.getLogger()
    root.addHandler(sink)
    saved = {name: logging.getLogger(name).level for name in OUR_LOGGERS}
    for name in OUR_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield sink
    finally:
        root.removeHandler(sink)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
    captured = capsys.readouterr()
    lines = sink.lines + captured.out.splitlines() + captured.err.splitlines()
    leaked = leaks_in(lines)
    FIGURES.add("logs.lines", len(sink.lines))  # records; stdout and stderr are read too
    FIGURES.add("logs.leaks", len(leaked))
    assert not leaked, f"logged: {leaked}"
