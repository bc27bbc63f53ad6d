"""3d. Two reconciliation runs at once (EventBridge Scheduler starts a run while the last one is still
at work): each due item is checked by one of them, once. Each run has its own service, store and
boto3 client, as two Lambda instances would, over real HTTP to a moto server on loopback (the `aws`
fixture of tests/reliability/test_races.py: each DynamoDB request atomic, as DynamoDB's own are);
only the items' conditional claims keep the runs apart."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import responses

from local.testing import Template, kits
from payments.clock import utc_now
from payments.flows.reconcile import RunReport
from payments.orders import OrderStatus
from payments.service import PaymentsService
from payments.store.orders import OrdersStore
from payments.store.table import Table
from tests.reliability.harness import Harness
from tests.reliability.report import FIGURES
from tests.reliability.test_races import AwsOnLoopback, FixedSecret, aws, sandbox_for
from tests.support.link import ProviderLink
from tests.support.secrets import PROVIDER_SECRET
from tests.support.store import history

__all__ = ["aws"]  # the fixture, used by name below

ORDERS = 12
RUNS = 2
STATUS_QUERIES = {"get", "query"}  # what each sandbox calls a status request (its call log)


@pytest.mark.parametrize("provider", list(kits()))
def test_two_runs_at_once_check_each_due_item_once(
    aws: AwsOnLoopback, wire: responses.RequestsMock, link: ProviderLink, provider: str
) -> None:
    refs = Template().provision(
        aws.client("dynamodb"), aws.client("secretsmanager"), prefix=f"overlap-{provider}", secret_values={}
    )
    sandbox = sandbox_for(provider, wire, link)
    directory = FixedSecret(PROVIDER_SECRET)
    directory.get(provider)
    services = [
        PaymentsService(OrdersStore(Table(refs["OrdersTable"], client=aws.client("dynamodb"))), directory)
        for _ in range(RUNS)
    ]
    harness = Harness(provider, sandbox, services[0], api=None)  # type: ignore[arg-type]
    order_ids = [f"overlap-{provider}-{index}" for index in range(ORDERS)]
    for order_id in order_ids:
        assert getattr(harness.create(order_id), "status", None) == OrderStatus.PENDING
        sandbox.pay_silently(order_id)  # paid at the provider, never notified
    later = utc_now() + timedelta(minutes=3)  # past every item's first check
    for service in services:
        service.clock = lambda: later

    barrier = threading.Barrier(RUNS)
    reports: list[RunReport | None] = [None] * RUNS

    def run(index: int) -> None:
        barrier.wait()
        reports[index] = services[index].reconciliation.run(100, lambda: 300.0)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert all(report is not None for report in reports), "a run crashed"
    checked = sum(report.checked for report in reports if report)
    queries = {
        order_id: sum(1 for call in sandbox.calls_for(order_id) if call.operation in STATUS_QUERIES)
        for order_id in order_ids
    }
    paid_twice = 0
    for order_id in order_ids:
        order, events = history(services[0].store, order_id)
        assert order is not None, order_id
        assert order.status == OrderStatus.PAID, order_id
        paid_twice += sum(1 for e in events if e.to_status == OrderStatus.PAID) - 1
    FIGURES.add("overlap.runs", RUNS)
    FIGURES.add("overlap.items", ORDERS)
    FIGURES.add("overlap.items_checked_twice", sum(1 for count in queries.values() if count > 1))
    FIGURES.add("overlap.transitions_applied_twice", paid_twice)
    assert checked == ORDERS, [report.as_dict() for report in reports if report]
    assert set(queries.values()) == {1}, queries  # one status request per item, whichever run made it
    assert paid_twice == 0
