"""1. Forged notifications, >= 200 generated per provider (and per variant, such as a sign type).

Every one must be refused with a 4xx (in the provider's own refusal where it has one: a signed
envelope), leave the order
exactly as it was, and be recorded with its reason among the rejected attempts, which live apart
from every order's history (nothing of a forgery is ever written there). Most go to
the service directly; every 10th goes through the real notify handler (API Gateway event included).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer

from payments.clock import iso
from payments.flows.replay import RequestNoLongerKept
from payments.orders import OrderStatus
from payments.refusals import CODES
from payments.store.order_items import order_key
from tests.conftest import Stack
from tests.reliability.forgeries import forgeries_of
from tests.reliability.harness import BASE_URL, Delivery, Harness
from tests.reliability.kits import DEFAULT_VARIANTS, reliability_kit
from tests.reliability.report import FIGURES
from tests.support.store import event_items

HANDLER_EVERY = 10
_deserializer = TypeDeserializer()


def rejected_since(table: str, since: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Rejected attempts filed at or after `since`, wherever they were filed (a scan: a test may)."""
    client = boto3.client("dynamodb")
    found: dict[tuple[str, str], dict[str, Any]] = {}
    kwargs: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "begins_with(pk, :rejected) AND #at >= :since",
        "ProjectionExpression": "pk, sk, reason, verified, id, code",
        "ExpressionAttributeNames": {"#at": "at"},
        "ExpressionAttributeValues": {":rejected": {"S": "REJECTED#"}, ":since": {"S": since}},
    }
    while True:
        page = client.scan(**kwargs)
        for raw in page["Items"]:
            item = {key: _deserializer.deserialize(value) for key, value in raw.items()}
            found[(item["pk"], item["sk"])] = item
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def deliver(harness: Harness, delivery: Delivery, via_handler: bool) -> tuple[int, str]:
    if via_handler:
        reply = harness.deliver_via_handler(delivery)
        return reply.status, reply.body
    try:
        answer = harness.deliver(delivery)
    except Exception as crash:  # the handler would answer 500: counted as such, the run goes on
        return 500, f"raised {type(crash).__name__}"
    return answer.status, answer.body


def order_snapshot(table: str, order_id: str) -> dict[str, Any] | None:
    raw = boto3.client("dynamodb").get_item(TableName=table, Key=order_key(order_id), ConsistentRead=True)
    item = raw.get("Item")
    return {key: _deserializer.deserialize(value) for key, value in item.items()} if item else None


def test_forged_notifications_are_refused_recorded_and_change_nothing(harness: Harness, stack: Stack) -> None:
    order_id = f"forge-{harness.label}"
    created = harness.create(order_id)
    assert getattr(created, "status", None) == OrderStatus.PENDING, created
    genuine, _ = harness.notification(order_id, "paid")
    cases = forgeries_of(harness, order_id, genuine, random.Random(f"forgeries-{harness.label}"))
    assert len(cases) >= 200

    order_before = order_snapshot(stack.table_name, order_id)
    history_before = event_items(stack.table_name, order_id)
    started = iso(datetime.now(UTC))
    answered: list[str | None] = []
    applied = rejected = via = 0
    failures: list[str] = []
    for index, (kind, delivery) in enumerate(cases):
        # API Gateway routes only POST and GET here: other methods reach the service directly.
        via_handler = index % HANDLER_EVERY == 0 and delivery.method in ("POST", "GET")
        via += via_handler
        status, body = deliver(harness, delivery, via_handler)
        problems = []
        code = None
        if not 400 <= status < 500:
            problems.append(f"HTTP {status}: {body[:200]}")
        else:
            code, problem = reliability_kit(harness.provider).refusal(body)
            if problem:
                problems.append(problem)
        rejected += not problems
        answered.append(code)
        if order_snapshot(stack.table_name, order_id) != order_before:
            applied += 1
            order_before = order_snapshot(stack.table_name, order_id)  # report each change once
            problems.append("the order changed")
        if problems:
            failures.append(f"#{index} {kind}{' (handler)' if via_handler else ''}: {'; '.join(problems)}")

    # Deliveries are sequential, so the rejections, oldest first, line up with the cases.
    recorded_events = sorted(rejected_since(stack.table_name, started).values(), key=lambda e: e["sk"])
    recorded = sum(1 for event in recorded_events if event.get("reason"))
    if len(recorded_events) != len(cases):
        failures.append(f"{len(recorded_events)} rejections recorded for {len(cases)} forgeries")
    else:
        for index, (event, code) in enumerate(zip(recorded_events, answered, strict=True)):
            if not event.get("reason") or (code is not None and event["reason"] != code):
                failures.append(
                    f"#{index} {cases[index][0]}: recorded {event.get('reason')!r}, answered {code!r}"
                )
    # Each with a code; none applied by a replay (a replay runs the kept request through the gate again).
    coded = replayed_applied = 0
    for event in recorded_events:
        coded += event.get("code") in CODES
        try:
            verdict = harness.service.replay_notification(event["id"], BASE_URL)
        except RequestNoLongerKept:  # a body over 64 KB is not kept
            continue
        if verdict["result"] != "refused" or verdict["code"] not in CODES:
            replayed_applied += 1
            failures.append(f"{event['id']}: replayed as {verdict['result']} ({verdict['code']})")
    if order_snapshot(stack.table_name, order_id) != order_before:
        failures.append("a replay changed the order")
    if coded != len(recorded_events):
        failures.append(f"{len(recorded_events) - coded} refusals recorded without a code")
    history_after = event_items(stack.table_name, order_id)
    FIGURES.add(f"forged.{harness.provider}.coded", coded)
    FIGURES.add(f"forged.{harness.provider}.applied_by_replay", replayed_applied)
    FIGURES.add(f"forged.{harness.provider}.tried", len(cases))
    FIGURES.add(f"forged.{harness.provider}.rejected", rejected)
    FIGURES.add(f"forged.{harness.provider}.recorded", recorded)
    FIGURES.add(f"forged.{harness.provider}.applied", applied)
    FIGURES.add(f"forged.{harness.provider}.via_handler", via)
    FIGURES.add(f"forged.{harness.provider}.in_history", len(history_after) - len(history_before))
    assert not failures, f"{len(failures)} of {len(cases)} forgeries not handled:\n" + "\n".join(
        failures[:40]
    )
    assert history_after == history_before


@pytest.mark.parametrize("harness", DEFAULT_VARIANTS, indirect=True)
def test_the_genuine_notification_the_forgeries_start_from_is_applied(harness: Harness) -> None:
    """Guards the suite against rejecting everything for the wrong reason (e.g. a broken order)."""
    order_id = f"genuine-{harness.label}"
    harness.create(order_id)
    genuine, outcome = harness.notification(order_id, "paid")
    status, _ = deliver(harness, genuine, via_handler=False)
    assert status == 200
    order = harness.order(order_id)
    assert order is not None
    assert order.status == outcome.target == OrderStatus.PAID
