"""3. Races: 50 concurrent deliveries for one order, each from its own thread with its own service,
store and boto3 client (as separate Lambda instances would be), over real HTTP to a moto server on
loopback. What is raced is our read -> decide -> conditional TransactWriteItems: threads interleave
freely between their reads and their writes, and only the version condition keeps them honest.

moto's backend is not atomic across threads (a cancelled TransactWriteItems restores a snapshot of
the whole table, undoing writes made meanwhile), so each DynamoDB request is applied under one lock:
that models DynamoDB's own guarantee (each request atomic, transactions serializable) without
hiding any race of ours. On top, a share of transactions is cancelled with TransactionConflict, as
DynamoDB does when transactions touch the same item at once.
"""

from __future__ import annotations

import itertools
import json
import queue
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import boto3
import pytest
import requests
import responses
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider
from moto.dynamodb.exceptions import TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler
from moto.server import ThreadedMotoServer

from local.testing import (
    FakeContext,
    FunctionSpec,
    Gateway,
    LambdaUnderTest,
    Reply,
    Template,
    free_port,
    kits,
    reply_of,
)
from payments.api import parse_create_order
from payments.clock import utc_now
from payments.errors import PaymentsError
from payments.orders import ALLOWED_PREDECESSORS, UNPAID_FINAL, OrderStatus
from payments.providers.directory import ProviderDirectory
from payments.service import PaymentsService
from payments.store.orders import OrdersStore
from payments.store.table import RETRY_CONFIG, Table
from tests.reliability.harness import BASE_URL, Delivery, Harness
from tests.reliability.kits import reliability_kit, reliability_kits, sandbox_on_wire
from tests.reliability.report import FIGURES
from tests.support.aws import clear_parameter_caches
from tests.support.link import ProviderLink
from tests.support.secrets import PROVIDER_SECRET
from tests.support.store import history

S = OrderStatus
DELIVERIES = 50
CONFLICT_SHARE = 0.15


@dataclass
class AwsOnLoopback:
    url: str
    conflicts: list[int]  # TransactionConflicts injected so far
    enable_conflicts: Callable[[], None]
    session: boto3.session.Session = field(
        default_factory=lambda: boto3.session.Session(region_name="eu-west-1")
    )

    def client(self, service: Literal["dynamodb", "secretsmanager"]) -> Any:
        """A new client of the moto server, configured as the store's own (RETRY_CONFIG)."""
        return self.session.client(service, endpoint_url=self.url, config=RETRY_CONFIG)


@pytest.fixture
def aws(mocked_aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsOnLoopback]:
    lock = threading.Lock()
    rng = random.Random("races")
    conflicts = [0]
    enabled = threading.Event()
    original_call = DynamoHandler.call_action
    original_transact = DynamoDBBackend.transact_write_items

    def atomic_call(self: DynamoHandler) -> Any:
        with lock:
            return original_call(self)

    def transact(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        if enabled.is_set() and rng.random() < CONFLICT_SHARE:
            conflicts[0] += 1
            raise TransactionCanceledException(
                [("TransactionConflict", "Transaction is ongoing for the item", None)]
                + [(None, None, None)] * (len(transact_items) - 1)
            )
        original_transact(self, transact_items)

    monkeypatch.setattr(DynamoHandler, "call_action", atomic_call)
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", transact)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield AwsOnLoopback(f"http://127.0.0.1:{port}", conflicts, enabled.set)
    finally:
        server.stop()


class FixedSecret(ProviderDirectory):
    """The provider secret as read once: secret caching is not what is raced here."""

    def __init__(self, secret: dict[str, Any]) -> None:
        super().__init__()
        self.secret = secret

    def _secret(self) -> dict[str, Any]:
        return self.secret


def sandbox_for(provider: str, wire: responses.RequestsMock, link: ProviderLink) -> Any:
    """The provider's sandbox (first variant) on the wire; the secret is the run's (`FixedSecret`)."""
    return sandbox_on_wire(provider, wire, link)


def race(services: list[PaymentsService], provider: str, deliveries: list[Delivery]) -> list[int]:
    barrier = threading.Barrier(len(deliveries))
    statuses: list[int] = [0] * len(deliveries)

    def run(index: int) -> None:
        barrier.wait()
        try:
            statuses[index] = services[index].receive_notification(provider, deliveries[index].raw()).status
        except Exception:  # a crash is an unanswered delivery: counted and asserted on below
            statuses[index] = -1

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(deliveries))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


# (provider, scenario, {outcome: how many of the 50 deliveries}): each provider's mixes of its outcomes
SCENARIOS = [
    pytest.param(name, scenario, dict(mix), id=f"{name}-{scenario}")
    for name, kit in reliability_kits().items()
    for scenario, mix in kit.race_mixes.items()
]


