"""MultiSafepay notification verification, against MultiSafepay's own published example and the
official SDK, plus every way a forged or malformed delivery can look."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from payments.errors import NotificationRejected
from payments.http import HttpClient
from payments.orders import OrderStatus
from payments.providers.base import RawRequest
from payments.providers.multisafepay.adapter import STATUS_TABLE, MultiSafepay, MultiSafepaySettings

PUBLISHED = json.loads((Path(__file__).parent / "oracle" / "published_example.json").read_text())
KEY = "test-key-123"
NOW = 1_700_000_000


def adapter(key: str = KEY) -> MultiSafepay:
    settings = MultiSafepaySettings.model_validate({"api_key": key})
    return MultiSafepay(settings, HttpClient())


def independent_auth(key: str, stamp: int | str, body: bytes) -> str:
    """MultiSafepay's scheme, written here from the docs, not from our signing module."""
    digest = hmac.new(key.encode(), f"{stamp}:".encode() + body, hashlib.sha512).hexdigest()
    return base64.b64encode(f"{stamp}:{digest}".encode()).decode()


def request(
    body: bytes,
    auth: str | None,
    *,
    now: int = NOW,
    query: dict[str, list[str]] | None = None,
    method: str = "POST",
) -> RawRequest:
    headers = {"content-type": "application/json"}
    if auth is not None:
        headers["auth"] = auth
    return RawRequest(
        method=method, body=body, headers=headers, query=query or {}, now=datetime.fromtimestamp(now, UTC)
    )


def order_json(**overrides: Any) -> bytes:
    data = {
        "order_id": "o-1",
        "transaction_id": 123,
        "status": "completed",
        "amount": 1000,
        "currency": "EUR",
        "customer": {"email": "x@example.com"},
    }
    data.update(overrides)
    return json.dumps(data, separators=(",", ":")).encode()


# -- MultiSafepay's published example (docs.multisafepay.com/docs/webhook) --------------------------
def test_published_example_verifies_over_the_raw_body() -> None:
    body = PUBLISHED["body"].encode()
    note = adapter(PUBLISHED["api_key"]).parse_notification(
        request(body, PUBLISHED["auth_header"], now=PUBLISHED["timestamp"] + 5)
    )
    assert note.verified_by == "hmac-sha512"
    assert note.order_id == "my-order-id"
    assert note.amount is not None
    assert note.amount.value == 1000


def test_published_example_fails_once_reserialised() -> None:
    # The body is not compact (a stray space): re-serialising it, as the official SDK does, breaks it.
    compact = json.dumps(json.loads(PUBLISHED["body"]), separators=(",", ":")).encode()
    assert compact != PUBLISHED["body"].encode()
    with pytest.raises(NotificationRejected) as caught:
        adapter(PUBLISHED["api_key"]).parse_notification(
            request(compact, PUBLISHED["auth_header"], now=PUBLISHED["timestamp"] + 5)
        )
    assert caught.value.reason == "bad_signature"


def test_published_example_is_stale_today() -> None:
    with pytest.raises(NotificationRejected) as caught:
        adapter(PUBLISHED["api_key"]).parse_notification(
            request(PUBLISHED["body"].encode(), PUBLISHED["auth_header"], now=PUBLISHED["timestamp"] + 601)
        )
    assert caught.value.reason == "stale_signature"


# -- the time window -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("signed_offset", "accepted", "reason"),
    [
        (0, True, None),
        (-600, True, None),
        (-601, False, "stale_signature"),
        (60, True, None),
        (61, False, "future_signature"),
        (-86400, False, "stale_signature"),
    ],
)
def test_timestamp_window(signed_offset: int, accepted: bool, reason: str | None) -> None:
    body = order_json()
    req = request(body, independent_auth(KEY, NOW + signed_offset, body))
    if accepted:
        assert adapter().parse_notification(req).status == OrderStatus.PAID
    else:
        with pytest.raises(NotificationRejected) as caught:
            adapter().parse_notification(req)
        assert caught.value.reason == reason
        assert caught.value.status == 401


def test_key_is_trimmed_like_multisafepay_does() -> None:
    body = order_json()
    assert adapter("  " + KEY + "\n").parse_notification(request(body, independent_auth(KEY, NOW, body)))


# -- forgeries -------------------------------------------------------------------------------------
def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


