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
import jsonschema
import pytest
import responses

from docs.openapi import DOC_PATH
from local.testing import environment
from payments.errors import StoreUnavailable
from tests.conftest import Stack
from tests.support.event_pipeline import Pipeline, Receiver, with_webhooks
from tests.support.lambdas import Api
from tests.support.providers import ANY_PROVIDER
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
    monkeypatch.setattr("payments.outbox.webhooks.SCALE", 0)  # retry at once: the test does not wait 30 s
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


class FailingOnce:
    """The EventBridge client, but the first entry of type `refused` it is given is not taken (the
    call's other entries are: a partial failure, as PutEvents answers it)."""

    def __init__(self, real: Any, refused: str) -> None:
        self.real, self.refused, self.refusing = real, refused, True

    def put_events(self, **request: Any) -> dict[str, Any]:
        results: list[dict[str, Any]] = []
        for entry in request["Entries"]:
            if self.refusing and entry["DetailType"] == self.refused:
                self.refusing = False
                results.append({"ErrorCode": "InternalFailure", "ErrorMessage": "try again"})
            else:
                results.append(self.real.put_events(Entries=[entry])["Entries"][0])
        return {"FailedEntryCount": sum("ErrorCode" in result for result in results), "Entries": results}


def test_a_failed_publish_is_reported_for_its_record_and_retried_from_it(
    shop: Shop, pipeline: Pipeline, receiver: Receiver, api: Api
) -> None:
    publisher = api.functions["PublishEventsFunction"].module.publisher
    publisher.events_client = FailingOnce(publisher.events_client, refused="order.paid")
    answers: list[dict[str, Any]] = []
    invoke = pipeline.stream.invoke

    def recorded(event: dict[str, Any]) -> Any:
        answer = invoke(event)
        answers.append({"records": [r["dynamodb"]["SequenceNumber"] for r in event["Records"]], **answer})
        return answer

    pipeline.stream.invoke = recorded
    shop.paid("ev-retry")  # three stream records: created (no merchant event), pending, paid
    pipeline.drain()
    first = answers[0]
    assert len(first["records"]) == 3  # one batch, one PutEvents: its last record's entry was refused
    assert first["batchItemFailures"] == [{"itemIdentifier": first["records"][2]}]
    assert answers[1]["records"] == first["records"][2:]  # given again from the failed record on
    assert answers[1]["batchItemFailures"] == []
    kinds = [r.event["type"] for r in receiver.received]
    assert kinds == ["order.pending", "order.paid"]  # each once, in order, despite the retry


def test_what_lands_on_the_event_bus(shop: Shop, pipeline: Pipeline, stack: Stack) -> None:
    """A merchant's rule on the bus (here: to an SQS queue) gets each event: `source` the service,
    `detail-type` the event type, `detail` the event itself."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="merchant-rule-target")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    bus = stack.refs["MerchantEventBus"]
    pattern = {"source": ["alipay-payments"], "detail-type": [{"prefix": "order."}]}
    events.put_rule(Name="to-queue", EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule="to-queue", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])
    shop.paid("ev-bus")
    pipeline.drain()
    landed = [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    ]
    assert [(e["source"], e["detail-type"]) for e in landed] == [
        ("alipay-payments", "order.pending"),
        ("alipay-payments", "order.paid"),
    ]
    assert [e["detail"]["type"] for e in landed] == ["order.pending", "order.paid"]
    assert landed[1]["detail"]["data"]["order"]["status"] == "paid"


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
    monkeypatch.setattr("payments.outbox.webhooks.utc_now", Hours(2), raising=False)
    shop.paid("ev-dlq")
    pipeline.drain(rounds=400)
    pending, paid = (e["id"] for e in dead_lettered(stack))
    assert receiver.attempted.count(pending) >= 12  # every 2 h, from 30 s backoff on: 24 h of tries
    assert receiver.attempted.count(paid) >= 12
    last_pending = len(receiver.attempted) - 1 - receiver.attempted[::-1].index(pending)
    assert receiver.attempted.index(paid) > last_pending  # never before the earlier one was settled
    assert not pipeline.queue_waiting()


def test_a_failure_that_cannot_be_counted_waits_out_the_queue_visibility_timeout(
    shop: Shop, pipeline: Pipeline, receiver: Receiver, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table is down when a delivery fails: the message is not offered again at once (a hot loop
    against a failing endpoint), but after the queue's visibility timeout, as for any failure."""
    receiver.fail_first = 10_000
    function = api.functions["DeliverWebhooksFunction"]

    def down(message_id: str, now: datetime) -> tuple[int, datetime]:
        raise StoreUnavailable("the order store is unavailable; retry later")

    with environment(function.env, function.drop):
        monkeypatch.setattr(function.module.failures().tries, "record_failure", down)
    shop.create("ev-down")
    pipeline.drain(rounds=5)
    assert len(receiver.attempted) == 1


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
    monkeypatch.setattr("payments.outbox.event_queries.SETTLE_S", 0)  # list what was just stored
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
    assert json.loads(api.request("GET", "/events", api_key=None).body)["error"]["code"] == "invalid_api_key"


