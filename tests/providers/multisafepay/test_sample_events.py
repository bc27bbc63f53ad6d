"""MultiSafepay's own sample events (events/multisafepay/): its legacy GET notification and the
merchant's refund of the paid sample order; and a stale signed sample refused."""

from __future__ import annotations

from datetime import UTC, datetime

import responses

from events.generate import build
from local.testing import kit_of
from tests.conftest import Stack
from tests.integration.test_sample_events import SampleRun, load, sample_stack, status_of
from tests.support.link import ProviderLink

KIT = kit_of("multisafepay")
# Driven after test_samples_take_the_order_to_paid (tests/integration/test_sample_events.py) has
# taken the sample order to paid.
DRIVES = {"notify_get.json": "after_paid", "refund_order.json": "after_paid"}


def after_paid(run: SampleRun) -> None:
    api, sandbox, order_id = run.api, run.sandbox, KIT.sample_order_id
    # The legacy GET notification is resolved by asking MultiSafepay: the answer, not the event, counts.
    sandbox.set_status(order_id, "completed")
    assert api.functions["NotifyFunction"].invoke(load("multisafepay/notify_get.json")).body == "OK"

    # Part of it back: MultiSafepay accepts the refund, then reports its result by notification.
    refund_event = load("multisafepay/refund_order.json")
    assert refund_event["pathParameters"] == {"order_id": order_id}
    reply = api.functions["OrderActionsFunction"].invoke(refund_event)
    assert reply.status == 201, reply.body
    refund = reply.json()
    assert (refund["refund_id"], refund["amount"], refund["status"]) == (
        "sample-refund-1",
        {"value": 400, "currency": "EUR"},
        "pending",
    )
    assert refund["reason"] == "One cup arrived broken"
    delivered = [
        api.request(n.method, n.url, body=n.body, headers=n.headers, api_key=None).status
        for n in sandbox.take_notifications()
    ]
    assert delivered == [200]
    assert status_of(api, "multisafepay") == "partially_refunded"
    # Invoked again, the same event answers the same refund: one refund at MultiSafepay.
    again = api.functions["OrderActionsFunction"].invoke(refund_event)
    assert (again.status, again.json()["refund_id"], again.json()["status"]) == (
        200,
        "sample-refund-1",
        "succeeded",
    )
    assert [(r.amount, r.status) for r in sandbox.refunds(order_id)] == [(400, "succeeded")]


def test_stale_sample_is_refused(stack: Stack, wire: responses.RequestsMock, link: ProviderLink) -> None:
    api, _ = sample_stack(KIT, stack, wire, link)
    stale = build(int(datetime.now(UTC).timestamp()) - 3600, [KIT.name])["multisafepay/notify_post.json"]
    reply = api.functions["NotifyFunction"].invoke(stale)
    assert reply.status == 401
    assert reply.json()["error"]["code"] == "stale_signature"
