"""MultiSafepay's own sample events (events/multisafepay/): its legacy GET notification; and a stale
signed sample refused."""

from __future__ import annotations

from datetime import UTC, datetime

import responses

from events.generate import build
from local.testing import kit_of
from tests.conftest import Stack
from tests.integration.test_sample_events import SampleRun, load, sample_stack
from tests.support.link import ProviderLink

KIT = kit_of("multisafepay")
# Driven after test_samples_take_the_order_to_paid (tests/integration/test_sample_events.py) has
# taken the sample order to paid.
DRIVES = {"notify_get.json": "after_paid"}


def after_paid(run: SampleRun) -> None:
    api, sandbox, order_id = run.api, run.sandbox, KIT.sample_order_id
    # The legacy GET notification is resolved by asking MultiSafepay: the answer, not the event, counts.
    sandbox.set_status(order_id, "completed")
    assert api.functions["NotifyFunction"].invoke(load("multisafepay/notify_get.json")).body == "OK"


def test_stale_sample_is_refused(stack: Stack, wire: responses.RequestsMock, link: ProviderLink) -> None:
    api, _ = sample_stack(KIT, stack, wire, link)
    stale = build(int(datetime.now(UTC).timestamp()) - 3600, [KIT.name])["multisafepay/notify_post.json"]
    reply = api.functions["NotifyFunction"].invoke(stale)
    assert reply.status == 401
    assert reply.json()["error"]["code"] == "stale_signature"
