"""Alipay's own sample events (events/alipay_intl/): its signed acknowledgement of the notification
sample, and the merchant withdrawing the sample order while it is unpaid."""

from __future__ import annotations

import responses

from local.testing import kit_of
from tests.conftest import Stack
from tests.integration.test_sample_events import SampleRun, create, load, sample_stack, status_of
from tests.support.link import ProviderLink

KIT = kit_of("alipay_intl")
DRIVES = {"cancel_order.json": "test_cancel_sample_withdraws_the_unpaid_order"}


def after_paid(run: SampleRun) -> None:
    # Alipay's signed reply envelope, saying SUCCESS.
    assert '"resultCode":"SUCCESS"' in run.notified.body


def test_cancel_sample_withdraws_the_unpaid_order(
    stack: Stack, wire: responses.RequestsMock, link: ProviderLink
) -> None:
    """The other way the sample order goes: the merchant withdraws it before anyone pays."""
    api, sandbox = sample_stack(KIT, stack, wire, link)
    order_id = KIT.sample_order_id
    create(api, KIT)
    cancel_event = load("alipay_intl/cancel_order.json")
    reply = api.functions["OrderActionsFunction"].invoke(cancel_event)
    assert reply.status == 200, reply.body
    assert (reply.json()["order_id"], reply.json()["status"]) == (order_id, "cancelled")
    assert status_of(api, "alipay_intl") == "cancelled"
    assert sandbox.status_of(order_id) == "CANCELLED"  # withdrawn by payCancel
    # Invoked again: answered as it is, and Alipay is not asked twice.
    again = api.functions["OrderActionsFunction"].invoke(cancel_event)
    assert (again.status, again.json()["status"]) == (200, "cancelled")
    assert [c.operation for c in sandbox.calls_for(order_id)] == ["create", "cancel"]
