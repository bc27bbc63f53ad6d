"""8. Least privilege. tests/unit/test_template.py reads template.yaml and fails on any `*` action or
resource, any resource but the orders table and the provider secret, and any function granted other
actions than its list (get_order: dynamodb:Query only, no secret). This test checks that list against
what the functions really do: it runs every provider's flows through the real handlers, records each
AWS call per function (as IAM actions), and requires granted == used for every function.
"""

from __future__ import annotations

import contextvars
import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.client import BaseClient
from moto.dynamodb.exceptions import TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend

from local.testing import LambdaUnderTest, Template, kits
from payments.providers.capabilities import RefundReporting
from payments.store.wire import DynamoDBWire
from tests.conftest import Stack
from tests.reliability.conftest import mount
from tests.reliability.harness import Harness
from tests.reliability.kits import DEFAULT_VARIANTS
from tests.reliability.report import FIGURES
from tests.support.aws import clear_parameter_caches
from tests.support.event_pipeline import Receiver, with_webhooks
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.secrets import PROVIDER_SECRET
from tests.unit.test_template import as_list, statements

_function: contextvars.ContextVar[str | None] = contextvars.ContextVar("function", default=None)
TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
READ_ONLY = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:Scan"}


def iam_actions(service: str, operation: str, params: dict[str, Any]) -> set[str]:
    if operation == "TransactWriteItems":  # IAM checks the action of each item, not the transaction
        return {f"dynamodb:{TRANSACT_ACTIONS[kind]}" for item in params["TransactItems"] for kind in item}
    if service == "sqs" and operation.endswith("Batch"):  # SendMessage grants SendMessageBatch, and so on
        return {f"sqs:{operation.removesuffix('Batch')}"}
    return {f"{service}:{operation}"}


