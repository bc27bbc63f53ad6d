"""The reconciler's run against moto's DynamoDB with scripted providers and a fake clock: nothing
leaves the due index unflagged, a provider that is down does not hold up the others, and a run stops
while one more item could still overrun its time."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.metrics import MetricUnit

from local.testing import kits
from payments import engine as engine_module
from payments.clock import iso
from payments.engine import Engine, Plan, event
from payments.errors import ProviderUnavailable
from payments.facts import RefundStatus, Statement
from payments.flows import reconcile
from payments.flows.reconcile import ReconcileFlow
from payments.ledger import MERCHANT, Refund
from payments.money import Money
from payments.orders import OrderStatus
from payments.providers.capabilities import Capabilities
from payments.schedule import CHECK_OFFSETS, due_partitions
from payments.store.orders import OrdersStore
from payments.store.table import Table
from tests.conftest import Stack
from tests.support.orders import stored_order
from tests.support.providers import ANY_PROVIDER, capabilities_with
from tests.support.store import history

CREATED = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LAST_CHECK = len(CHECK_OFFSETS) - 1  # checks done before the one that spends the schedule
# A second provider, for a run in which one provider is down and the other answers.
OTHER_PROVIDER = next(name for name in kits() if name != ANY_PROVIDER)


@dataclass
class ScriptedProvider:
    """A provider that is down (every call fails) or does not know what it is asked about."""

    name: str
    down: bool = False
    refunds_fail: bool = False  # it answers, but a refund sent again fails
    calls: list[str] = field(default_factory=list)
    # It leaves an unclear create to expire, and may report a payment until 15 minutes after expiry.
    capabilities: Capabilities = field(
        default_factory=lambda: capabilities_with(withdraws_unclear_creates=False, expiry_grace_seconds=900)
    )

    def _answer(self, what: str) -> None:
        self.calls.append(what)
        if self.down:
            raise ProviderUnavailable("the connection to the payment provider failed (ConnectionError)")

    def query(self, order: Any) -> Statement | None:
        self._answer(f"query {order.order_id}")
        return None

    def resolve_refund(self, order: Any, refund: Any, ctx: Any) -> Statement | None:
        self._answer(f"resolve {refund.refund_id}")
        return None

    def refund(self, order: Any, refund: Any, ctx: Any) -> Statement:
        self._answer(f"refund {refund.refund_id}")
        assert self.refunds_fail
        raise ProviderUnavailable("the connection to the payment provider failed (ConnectionError)")


class Directory:
    def __init__(self, *providers: ScriptedProvider) -> None:
        self.providers = {provider.name: provider for provider in providers}

    def get(self, name: str) -> Any:
        return self.providers[name]


@pytest.fixture
def store(stack: Stack) -> OrdersStore:
    return OrdersStore(Table(stack.table_name))


@pytest.fixture
def needs_attention_metrics(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The NeedsAttention values the engine emits (the alarm's metric)."""
    counted: list[int] = []
    real = engine_module.metrics.add_metric

    def add_metric(name: str, unit: MetricUnit, value: float) -> None:
        if name == "NeedsAttention":
            counted.append(int(value))
        real(name=name, unit=unit, value=value)

    monkeypatch.setattr(engine_module.metrics, "add_metric", add_metric)
    return counted


def flow(store: OrdersStore, directory: Directory, now: datetime) -> ReconcileFlow:
    def clock() -> datetime:
        return now

    return ReconcileFlow(store, directory, Engine(store, clock))  # type: ignore[arg-type]


def open_order(store: OrdersStore, order_id: str, provider: str, checks: int = 0) -> None:
    order = stored_order(order_id, CREATED, provider=ANY_PROVIDER)
    order.provider = provider
    order.status = OrderStatus.PENDING
    order.expires_at = iso(CREATED + timedelta(days=30))  # still payable: only the schedule ends it
    order.checks = checks
    assert store.create(order, event("order_created", "merchant", CREATED)) is None