@pytest.mark.parametrize(("provider", "scenario", "mix"), SCENARIOS)
def test_concurrent_deliveries_make_exactly_one_terminal_transition(
    aws: AwsOnLoopback,
    wire: responses.RequestsMock,
    link: ProviderLink,
    provider: str,
    scenario: str,
    mix: dict[str, int],
) -> None:
    refs = Template().provision(
        aws.client("dynamodb"),
        aws.client("secretsmanager"),
        prefix=f"race-{provider}-{scenario[:4]}",
        secret_values={},
    )
    table = refs["OrdersTable"]
    sandbox = sandbox_for(provider, wire, link)
    # One adapter for all (loading RSA keys 60 times is not what is raced); a store and client each.
    directory = FixedSecret(PROVIDER_SECRET)
    directory.get(provider)
    services = [
        PaymentsService(OrdersStore(Table(table, client=aws.client("dynamodb"))), directory)
        for _ in range(DELIVERIES)
    ]
    harness = Harness(provider, sandbox, services[0], api=None)  # type: ignore[arg-type]
    order_id = f"race-{provider}-{scenario.split()[0]}"
    assert getattr(harness.create(order_id), "status", None) == S.PENDING

    messages = {name: harness.notification(order_id, name) for name in mix}
    plan = [name for name, count in mix.items() for _ in range(count)]
    random.Random(f"{provider}-{scenario}").shuffle(plan)
    assert len(plan) == DELIVERIES
    aws.enable_conflicts()
    statuses = race(services, provider, [messages[name][0] for name in plan])

    order, events = history(services[0].store, order_id)
    assert order is not None
    transitions = [(e.from_status, e.to_status, e.flags) for e in events if e.from_status and e.to_status]
    into_paid = [t for t in transitions if t[1] == S.PAID]
    terminal = [t for t in transitions if t[1] in UNPAID_FINAL | {S.PAID}]
    chain_ok = all(earlier[1] == later[0] for earlier, later in itertools.pairwise(transitions))
    legal = all(frm in ALLOWED_PREDECESSORS[to] for frm, to, _ in transitions)
    distinct = len({(frm, to) for frm, to, _ in transitions}) == len(transitions)
    one_terminal = len(into_paid) == 1 if "paid" in mix else len(terminal) == 1

    FIGURES.add("races.orders")
    FIGURES.add("races.deliveries", len(plan))
    FIGURES.add("races.conflicts_injected", aws.conflicts[0])
    FIGURES.add("races.orders_with_one_terminal", int(one_terminal))
    FIGURES.add("races.orders_not_one_terminal", int(not one_terminal))
    FIGURES.add("races.lost", 0 if chain_ok and legal and distinct else 1)
    FIGURES.add("races.unanswered", sum(1 for status in statuses if status != 200))

    assert statuses == [200] * DELIVERIES, statuses  # every delivery acknowledged: none to redeliver
    assert chain_ok, transitions  # no lost update: each transition starts where the last one ended
    assert legal, transitions
    assert distinct, transitions  # no transition applied twice
    assert order.status == transitions[-1][1]
    if "paid" in mix:
        # The provider is the source of truth on money: a genuine `paid` wins, exactly once. A failure
        # that won the race before it stays in the history, and the payment is flagged late.
        assert order.status == S.PAID
        assert len(into_paid) == 1, transitions
        assert len(terminal) <= 2
        if len(terminal) == 2:
            assert "late_payment" in into_paid[0][2]
    else:
        assert len(terminal) == 1, transitions
    # Every write to the order is a transaction with its events, numbered without a gap: nothing
    # changed without its event, and no event without its change.
    assert [e.seq for e in events] == list(range(1, order.event_seq + 1))
    assert order.version <= len(events)
    assert aws.conflicts[0] > 0  # the conflict path was exercised


RETRIES = 24