@pytest.fixture
def used(monkeypatch: pytest.MonkeyPatch) -> dict[str, set[str]]:
    calls: dict[str, set[str]] = defaultdict(set)
    run = LambdaUnderTest.run
    make_call = BaseClient._make_api_call  # type: ignore[attr-defined]  # botocore's internals: no stub

    def run_as(self: LambdaUnderTest, event: dict[str, Any]) -> Any:
        clear_parameter_caches()  # each function has its own cache (and process) on Lambda
        token = _function.set(self.spec.logical_id)
        try:
            return run(self, event)
        finally:
            _function.reset(token)

    def recorded(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        function = _function.get()
        if function:
            calls[function] |= iam_actions(self.meta.service_model.service_name, operation, params)
        return make_call(self, operation, params)

    send = DynamoDBWire.send  # the table's calls: no botocore API call (payments/store/wire.py)

    def sent(self: DynamoDBWire, operation: str, params: dict[str, Any]) -> Any:
        function = _function.get()
        if function:
            calls[function] |= iam_actions("dynamodb", operation, params)
        return send(self, operation, params)

    monkeypatch.setattr(LambdaUnderTest, "run", run_as)
    monkeypatch.setattr(BaseClient, "_make_api_call", recorded)
    monkeypatch.setattr(DynamoDBWire, "send", sent)
    return calls


def lose_one_race(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next order update loses a race (as if a notification had just moved the order)."""
    original = DynamoDBBackend.transact_write_items
    state = {"armed": True}

    def transact(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        if state["armed"] and "Update" in transact_items[0]:
            state["armed"] = False
            raise TransactionCanceledException(
                [("ConditionalCheckFailed", "version moved", None), (None, None, None)]
            )
        original(self, transact_items)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact)


def flows(harness: Harness, link: ProviderLink, monkeypatch: pytest.MonkeyPatch, stack: Stack) -> None:
    api = harness.api
    order_id = f"iam-{harness.label}"
    lose_one_race(monkeypatch)
    assert api.request("POST", "/orders", body=harness.body(order_id)).status == 201
    assert api.request("POST", "/orders", body=harness.body(order_id)).status == 200  # idempotent repeat
    assert api.request("GET", f"/orders/{order_id}").status == 200
    assert api.request("GET", "/orders/no-such-order").status == 404
    assert api.request("GET", f"/orders?q={order_id}").json()["orders"]  # the operator's search
    today = datetime.now(UTC).date().isoformat()
    assert api.request("GET", f"/reports/daily?date={today}").status == 200  # and the day's money
    paid, _ = harness.notification(order_id, "paid")
    assert harness.deliver_via_handler(paid).status == 200
    assert harness.deliver_via_handler(paid.replace(body=paid.body[:-5])).status >= 400  # rejected, recorded
    if kits()[harness.provider].capabilities.refunds_reported is RefundReporting.EVENT_PER_REFUND:
        refund, _ = harness.notification(order_id, "refund:rf-1:300")
        assert harness.deliver_via_handler(refund).status == 200
    refunded = api.request(
        "POST",
        f"/orders/{order_id}/refunds",
        body={"refund_id": "m-1", "amount": {"value": 100, "currency": "EUR"}},
    )
    assert refunded.status == 201, refunded.body
    assert api.request("POST", "/orders", body=harness.body(order_id + "-cancel")).status == 201
    assert api.request("POST", f"/orders/{order_id}-cancel/cancel").status == 200
    assert api.request("POST", "/orders", body=harness.body(order_id + "-silent")).status == 201
    harness.sandbox.pay_silently(order_id + "-silent")  # only reconciliation will learn of it
    assert api.request("POST", f"/orders/{order_id}-silent/sync").status == 200
    reconcile = api.functions["ReconcileFunction"]
    reconcile.module.service.clock = lambda: datetime.now(UTC) + timedelta(minutes=3)
    assert api.request("POST", "/orders", body=harness.body(order_id + "-due")).status == 201
    harness.sandbox.pay_silently(order_id + "-due")
    assert reconcile.run({})["changed"] >= 1
    doctor(harness, stack, order_id + "-doctor")
    link.inject("read_timeout_after_processing")
    assert api.request("POST", "/orders", body=harness.body(order_id + "-lost")).status == 504
    resumed = api.request("POST", "/orders", body=harness.body(order_id + "-lost"))
    # Resumed through a status query: 200, or 409 where the provider's query gives no payment link.
    assert resumed.status in (200, 409), resumed.body


def doctor(harness: Harness, stack: Stack, order_id: str) -> None:
    """A genuine notification refused under a wrong key, listed, replayed once the key is fixed; the
    configuration checked against the provider."""
    api, kit = harness.api, kits()[harness.provider]
    assert api.request("POST", "/orders", body=harness.body(order_id)).status == 201
    genuine, _ = harness.notification(order_id, "paid")
    wrong = kit.secret_entry(kit.new_credentials(harness.variant), kit.test_base_url)
    stack.put_secret({**PROVIDER_SECRET, harness.provider: wrong})
    assert harness.deliver_via_handler(genuine).status >= 400
    stack.put_secret({**PROVIDER_SECRET, harness.provider: kit.test_secret_entry(harness.variant)})
    listed = api.request("GET", f"/notifications/rejected?provider={harness.provider}&limit=1")
    replayed = api.request("POST", f"/notifications/rejected/{listed.json()['rejected'][0]['id']}/replay")
    assert replayed.json()["result"] == "applied", replayed.body
    assert api.request("GET", "/diagnostics").status == 200


def granted(template: Template, function: str) -> set[str]:
    actions: set[str] = set()
    for statement in statements(template, function):
        actions |= set(as_list(statement["Action"]))
    return actions


@pytest.mark.parametrize("harness", DEFAULT_VARIANTS[:1], indirect=True)
def test_every_function_is_granted_exactly_what_it_uses(
    harness: Harness,
    api: Api,
    link: ProviderLink,
    used: dict[str, set[str]],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    stack = request.getfixturevalue("stack")
    flows(harness, link, monkeypatch, stack)  # the first provider's; then every other one's (first variant)
    for provider in list(kits())[1:]:
        sandbox = mount(stack, request.getfixturevalue("wire"), link, provider)
        flows(Harness(provider, sandbox, harness.service, api), link, monkeypatch, stack)

    # The merchant-event pipeline: the stream into its function, the webhook queue into the sender
    # (whose first deliveries fail, so it postpones, and an event's second failure, a day later by the
    # clock the sender reads, dead-letters it), and the catch-up routes.
    receiver = Receiver(fail_first=10).start()
    days = itertools.count()
    try:
        request.getfixturevalue("wire").add_passthru(receiver.url)
        monkeypatch.setattr("payments.outbox.webhooks.SCALE", 0)
        monkeypatch.setattr(
            "payments.outbox.webhooks.utc_now", lambda: datetime.now(UTC) + timedelta(days=next(days))
        )
        monkeypatch.setattr("payments.outbox.event_queries.SETTLE_S", 0)  # list what was just stored
        with_webhooks(api, stack.table_name, stack.refs["WebhookQueue"], receiver).drain()
        assert receiver.received
        first = api.request("GET", "/events?limit=1").json()["events"][0]
        assert api.request("POST", f"/events/{first['id']}/redeliver").status == 202
        delivered = api.request("GET", f"/orders/{first['order_id']}/events").json()["events"]
        assert {event["delivery"]["status"] for event in delivered} - {"pending"}  # read in a batch
    finally:
        receiver.stop()

    template = Template()
    problems = []
    for spec in template.functions():
        function = spec.logical_id
        unused, missing = (
            granted(template, function) - used[function],
            used[function] - granted(template, function),
        )
        FIGURES.add("iam.functions")
        FIGURES.add("iam.unused_grants", len(unused))
        FIGURES.add("iam.missing_grants", len(missing))
        if unused or missing:
            problems.append(
                f"{function}: granted but unused {sorted(unused)}, used but not granted {sorted(missing)}"
            )
    assert not problems, "\n".join(problems)
    assert used["GetOrderFunction"] <= READ_ONLY  # get_order only ever reads
