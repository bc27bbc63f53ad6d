"""5. DynamoDB faults through the real handlers: throttling, 500s and TransactionConflict are retried with
backoff; when the retries run out the caller gets 503 store_unavailable and the table holds nothing
half-written; once DynamoDB is back the same request succeeds.

Faults are injected into moto's DynamoDB backend, so they reach botocore as DynamoDB's own error
replies and go through the production client's retry configuration (RETRY_CONFIG) unchanged.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.exceptions import TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend

from local.testing import Reply, kit_of
from payments.clock import utc_now
from payments.orders import OrderStatus
from payments.store.table import CONFLICT_ATTEMPTS, RETRY_CONFIG
from tests.conftest import Stack
from tests.reliability.harness import Harness
from tests.reliability.kits import DEFAULT_VARIANTS, default_variant, reliability_kit, reliability_kits
from tests.reliability.report import FIGURES
from tests.support.store import items

BOTOCORE_ATTEMPTS = vars(RETRY_CONFIG)["retries"]["total_max_attempts"]  # botocore-stubs omit `retries`


class InternalServerError(JsonRESTError):
    code = 500


def fault(kind: str, operations: int) -> Exception:
    if kind == "conflict":
        return TransactionCanceledException(
            [("TransactionConflict", "Transaction is ongoing for the item", None)]
            + [(None, None, None)] * (operations - 1)
        )
    if kind == "internal":
        return InternalServerError("InternalServerError", "Internal server error")
    code = {"throttled": "ProvisionedThroughputExceededException", "throttling": "ThrottlingException"}[kind]
    return JsonRESTError(
        f"com.amazonaws.dynamodb.v20120810#{code}", "Rate of requests exceeds the allowed throughput"
    )


class DynamoFaults:
    """Scripted failures of moto's DynamoDB, consumed one per call of the named operation."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.script: dict[str, list[tuple[str, bool]]] = {}  # operation -> [(kind, skip)]
        self.calls: Counter[str] = Counter()
        for operation in ("transact_write_items", "query"):
            monkeypatch.setattr(
                DynamoDBBackend, operation, self._wrap(operation, getattr(DynamoDBBackend, operation))
            )

    def inject(self, operation: str, kind: str, times: int, *, after: int = 0) -> None:
        self.script[operation] = [("pass", True)] * after + [(kind, False)] * times

    def clear(self) -> None:
        self.script.clear()

    def _wrap(self, operation: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def call(backend: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
            self.calls[operation] += 1
            queue = self.script.get(operation)
            if queue:
                kind, skip = queue.pop(0)
                if not skip:
                    raise fault(kind, len(args[0]) if args and isinstance(args[0], list) else 1)
            return original(backend, *args, **kwargs)

        return call


@pytest.fixture
def dynamo(monkeypatch: pytest.MonkeyPatch) -> DynamoFaults:
    return DynamoFaults(monkeypatch)


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff sleeps (botocore's and the store's), recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    return slept


def error_code(reply: Reply) -> str | None:
    try:
        code: str = reply.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code


def act(harness: Harness, step: str, order_id: str) -> Reply:
    if step == "create":
        return harness.api.request("POST", "/orders", body=harness.body(order_id))
    if step == "refund":
        delivery, _ = harness.notification(order_id, "refund:rf-1:1000")
    else:
        delivery, _ = harness.notification(order_id, "paid")
    return harness.deliver_via_handler(delivery)


def prepare(harness: Harness, step: str, order_id: str) -> None:
    if step == "create":
        return
    harness.create(order_id)
    if step == "refund":
        harness.deliver(harness.notification(order_id, "paid")[0])


# (what the caller does, the DynamoDB operation that fails) -> the faults tried. Each row is carried by
# one provider (in its first variant), the one whose reliability kit lists it in `store_faults`.
KINDS = {
    ("create", "transact_write_items"): ("throttled", "throttling", "internal", "conflict"),
    ("paid notification", "transact_write_items"): ("throttled", "throttling", "internal", "conflict"),
    ("paid notification", "query"): ("throttled", "internal"),
    ("refund", "transact_write_items"): ("throttled", "conflict"),
}
CARRIERS = {
    row: default_variant(name) for name, kit in reliability_kits().items() for row in kit.store_faults
}
# (what the caller does, the DynamoDB operation that fails, the fault, the provider)
CASES = [
    (step, operation, kind, CARRIERS[step, operation])
    for (step, operation), kinds in KINDS.items()
    for kind in kinds
]


@pytest.mark.parametrize(("step", "operation", "kind", "harness"), CASES, indirect=["harness"])
def test_store_faults_are_retried_then_503_and_nothing_half_written(
    harness: Harness,
    stack: Stack,
    dynamo: DynamoFaults,
    delays: list[float],
    step: str,
    operation: str,
    kind: str,
) -> None:
    for lasting in ("transient", "exhausted"):
        delays.clear()
        store_fault(harness, stack, dynamo, delays, step, operation, kind, lasting)


def store_fault(
    harness: Harness,
    stack: Stack,
    dynamo: DynamoFaults,
    delays: list[float],
    step: str,
    operation: str,
    kind: str,
    lasting: str,
) -> None:
    order_id = f"sf-{step.split()[0]}-{operation[:5]}-{kind}-{lasting}"
    prepare(harness, step, order_id)
    before = items(stack.table_name, order_id)
    attempts = CONFLICT_ATTEMPTS if kind == "conflict" else BOTOCORE_ATTEMPTS
    failures = 2 if lasting == "transient" else attempts
    dynamo.inject(operation, kind, failures)
    calls_before = dynamo.calls[operation]

    reply = act(harness, step, order_id)
    tried = dynamo.calls[operation] - calls_before
    FIGURES.add("store_faults.cases")
    FIGURES.add("store_faults.retries", tried - 1)
    if lasting == "transient":
        assert reply.status in (200, 201), reply.body
        assert tried >= 3  # two failures, then the attempt that went through
        assert len(delays) >= 2
        return

    assert reply.status == 503, reply.body
    if step != "create":  # the provider's own "retry later" (where it has one, a signed envelope)
        assert reliability_kit(harness.provider).asks_for_redelivery(reply.body), reply.body
    else:
        assert error_code(reply) == "store_unavailable", reply.body
    FIGURES.add("store_faults.unavailable")
    assert tried == attempts, "every retry was used, no more"
    assert len(delays) == attempts - 1, "a backoff between attempts"
    after = items(stack.table_name, order_id)
    FIGURES.add("store_faults.half_written", int(after != before))
    assert after == before  # nothing half-written: no order without its event, no event without its change

    # DynamoDB is back: the same request (the provider's redelivery, the merchant's retry) succeeds.
    dynamo.clear()
    again = act(harness, step, order_id)
    assert again.status in (200, 201), again.body
    order = harness.order(order_id)
    assert order is not None
    assert order.status == {"create": OrderStatus.PENDING, "refund": OrderStatus.REFUNDED}.get(
        step, OrderStatus.PAID
    )
    if step == "refund":
        reported = [e for e in items(stack.table_name, order_id) if e.get("type") == "refund_succeeded"]
        assert len(reported) == 1
        assert order.refunded_value == 1000


@pytest.mark.parametrize("harness", DEFAULT_VARIANTS, indirect=True)
def test_create_interrupted_after_the_provider_accepted_is_resumed_not_repeated(
    harness: Harness, stack: Stack, dynamo: DynamoFaults, delays: list[float]
) -> None:
    """The provider made the order, then DynamoDB refused to record it: 503, the order stays `created`
    with its one event, and a retry asks the provider instead of creating a second payment."""
    order_id = f"sf-interrupted-{harness.label}"
    dynamo.inject("transact_write_items", "throttled", BOTOCORE_ATTEMPTS, after=1)  # the create went in
    reply = harness.api.request("POST", "/orders", body=harness.body(order_id))
    assert (reply.status, error_code(reply)) == (503, "store_unavailable")
    stored = items(stack.table_name, order_id)
    assert [item.get("status") for item in stored if item["sk"] == "ORDER"] == ["created"]
    assert [item["type"] for item in stored if item["sk"].startswith("EVENT#")] == ["order_created"]
    assert harness.provider_has(order_id)
    FIGURES.add("store_faults.cases")
    FIGURES.add("store_faults.unavailable")
    FIGURES.add("store_faults.half_written", 0)

    dynamo.clear()
    retry = harness.api.request("POST", "/orders", body=harness.body(order_id))
    assert (retry.status, error_code(retry)) == (409, "request_in_progress")  # it may still be running
    create = harness.api.functions["CreateOrderFunction"].module.service
    create.clock = lambda: utc_now() + timedelta(seconds=61)  # the first request's lease ran out
    retry = harness.api.request("POST", "/orders", body=harness.body(order_id))
    order = harness.order(order_id)
    assert order is not None
    assert order.status == OrderStatus.PENDING
    if kit_of(harness.provider).capabilities.query_gives_payment_link:
        assert retry.status == 200, retry.body
    else:  # the merchant is told, not left with nothing to pay with
        assert (retry.status, error_code(retry)) == (409, "payment_action_unavailable"), retry.body
    assert harness.provider_creates(order_id) == 1