@pytest.mark.parametrize("provider_made_it", [False, True], ids=["provider-never-saw-it", "reply-lost"])
@pytest.mark.parametrize("provider", list(kits()))
def test_overlapping_retries_of_an_unknown_order_reach_the_provider_once(
    aws: AwsOnLoopback,
    wire: responses.RequestsMock,
    link: ProviderLink,
    provider: str,
    provider_made_it: bool,
) -> None:
    """A create timed out; the merchant's client retries it 24 times at once, each retry in its own
    Lambda instance. One of them holds the order's lease and talks to the provider; the others wait
    (409 request_in_progress) or find the order it resumed. One provider order, never `failed`."""
    suffix = "made" if provider_made_it else "never"
    refs = Template().provision(
        aws.client("dynamodb"),
        aws.client("secretsmanager"),
        prefix=f"retry-{provider}-{suffix}",
        secret_values={},
    )
    sandbox = sandbox_for(provider, wire, link)
    directory = FixedSecret(PROVIDER_SECRET)
    directory.get(provider)
    services = [
        PaymentsService(OrdersStore(Table(refs["OrdersTable"], client=aws.client("dynamodb"))), directory)
        for _ in range(RETRIES)
    ]
    harness = Harness(provider, sandbox, services[0], api=None)  # type: ignore[arg-type]
    order_id = f"retry-{provider}-{suffix}"
    link.inject("read_timeout_after_processing" if provider_made_it else "connect_timeout")
    assert isinstance(harness.create(order_id), PaymentsError)
    assert harness.order(order_id).status == S.UNKNOWN  # type: ignore[union-attr]
    # Past the first request's lease: every retry is free to try.
    later = lambda: utc_now() + timedelta(seconds=61)  # noqa: E731
    for service in services:
        service.clock = later
    request = parse_create_order(json.dumps(harness.body(order_id)))
    barrier = threading.Barrier(RETRIES)
    outcomes: list[str] = [""] * RETRIES

    def retry(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = str(services[index].create_order(request, BASE_URL).order.status)
        except PaymentsError as error:
            outcomes[index] = error.code
        except Exception as crash:  # counted below
            outcomes[index] = f"crash:{type(crash).__name__}"

    threads = [threading.Thread(target=retry, args=(index,)) for index in range(RETRIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    order, events = history(services[0].store, order_id)
    creates = harness.provider_creates(order_id)
    failed = sum(1 for e in events if e.to_status == S.FAILED)
    FIGURES.add("retries.concurrent", RETRIES)
    FIGURES.add("retries.provider_orders_extra", creates - 1)
    FIGURES.add("retries.failed_while_live", failed)
    FIGURES.add("retries.crashed", sum(1 for outcome in outcomes if outcome.startswith("crash")))
    assert creates == 1, (creates, outcomes)  # the first attempt's, or exactly one retry's
    assert failed == 0, outcomes
    assert order.status == S.PENDING, outcomes
    allowed = {"pending", "request_in_progress", "payment_action_unavailable"}
    assert set(outcomes) <= allowed, outcomes
    assert outcomes.count("request_in_progress") < RETRIES  # someone got through


REFUND_REQUESTS = 50
API_KEY = "race-merchant-key"


def metrics_one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Powertools keeps one metric set per process, shared by every `Metrics` (by design: the layer
    adds, the handler flushes). Lambda runs one invocation per process; the instances below share
    this one, so one's flush could empty the set between another's "anything to flush?" and its
    serialising, and that handler raised (seen once in CI, as a connection closed without an answer).
    Adding and flushing take turns here, as they do in Lambda; the handlers still run side by side."""
    lock = threading.RLock()
    add_metric = AmazonCloudWatchEMFProvider.add_metric
    flush_metrics = AmazonCloudWatchEMFProvider.flush_metrics

    def add_in_turn(self: AmazonCloudWatchEMFProvider, *args: Any, **kwargs: Any) -> None:
        with lock:
            add_metric(self, *args, **kwargs)

    def flush_in_turn(self: AmazonCloudWatchEMFProvider, *args: Any, **kwargs: Any) -> None:
        with lock:
            flush_metrics(self, *args, **kwargs)

    monkeypatch.setattr(AmazonCloudWatchEMFProvider, "add_metric", add_in_turn)
    monkeypatch.setattr(AmazonCloudWatchEMFProvider, "flush_metrics", flush_in_turn)


class LambdaInstances:
    """Lambda's scaling for one function, behind the local API gateway: each concurrent invocation
    runs in an instance of its own (its own module, service, store and boto3 client), and an instance
    serves one invocation at a time. Every instance is the same function with the same environment,
    set for the whole test, so invocations need not take turns swapping it (local/inprocess.py)."""

    def __init__(self, spec: FunctionSpec, env: dict[str, str], size: int) -> None:
        self.idle: queue.Queue[LambdaUnderTest] = queue.Queue()
        for _ in range(size):
            self.idle.put(LambdaUnderTest(spec, env, set(env)))

    def invoke(self, spec: FunctionSpec, event: dict[str, Any]) -> Reply:
        instance = self.idle.get(timeout=60)
        try:
            return reply_of(instance.handler(event, FakeContext(spec.logical_id)))
        finally:
            self.idle.put(instance)


@pytest.mark.parametrize("provider", list(kits()))
def test_concurrent_refunds_over_http_never_reserve_more_than_was_paid(
    aws: AwsOnLoopback,
    wire: responses.RequestsMock,
    link: ProviderLink,
    monkeypatch: pytest.MonkeyPatch,
    provider: str,
) -> None:
    """50 refund requests for one paid order at once, over HTTP through the merchant API (the local
    API gateway, the template's refund function, one instance per concurrent request), some of them
    repeats of the same refund: what is reserved and refunded never exceeds what was paid, and no
    refund_id reaches the provider twice. A provider's refunds are held pending where its reliability
    kit says so (`before_refund_race`); others' results are not delivered (the reservations stay), or
    they succeed at once."""
    template = Template()
    refs = template.provision(
        aws.client("dynamodb"),
        aws.client("secretsmanager"),
        prefix=f"refund-race-{provider}",
        secret_values={"ProviderCredentialsSecret": json.dumps(PROVIDER_SECRET)},
    )
    spec = next(spec for spec in template.functions() if spec.logical_id == "OrderActionsFunction")
    env = {
        **template.environment(spec, refs),
        "AWS_ENDPOINT_URL": aws.url,
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    clear_parameter_caches()
    sandbox = sandbox_for(provider, wire, link)
    store = OrdersStore(Table(refs["OrdersTable"], client=aws.client("dynamodb")))
    harness = Harness(provider, sandbox, PaymentsService(store, FixedSecret(PROVIDER_SECRET)), api=None)  # type: ignore[arg-type]
    order_id = f"refund-race-{provider}"
    assert getattr(harness.create(order_id), "status", None) == S.PENDING
    paid, _ = harness.notification(order_id, "paid")
    assert harness.deliver(paid).status == 200
    reliability_kit(provider).before_refund_race(sandbox, order_id)
    rng = random.Random(f"refunds-{provider}")
    bodies = [
        {"refund_id": f"r-{index % 40}", "amount": {"value": 50 + 10 * (index % 40), "currency": "EUR"}}
        for index in range(REFUND_REQUESTS)
    ]
    rng.shuffle(bodies)
    metrics_one_at_a_time(monkeypatch)
    gateway = Gateway([spec], Template().gateway_responses(), API_KEY, 0, lambda line: None)
    gateway.socket.listen(REFUND_REQUESTS)  # API Gateway takes every connection at once (default backlog: 5)
    gateway.serve(LambdaInstances(spec, env, REFUND_REQUESTS), [provider])
    wire.add_passthru(gateway.base_url)  # the merchant API itself is real HTTP on loopback
    url = f"{gateway.base_url}/orders/{order_id}/refunds"
    aws.enable_conflicts()
    barrier = threading.Barrier(REFUND_REQUESTS)
    outcomes: list[str] = [""] * REFUND_REQUESTS
    statuses: list[int] = [0] * REFUND_REQUESTS

    def refund(index: int) -> None:
        barrier.wait()
        try:
            reply = requests.post(url, json=bodies[index], headers={"x-api-key": API_KEY}, timeout=120)
            statuses[index] = reply.status_code
            answer = reply.json()
            outcomes[index] = answer["status"] if reply.ok else answer["error"]["code"]
        except Exception as crash:  # counted below
            outcomes[index] = f"crash:{type(crash).__name__}"

    threads = [threading.Thread(target=refund, args=(index,)) for index in range(REFUND_REQUESTS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        gateway.shutdown()
        gateway.server_close()

    order, refunds = store.get_with_refunds(order_id) or (None, [])
    assert order is not None
    at_provider = sandbox.refunds(order_id)
    held = order.refunded_value + order.reserved_value
    FIGURES.add("refund_races.requests", REFUND_REQUESTS)
    FIGURES.add("refund_races.over_reserved", int(held > order.amount.value))
    FIGURES.add("refund_races.provider_over", int(sum(r.amount for r in at_provider) > order.amount.value))
    FIGURES.add(
        "refund_races.twice_at_provider", len(at_provider) - len({r.merchant_refund_id for r in at_provider})
    )
    FIGURES.add("refund_races.crashed", sum(1 for outcome in outcomes if outcome.startswith("crash")))
    assert held <= order.amount.value, (held, outcomes)
    assert sum(r.amount.value for r in refunds if r.status != "failed") == held
    assert sum(r.amount for r in at_provider) <= order.amount.value
    assert len(at_provider) == len({r.merchant_refund_id for r in at_provider})  # one per refund_id
    assert set(outcomes) <= {
        "pending",
        "succeeded",
        "refund_exceeds_refundable",
        "order_not_refundable",  # refunded in full (Alipay's refunds succeed at once)
        "request_in_progress",
        "refund_id_conflict",
        # 503, retry: 50 writers on one order can outlast the engine's attempts (payments/engine.py)
        "store_unavailable",
    }, outcomes
    assert any(outcome in ("pending", "succeeded") for outcome in outcomes)
    assert all(
        status < 500 or outcome == "store_unavailable"
        for status, outcome in zip(statuses, outcomes, strict=True)
    ), list(zip(statuses, outcomes, strict=True))
