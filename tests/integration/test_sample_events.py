"""events/ must work with the handlers: every sample is driven here, per provider in the order a user
of `sam local invoke` would send them (create -> get -> notification -> get -> sync -> refund, or create
-> cancel while unpaid, then what the provider's own tests in tests/providers/<name>/test_sample_events.py
drive: its other notifications), the scheduled reconciler's sample too; the signed ones verify with
the sample credentials events/<name>/ publishes; and a second run of the generator at the same moment
writes every file byte for byte (`make events` changes only what the moment changes)."""

from __future__ import annotations

import base64
import importlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
from payments.providers.capabilities import RefundReporting
from payments.web import raw_request
from tests.conftest import Stack
from tests.support.lambdas import Api
from tests.support.link import ProviderLink

ROOT = Path(__file__).resolve().parent.parent.parent
EVENTS = ROOT / "events"
PROVIDER_TESTS = ROOT / "tests" / "providers"
PROVIDERS = sorted(kits())
# The events every provider has, and the test below that drives each. A provider's other events are
# driven by its own tests/providers/<name>/test_sample_events.py, which names them in its DRIVES:
# {file: the function there that drives it}.
DRIVEN_HERE = {
    "create_order.json": "test_samples_take_the_order_to_paid",
    "get_order.json": "test_samples_take_the_order_to_paid",
    "notify_post.json": "test_samples_take_the_order_to_paid",
    "sync_order.json": "test_samples_take_the_order_to_paid",
    "refund_order.json": "test_samples_take_the_order_to_paid",
    "find_orders.json": "test_samples_take_the_order_to_paid",
    "daily_report.json": "test_samples_take_the_order_to_paid",
    "cancel_order.json": "test_cancel_sample_withdraws_the_unpaid_order",
}


def load(name: str) -> dict[str, Any]:
    """A committed event, by its path under events/ (e.g. "<provider>/create_order.json")."""
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def event_files() -> set[str]:
    """Every committed event: each provider's proxy events, and the scheduled functions' at the top."""
    return {
        path.relative_to(EVENTS).as_posix()
        for path in [*EVENTS.glob("*/*.json"), *EVENTS.glob("*.json")]
        if '"httpMethod"' in path.read_text() or '"aws.scheduler"' in path.read_text()
    }


def provider_tests(name: str) -> ModuleType | None:
    """tests/providers/<name>/test_sample_events.py, when the provider has samples of its own."""
    if not (PROVIDER_TESTS / name / "test_sample_events.py").exists():
        return None
    return importlib.import_module(f"tests.providers.{name}.test_sample_events")


RECONCILE_SAMPLE = "reconcile_scheduled.json"
DOCTOR_SAMPLES = {
    "rejected_list.json": "test_the_doctor_samples_list_and_replay_a_refusal",
    "rejected_replay.json": "test_the_doctor_samples_list_and_replay_a_refusal",
}


def moment_of(event: dict[str, Any]) -> int:
    """When the generator made the event (epoch seconds): the samples are stamped with it."""
    return int(event["requestContext"]["requestTimeEpoch"]) // 1000


def test_every_event_is_generated_and_driven_by_a_test() -> None:
    assert event_files() == set(build(0))
    assert {path.name for path in EVENTS.iterdir() if path.is_dir() and path.name != "__pycache__"} == set(
        PROVIDERS
    )
    driven = {RECONCILE_SAMPLE: "test_the_scheduled_sample_runs_the_reconciler", **DOCTOR_SAMPLES}
    for name in PROVIDERS:
        driven |= {f"{name}/{file}": function for file, function in DRIVEN_HERE.items()}
        module = provider_tests(name)
        for file, function in getattr(module, "DRIVES", {}).items():
            assert hasattr(module, function), f"{name}: {function}"
            driven[f"{name}/{file}"] = function
    assert set(driven) == event_files()
    assert all(
        function in globals()
        for function in {*DRIVEN_HERE.values(), driven[RECONCILE_SAMPLE], *DOCTOR_SAMPLES.values()}
    )


def test_committed_events_are_what_the_generator_writes_byte_for_byte() -> None:
    """Generated again at the moment they were made, every file comes out the same, byte for byte:
    nothing but that moment changes from one `make events` to the next."""
    committed_entries = {name: load(name) for name in sample_secret_entries()}
    assert committed_entries == sample_secret_entries()
    stamp = moment_of(load(f"{PROVIDERS[0]}/create_order.json"))
    for name, event in build(stamp).items():
        assert (EVENTS / name).read_text() == json.dumps(event, indent=2) + "\n", name


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


def sample_created(
    name: str, stack: Stack, wire: responses.RequestsMock, link: ProviderLink
) -> tuple[ProviderKit[Any, Any], Api, Any]:
    """The provider's sample stack (sample_stack) with its sample order created: kit, API, sandbox."""
    kit = kit_of(name)
    api, sandbox = sample_stack(kit, stack, wire, link)
    create(api, kit)
    return kit, api, sandbox


