"""Merchant events end to end in-process: committed changes -> the table's stream -> the publish
function -> EventBridge, the catch-up store and the FIFO webhook queue -> the webhook function -> a
merchant's receiver, which checks every signature with the standard library."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import responses

from tests.conftest import Stack
from tests.support.event_pipeline import Pipeline, Receiver, with_webhooks
from tests.support.lambdas import Api
from tests.support.shop_kit import Shop


def webhook_secret(stack: Stack) -> str:
    arn = stack.refs["WebhookSigningSecret"]
    return str(boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])


def signed_by(secret: str, received: Any, tolerance_s: int = 300) -> bool:
    parts = dict(item.split("=", 1) for item in received.signature.split(","))
    if abs(time.time() - int(parts["t"])) > tolerance_s:
        return False
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + received.body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts["v1"])


@pytest.fixture
def receiver(api: Api, monkeypatch: pytest.MonkeyPatch, wire: responses.RequestsMock) -> Iterator[Receiver]:
    started = Receiver().start()
    wire.add_passthru(started.url)  # the merchant's endpoint is real HTTP on loopback
    monkeypatch.setattr("payments.webhooks.SCALE", 0)  # retry at once: the test does not wait 30 s
    yield started
    started.stop()


@pytest.fixture
def pipeline(api: Api, stack: Stack, receiver: Receiver) -> Pipeline:
    return with_webhooks(api, stack.table_name, stack.refs["WebhookQueue"], receiver)


def test_every_change_reaches_the_merchant_once_signed_and_in_order(
    shop: Shop, pipeline: Pipeline, receiver: Receiver, stack: Stack
) -> None:
    shop.paid("ev-1")
    assert shop.refund("ev-1", "r-1", amount={"value": 400, "currency": "EUR"}).status == 201
    shop.deliver()
    pipeline.drain()
    events = [r.event for r in receiver.received]
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["order.pending", "order.paid"]
    assert "order.partially_refunded" in kinds
    assert "refund.succeeded" in kinds
    assert len({e["id"] for e in events}) == len(events)  # once each
    sequences = [e["sequence"] for e in events]
    assert sequences == sorted(set(sequences))  # one order's events in sequence, each its own number
    secret = webhook_secret(stack)
    assert all(signed_by(secret, r) for r in receiver.received)
    assert events[1]["data"]["order"]["status"] == "paid"  # the order as that change left it
    assert events[1]["data"]["previous_status"] == "pending"


def test_a_receiver_that_fails_at_first_gets_everything_in_order_once_it_recovers(
    shop: Shop, pipeline: Pipeline, receiver: Receiver
) -> None:
    receiver.fail_first = 3
    shop.paid("ev-2")
    pipeline.drain()
    assert receiver.answered[:3] == [500, 500, 500]
    kinds = [r.event["type"] for r in receiver.received]
    assert kinds == ["order.pending", "order.paid"]


class Hours:
    """A clock for the webhook function that moves on `step` hours each time it is read."""

    def __init__(self, step: float) -> None:
        self.now = datetime.now(UTC)
        self.step = timedelta(hours=step)

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


def dead_lettered(stack: Stack) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=stack.refs["WebhookDeadLetterQueue"], MaxNumberOfMessages=10).get(
        "Messages", []
    )
    return [json.loads(message["Body"]) for message in messages]


def test_events_held_behind_a_failing_one_are_attempted_before_the_dead_letter_queue(
    shop: Shop, pipeline: Pipeline, receiver: Receiver, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The endpoint never answers: each event is tried for 24 hours of its own, the earlier one first,
    then goes to the dead-letter queue, in order; none goes there untried (held back behind another)."""
    receiver.fail_first = 10_000
    monkeypatch.setattr("payments.webhooks.utc_now", Hours(2), raising=False)
    shop.paid("ev-dlq")
    pipeline.drain(rounds=400)
    pending, paid = (e["id"] for e in dead_lettered(stack))
    assert receiver.attempted.count(pending) >= 12  # every 2 h, from 30 s backoff on: 24 h of tries
    assert receiver.attempted.count(paid) >= 12
    last_pending = len(receiver.attempted) - 1 - receiver.attempted[::-1].index(pending)
    assert receiver.attempted.index(paid) > last_pending  # never before the earlier one was settled
    assert not pipeline.queue_waiting()


def test_a_refused_notification_and_a_duplicate_publish_nothing(
    shop: Shop, pipeline: Pipeline, receiver: Receiver
) -> None:
    shop.create("ev-3")
    pipeline.drain()
    before = len(receiver.received)
    shop.sandbox.pay("ev-3")
    notes = shop.sandbox.take_notifications()
    for note in notes * 3:  # delivered three times: one change
        shop.api.request(note.method, note.url, body=note.body, headers=note.headers, api_key=None)
    forged = notes[0]
    shop.api.request(forged.method, forged.url, body=forged.body + b" ", headers=forged.headers, api_key=None)
    pipeline.drain()
    assert [r.event["type"] for r in receiver.received[before:]] == ["order.paid"]


def test_catching_up_and_redelivering(
    shop: Shop, pipeline: Pipeline, receiver: Receiver, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("payments.event_queries.SETTLE_S", 0)  # list what was just stored
    shop.paid("ev-4")
    pipeline.drain()
    page = api.request("GET", "/events?limit=1").json()
    assert len(page["events"]) == 1
    first = page["events"][0]
    rest = api.request("GET", f"/events?after={page['next_after']}&limit=100").json()["events"]
    listed = [first, *rest]
    assert [e["sequence"] for e in listed] == sorted(e["sequence"] for e in listed)  # oldest first
    assert {e["id"] for e in listed} == {r.event["id"] for r in receiver.received}
    again = api.request("POST", f"/events/{first['id']}/redeliver")
    assert again.status == 202, again.body
    pipeline.drain()
    assert [r.event["id"] for r in receiver.received].count(first["id"]) == 2  # a retry of the same id
    unknown = api.request("GET", "/events?after=evt_20260101T000000000000Z_0000000000000000")
    assert (unknown.status, unknown.json()["error"]["field"]) == (422, "after")
    bad = api.request("GET", "/events?limit=0")
    assert (bad.status, bad.json()["error"]["field"]) == (422, "limit")
    missing = api.request("POST", "/events/evt_20260101T000000000000Z_0000000000000000/redeliver")
    assert (missing.status, missing.json()["error"]["code"]) == (404, "event_not_found")
    assert json.loads(api.request("GET", "/events", api_key=None).body)["message"] == "Forbidden"