# -- where each event's webhook delivery stands: GET /orders/{order_id}/events -----------------------
ORDER_EVENTS_SHAPE = jsonschema.Draft202012Validator(
    {"$ref": "#/components/schemas/OrderEvents", "components": json.loads(DOC_PATH.read_text())["components"]}
)


def order_events(api: Api, order_id: str) -> list[dict[str, Any]]:
    reply = api.request("GET", f"/orders/{order_id}/events")
    assert reply.status == 200, reply.body
    ORDER_EVENTS_SHAPE.validate(reply.json())  # as docs/openapi.json says
    return reply.json()["events"]  # type: ignore[no-any-return]


def deliveries(api: Api, order_id: str) -> dict[str, dict[str, Any]]:
    return {event["type"]: event["delivery"] for event in order_events(api, order_id)}


@pytest.mark.parametrize("shop", [ANY_PROVIDER], indirect=True)
def test_an_orders_events_show_pending_then_delivered_as_published(
    shop: Shop, pipeline: Pipeline, receiver: Receiver, api: Api
) -> None:
    shop.paid("ds-1")
    before = order_events(api, "ds-1")
    assert [(e["type"], e["delivery"]["status"]) for e in before] == [
        ("order.pending", "pending"),
        ("order.paid", "pending"),
    ]
    pipeline.drain()
    listed = order_events(api, "ds-1")
    # The very events the publisher sent, in sequence, computed from the history as it computes them.
    assert [e["id"] for e in listed] == [r.event["id"] for r in receiver.received]
    assert [e["sequence"] for e in listed] == sorted(e["sequence"] for e in listed)
    assert {k: v for k, v in listed[1].items() if k != "delivery"} == receiver.received[1].event
    paid = listed[1]["delivery"]
    assert (paid["status"], paid["attempts"], paid["last_error"], paid["next_try_at"]) == (
        "delivered",
        1,
        None,
        None,
    )
    assert paid["delivered_at"] == paid["last_attempt_at"]


