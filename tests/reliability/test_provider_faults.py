"""4. Provider faults on create, every provider x every fault, through the real create handler.

The order is kept (`unknown` when the provider may have acted, `failed` when it refused), the caller
gets 502/504 with a clear code, and retrying the same request asks the provider first: an order the
provider made is resumed, never created a second time; one it never saw is created then.
"""

from __future__ import annotations

import pytest

from local.testing import kit_of
from payments.orders import OrderStatus
from tests.conftest import Stack
from tests.reliability.harness import Harness, restate_amount
from tests.reliability.kits import LINK_FAULTS, VARIANTS, reliability_kit
from tests.reliability.report import FIGURES
from tests.support.link import ProviderLink
from tests.support.store import event_items

S = OrderStatus
# fault -> (HTTP status, error code, order status after the failed create)
EXPECTED = {
    "connect_timeout": (504, "provider_timeout", S.UNKNOWN),  # nothing reached the provider
    "read_timeout_after_processing": (504, "provider_timeout", S.UNKNOWN),  # it acted; we never heard
    "reset": (502, "provider_unavailable", S.UNKNOWN),
    "http_500": (502, "provider_unavailable", S.UNKNOWN),
    "garbage": (502, "provider_bad_reply", S.UNKNOWN),  # a malformed reply
    "unsigned": (502, "provider_bad_signature", S.UNKNOWN),  # acted, but the reply proves nothing
    "bad_signature": (502, "provider_bad_signature", S.UNKNOWN),
    "rejected": (502, "provider_rejected", S.FAILED),  # a signed, readable refusal
}


def faults(harness: Harness) -> list[str]:
    """The faults to try for this provider (and variant): its reliability kit's list."""
    return reliability_kit(harness.provider).create_faults(harness.variant)


def break_provider(harness: Harness, link: ProviderLink, fault: str, order_id: str) -> None:
    if fault in LINK_FAULTS:
        link.inject(fault)
    else:
        reliability_kit(harness.provider).break_create(harness.sandbox, fault, order_id)


def repair(harness: Harness, fault: str) -> None:
    reliability_kit(harness.provider).repair(harness.sandbox, fault)


@pytest.mark.parametrize("harness", VARIANTS, indirect=True)
def test_provider_faults_keep_the_order_and_a_retry_never_pays_twice(
    harness: Harness, link: ProviderLink, stack: Stack
) -> None:
    """The table: every fault of the provider's list (`faults`), each on an order of its own."""
    failures = []
    for fault in faults(harness):
        try:
            fault_on_create(harness, link, stack, fault)
        except AssertionError as failure:
            failures.append(f"{fault}: {failure}")
    assert not failures, "\n".join(failures)


def fault_on_create(harness: Harness, link: ProviderLink, stack: Stack, fault: str) -> None:
    order_id = f"pf-{harness.label}-{fault}"
    status, code, kept_as = EXPECTED[fault]
    break_provider(harness, link, fault, order_id)
    reply = harness.api.request("POST", "/orders", body=harness.body(order_id))
    error = reply.json().get("error", {})
    assert (reply.status, error.get("code")) == (status, code), reply.body
    assert set(error) >= {"code", "message"}
    order = harness.order(order_id)
    assert order is not None
    assert order.status == kept_as
    last = event_items(stack.table_name, order_id)[-1]
    assert last["type"] == ("provider_rejected" if kept_as == S.FAILED else "provider_outcome_unknown")
    FIGURES.add("provider_faults.cases")
    FIGURES.add("provider_faults.kept")

    reached = harness.provider_creates(order_id)  # 1 if the create reached the provider at all
    made = harness.provider_has(order_id) and fault != "rejected"  # did the provider make the order?
    repair(harness, fault)
    retry = harness.api.request("POST", "/orders", body=harness.body(order_id))
    FIGURES.add("provider_faults.retries")
    creates = harness.provider_creates(order_id) - reached
    FIGURES.add("provider_faults.second_orders", int(made and creates > 0))
    if kept_as == S.FAILED:
        assert retry.status == 200, retry.body  # the same order, not a new one
        assert retry.json()["status"] == "failed"
        assert creates == 0  # a refusal is final: retrying does not ask again
        return
    # Query before re-create: an order the provider made is resumed; otherwise it is created once now.
    assert creates == (0 if made else 1), (made, creates)
    assert harness.provider_has(order_id)
    resumed = harness.order(order_id)
    assert resumed is not None
    assert resumed.status == S.PENDING
    if not made or kit_of(harness.provider).capabilities.query_gives_payment_link:
        # Created now, or resumed from a provider whose order query returns the payment link.
        assert retry.status == 200, retry.body  # the same order, not a new one
        assert retry.json()["payment_url"]
    else:
        # The provider's query carries no checkout link: the merchant is told so, clearly, instead of
        # getting a pending order with nothing to pay with.
        assert (retry.status, retry.json()["error"]["code"]) == (409, "payment_action_unavailable")


@pytest.mark.parametrize("harness", VARIANTS, indirect=True)
def test_a_resumed_order_the_provider_holds_at_another_amount_is_never_applied(
    harness: Harness, link: ProviderLink, stack: Stack
) -> None:
    """The create reached the provider, its reply was lost; the provider now reports the order paid,
    at another amount. The resumed create passes the same gate as a notification: never paid."""
    for index, value in enumerate((1, 999, 1001, 100_000)):
        order_id = f"pf-{harness.label}-restated-{index}"
        link.inject("read_timeout_after_processing")
        assert harness.api.request("POST", "/orders", body=harness.body(order_id)).status == 504
        restate_amount(harness, order_id, value)
        retry = harness.api.request("POST", "/orders", body=harness.body(order_id))
        order = harness.order(order_id)
        assert order is not None
        FIGURES.add("resume_mismatch.cases")
        FIGURES.add("resume_mismatch.applied", int(order.status != S.UNKNOWN))
        FIGURES.add("resume_mismatch.flagged", int("amount_mismatch" in order.flags))
        assert (retry.status, retry.json()["error"]["code"]) == (502, "provider_amount_mismatch")
        assert order.status == S.UNKNOWN
        assert "amount_mismatch" in order.flags
