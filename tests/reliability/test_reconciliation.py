"""9. Reconciliation: 105 orders across every provider whose notifications were lost (or never
sent), some created while the provider timed out, some refunded with the refund's result lost — and
provider faults injected between runs. After enough scheduled runs every order is in the provider's
state, with no transition applied twice and no table scan (every DynamoDB call is counted)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.client import BaseClient

from local.testing import kit_of
from payments.providers.capabilities import RefundReporting
from payments.store.wire import DynamoDBWire
from tests.reliability.kits import reliability_kit
from tests.reliability.report import FIGURES
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.orders import order_body
from tests.support.store import history

# fate -> the status the order must end in (from the providers' notes, not our code); a provider
# whose rules end it otherwise says so (its reliability kit's `reconciled_otherwise`)
FATES: dict[str, str] = {
    "paid, notification lost": "paid",
    "never paid": "expired",
    "cancelled by the payer, notification lost": "cancelled",
    "create timed out, then paid": "paid",
    "create never reached the provider": "expired",
    "refunded, result lost": "partially_refunded",
    "paid, notified": "paid",
}


def expected_status(fate: str, provider: str) -> str:
    return reliability_kit(provider).reconciled_otherwise.get(fate, FATES[fate])


ORDERS_PER_FATE_AND_PROVIDER = 5  # 7 fates x 3 providers x 5 = 105 orders
# Each run's clock: soon after, then spreading out like the backoff; past every expiry by the end.
RUN_OFFSETS = [timedelta(minutes=3), timedelta(minutes=12), timedelta(minutes=40), timedelta(hours=3)]
RUN_OFFSETS += [timedelta(hours=7), timedelta(days=1, hours=1), timedelta(days=2, hours=1)]
CLEAN_RUN = timedelta(days=3, hours=1)  # the outage is over: no fault injected before this last run
FAULTS_BEFORE_EACH_RUN = ["http_500", "reset", "garbage"]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    counted: Counter[str] = Counter()
    make_call = BaseClient._make_api_call  # type: ignore[attr-defined]  # botocore's internals: no stub

    def counting(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "dynamodb":
            counted[operation] += 1
        return make_call(self, operation, params)

    send = DynamoDBWire.send  # the table's calls: no botocore API call (payments/store/wire.py)

    def counting_sent(self: DynamoDBWire, operation: str, params: dict[str, Any]) -> Any:
        counted[operation] += 1
        return send(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counting)
    monkeypatch.setattr(DynamoDBWire, "send", counting_sent)
    return counted


def deliver(api: Api, sandbox: Any) -> None:
    for note in sandbox.take_notifications():
        api.request(note.method, note.url, body=note.body, headers=note.headers, api_key=None)


def prepare(
    api: Api, sandboxes: dict[str, Any], link: ProviderLink, fate: str, provider: str, order_id: str
) -> None:
    sandbox = sandboxes[provider]
    body = order_body(order_id, provider=provider, expires_in_seconds=600)
    if fate == "create timed out, then paid":
        link.inject("read_timeout_after_processing")
        assert api.request("POST", "/orders", body=body).status == 504
        sandbox.pay_silently(order_id)
        return
    if fate == "create never reached the provider":
        link.inject("connect_timeout")
        assert api.request("POST", "/orders", body=body).status == 504
        return
    assert api.request("POST", "/orders", body=body).status == 201
    if fate == "paid, notification lost":
        sandbox.pay_silently(order_id)
    elif fate == "cancelled by the payer, notification lost":
        sandbox.drop_next_notification(order_id)
        sandbox.cancel(order_id)
    elif fate == "paid, notified":
        sandbox.pay(order_id)
    elif fate == "refunded, result lost":
        sandbox.pay(order_id)
        deliver(api, sandbox)
        sandbox.drop_next_notification(order_id)
        # A provider that answers refunds at once answers "unknown" while it holds them: the outcome
        # stays unknown until asked again. The others' results come by notification: dropped above.
        unknown = kit_of(provider).capabilities.refunds_reported is RefundReporting.WHEN_ASKED
        if unknown:
            sandbox.hold_refunds(order_id)
        refund = {"refund_id": "r-1", "amount": {"value": 300, "currency": "EUR"}}
        assert api.request("POST", f"/orders/{order_id}/refunds", body=refund).status in (201, 502)
        if unknown:
            sandbox.release_refunds(order_id)
    deliver(api, sandbox)


@pytest.mark.long_running
def test_after_enough_runs_every_order_is_in_the_providers_state(
    api: Api, all_providers: dict[str, Any], link: ProviderLink, calls: Counter[str], stack: Any
) -> None:
    orders: dict[str, tuple[str, str]] = {}
    counter = itertools.count()
    for fate in FATES:
        for provider in all_providers:
            for _ in range(ORDERS_PER_FATE_AND_PROVIDER):
                order_id = f"rec-{next(counter)}"
                prepare(api, all_providers, link, fate, provider, order_id)
                orders[order_id] = (fate, provider)
    assert len(orders) >= 100
    reconcile = api.functions["ReconcileFunction"]
    before = Counter(calls)
    started = datetime.now(UTC)
    runs = checked = provider_errors = 0
    for offset in [*RUN_OFFSETS, CLEAN_RUN]:
        if offset != CLEAN_RUN:  # the faults hit the oldest due items of each provider, run after run
            link.inject(*FAULTS_BEFORE_EACH_RUN)
        reconcile.module.service.clock = lambda offset=offset: started + offset
        while True:  # runs at this time until one finds nothing due (at most 100 items each)
            report = reconcile.run({})
            runs += 1
            checked += report["checked"]
            provider_errors += sum(report["provider_errors"].values())
            for sandbox in all_providers.values():
                deliver(api, sandbox)
            if not (report["checked"] or report["skipped"] or report["provider_errors"]):
                break
    during = Counter(calls) - before

    wrong: list[str] = []
    doubled = 0
    for order_id, (fate, provider) in orders.items():
        order, events = history(stack.table_name, order_id)
        expected = expected_status(fate, provider)
        if str(order.status) != expected:
            wrong.append(f"{order_id} ({provider}, {fate}): {order.status}, expected {expected}")
        moves = [(e.from_status, e.to_status) for e in events if e.to_status is not None]
        doubled += len(moves) - len(set(moves))
        if fate == "refunded, result lost" and order.refunded_value != 300:
            wrong.append(f"{order_id} ({provider}): refunded {order.refunded_value}, expected 300")
    FIGURES.add("reconcile.orders", len(orders))
    FIGURES.add("reconcile.runs", runs)
    FIGURES.add("reconcile.items_checked", checked)
    FIGURES.add("reconcile.provider_errors", provider_errors)
    FIGURES.add("reconcile.wrong_state", len(wrong))
    FIGURES.add("reconcile.double_transitions", doubled)
    FIGURES.add("reconcile.table_scans", during["Scan"])
    FIGURES.add("reconcile.dynamodb_calls", sum(during.values()))
    assert provider_errors > 0  # the faults were met, and outlived
    assert not wrong, "\n".join(wrong)
    assert doubled == 0
    assert during["Scan"] == 0