@pytest.mark.parametrize("shop", [ANY_PROVIDER], indirect=True)
def test_a_failed_delivery_shows_retrying_then_delivered_once_the_receiver_recovers(
    shop: Shop, pipeline: Pipeline, receiver: Receiver, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver.fail_first = 1_000
    monkeypatch.setattr("payments.outbox.webhooks.SCALE", 1)  # a real backoff: the retry waits
    shop.create("ds-2")
    pipeline.drain(rounds=3)
    pending = deliveries(api, "ds-2")["order.pending"]
    assert (pending["status"], pending["attempts"], pending["last_error"]) == ("retrying", 1, "HTTP 500")
    assert pending["next_try_at"] > pending["last_attempt_at"]  # 30 s later
    assert pending["delivered_at"] is None

    receiver.fail_first = 0
    monkeypatch.setattr("payments.outbox.webhooks.SCALE", 0)
    pipeline.queue.sqs.purge_queue(QueueUrl=pipeline.queue.queue_url)  # its 30 s are not waited out here
    event_id = order_events(api, "ds-2")[0]["id"]
    assert api.request("POST", f"/events/{event_id}/redeliver").status == 202
    pipeline.drain()
    pending = deliveries(api, "ds-2")["order.pending"]
    assert (pending["status"], pending["attempts"], pending["last_error"]) == ("delivered", 2, None)
    assert (pending["next_try_at"], pending["delivered_at"]) == (None, pending["last_attempt_at"])


@pytest.mark.parametrize("shop", [ANY_PROVIDER], indirect=True)
def test_a_dead_lettered_delivery_shows_dead_lettered_and_a_redelivery_that_succeeds_delivered(
    shop: Shop, pipeline: Pipeline, receiver: Receiver, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver.fail_first = 10_000
    monkeypatch.setattr("payments.outbox.webhooks.utc_now", Hours(2), raising=False)
    shop.create("ds-3")
    pipeline.drain(rounds=400)
    pending = deliveries(api, "ds-3")["order.pending"]
    assert (pending["status"], pending["last_error"], pending["next_try_at"]) == (
        "dead_lettered",
        "HTTP 500",
        None,
    )
    assert pending["attempts"] == receiver.attempted.count(order_events(api, "ds-3")[0]["id"]) >= 12

    receiver.fail_first = 0
    event_id = order_events(api, "ds-3")[0]["id"]
    assert api.request("POST", f"/events/{event_id}/redeliver").status == 202
    pipeline.drain()
    again = deliveries(api, "ds-3")["order.pending"]
    assert (again["status"], again["attempts"], again["last_error"]) == (
        "delivered",
        pending["attempts"] + 1,
        None,
    )


@pytest.mark.parametrize("shop", [ANY_PROVIDER], indirect=True)
def test_a_status_that_cannot_be_recorded_neither_fails_nor_repeats_the_delivery(
    shop: Shop, pipeline: Pipeline, receiver: Receiver, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*_: Any, **__: Any) -> None:
        raise StoreUnavailable("the order store is unavailable; retry later")

    monkeypatch.setattr("payments.store.webhook_deliveries.WebhookDeliveries.record", down)
    shop.paid("ds-4")
    pipeline.drain()
    assert [r.event["type"] for r in receiver.received] == ["order.pending", "order.paid"]  # once each
    assert len(receiver.attempted) == 2
    assert {d["status"] for d in deliveries(api, "ds-4").values()} == {"pending"}


def test_an_unknown_order_has_no_events(api: Api) -> None:
    for order_id in ("no-such-order", "not%20an%20id"):
        reply = api.request("GET", f"/orders/{order_id}/events")
        assert (reply.status, reply.json()["error"]["code"]) == (404, "order_not_found")
    assert api.request("GET", "/orders/x/events", api_key=None).status == 403


@pytest.mark.parametrize("shop", [ANY_PROVIDER], indirect=True)
def test_an_orders_events_are_its_newest_read_in_one_query_and_one_batch(
    shop: Shop, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop.paid("ds-5")
    every = [event["id"] for event in order_events(api, "ds-5")]
    assert len(every) == 2
    monkeypatch.setattr("payments.outbox.order_events.MAX_EVENTS", 1)
    page = api.request("GET", "/orders/ds-5/events").json()
    assert ([e["id"] for e in page["events"]], page["older_omitted"]) == (every[-1:], True)
    monkeypatch.setattr("payments.outbox.order_events.MAX_EVENTS", 100)
    monkeypatch.setattr("payments.outbox.order_events.HISTORY_READ", 1)  # the newest audit event: paid
    page = api.request("GET", "/orders/ds-5/events").json()
    assert ([e["id"] for e in page["events"]], page["older_omitted"]) == (every[-1:], True)