def pending_refund(
    store: OrdersStore, order_id: str, checks: int, status: RefundStatus = RefundStatus.PENDING
) -> None:
    order = stored_order(order_id, CREATED, provider=ANY_PROVIDER)
    order.status = OrderStatus.PAID
    order.reserved_value = 300
    assert store.create(order, event("order_created", "merchant", CREATED)) is None
    stored = store.get(order_id)
    assert stored is not None
    plan = Plan(stored, iso(CREATED), event("refund_pending", "provider", CREATED))
    refund = Refund("r-1", order_id, Money(300, "EUR"), status, MERCHANT, "r-1", iso(CREATED), iso(CREATED))
    plan.put_refund(replace(refund, checks=checks))
    plan.record("refund_pending")
    store.commit(plan)


def due(stack: Stack, store: OrdersStore) -> list[str]:
    items = []
    for partition in due_partitions():
        page = store.table.client.query(
            TableName=stack.table_name,
            IndexName="DueIndex",
            KeyConditionExpression="due_pk = :due",
            ExpressionAttributeValues={":due": {"S": partition}},
        )
        items.extend(page["Items"])
    return [item["pk"]["S"].removeprefix("ORDER#") + "/" + item["sk"]["S"] for item in items]


# -- the store: a bare check count never takes an item off the index ------------------------------
def test_the_store_will_not_count_the_last_check_of_an_order_without_its_flag(
    store: OrdersStore, stack: Stack
) -> None:
    open_order(store, "o-1", ANY_PROVIDER, checks=LAST_CHECK)
    order = store.get("o-1")
    assert order is not None
    with pytest.raises(ValueError, match="needs_attention"):
        store.record_check(order)
    assert due(stack, store) == ["o-1/ORDER"]


def test_the_store_will_not_count_the_last_check_of_a_refund_without_its_flag(
    store: OrdersStore, stack: Stack
) -> None:
    pending_refund(store, "o-2", checks=LAST_CHECK)
    found = store.get_with_refunds("o-2")
    assert found is not None
    with pytest.raises(ValueError, match="needs_attention"):
        store.record_refund_check(found[1][0])
    assert due(stack, store) == ["o-2/REFUND#r-1"]


# -- the last check: whatever its answer, the item is flagged --------------------------------------
def test_a_provider_error_on_an_orders_last_check_flags_it(
    store: OrdersStore, stack: Stack, needs_attention_metrics: list[int]
) -> None:
    open_order(store, "o-3", ANY_PROVIDER, checks=LAST_CHECK)
    provider = ScriptedProvider(ANY_PROVIDER, down=True)
    report = flow(store, Directory(provider), CREATED + timedelta(days=8)).run(10, lambda: 100.0, 1.0)
    assert report.provider_errors == {ANY_PROVIDER: 1}
    order, events = history(store, "o-3")
    assert order.status == OrderStatus.PENDING
    assert "needs_attention" in order.flags
    assert [e.type for e in events].count("needs_attention") == 1
    assert order.lease_until is None
    assert needs_attention_metrics == [1]
    assert due(stack, store) == []  # off the index, and flagged


@pytest.mark.parametrize("down", [False, True], ids=["provider does not know it", "provider error"])
def test_a_pending_refund_still_unresolved_at_its_last_check_is_flagged(
    store: OrdersStore, stack: Stack, needs_attention_metrics: list[int], down: bool
) -> None:
    pending_refund(store, "o-4", checks=LAST_CHECK)
    provider = ScriptedProvider(ANY_PROVIDER, down=down)
    flow(store, Directory(provider), CREATED + timedelta(days=8)).run(10, lambda: 100.0, 1.0)
    order, events = history(store, "o-4")
    found = store.get_with_refunds("o-4")
    assert found is not None
    refund = found[1][0]
    assert (refund.status, refund.checks, refund.lease_until) == (RefundStatus.PENDING, LAST_CHECK + 1, None)
    assert "needs_attention" in order.flags
    flagged = [e for e in events if e.type == "needs_attention"]
    assert len(flagged) == 1
    assert "r-1" in (flagged[0].reason or "")
    assert needs_attention_metrics == [1]
    assert due(stack, store) == []


