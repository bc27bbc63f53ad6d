"""events/ must work with the handlers: every sample is driven here, per provider in the order a user
of `sam local invoke` would send them (create -> get -> notification -> get, then what the provider's
own tests in tests/providers/<name>/test_sample_events.py drive: the merchant's refund or cancel, other
notifications), and the signed ones verify with the sample credentials events/<name>/ publishes."""

from __future__ import annotations

import base64
import importlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import responses
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from requests import PreparedRequest

from events.generate import SECRET_ENTRY_FILE, build, sample_secret_entries
from local.testing import ProviderKit, Reply, kit_of, kits
from payments.http import HttpClient
from payments.providers import provider_class
from payments.web import raw_request
from tests.conftest import Stack
from tests.support.lambdas import Api
from tests.support.link import ProviderLink

ROOT = Path(__file__).resolve().parent.parent.parent
EVENTS = ROOT / "events"
PROVIDER_TESTS = ROOT / "tests" / "providers"
PROVIDERS = sorted(kits())
# The events every provider has, driven by test_samples_take_the_order_to_paid below. A provider's
# other events are driven by its own tests/providers/<name>/test_sample_events.py, which names them in
# its DRIVES: {file: the function there that drives it}.
DRIVEN_HERE = ("create_order.json", "get_order.json", "notify_post.json")


def load(name: str) -> dict[str, Any]:
    """A committed event, by its path under events/ (e.g. "<provider>/create_order.json")."""
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def event_files() -> set[str]:
    return {
        path.relative_to(EVENTS).as_posix()
        for path in EVENTS.glob("*/*.json")
        if "httpMethod" in path.read_text()
    }


def provider_tests(name: str) -> ModuleType | None:
    """tests/providers/<name>/test_sample_events.py, when the provider has samples of its own."""
    if not (PROVIDER_TESTS / name / "test_sample_events.py").exists():
        return None
    return importlib.import_module(f"tests.providers.{name}.test_sample_events")


def moment_of(event: dict[str, Any]) -> int:
    """When the generator made the event (epoch seconds): the samples are stamped with it."""
    return int(event["requestContext"]["requestTimeEpoch"]) // 1000


def test_every_event_is_generated_and_driven_by_a_test() -> None:
    assert event_files() == set(build(0))
    assert {path.name for path in EVENTS.iterdir() if path.is_dir() and path.name != "__pycache__"} == set(
        PROVIDERS
    )
    driven: dict[str, str] = {}
    for name in PROVIDERS:
        # A create, a get and a signed notification for every provider.
        driven |= {f"{name}/{file}": "test_samples_take_the_order_to_paid" for file in DRIVEN_HERE}
        module = provider_tests(name)
        for file, function in getattr(module, "DRIVES", {}).items():
            assert hasattr(module, function), f"{name}: {function}"
            driven[f"{name}/{file}"] = function
    assert set(driven) == event_files()
    assert "test_samples_take_the_order_to_paid" in globals()


def test_committed_events_are_what_the_generator_writes() -> None:
    committed_entries = {name: load(name) for name in sample_secret_entries()}
    assert committed_entries == sample_secret_entries()
    stamp = moment_of(load(f"{PROVIDERS[0]}/create_order.json"))
    fresh = build(stamp)
    for name, event in fresh.items():
        committed = load(name)
        assert moment_of(committed) == stamp, name  # one run of the generator made them all
        committed.pop("requestContext")
        event.pop("requestContext")
        if name.endswith("/create_order.json"):
            assert json.loads(base64.b64decode(committed.pop("body"))) == json.loads(
                base64.b64decode(str(event.pop("body")))
            )
        if Path(name).name.startswith("notify_") and committed["body"] is not None:
            # Made afresh by the sandbox each time (its own ids, its signature): what it must do —
            # verify with the sample credentials and report the order paid — is checked below.
            committed.pop("body"), event.pop("body")
            for part in ("headers", "multiValueHeaders"):  # the same headers, their values made afresh
                assert set(committed.pop(part)) == set(event.pop(part) or {}), name
        assert committed == json.loads(json.dumps(event)), name


@pytest.mark.parametrize("name", PROVIDERS)
def test_signed_samples_verify_with_the_sample_credentials(name: str) -> None:
    """The committed notification, read by the adapter holding the committed sample secret entry."""
    kit = kit_of(name)
    entry = load(f"{name}/{SECRET_ENTRY_FILE}")
    adapter_class = provider_class(name)
    adapter = adapter_class(adapter_class.settings_model.model_validate(entry), HttpClient())
    event = load(f"{name}/notify_post.json")
    raw = raw_request(APIGatewayProxyEvent(event), datetime.fromtimestamp(moment_of(event) + 1, UTC))
    notification = adapter.parse_notification(raw)
    assert (notification.order_id, str(notification.status)) == (kit.sample_order_id, "paid")


# -- driving them through the handlers ---------------------------------------------------------------
@dataclass
class SampleRun:
    """One provider's samples on their way through the handlers: what its own tests carry on with."""

    kit: ProviderKit[Any, Any]
    api: Api
    sandbox: Any  # the provider's sandbox, holding the sample credentials
    notified: Reply  # the notify function's answer to the signed sample


def sample_stack(
    kit: ProviderKit[Any, Any], stack: Stack, wire: responses.RequestsMock, link: ProviderLink
) -> tuple[Api, Any]:
    """The stack, its secret holding the sample credentials, the adapter talking to a sandbox that
    holds them too."""
    credentials = kit.sample_credentials()
    sandbox = kit.new_sandbox(credentials)

    def callback(request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        return link.exchange(sandbox, request)

    api_url = re.compile(re.escape(kit.test_base_url) + kit.api_path_pattern)
    for method in kit.api_methods:
        wire.add_callback(method, api_url, callback=callback)
    stack.put_secret({kit.name: kit.secret_entry(credentials, kit.test_base_url)})
    return Api(stack.template, stack.refs), sandbox


def status_of(api: Api, provider: str) -> str:
    reply = api.functions["GetOrderFunction"].invoke(load(f"{provider}/get_order.json"))
    assert reply.status == 200, reply.body
    status: str = reply.json()["status"]
    return status


def create(api: Api, kit: ProviderKit[Any, Any]) -> None:
    reply = api.functions["CreateOrderFunction"].invoke(load(f"{kit.name}/create_order.json"))
    assert reply.status == 201, reply.body
    assert reply.json()["order_id"] == kit.sample_order_id
    assert status_of(api, kit.name) == "pending"


@pytest.mark.parametrize("name", PROVIDERS)
def test_samples_take_the_order_to_paid(
    name: str, stack: Stack, wire: responses.RequestsMock, link: ProviderLink
) -> None:
    kit = kit_of(name)
    api, sandbox = sample_stack(kit, stack, wire, link)
    create(api, kit)
    # Made now: a committed notification may be older than a provider's signature lifetime.
    fresh = build(int(datetime.now(UTC).timestamp()), [name])
    reply = api.functions["NotifyFunction"].invoke(fresh[f"{name}/notify_post.json"])
    assert reply.status == 200, reply.body
    assert status_of(api, name) == "paid"
    then = getattr(provider_tests(name), "after_paid", None)
    if then is not None:
        then(SampleRun(kit, api, sandbox, reply))
