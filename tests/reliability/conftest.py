"""The reliability suite's fixtures: a provider harness per provider (and UseePay sign type), and a guard
that reads every log line of every test for secrets and personal data. The figures table is made by
tests/reliability/figures_plugin.py."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from local.providers.useepay.sandbox import UseePaySandbox
from payments.config import ProviderDirectory
from payments.service import PaymentsService
from payments.store import OrdersStore
from tests.conftest import Stack
from tests.providers.alipay_intl import fixtures as alipay_intl_kit
from tests.providers.multisafepay import fixtures as multisafepay_kit
from tests.providers.useepay import fixtures as useepay_kit
from tests.reliability.harness import Harness
from tests.reliability.report import FIGURES
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.orders import order_body
from tests.support.secrets import WEBHOOK_SIGNING_SECRET

VARIANTS = ["multisafepay", "useepay-MD5", "useepay-RSA", "alipay_intl"]


@pytest.fixture(params=VARIANTS)
def harness(
    request: pytest.FixtureRequest,
    stack: Stack,
    wire: responses.RequestsMock,
    link: ProviderLink,
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
) -> Harness:
    variant: str = request.param
    monkeypatch.setenv("PROVIDER_SECRET_ARN", stack.secret_arn)
    provider, _, sign_type = variant.partition("-")
    if provider == "multisafepay":
        sandbox = request.getfixturevalue("msp")
    elif provider == "alipay_intl":
        sandbox = request.getfixturevalue("alipay")
    else:
        sandbox = mount_useepay(stack, wire, link, sign_type)
    service = PaymentsService(OrdersStore(stack.table_name), ProviderDirectory())
    return Harness(provider, sandbox, service, api, variant=sign_type)


def mount_useepay(
    stack: Stack, wire: responses.RequestsMock, link: ProviderLink, sign_type: str
) -> UseePaySandbox:
    """What the kit's (parametrised) `useepay` fixture does, for one sign type."""
    return useepay_kit.mount(stack, wire, link, sign_type)


@pytest.fixture
def all_providers(
    request: pytest.FixtureRequest, stack: Stack, wire: responses.RequestsMock, link: ProviderLink
) -> dict[str, Any]:
    """Every provider's sandbox on the wire (UseePay with MD5)."""
    return {
        "multisafepay": request.getfixturevalue("msp"),
        "alipay_intl": request.getfixturevalue("alipay"),
        "useepay": mount_useepay(stack, wire, link, "MD5"),
    }


# -- secrets and personal data: every log line of every test here ------------------------------------
def _key_fragments(pem: str) -> list[str]:
    """Slices of a private key's base64 body: any of them in a log line means key material leaked."""
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    return [body[start : start + 24] for start in range(64, len(body) - 24, 200)]


CUSTOMER = order_body(provider="multisafepay")["customer"]
SENSITIVE: list[str] = [
    multisafepay_kit.MSP_API_KEY,
    useepay_kit.MD5_KEY,
    "test-merchant-key",  # the merchant API key the test gateway checks
    WEBHOOK_SIGNING_SECRET,  # what merchant webhooks are signed with (every test stack's)
    "PRIVATE KEY",
    CUSTOMER["email"],
    CUSTOMER["phone"],
    CUSTOMER["phone"].lstrip("+"),
    CUSTOMER["ip_address"],
    *_key_fragments(useepay_kit.pem_private(useepay_kit.MERCHANT_KEY)),
    *_key_fragments(useepay_kit.pem_private(useepay_kit.USEEPAY_KEY)),
    *_key_fragments(alipay_intl_kit.private_text(alipay_intl_kit.MERCHANT_KEY, "pkcs8 pem")),
    *_key_fragments(alipay_intl_kit.private_text(alipay_intl_kit.ALIPAY_KEY, "pkcs8 pem")),
    *_key_fragments(alipay_intl_kit.private_text(alipay_intl_kit.MERCHANT_KEY, "pkcs1 pem")),
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