@pytest.mark.parametrize("checks", [0, LAST_CHECK])
def test_a_failed_resend_of_an_unknown_refund_counts_as_a_check(
    store: OrdersStore, stack: Stack, checks: int
) -> None:
    pending_refund(store, "o-5", checks=checks, status=RefundStatus.UNKNOWN)
    provider = ScriptedProvider(ANY_PROVIDER, refunds_fail=True)
    report = flow(store, Directory(provider), CREATED + timedelta(days=8)).run(10, lambda: 100.0, 1.0)
    assert provider.calls == ["resolve r-1", "refund r-1"]
    assert report.provider_errors == {ANY_PROVIDER: 1}
    order, _ = history(store, "o-5")
    found = store.get_with_refunds("o-5")
    assert found is not None
    refund = found[1][0]
    assert (refund.status, refund.checks, refund.lease_until) == (RefundStatus.UNKNOWN, checks + 1, None)
    if checks == LAST_CHECK:
        assert "needs_attention" in order.flags
        assert due(stack, store) == []
    else:  # counted: its next check follows the backoff
        assert due(stack, store) == ["o-5/REFUND#r-1"]


# -- one provider down --------------------------------------------------------------------------
def test_a_backlog_of_a_provider_that_is_down_does_not_starve_the_others(
    store: OrdersStore, stack: Stack
) -> None:
    for index in range(8):  # due first: made earlier
        open_order(store, f"down-{index}", OTHER_PROVIDER)
    for index in range(3):
        order = stored_order(f"up-{index}", CREATED + timedelta(minutes=1), provider=ANY_PROVIDER)
        order.status, order.expires_at = OrderStatus.PENDING, iso(CREATED + timedelta(days=30))
        assert store.create(order, event("order_created", "merchant", CREATED)) is None
    down, up = ScriptedProvider(OTHER_PROVIDER, down=True), ScriptedProvider(ANY_PROVIDER)
    run = flow(store, Directory(down, up), CREATED + timedelta(minutes=5))
    report = run.run(5, lambda: 100.0, 1.0)
    assert report.provider_errors == {OTHER_PROVIDER: reconcile.FAILURES_BEFORE_SKIPPING}
    assert len(down.calls) == reconcile.FAILURES_BEFORE_SKIPPING
    assert sorted(up.calls) == ["query up-0", "query up-1", "query up-2"]  # all in the same run
    assert report.checked == 3
    # The items that failed moved along their backoff: not the first due any more.
    # (Which two: the oldest due, equally old here, taken round the index's shards.)
    failed = [store.get(call.removeprefix("query ")) for call in down.calls]
    assert all(order is not None and order.checks == 1 for order in failed)


def test_the_item_limit_counts_checks_and_provider_errors(
    store: OrdersStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(6):
        open_order(store, f"lim-{index}", ANY_PROVIDER)
    pages: list[int] = []
    read = store.due_items

    def counted(*args: Any) -> Any:
        pages.append(1)
        return read(*args)

    monkeypatch.setattr(store, "due_items", counted)
    provider = ScriptedProvider(ANY_PROVIDER)
    report = flow(store, Directory(provider), CREATED + timedelta(minutes=5)).run(4, lambda: 100.0, 1.0)
    assert (report.checked, len(provider.calls), report.stopped_early) == (4, 4, False)
    assert len(pages) == 1  # the limit reached: no page read beyond it


# -- time -----------------------------------------------------------------------------------------
def test_a_run_stops_early_while_one_more_item_could_overrun_it(store: OrdersStore) -> None:
    for index in range(5):
        open_order(store, f"t-{index}", ANY_PROVIDER)
    provider = ScriptedProvider(ANY_PROVIDER)
    left = iter([200.0, 150.0, 100.0, 50.0, 10.0])  # the context's time left before each item
    report = flow(store, Directory(provider), CREATED + timedelta(minutes=5)).run(
        10, lambda: next(left), reconcile.ITEM_WORST_CASE_S
    )
    assert report.stopped_early
    checked_before_stop = len([t for t in (200.0, 150.0, 100.0, 50.0) if t >= reconcile.ITEM_WORST_CASE_S])
    assert report.checked == len(provider.calls) == checked_before_stop


def test_the_reserve_covers_one_item_making_two_provider_calls_that_time_out() -> None:
    from payments import http

    one_call = http.worst_call_s()
    assert one_call >= http.CONNECT_TIMEOUT_S + http.READ_TIMEOUT_S
    assert reconcile.PROVIDER_CALLS_PER_ITEM * one_call <= reconcile.ITEM_WORST_CASE_S
    assert reconcile.PROVIDER_CALLS_PER_ITEM == 2  # query + payCancel, or resolve + resend
