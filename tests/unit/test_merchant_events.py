"""Merchant events: which committed changes become which events, their ids, and the webhook signature
(checked here by a receiver written with the standard library, as docs/api.md shows a merchant)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from payments.orders import OrderEvent
from payments.orders import OrderStatus as S
from payments.outbox.merchant_events import EVENT_TYPES, event_id, merchant_events
from payments.outbox.webhooks import sign

ORDER = {"order_id": "o-1", "status": "paid"}
AT = "2026-11-26T12:00:00.000000Z"


def audit(seq: int = 2, **fields: object) -> OrderEvent:
    values: dict[str, object] = {"type": "notification", "at": AT, "source": "notification", "seq": seq}
    return OrderEvent(**{**values, **fields})  # type: ignore[arg-type]


def types(event: OrderEvent) -> list[str]:
    return [e.type for e in merchant_events(ORDER, event, "o-1")]


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (audit(from_status=S.PENDING, to_status=S.PAID), ["order.paid"]),
        (
            audit(from_status=S.EXPIRED, to_status=S.PAID, flags=("late_payment",)),
            ["order.paid", "order.flagged"],
        ),
        (audit(from_status=S.CREATED, to_status=S.PENDING), ["order.pending"]),
        (audit(from_status=S.CREATED, to_status=S.UNKNOWN), ["order.unknown"]),
        (audit(from_status=S.PAID, to_status=S.CHARGED_BACK), ["order.charged_back"]),
        (
            audit(
                from_status=S.PAID,
                to_status=S.PARTIALLY_REFUNDED,
                refund={"refund_id": "r-1", "status": "succeeded"},
            ),
            ["order.partially_refunded", "refund.succeeded"],
        ),
        (audit(refund={"refund_id": "r-1", "status": "failed"}), ["refund.failed"]),
        (audit(refund={"refund_id": "r-1", "status": "pending"}), []),  # in flight: not an outcome yet
        (audit(flags=("amount_mismatch",), reason="expected 10.00 EUR"), ["order.flagged"]),
        (audit(flags=("needs_attention",)), ["order.flagged"]),
        (audit(type="notification_ignored", from_status=S.PAID), []),  # refused: nothing changed
        (audit(type="order_created", to_status=S.CREATED), []),
    ],
)
def test_each_change_becomes_its_events(event: OrderEvent, expected: list[str]) -> None:
    assert types(event) == expected
    assert set(expected) <= set(EVENT_TYPES)


def test_ids_are_stable_per_change_and_sort_by_commit_time() -> None:
    change = audit(from_status=S.PENDING, to_status=S.PAID)
    first = merchant_events(ORDER, change, "o-1")
    again = merchant_events(ORDER, change, "o-1")
    assert [e.id for e in first] == [e.id for e in again]  # a stream retry gives the same ids
    other = merchant_events(ORDER, audit(seq=3, from_status=S.PAID, to_status=S.REFUNDED), "o-1")
    assert first[0].id != other[0].id
    assert event_id("2026-11-26T12:00:00.000001Z", "z", 1, "x") > event_id(AT, "a", 9, "x")


def test_an_event_carries_the_order_as_the_change_left_it() -> None:
    [event] = merchant_events(ORDER, audit(from_status=S.PENDING, to_status=S.PAID), "o-1")
    body = json.loads(event.body())
    assert body["data"] == {"order": ORDER, "previous_status": "pending", "flags": []}
    assert (body["order_id"], body["type"]) == ("o-1", "order.paid")


def test_sequence_increases_strictly_per_order_and_is_stable_per_event() -> None:
    """Several events of one change (a refund and the order's new status) each get their own number,
    above every event of the changes before it and below every one of the changes after it."""
    refund = {"refund_id": "r-1", "status": "succeeded"}
    changes = [
        audit(seq=2, from_status=S.PENDING, to_status=S.PAID),
        audit(seq=3, from_status=S.PAID, to_status=S.PARTIALLY_REFUNDED, refund=refund),
        audit(
            seq=4,
            from_status=S.PARTIALLY_REFUNDED,
            to_status=S.REFUNDED,
            refund=refund,
            flags=("refund_conflict",),
        ),
        audit(seq=5, flags=("needs_attention",)),
    ]
    sequences = [e.sequence for change in changes for e in merchant_events(ORDER, change, "o-1")]
    assert len(sequences) == 7
    assert all(a < b for a, b in pairwise(sequences))
    again = [e.sequence for change in changes for e in merchant_events(ORDER, change, "o-1")]
    assert again == sequences  # a stream retry publishes the same numbers


# -- the signature, verified as a merchant would (docs/api.md, "Signed webhooks") ------------------
TOLERANCE_S = 300


def receiver_accepts(secret: str, header: str, body: bytes, now: float) -> bool:
    """The receiver of docs/api.md: hmac from the standard library, nothing of ours."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    timestamp, received = parts.get("t", ""), parts.get("v1", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > TOLERANCE_S:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received)


def test_the_signature_verifies_with_the_standard_library() -> None:
    body = json.dumps({"id": "evt_1", "type": "order.paid"})
    now = int(time.time())
    header = sign("whsec-0123456789", now, body)
    assert header.startswith(f"t={now},v1=")
    assert receiver_accepts("whsec-0123456789", header, body.encode(), now)


def test_any_tampered_byte_or_a_stale_timestamp_fails() -> None:
    body = json.dumps({"id": "evt_1", "type": "order.paid", "amount": 1000}).encode()
    now = int(time.time())
    header = sign("whsec-0123456789", now, body.decode())
    for index in range(len(body)):
        tampered = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
        assert not receiver_accepts("whsec-0123456789", header, tampered, now)
    assert not receiver_accepts("another-secret", header, body, now)
    assert not receiver_accepts("whsec-0123456789", header, body, now + TOLERANCE_S + 1)
    stale = sign("whsec-0123456789", now - TOLERANCE_S - 1, body.decode())
    assert not receiver_accepts("whsec-0123456789", stale, body, now)


def test_the_documented_receiver_is_the_one_tested_here() -> None:
    """The snippet merchants copy from docs/api.md runs and agrees with `sign`."""
    api = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    block = next(b for b in api.split("```python\n")[1:] if "def verified(" in b).split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(block, "docs/api.md", "exec"), namespace)  # noqa: S102 - our own documentation
    body = json.dumps({"id": "evt_1", "type": "order.paid"})
    header = sign("whsec-0123456789", int(time.time()), body)
    assert namespace["verified"]("whsec-0123456789", header, body.encode())
    assert not namespace["verified"]("whsec-0123456789", header, body.encode() + b" ")
    assert not namespace["verified"]("another-secret", header, body.encode())
