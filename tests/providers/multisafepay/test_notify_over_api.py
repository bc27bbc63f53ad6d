"""POST|GET /notify/multisafepay through the real handler: verification, transitions, the audit trail."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest

from local.providers.multisafepay.sandbox import MultiSafepaySandbox
from local.testing import Reply
from tests.conftest import Stack
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.orders import order_body
from tests.support.store import event_items, last_rejected, order_item, rejected_items


@pytest.fixture
def order(api: Api, msp: MultiSafepaySandbox) -> str:
    assert api.request("POST", "/orders", body=order_body("n-1", provider="multisafepay")).status == 201
    return "n-1"


def deliver(
    api: Api, msp: MultiSafepaySandbox, order_id: str, status: str | None = None, **kwargs: Any
) -> Reply:
    if status:
        msp.set_status(order_id, status)
    url, headers, body = msp.notification(order_id, **kwargs)
    return api.request("POST", url, body=body, headers=headers, api_key=None)


def history(api: Api, order_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = api.request("GET", f"/orders/{order_id}").json()["events"]
    return events


def transitions(api: Api, order_id: str) -> list[tuple[str, str]]:
    return [
        (e["from_status"], e["to_status"])
        for e in history(api, order_id)
        if "to_status" in e and "from_status" in e
    ]


def status_of(api: Api, order_id: str) -> str:
    status: str = api.request("GET", f"/orders/{order_id}").json()["status"]
    return status


def test_paid_notification(api: Api, msp: MultiSafepaySandbox, order: str) -> None:
    reply = deliver(api, msp, order, "completed")
    assert (reply.status, reply.body) == (200, "OK")
    assert status_of(api, order) == "paid"
    last = history(api, order)[-1]
    assert last["type"] == "notification"
    assert last["verified"] is True
    assert last["provider_status"] == "completed"
    assert last["payload"]["verified_by"] == "hmac-sha512"


def test_replaying_a_valid_notification_ten_times_leaves_one_transition(
    api: Api, msp: MultiSafepaySandbox, order: str, stack: Stack
) -> None:
    msp.set_status(order, "completed")
    url, headers, body = msp.notification(order)
    replies = [api.request("POST", url, body=body, headers=headers, api_key=None) for _ in range(10)]
    assert {(r.status, r.body) for r in replies} == {(200, "OK")}
    assert transitions(api, order) == [("created", "pending"), ("pending", "paid")]
    stored = order_item(stack.table_name, order)
    assert stored is not None
    assert stored["version"] == 3  # created, pending, paid: duplicates wrote nothing
    assert len(event_items(stack.table_name, order)) == 3


def forged(msp: MultiSafepaySandbox, order_id: str, how: str) -> tuple[str, dict[str, str], bytes]:
    msp.set_status(order_id, "completed")
    url, headers, body = msp.notification(order_id)
    if how == "wrong key":
        url, headers, body = msp.notification(order_id, key="attacker-guess")
    elif how == "stale":
        url, headers, body = msp.notification(order_id, timestamp=int(time.time()) - 601)
    elif how == "future":
        url, headers, body = msp.notification(order_id, timestamp=int(time.time()) + 3600)
    elif how == "tampered body":
        body = body.replace(b'"amount":1000', b'"amount":1')
    elif how == "tampered status":
        body = body.replace(b'"status":"completed"', b'"status":"refunded"')
    elif how == "missing header":
        headers = {"Content-Type": "application/json"}
    elif how == "garbage header":
        headers = {**headers, "Auth": "bm90IGEgc2lnbmF0dXJl"}
    elif how == "forged digest":
        stamp = base64.b64decode(headers["Auth"]).split(b":")[0]
        headers = {**headers, "Auth": base64.b64encode(stamp + b":" + b"0" * 128).decode()}
    msp.set_status(order_id, "initialized")
    return url, headers, body


FORGERIES = [
    "wrong key",
    "stale",
    "future",
    "tampered body",
    "tampered status",
    "missing header",
    "garbage header",
    "forged digest",
]


@pytest.mark.parametrize("how", FORGERIES)
def test_forged_notification_is_rejected_recorded_and_not_applied(
    api: Api, msp: MultiSafepaySandbox, order: str, stack: Stack, how: str
) -> None:
    before = order_item(stack.table_name, order)
    url, headers, body = forged(msp, order, how)
    reply = api.request("POST", url, body=body, headers=headers, api_key=None)
    assert 400 <= reply.status < 500
    assert "OK" not in reply.body[:100]
    assert order_item(stack.table_name, order) == before
    # Refused attempts are filed apart from the order: nobody writes into a history by claiming its id.
    assert all(event["type"] != "notification_rejected" for event in history(api, order))
    rejected = last_rejected(stack.table_name, "multisafepay")
    assert rejected["claimed_order_id"] == order
    assert rejected["verified"] is False
    assert rejected["reason"] in {
        "bad_signature",
        "stale_signature",
        "future_signature",
        "missing_signature",
        "malformed_signature",
    }
    assert rejected["payload"]["body"]["sha256"]


def test_rejected_attempt_is_stored_redacted_and_expires(
    api: Api, msp: MultiSafepaySandbox, order: str, stack: Stack
) -> None:
    url, headers, body = forged(msp, order, "wrong key")
    api.request("POST", url, body=body, headers=headers, api_key=None)
    rejected = last_rejected(stack.table_name, "multisafepay")
    assert rejected["ttl"] > time.time() + 170 * 24 * 3600
    assert "Mei" not in rejected["payload_json"]


def test_notification_for_an_unknown_order_is_404_and_recorded(
    api: Api, msp: MultiSafepaySandbox, order: str, stack: Stack
) -> None:
    # Genuinely signed by MultiSafepay, but for an order that is not ours.
    msp.orders["ghost"] = {**msp.orders[order], "order_id": "ghost"}
    reply = deliver(api, msp, "ghost", "completed")
    assert reply.status == 404
    assert order_item(stack.table_name, "ghost") is None
    assert event_items(stack.table_name, "ghost") == []  # no history for an order that does not exist
    rejected = last_rejected(stack.table_name, "multisafepay")
    assert (rejected["claimed_order_id"], rejected["reason"], rejected["verified"]) == (
        "ghost",
        "unknown_order",
        True,
    )


def test_unknown_or_unconfigured_provider_route_is_404(
    api: Api, stack: Stack, msp: MultiSafepaySandbox
) -> None:
    assert api.request("POST", "/notify/paypal", body=b"{}", api_key=None).status == 404
    stack.put_secret({})
    assert api.request("POST", "/notify/multisafepay", body=b"{}", api_key=None).status == 404


def test_out_of_order_notifications_never_move_an_order_backwards(
    api: Api, msp: MultiSafepaySandbox, order: str
) -> None:
    assert deliver(api, msp, order, "completed").status == 200
    assert deliver(api, msp, order, "initialized").status == 200  # acknowledged: retrying won't help
    assert deliver(api, msp, order, "expired").status == 200
    assert status_of(api, order) == "paid"
    ignored = [e for e in history(api, order) if e["type"] == "notification_ignored"]
    assert [(e["provider_status"], e["reason"]) for e in ignored] == [
        ("initialized", "not_allowed_from_paid"),
        ("expired", "not_allowed_from_paid"),
    ]


def test_late_payment_after_expiry_is_applied_and_flagged(
    api: Api, msp: MultiSafepaySandbox, order: str
) -> None:
    deliver(api, msp, order, "expired")
    assert status_of(api, order) == "expired"
    deliver(api, msp, order, "completed")
    assert status_of(api, order) == "paid"
    assert history(api, order)[-1]["flags"] == ["late_payment"]


def test_amount_mismatch_is_flagged_not_applied(
    api: Api, msp: MultiSafepaySandbox, order: str, stack: Stack
) -> None:
    msp.orders[order]["amount"] = 1  # MultiSafepay says the payer paid 0.01 EUR
    reply = deliver(api, msp, order, "completed")
    assert reply.status == 200
    assert status_of(api, order) == "pending"
    last = history(api, order)[-1]
    assert last["type"] == "amount_mismatch"
    assert last["flags"] == ["amount_mismatch"]
    assert last["reason"] == "expected 10.00 EUR, provider stated 0.01 EUR"
    assert api.request("GET", f"/orders/{order}").json()["flags"] == ["amount_mismatch"]


def test_currency_mismatch_is_flagged_not_applied(api: Api, msp: MultiSafepaySandbox, order: str) -> None:
    msp.orders[order]["currency"] = "USD"
    deliver(api, msp, order, "completed")
    assert status_of(api, order) == "pending"
    assert history(api, order)[-1]["flags"] == ["amount_mismatch"]


def test_refund_and_chargeback_after_payment(api: Api, msp: MultiSafepaySandbox, order: str) -> None:
    for word, refunded, expected in [
        ("completed", 0, "paid"),
        ("partial_refunded", 400, "partially_refunded"),
        ("refunded", 1000, "refunded"),
        ("chargeback", 1000, "charged_back"),
    ]:
        msp.orders[order]["amount_refunded"] = refunded
        assert deliver(api, msp, order, word).status == 200
        assert status_of(api, order) == expected
    assert api.request("GET", f"/orders/{order}").json()["refunded_amount"] == {
        "value": 1000,
        "currency": "EUR",
    }


def test_unknown_status_word_is_recorded_and_changes_nothing(
    api: Api, msp: MultiSafepaySandbox, order: str
) -> None:
    deliver(api, msp, order, "teleported")
    assert status_of(api, order) == "pending"
    last = history(api, order)[-1]
    assert (last["type"], last["provider_status"]) == ("notification_ignored", "teleported")


def test_legacy_get_is_resolved_by_asking_multisafepay(
    api: Api, msp: MultiSafepaySandbox, order: str
) -> None:
    msp.set_status(order, "completed")
    fetches_before = sum(1 for c in msp.calls if c.method == "GET")
    reply = api.request("GET", msp.legacy_notification_url(order), api_key=None)
    assert (reply.status, reply.body) == (200, "OK")
    assert status_of(api, order) == "paid"
    assert sum(1 for c in msp.calls if c.method == "GET") == fetches_before + 1
    assert history(api, order)[-1]["payload"]["verified_by"] == "provider-query"


def test_legacy_get_trusts_nothing_in_the_url(api: Api, msp: MultiSafepaySandbox, order: str) -> None:
    # Anyone can call the GET endpoint: only what MultiSafepay itself says counts.
    reply = api.request(
        "GET", f"/notify/multisafepay?transactionid={order}&timestamp=1&status=completed", api_key=None
    )
    assert reply.status == 200
    assert status_of(api, order) == "pending"


def test_legacy_get_without_timestamp_is_acknowledged_and_ignored(
    api: Api, msp: MultiSafepaySandbox, order: str, stack: Stack
) -> None:
    msp.set_status(order, "completed")
    before = order_item(stack.table_name, order)
    reply = api.request("GET", f"/notify/multisafepay?transactionid={order}", api_key=None)
    assert (reply.status, reply.body) == (200, "OK")
    assert order_item(stack.table_name, order) == before


def test_legacy_get_for_an_order_we_do_not_hold_calls_nobody_and_tells_nothing(
    api: Api, msp: MultiSafepaySandbox, order: str, stack: Stack
) -> None:
    """Anyone can send these: no call to MultiSafepay with our key, and the same answer whether or
    not the id exists, so the route neither spends our quota nor tells which order ids exist."""
    calls = len(msp.calls)
    unknown = api.request("GET", "/notify/multisafepay?transactionid=forged-id&timestamp=1", api_key=None)
    assert (unknown.status, unknown.body) == (200, "OK")
    assert event_items(stack.table_name, "forged-id") == []
    msp.set_status(order, "completed")
    assert deliver(api, msp, order).status == 200  # paid: nothing left to ask about
    known_but_final = api.request("GET", msp.legacy_notification_url(order), api_key=None)
    assert (known_but_final.status, known_but_final.body) == (unknown.status, unknown.body)
    assert len(msp.calls) == calls


def test_rejected_attempts_are_kept_per_provider_not_per_order(
    api: Api, msp: MultiSafepaySandbox, order: str, stack: Stack
) -> None:
    """A flood of forgeries claiming an order id neither shows in nor slows its history."""
    url, headers, body = forged(msp, order, "forged digest")
    for _ in range(30):
        api.request("POST", url, body=body, headers=headers, api_key=None)
    assert len(rejected_items(stack.table_name, "multisafepay")) == 30
    assert [e["type"] for e in history(api, order)] == ["order_created", "provider_accepted"]


def test_legacy_get_when_multisafepay_is_down_asks_for_a_retry(
    api: Api, msp: MultiSafepaySandbox, order: str, link: ProviderLink
) -> None:
    msp.set_status(order, "completed")
    link.inject("http_500")
    reply = api.request("GET", msp.legacy_notification_url(order), api_key=None)
    assert reply.status == 503
    assert status_of(api, order) == "pending"


def test_notification_before_the_create_reply_is_stored(
    api: Api, msp: MultiSafepaySandbox, link: ProviderLink, stack: Stack
) -> None:
    """MultiSafepay may call back before our create request has recorded `pending`."""
    link.inject("read_timeout_after_processing")
    api.request("POST", "/orders", body=order_body("n-race", provider="multisafepay"))
    assert deliver(api, msp, "n-race", "completed").status == 200
    assert status_of(api, "n-race") == "paid"
    assert ("unknown", "paid") in transitions(api, "n-race")