FORGERIES: dict[str, tuple[bytes, str | None, str]] = {
    "missing header": (order_json(), None, "missing_signature"),
    "empty header": (order_json(), "", "missing_signature"),
    "not base64": (order_json(), "%%%not-base64%%%", "malformed_signature"),
    "no colon": (order_json(), base64.b64encode(b"1700000000").decode(), "malformed_signature"),
    "empty digest": (order_json(), base64.b64encode(b"1700000000:").decode(), "malformed_signature"),
    "non-numeric stamp": (order_json(), base64.b64encode(b"soon:abcd").decode(), "malformed_signature"),
    "signed stamp": (order_json(), base64.b64encode(b"+1700000000:abcd").decode(), "malformed_signature"),
    "wrong key": (order_json(), independent_auth("other-key", NOW, order_json()), "bad_signature"),
    "tampered amount": (order_json(amount=1), independent_auth(KEY, NOW, order_json()), "bad_signature"),
    "tampered status": (
        order_json(status="completed"),
        independent_auth(KEY, NOW, order_json(status="declined")),
        "bad_signature",
    ),
    "flipped body byte": (_flip(order_json(), 10), independent_auth(KEY, NOW, order_json()), "bad_signature"),
    "uppercase hex": (
        order_json(),
        base64.b64encode(base64.b64decode(independent_auth(KEY, NOW, order_json())).upper()).decode(),
        "bad_signature",
    ),
    "trailing newline": (order_json() + b"\n", independent_auth(KEY, NOW, order_json()), "bad_signature"),
    "stamp swapped": (
        order_json(),
        base64.b64encode(
            base64.b64decode(independent_auth(KEY, NOW, order_json())).replace(b"1700000000", b"1700000001")
        ).decode(),
        "bad_signature",
    ),
}


@pytest.mark.parametrize("case", sorted(FORGERIES))
def test_forgeries_are_rejected(case: str) -> None:
    body, auth, reason = FORGERIES[case]
    with pytest.raises(NotificationRejected) as caught:
        adapter().parse_notification(request(body, auth, query={"transactionid": ["o-1"]}))
    assert caught.value.reason == reason
    assert 400 <= caught.value.status < 500
    assert caught.value.claimed_order_id == "o-1"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "malformed_body"),
        (b"[1,2]", "malformed_body"),
        (b'{"status":"completed"}', "malformed_body"),
        (order_json(amount="1000"), "malformed_body"),
        (order_json(amount=10.0), "malformed_body"),
        (order_json(currency="EURO"), "malformed_body"),
        (order_json(status=None), "malformed_body"),
    ],
)
def test_signed_but_malformed_bodies_are_rejected(body: bytes, reason: str) -> None:
    with pytest.raises(NotificationRejected) as caught:
        adapter().parse_notification(request(body, independent_auth(KEY, NOW, body)))
    assert (caught.value.reason, caught.value.status) == (reason, 400)


def test_query_transactionid_must_match_the_signed_body() -> None:
    body = order_json()
    with pytest.raises(NotificationRejected) as caught:
        adapter().parse_notification(
            request(body, independent_auth(KEY, NOW, body), query={"transactionid": ["someone-elses-order"]})
        )
    assert caught.value.reason == "order_id_mismatch"


def test_repeated_query_parameters_are_refused() -> None:
    body = order_json()
    with pytest.raises(NotificationRejected) as caught:
        adapter().parse_notification(
            request(body, independent_auth(KEY, NOW, body), query={"transactionid": ["o-1", "o-2"]})
        )
    assert caught.value.reason == "malformed_query"


def test_numeric_order_ids_arrive_as_integers() -> None:
    body = order_json(order_id=12345)
    assert adapter().parse_notification(request(body, independent_auth(KEY, NOW, body))).order_id == "12345"


def test_personal_data_is_redacted_in_the_payload() -> None:
    body = order_json()
    note = adapter().parse_notification(request(body, independent_auth(KEY, NOW, body)))
    assert "x@example.com" not in json.dumps(note.payload)


# -- the status table --------------------------------------------------------------------------
EXPECTED = {
    "initialized": "pending",
    "uncleared": "pending",
    "completed": "paid",
    "shipped": "paid",
    "reserved": "paid",
    "declined": "failed",
    "cancelled": "cancelled",
    "void": "cancelled",
    "expired": "expired",
    "refunded": "refunded",
    "partial_refunded": "partially_refunded",
    "chargedback": "charged_back",
    "chargeback": "charged_back",
}


def test_status_table_covers_every_documented_word() -> None:
    assert {word: str(status) for word, status in STATUS_TABLE.items()} == EXPECTED


@pytest.mark.parametrize("word", [*EXPECTED, "brand_new_status"])
def test_notification_maps_status(word: str) -> None:
    body = order_json(status=word, amount_refunded=400 if word == "partial_refunded" else 0)
    note = adapter().parse_notification(request(body, independent_auth(KEY, NOW, body)))
    expected = EXPECTED.get(word, "unknown")
    # Refunds and chargebacks are reported on the order MultiSafepay paid: the payment fact says
    # paid, and a second fact carries the refunded total or the chargeback.
    money_moved_after_payment = expected in ("refunded", "partially_refunded", "charged_back")
    assert str(note.status) == ("paid" if money_moved_after_payment else expected)
    kinds = [type(fact).__name__ for fact in note.facts]
    if expected in ("refunded", "partially_refunded"):
        assert kinds == ["PaymentFact", "RefundedTotalFact"]
    elif expected == "charged_back":
        assert kinds == ["PaymentFact", "ChargebackFact"]
    else:
        assert kinds == ["PaymentFact"]
    assert note.provider_status == word


def test_ack_is_ok_and_errors_are_not() -> None:
    ok = adapter().acknowledge(None, None)
    assert (ok.status, ok.body) == (200, "OK")
    error = adapter().acknowledge(None, NotificationRejected("bad_signature", "no", status=401))
    assert error.status == 401
    assert "OK" not in error.body[:100]
