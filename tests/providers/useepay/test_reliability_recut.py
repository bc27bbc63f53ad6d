"""1b. Re-cut UseePay notifications, >= 200 generated per sign type.

UseePay signs `k=v&k=v…` over raw values, so one signed string has many readings as fields. Each case
here is a genuine notification (signed by the sandbox with UseePay's key) read as a different set of
fields that gives exactly the same string to sign, so the signature still verifies: another merchant's
payment whose echoParam carries our merchantNo and order id, and our own payments and refunds with
adjacent fields merged. Every one must be refused, and none may change an order.

Part of the reliability suite: its `harness` and its log guard (tests/reliability/conftest.py) are
used here as in tests/reliability, and its figures are rows of the table (reliability_figures.py).
"""

from __future__ import annotations

import random
from urllib.parse import urlencode

import pytest

from local.providers.useepay.sandbox import useepay_base_string
from local.testing import kit_of
from payments.orders import OrderStatus
from tests.reliability.conftest import harness, log_guard
from tests.reliability.harness import BASE_URL, Delivery, Harness
from tests.reliability.kits import variant_label
from tests.reliability.report import FIGURES
from tests.support.store import event_items, order_item

__all__ = ["harness", "log_guard"]  # the reliability suite's fixtures, for the tests here

KIT = kit_of("useepay")
MERCHANT_NO = KIT.test_credentials().merchant_no
SIGN_TYPES = [variant_label(KIT.name, sign_type) for sign_type in KIT.variants]
OTHER_MERCHANT = "500000000009999"
WANTED = 200
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def readings(text: str, rng: random.Random, wanted: int) -> list[dict[str, str]]:
    """Other field sets whose string to sign is `text`: cut at some '&', merge at the others."""
    pieces = text.split("&")
    found: dict[str, dict[str, str]] = {}
    for _ in range(wanted * 40):
        if len(found) >= wanted:
            break
        fields: dict[str, str] = {}
        current = pieces[0]
        for piece in pieces[1:]:
            if rng.random() < 0.5:  # cut here
                fields = _add(fields, current)
                current = piece
            else:  # merge: the '&' stays inside a value
                current = f"{current}&{piece}"
        fields = _add(fields, current)
        if fields and useepay_base_string(fields) == text:
            found[urlencode(sorted(fields.items()))] = fields
    return list(found.values())


def _add(fields: dict[str, str], pair: str) -> dict[str, str]:
    name, equals, value = pair.partition("=")
    if not equals or not name or not set(name) <= _NAME_CHARS or not value.strip() or name in fields:
        return {}  # not a reading of the string: dropped by the caller (its string differs)
    return {**fields, name: value}


def genuine_messages(harness: Harness, order_id: str) -> list[dict[str, str]]:
    sign_type = harness.sandbox.sign_type
    smuggled = (
        f"{order_id}&merchantNo={MERCHANT_NO}&reference=1&resultCode=succeed&signType={sign_type}"
        f"&transactionId={order_id}&transactionType=pay&version=1.0&zz="
    )
    base = {"version": "1.0", "currency": "EUR", "signType": sign_type, "errorCode": "0000"}
    messages = [
        {  # another merchant's payment, signed by UseePay, carrying our ids in its echoParam
            **base,
            "merchantNo": OTHER_MERCHANT,
            "transactionId": "their-order",
            "reference": "1000000000000000001",
            "transactionType": "pay",
            "amount": "1000",
            "resultCode": "succeed",
            "echoParam": smuggled,
        },
        {  # our own payment: merged fields only
            **base,
            "merchantNo": MERCHANT_NO,
            "transactionId": order_id,
            "reference": "1000000000000000002",
            "transactionType": "pay",
            "amount": "1000",
            "resultCode": "succeed",
            "echoParam": order_id,
        },
        {  # our own refund: its ledger key (transactionId) must not be cut away or altered
            **base,
            "merchantNo": MERCHANT_NO,
            "transactionId": f"{order_id}-refund",
            "originalTransactionId": order_id,
            "reference": "2000000000000000003",
            "transactionType": "refund",
            "amount": "1000",
            "resultCode": "succeed",
        },
    ]
    return [{**fields, "sign": harness.sandbox.signature(fields)} for fields in messages]


@pytest.mark.parametrize("harness", SIGN_TYPES, indirect=True)
def test_recut_notifications_are_refused(harness: Harness) -> None:
    order_id = f"recut-{harness.label}"
    created = harness.create(order_id)
    assert getattr(created, "status", None) == OrderStatus.PENDING, created
    table = harness.service.store.table.name
    before = (order_item(table, order_id), len(event_items(table, order_id)))
    rng = random.Random(f"recut-{harness.label}")
    cases: list[dict[str, str]] = []
    for genuine in genuine_messages(harness, order_id):
        text = useepay_base_string(genuine)
        for fields in readings(text, rng, WANTED // 2):
            if fields != {k: v for k, v in genuine.items() if k != "sign"}:
                cases.append({**fields, "sign": genuine["sign"]})
    assert len(cases) >= WANTED
    refused = applied = 0
    failures = []
    for fields in cases:
        delivery = Delivery(
            "POST",
            f"{BASE_URL}/notify/useepay",
            {"Content-Type": "application/x-www-form-urlencoded"},
            urlencode(fields).encode(),
        )
        answer = harness.deliver(delivery)
        if 400 <= answer.status < 500:
            refused += 1
        else:
            failures.append(f"{answer.status}: {sorted(fields)}")
    after = (order_item(table, order_id), len(event_items(table, order_id)))
    applied = int(after != before)
    FIGURES.add(f"recut.{harness.label}.tried", len(cases))
    FIGURES.add(f"recut.{harness.label}.refused", refused)
    FIGURES.add(f"recut.{harness.label}.applied", applied)
    assert not failures, failures[:10]
    assert after == before


@pytest.mark.parametrize("harness", SIGN_TYPES, indirect=True)
def test_the_genuine_messages_the_recuts_start_from_verify(harness: Harness) -> None:
    """Guards the suite: each genuine message verifies (and ours applies), so a refusal above is about
    the re-cut, not a broken signature."""
    order_id = f"recut-genuine-{harness.label}"
    harness.create(order_id)
    other, pay, refund = genuine_messages(harness, order_id)
    answers = []
    for fields in (other, pay, refund):
        delivery = Delivery(
            "POST",
            f"{BASE_URL}/notify/useepay",
            {"Content-Type": "application/x-www-form-urlencoded"},
            urlencode(fields).encode(),
        )
        answers.append(harness.deliver(delivery).status)
    # Another merchant's, with a value that could be cut: refused as ambiguous. Ours: applied.
    assert answers == [400, 200, 200]
    order = harness.order(order_id)
    assert order is not None
    assert (order.status, order.refunded_value) == (OrderStatus.REFUNDED, 1000)