@pytest.mark.parametrize("name", PROVIDERS)
def test_samples_take_the_order_to_paid(
    name: str, stack: Stack, wire: responses.RequestsMock, link: ProviderLink
) -> None:
    kit, api, sandbox = sample_created(name, stack, wire, link)
    # Made now: a committed notification may be older than a provider's signature lifetime.
    fresh = build(int(datetime.now(UTC).timestamp()), [name])
    reply = api.functions["NotifyFunction"].invoke(fresh[f"{name}/notify_post.json"])
    assert reply.status == 200, reply.body
    assert status_of(api, name) == "paid"
    # The signed sample came from a sandbox of its own (build above): this one learns of the payment.
    sandbox.control(kit.sample_order_id, "pay_silently")
    # Asked now, the provider says what the notification said: nothing changes.
    synced = api.functions["OrderActionsFunction"].invoke(load(f"{name}/sync_order.json"))
    assert (synced.status, synced.json()["status"]) == (200, "paid"), synced.body
    found = api.functions["OperatorReadsFunction"].invoke(load(f"{name}/find_orders.json"))
    assert found.status == 200, found.body
    assert [order["order_id"] for order in found.json()["orders"]] == [kit.sample_order_id]
    day = api.functions["OperatorReadsFunction"].invoke(load(f"{name}/daily_report.json"))
    assert day.status == 200, day.body
    assert day.body.startswith(
        "time,order_id,provider,provider_reference,wallet,type,amount,currency,recorded_at,late\r\n"
    )
    refund_the_sample(api, sandbox, kit)
    then = getattr(provider_tests(name), "after_paid", None)
    if then is not None:
        then(SampleRun(kit, api, sandbox, reply))


def refund_the_sample(api: Api, sandbox: Any, kit: ProviderKit[Any, Any]) -> None:
    """Part of the paid sample order back; the same event again is the same refund, made once."""
    refund_event = load(f"{kit.name}/refund_order.json")
    reply = api.functions["OrderActionsFunction"].invoke(refund_event)
    assert reply.status == 201, reply.body
    refund = reply.json()
    assert (refund["refund_id"], refund["amount"], refund["reason"]) == (
        "sample-refund-1",
        {"value": 400, "currency": "EUR"},
        "One cup arrived broken",
    )
    assert refund["status"] == (
        "succeeded" if kit.capabilities.refunds_reported is RefundReporting.WHEN_ASKED else "pending"
    )
    for note in sandbox.take_notifications():  # a provider that reports refunds later does so now
        assert (
            api.request(note.method, note.url, body=note.body, headers=note.headers, api_key=None).status
            == 200
        )
    assert status_of(api, kit.name) == "partially_refunded"
    again = api.functions["OrderActionsFunction"].invoke(refund_event)
    assert (again.status, again.json()["refund_id"], again.json()["status"]) == (
        200,
        "sample-refund-1",
        "succeeded",
    )
    assert [call["operation"] for call in sandbox.view(kit.sample_order_id)["calls"]].count("refund") == 1


@pytest.mark.parametrize("name", PROVIDERS)
def test_cancel_sample_withdraws_the_unpaid_order(
    name: str, stack: Stack, wire: responses.RequestsMock, link: ProviderLink
) -> None:
    """The other way the sample order goes: the merchant withdraws it before anyone pays."""
    kit, api, sandbox = sample_created(name, stack, wire, link)
    cancel_event = load(f"{name}/cancel_order.json")
    reply = api.functions["OrderActionsFunction"].invoke(cancel_event)
    assert (reply.status, reply.json()["status"]) == (200, "cancelled"), reply.body
    assert status_of(api, name) == "cancelled"
    # Invoked again: answered as it is, and the provider is not asked twice.
    again = api.functions["OrderActionsFunction"].invoke(cancel_event)
    assert (again.status, again.json()["status"]) == (200, "cancelled")
    # (A provider whose cancel of a paid payment refunds it is asked about the payment first.)
    calls = [
        call["operation"]
        for call in sandbox.view(kit.sample_order_id)["calls"]
        if call["operation"] != "query"
    ]
    assert calls == (["create", "cancel"] if kit.capabilities.cancels_unpaid_orders else ["create"])


def test_the_scheduled_sample_runs_the_reconciler(
    stack: Stack, wire: responses.RequestsMock, link: ProviderLink
) -> None:
    """The scheduled event, as EventBridge Scheduler sends it: a run of the reconciler that finds the
    sample order paid at the provider, though no notification said so."""
    kit, api, sandbox = sample_created(PROVIDERS[0], stack, wire, link)
    sandbox.control(kit.sample_order_id, "pay_silently")
    function = api.functions["ReconcileFunction"]
    later = datetime.now(UTC) + timedelta(minutes=3)  # past the order's first check (2 minutes)
    function.module.service.clock = lambda: later
    report = function.run(load(RECONCILE_SAMPLE))
    assert report["checked"] == 1, report
    assert status_of(api, kit.name) == "paid"


def test_the_doctor_samples_list_and_replay_a_refusal(
    stack: Stack, wire: responses.RequestsMock, link: ProviderLink
) -> None:
    """The sample notification with its body changed on the way: refused, listed by the listing sample,
    and refused again by the replay sample once it names that refusal (the committed one names an id
    of the listing's shape: answered 404 on a stack that never refused it)."""
    kit, api, _ = sample_created(PROVIDERS[0], stack, wire, link)
    notification = build(int(datetime.now(UTC).timestamp()), [kit.name])[f"{kit.name}/notify_post.json"]
    body = base64.b64decode(notification["body"])
    notification["body"] = base64.b64encode(body.replace(b"EUR", b"USD", 1)).decode()
    assert 400 <= api.functions["NotifyFunction"].invoke(notification).status < 500
    doctor = api.functions["DoctorFunction"]
    listed = doctor.invoke(load("rejected_list.json"))
    [entry] = listed.json()["rejected"]
    assert (entry["provider"], entry["code"]) == (kit.name, "signature_invalid")
    replay = load("rejected_replay.json")
    assert doctor.invoke(replay).status == 404
    replay["pathParameters"] = {"attempt_id": entry["id"]}
    replay["path"] = f"/notifications/rejected/{entry['id']}/replay"
    verdict = doctor.invoke(replay)
    assert (verdict.status, verdict.json()["result"], verdict.json()["code"]) == (
        200,
        "refused",
        "signature_invalid",
    )
