"""End to end over real HTTP, for every provider: create -> sandbox checkout -> signed notification
-> GET /orders/{id}; plus cancel, fail, expire, a notification delivered twice, and the sandboxes'
knobs (a dropped notification, a silent payment, a lost reply)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import requests

from local.testing import OUTCOMES, kit_of
from tests.e2e.conftest import LocalStack, check_gateway_answers
from tests.e2e.provider_facts import example_provider, facts_of, provider_facts, providers

_ids = itertools.count()


def sandbox_view(stack: LocalStack, provider: str, order_id: str) -> dict[str, Any]:
    reply = requests.get(f"{stack.sandboxes[provider]}/_control/{order_id}", timeout=30)
    reply.raise_for_status()
    view: dict[str, Any] = reply.json()
    return view


def new_order(stack: LocalStack, provider: str) -> str:
    order_id = f"e2e-{provider}-{next(_ids)}"
    reply = stack.create(order_id, provider)
    assert reply.status_code == 201, reply.text
    assert reply.json()["status"] == "pending"
    return order_id


@pytest.mark.parametrize("provider", providers())
@pytest.mark.parametrize("outcome", OUTCOMES)
def test_checkout_outcome_reaches_the_order(local_stack: LocalStack, provider: str, outcome: str) -> None:
    expected = facts_of(provider).checkout_outcomes[outcome]
    status, notified, provider_word = expected.status, expected.notified, expected.provider_word
    order_id = new_order(local_stack, provider)
    delivered = local_stack.control(provider, order_id, outcome)["delivered"]
    assert [d["status"] for d in delivered] == ([200] if notified else []), delivered
    order = local_stack.order(order_id)
    assert order["status"] == status
    if notified:
        assert order["events"][-1]["verified"] is True
    assert sandbox_view(local_stack, provider, order_id)["status"] == provider_word


@pytest.mark.parametrize("provider", providers())
def test_duplicated_notification_applies_once(local_stack: LocalStack, provider: str) -> None:
    order_id = new_order(local_stack, provider)
    local_stack.control(provider, order_id, "pay")
    replies = local_stack.control(provider, order_id, "deliver_twice")["delivered"]
    assert [reply["status"] for reply in replies] == [200, 200]
    order = local_stack.order(order_id)
    assert order["status"] == "paid"
    applied = [e for e in order["events"] if e.get("to_status") == "paid"]
    assert len(applied) == 1


@pytest.mark.parametrize("provider", providers())
def test_checkout_page_buttons_notify_then_send_the_browser_back(
    local_stack: LocalStack, provider: str
) -> None:
    order_id = new_order(local_stack, provider)
    payment_url = local_stack.order(order_id)["payment_url"]
    page = requests.get(payment_url, timeout=30)
    assert page.status_code == 200
    for button in OUTCOMES:
        assert f'id="{button}"' in page.text
    base = local_stack.sandboxes[provider]
    clicked = requests.post(f"{base}/_checkout/{order_id}/pay", allow_redirects=False, timeout=30)
    assert clicked.status_code == 303
    assert clicked.headers["Location"].startswith(f"{local_stack.api}/shop/return?order_id={order_id}")
    assert local_stack.order(order_id)["status"] == "paid"


def test_api_key_is_enforced_and_notify_is_public(local_stack: LocalStack) -> None:
    assert requests.get(f"{local_stack.api}/orders/x", timeout=30).status_code == 403
    assert (
        requests.get(f"{local_stack.api}/orders/x", headers={"x-api-key": "wrong"}, timeout=30).status_code
        == 403
    )
    # Public, but only signed notifications count: every provider's forgery we know of is refused.
    forgeries = {name: facts.forged_notification for name, facts in provider_facts().items()}
    assert any(forgeries.values()), "no provider's facts hold a forged notification"
    for provider, forgery in forgeries.items():
        if forgery is not None:
            forged = requests.post(
                f"{local_stack.api}/notify/{provider}?{forgery.query}",
                data=forgery.body,
                headers=forgery.headers,
                timeout=30,
            )
            assert forged.status_code == 401, (provider, forged.text)


def test_api_gateways_own_answers_and_large_bodies_have_the_error_shape(local_stack: LocalStack) -> None:
    check_gateway_answers(local_stack)


def test_bad_input_gets_the_error_shape_over_http(local_stack: LocalStack) -> None:
    # Refused before any provider is asked: one provider stands for them all.
    reply = local_stack.create("e2e-bad", example_provider(), amount={"value": 10.5, "currency": "EUR"})
    assert reply.status_code == 422
    assert reply.json()["error"]["field"] == "amount.value"


@pytest.mark.parametrize("provider", providers())
def test_a_dropped_notification_arrives_when_redelivered(local_stack: LocalStack, provider: str) -> None:
    order_id = new_order(local_stack, provider)
    local_stack.control(provider, order_id, "drop_next_notification")
    assert local_stack.control(provider, order_id, "pay") == {"delivered": [], "dropped": 1}
    assert local_stack.order(order_id)["status"] == "pending"
    [delivery] = local_stack.control(provider, order_id, "redeliver")["delivered"]
    assert delivery["status"] == 200, delivery
    assert local_stack.order(order_id)["status"] == "paid"


@pytest.mark.parametrize("provider", providers())
def test_a_silent_payment_is_known_to_the_provider_only(local_stack: LocalStack, provider: str) -> None:
    order_id = new_order(local_stack, provider)
    assert local_stack.control(provider, order_id, "pay_silently") == {"delivered": [], "dropped": 0}
    assert local_stack.order(order_id)["status"] == "pending"
    paid_word = facts_of(provider).checkout_outcomes["pay"].provider_word
    assert sandbox_view(local_stack, provider, order_id)["status"] == paid_word


@pytest.mark.parametrize("provider", providers())
def test_a_create_whose_reply_is_lost_is_resolved_by_the_retry(
    local_stack: LocalStack, provider: str
) -> None:
    order_id = f"e2e-lost-{provider}-{next(_ids)}"
    local_stack.control(provider, order_id, "timeout_once")  # armed before the provider knows the order
    lost = local_stack.create(order_id, provider)
    assert lost.status_code in (502, 504), lost.text
    assert local_stack.order(order_id)["status"] == "unknown"
    retry = local_stack.create(order_id, provider)
    if kit_of(provider).capabilities.query_gives_payment_link:
        assert retry.status_code in (200, 201), retry.text
        assert retry.json()["status"] == "pending"
    else:  # the provider's query does not: the merchant is told, not left with nothing to pay with
        assert (retry.status_code, retry.json()["error"]["code"]) == (409, "payment_action_unavailable")
        assert local_stack.order(order_id)["status"] == "pending"
    calls = sandbox_view(local_stack, provider, order_id)["calls"]
    assert [c["operation"] for c in calls].count("create") == 1  # the retry asked instead of creating
    assert calls[0] == {"operation": "create", "outcome": "ok", "reply_lost": True}
