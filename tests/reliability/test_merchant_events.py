"""10. Merchant events: over 1,000 committed changes across 100 orders (a payment and eight partial
refunds each, with a provider whose refunds succeed at once), published from the tables' streams and
delivered to a receiver that refuses three deliveries in ten at random. Every event arrives (0 lost),
each order's in sequence (0 out of order), and an event received twice is only ever a retry of the
same id.

Each order has its own table of the template's shape (moto copies a whole table on every
transaction: small tables keep the run fast); one publish function reads all their streams, while
the orders change."""

from __future__ import annotations

import json
import os
import random
from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

import boto3
import pytest
import responses

from local.testing import QueuePoller, StreamPoller, filters_of, kit_of, kits, table_arguments
from payments.api import RefundRequest, parse_create_order
from payments.clock import utc_now
from payments.providers.capabilities import RefundReporting
from payments.providers.directory import ProviderDirectory
from payments.service import PaymentsService
from payments.store.merchant_events import MerchantEventStore
from payments.store.orders import OrdersStore
from payments.store.table import Table
from tests.conftest import Stack
from tests.reliability.harness import BASE_URL, Delivery
from tests.reliability.kits import sandbox_on_wire
from tests.reliability.report import FIGURES
from tests.support.event_pipeline import Receiver, with_webhooks
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.orders import order_body

ORDERS = int(os.environ.get("EVENTS_RELIABILITY_ORDERS", "100"))
# The provider: one whose refunds succeed at once (each refund a committed change of its own).
PROVIDER = next(
    name for name, kit in kits().items() if kit.capabilities.refunds_reported is RefundReporting.WHEN_ASKED
)
REFUNDS_PER_ORDER = 8  # with the payment and the create: ten changes per order


class FlakyReceiver(Receiver):
    """Refuses about three deliveries in ten, whatever they are."""

    def __init__(self, seed: str) -> None:
        super().__init__()
        self.rng = random.Random(seed)

    def refuse_next(self) -> bool:
        return self.rng.random() < 0.3


def published_events(store: MerchantEventStore) -> list[dict[str, Any]]:
    """Every published event, page by page (a Query answers at most 1 MB)."""
    events: list[dict[str, Any]] = []
    everything = utc_now() + timedelta(days=1)  # past any settle window
    while page := store.listed_after(events[-1]["id"] if events else None, 100, everything):
        events.extend(json.loads(body) for body in page)
    return events


def order_table(stack: Stack, index: int) -> str:
    """A table of the template's shape for one order (moto's transactions copy the tables they
    touch: one small table per order keeps the run's cost linear in its changes)."""
    properties = stack.template.resources["OrdersTable"]["Properties"]
    name = f"events-order-{index}"
    boto3.client("dynamodb").create_table(**table_arguments(properties, name))
    return name


@pytest.mark.long_running
@pytest.mark.parametrize("seed", ["flaky-receiver"])
def test_every_change_reaches_a_flaky_receiver_once_in_order(
    api: Api,
    stack: Stack,
    wire: responses.RequestsMock,
    link: ProviderLink,
    monkeypatch: pytest.MonkeyPatch,
    seed: str,
) -> None:
    kit = kit_of(PROVIDER)
    sandbox = sandbox_on_wire(PROVIDER, wire, link)
    receiver = FlakyReceiver(seed).start()
    try:
        wire.add_passthru(receiver.url)
        monkeypatch.setattr("payments.outbox.webhooks.SCALE", 0)  # a refused event is offered again at once
        monkeypatch.setenv("PROVIDER_SECRET_ARN", stack.secret_arn)
        pipeline = with_webhooks(api, stack.table_name, stack.refs["WebhookQueue"], receiver)
        publish = api.functions["PublishEventsFunction"].run
        filters = filters_of(
            stack.template.resources["PublishEventsFunction"]["Properties"]["Events"]["OrdersStream"][
                "Properties"
            ]
        )
        streams = boto3.client(
            "dynamodbstreams", endpoint_url="https://streams.dynamodb.eu-west-1.amazonaws.com"
        )
        directory = ProviderDirectory()
        queue: QueuePoller = pipeline.queue
        pollers: list[StreamPoller] = []
        changes = 0
        for index in range(ORDERS):
            table = order_table(stack, index)
            pollers.append(StreamPoller(boto3.client("dynamodb"), streams, table, publish, filters))
            service = PaymentsService(OrdersStore(Table(table)), directory)
            order_id = f"ev-{index}"
            request = parse_create_order(json.dumps(order_body(order_id, provider=PROVIDER)))
            service.create_order(request, BASE_URL)
            paid = kit.statement(sandbox, order_id, "paid")
            delivery = Delivery(paid.method, paid.url, paid.headers, paid.body)
            assert service.receive_notification(PROVIDER, delivery.raw()).status == 200
            for refund in range(REFUNDS_PER_ORDER):
                body = {"refund_id": f"r-{refund}", "amount": {"value": 100, "currency": "EUR"}}
                result = service.refund(order_id, RefundRequest.model_validate(body), BASE_URL)
                assert str(result.refund.status) == "succeeded"
            changes += 2 + REFUNDS_PER_ORDER
            # Events flow while orders change, as deployed: this order's stream, then some deliveries
            # (a refused one is offered again later, behind the order's next events in its group).
            while pollers[-1].poll_once():
                pass
            while queue.poll_once():  # until a batch is refused whole (offered again later)
                pass
        assert sum(poller.poll_once() for poller in pollers) == 0  # every stream was read
        for _ in range(10_000):  # drain what is left on the queue: the refused, offered again
            if not queue.poll_once() and not pipeline.queue_waiting():
                break
    finally:
        receiver.stop()

    published = published_events(MerchantEventStore(Table(stack.table_name)))
    published_ids = {event["id"] for event in published}
    received = [r.event for r in receiver.received]
    received_ids = Counter(event["id"] for event in received)
    first_seen: dict[str, list[int]] = defaultdict(list)
    seen: set[str] = set()
    for event in received:
        if event["id"] not in seen:
            seen.add(event["id"])
            first_seen[event["order_id"]].append(event["sequence"])
    out_of_order = sum(1 for sequences in first_seen.values() if sequences != sorted(sequences))
    lost = len(published_ids - set(received_ids))
    repeats = sum(count - 1 for count in received_ids.values())
    FIGURES.add("merchant_events.changes", changes)
    FIGURES.add("merchant_events.orders", ORDERS)
    FIGURES.add("merchant_events.published", len(published_ids))
    FIGURES.add("merchant_events.refused_deliveries", receiver.answered.count(500))
    FIGURES.add("merchant_events.lost", lost)
    FIGURES.add("merchant_events.out_of_order", out_of_order)
    FIGURES.add("merchant_events.repeats_of_an_id", repeats)
    assert changes >= 1000
    assert len(published_ids) >= changes  # each change: at least one event (refunds: two with a status)
    assert receiver.answered.count(500) > 100  # the receiver really was flaky
    assert lost == 0
    assert out_of_order == 0
    assert set(received_ids) <= published_ids  # nothing received that was not published
