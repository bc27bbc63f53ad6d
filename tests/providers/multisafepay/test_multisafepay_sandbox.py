"""The MultiSafepay sandbox's refunds, cancel, knobs and outbox, driven by hand-built requests.

Nothing here uses our adapter: notifications are checked with hashlib/hmac directly, so these tests
hold the sandbox to MultiSafepay's documentation (docs/providers/multisafepay.md) on their own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from local.providers.multisafepay.sandbox import MultiSafepaySandbox
from local.testing import NothingToRedeliver, Notification, OrderClosed, ReplyLost, UnknownAction

KEY = "msp-unit-key"
BASE = "https://testapi.multisafepay.com/v1/json/"
NOTIFY = "https://shop.example/notify/multisafepay"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def msp(clock: Clock) -> MultiSafepaySandbox:
    return MultiSafepaySandbox(api_key=KEY, clock=clock)


def call(
    msp: MultiSafepaySandbox, method: str, path: str, body: Any = None, key: str = KEY
) -> tuple[int, dict[str, Any]]:
    raw = json.dumps(body).encode() if body is not None else None
    status, headers, reply = msp.handle(method, BASE + path, {"api_key": key}, raw)
    assert headers["Content-Type"] == "application/json"
    answer: dict[str, Any] = json.loads(reply)
    return status, answer


def create(msp: MultiSafepaySandbox, order_id: str = "o-1", amount: int = 1000, **extra: Any) -> None:
    body = {
        "type": "redirect",
        "gateway": "ALIPAY",
        "order_id": order_id,
        "currency": "EUR",
        "amount": amount,
        "description": "Tea set",
        "payment_options": {"notification_url": NOTIFY, "redirect_url": "https://shop.example/back"},
        **extra,
    }
    assert call(msp, "POST", "orders", body)[0] == 200


def paid(msp: MultiSafepaySandbox, order_id: str = "o-1", amount: int = 1000) -> None:
    create(msp, order_id, amount)
    msp.pay(order_id)
    [notification] = msp.take_notifications()
    assert json.loads(notification.body)["status"] == "completed"


def refund(msp: MultiSafepaySandbox, order_id: str = "o-1", **body: Any) -> tuple[int, dict[str, Any]]:
    return call(msp, "POST", f"orders/{order_id}/refunds", {"currency": "EUR", "description": "r", **body})


def verify(notification: Notification) -> dict[str, Any]:
    """What a merchant checks: Auth = base64("<ts>:<hex HMAC-SHA512(key, ts:body)>"), then the body."""
    stamp, digest = base64.b64decode(notification.headers["Auth"]).decode().split(":", 1)
    expected = hmac.new(KEY.encode(), stamp.encode() + b":" + notification.body, hashlib.sha512).hexdigest()
    assert hmac.compare_digest(expected, digest)
    query = parse_qs(urlsplit(notification.url).query)
    assert query["transactionid"] == [notification.order_id]
    assert notification.url.startswith(NOTIFY + "?")
    order: dict[str, Any] = json.loads(notification.body)
    return order


def error_code(answer: dict[str, Any]) -> int:
    assert answer["success"] is False
    assert answer["data"] == {}
    code: int = answer["error_code"]
    return code


# -- refunds ---------------------------------------------------------------------------------------------
def test_an_accepted_refund_completes_and_the_order_is_notified(msp: MultiSafepaySandbox) -> None:
    paid(msp)
    status, answer = refund(msp, amount=400, refund_order_id="rf-1")
    assert status == 200
    assert answer["success"] is True
    assert set(answer["data"]) == {"transaction_id", "refund_id"}
    assert all(type(value) is int for value in answer["data"].values())

    [notification] = msp.take_notifications()
    notified = verify(notification)
    assert (notified["status"], notified["amount_refunded"]) == ("partial_refunded", 400)
    assert notified["financial_status"] == "completed"
    got = call(msp, "GET", "orders/o-1")[1]["data"]
    assert got == notified  # the notification is the order JSON, as GET returns it
    [held] = msp.refunds("o-1")
    assert (held.amount, held.status, held.merchant_refund_id) == (400, "succeeded", "rf-1")
    assert held.refund_id == str(answer["data"]["refund_id"])

    assert refund(msp, amount=600)[0] == 200
    [second] = msp.take_notifications()
    assert (verify(second)["status"], verify(second)["amount_refunded"]) == ("refunded", 1000)
    assert msp.status_of("o-1") == "refunded"


@pytest.mark.parametrize("amount", [None, 0])
def test_no_amount_or_zero_refunds_everything_left(msp: MultiSafepaySandbox, amount: int | None) -> None:
    paid(msp)
    assert refund(msp, amount=300)[0] == 200
    body: dict[str, Any] = {} if amount is None else {"amount": amount}
    assert refund(msp, **body)[0] == 200
    assert [r.amount for r in msp.refunds("o-1")] == [300, 700]
    assert msp.status_of("o-1") == "refunded"
    status, answer = refund(msp, **body)
    assert (status, error_code(answer)) == (400, 1034)  # nothing is left


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"amount": 1001}, 400, 1034),  # more than what remains
        ({"amount": 100, "currency": "USD"}, 400, 1002),
        ({"amount": 100, "currency": None}, 400, 1016),
        ({"amount": -1}, 400, 1001),
        ({"amount": 1.5}, 400, 1001),
        ({"amount": "100"}, 400, 1001),
        ({"amount": 100, "description": "<b>x</b>"}, 400, 1008),
        ({"amount": 100, "refund_order_id": "x" * 51}, 400, 1016),
    ],
)
def test_refund_refusals(msp: MultiSafepaySandbox, body: dict[str, Any], status: int, code: int) -> None:
    paid(msp)
    reply_status, answer = refund(msp, **body)
    assert (reply_status, error_code(answer)) == (status, code)
    assert msp.refunds("o-1") == []
    assert msp.take_notifications() == []


@pytest.mark.parametrize("word", ["initialized", "declined", "cancelled", "expired", "void", "refunded"])
def test_only_paid_orders_can_be_refunded(msp: MultiSafepaySandbox, word: str) -> None:
    create(msp)
    msp.set_status("o-1", word)
    assert error_code(refund(msp, amount=100)[1]) == 1034


@pytest.mark.parametrize("word", ["completed", "shipped", "partial_refunded"])
def test_paid_words_can_be_refunded(msp: MultiSafepaySandbox, word: str) -> None:
    create(msp)
    msp.set_status("o-1", word)
    assert refund(msp, amount=100)[0] == 200


def test_refund_of_an_unknown_order_or_with_a_wrong_key(msp: MultiSafepaySandbox) -> None:
    assert (refund(msp, "ghost", amount=1)[0], error_code(refund(msp, "ghost", amount=1)[1])) == (404, 1006)
    paid(msp)
    status, answer = call(msp, "POST", "orders/o-1/refunds", {"currency": "EUR", "amount": 1}, key="guess")
    assert (status, error_code(answer)) == (401, 1032)
    assert msp.refunds("o-1") == []


def test_an_identical_refund_within_five_minutes_is_refused(msp: MultiSafepaySandbox, clock: Clock) -> None:
    paid(msp)
    assert refund(msp, amount=200, refund_order_id="a")[0] == 200
    clock.now += 299
    # Strict reading: the same amount again is identical, whatever its description or refund_order_id.
    assert error_code(refund(msp, amount=200, refund_order_id="b", description="other")[1]) == 1034
    assert refund(msp, amount=250)[0] == 200  # another amount is another refund
    clock.now += 2  # 301 s after the first
    assert refund(msp, amount=200)[0] == 200
    assert [r.amount for r in msp.refunds("o-1")] == [200, 250, 200]


def test_refuse_next_refund_refuses_one(msp: MultiSafepaySandbox) -> None:
    paid(msp)
    msp.refuse_next_refund("o-1")
    status, answer = refund(msp, amount=100)
    assert (status, error_code(answer)) == (400, 1034)
    assert msp.refunds("o-1") == []
    assert refund(msp, amount=100)[0] == 200
    assert [c.outcome for c in msp.calls_for("o-1") if c.operation == "refund"] == ["1034", "ok"]


def test_held_refunds_wait_for_release(msp: MultiSafepaySandbox) -> None:
    paid(msp)
    msp.hold_refunds("o-1")
    assert refund(msp, amount=600)[0] == 200
    order = call(msp, "GET", "orders/o-1")[1]["data"]
    assert (order["status"], order["amount_refunded"]) == ("completed", 0)  # nothing shows yet
    assert msp.take_notifications() == []
    assert [(r.status, r.provider_status) for r in msp.refunds("o-1")] == [("pending", "reserved")]
    assert error_code(refund(msp, amount=500)[1]) == 1034  # the held 600 is reserved: 400 remain
    assert refund(msp, amount=400)[0] == 200

    msp.release_refunds("o-1")
    first, second = msp.take_notifications()
    assert (verify(first)["status"], verify(first)["amount_refunded"]) == ("partial_refunded", 600)
    assert (verify(second)["status"], verify(second)["amount_refunded"]) == ("refunded", 1000)
    assert [r.status for r in msp.refunds("o-1")] == ["succeeded", "succeeded"]


def test_refunds_after_release_are_no_longer_held(msp: MultiSafepaySandbox) -> None:
    paid(msp)
    msp.hold_refunds("o-1")
    msp.release_refunds("o-1")
    assert refund(msp, amount=100)[0] == 200
    assert len(msp.take_notifications()) == 1


# -- cancel ------------------------------------------------------------------------------------------------
CANCEL = {"status": "cancelled", "exclude_order": True}


def test_cancel_closes_an_unpaid_order_and_notifies_it(msp: MultiSafepaySandbox) -> None:
    create(msp)
    status, answer = call(msp, "PATCH", "orders/o-1", CANCEL)
    assert (status, answer) == (200, {"success": True, "data": {}})
    [notification] = msp.take_notifications()
    assert verify(notification)["status"] == "cancelled"
    got = call(msp, "GET", "orders/o-1")[1]["data"]
    assert got["status"] == "cancelled"
    assert "payment_url" not in got  # the link no longer pays
    assert call(msp, "PATCH", "orders/o-1", CANCEL) == (200, {"success": True, "data": {}})
    assert msp.take_notifications() == []  # cancelling again changes and notifies nothing
    with pytest.raises(OrderClosed):
        msp.pay("o-1")


@pytest.mark.parametrize("word", ["completed", "partial_refunded", "expired"])
def test_cancel_is_refused_unless_the_order_is_unpaid(msp: MultiSafepaySandbox, word: str) -> None:
    create(msp)
    msp.set_status("o-1", word)
    status, answer = call(msp, "PATCH", "orders/o-1", CANCEL)
    assert (status, error_code(answer)) == (400, 9999)
    assert msp.status_of("o-1") == word
    assert msp.take_notifications() == []


def test_cancel_needs_a_known_order_and_the_cancelled_status(msp: MultiSafepaySandbox) -> None:
    assert error_code(call(msp, "PATCH", "orders/ghost", CANCEL)[1]) == 1006
    create(msp)
    assert error_code(call(msp, "PATCH", "orders/o-1", {"status": "shipped"})[1]) == 1016
    assert error_code(call(msp, "PATCH", "orders/o-1", {})[1]) == 1016
    assert msp.status_of("o-1") == "initialized"


# -- the payer, knobs, the outbox ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("action", "word"),
    [("pay", "completed"), ("cancel", "void"), ("fail", "declined"), ("expire", "expired")],
)
def test_payer_actions_notify_and_close_the_order(msp: MultiSafepaySandbox, action: str, word: str) -> None:
    create(msp)
    msp.control("o-1", action)
    [notification] = msp.take_notifications("o-1")
    assert verify(notification)["status"] == word
    with pytest.raises(OrderClosed):
        msp.control("o-1", "pay")


def test_pay_silently_notifies_nothing(msp: MultiSafepaySandbox) -> None:
    create(msp)
    msp.pay_silently("o-1")
    assert msp.take_notifications() == []
    assert call(msp, "GET", "orders/o-1")[1]["data"]["status"] == "completed"


def test_a_dropped_notification_arrives_on_redelivery_with_a_fresh_signature(
    msp: MultiSafepaySandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    create(msp)
    msp.drop_next_notification("o-1")
    msp.pay("o-1")
    assert msp.take_notifications() == []
    [dropped] = msp.dropped
    monkeypatch.setattr("time.time", lambda: 1_900_000_000.0)
    msp.redeliver("o-1")
    [retry] = msp.take_notifications()
    assert retry.body == dropped.body
    assert retry.headers["Auth"] != dropped.headers["Auth"]  # a new timestamp, signed again
    assert verify(retry)["status"] == "completed"
    assert base64.b64decode(retry.headers["Auth"]).startswith(b"1900000000:")


def test_redeliver_needs_a_notification(msp: MultiSafepaySandbox) -> None:
    create(msp)
    with pytest.raises(NothingToRedeliver):
        msp.redeliver("o-1")


def test_take_notifications_of_one_order_leaves_the_others(msp: MultiSafepaySandbox) -> None:
    create(msp, "o-1")
    create(msp, "o-2")
    msp.pay("o-1")
    msp.pay("o-2")
    assert [n.order_id for n in msp.take_notifications("o-2")] == ["o-2"]
    assert [n.order_id for n in msp.take_notifications()] == ["o-1"]
    assert msp.take_notifications() == []
    assert [n.order_id for n in msp.produced] == ["o-1", "o-2"]


def test_timeout_once_processes_the_call_and_loses_its_reply(msp: MultiSafepaySandbox) -> None:
    msp.control("o-1", "timeout_once")  # armed before the order exists
    body = {
        "type": "redirect",
        "gateway": "ALIPAY",
        "order_id": "o-1",
        "currency": "EUR",
        "amount": 1000,
        "description": "Tea set",
    }
    with pytest.raises(ReplyLost) as lost:
        msp.handle("POST", BASE + "orders", {"api_key": KEY}, json.dumps(body).encode())
    assert lost.value.reply[0] == 200
    assert "o-1" in msp.orders  # processed
    assert call(msp, "GET", "orders/o-1")[0] == 200  # once only
    assert [(c.operation, c.reply_lost) for c in msp.calls_for("o-1")] == [("create", True), ("get", False)]


def test_timeout_once_on_a_refund(msp: MultiSafepaySandbox) -> None:
    paid(msp)
    msp.timeout_once("o-1")
    with pytest.raises(ReplyLost):
        refund(msp, amount=100)
    assert [r.amount for r in msp.refunds("o-1")] == [100]
    assert len(msp.take_notifications()) == 1  # the refund completed and is notified all the same


def test_control_by_name(msp: MultiSafepaySandbox) -> None:
    with pytest.raises(KeyError):
        msp.control("ghost", "pay")
    with pytest.raises(UnknownAction):
        msp.control("ghost", "teleport")
    for knob in ("drop_next_notification", "refuse_next_refund", "hold_refunds", "timeout_once"):
        msp.control("ghost", knob)  # may be armed before the order exists
    with pytest.raises(KeyError):
        msp.control("ghost", "release_refunds")


def test_view_sums_up_the_order(msp: MultiSafepaySandbox) -> None:
    paid(msp)
    msp.drop_next_notification("o-1")
    refund(msp, amount=100, refund_order_id="rf-1")
    view = msp.view("o-1")
    assert view["status"] == "partial_refunded"
    assert view["refunds"] == [
        {
            "refund_id": view["refunds"][0]["refund_id"],
            "merchant_refund_id": "rf-1",
            "amount": 100,
            "currency": "EUR",
            "status": "succeeded",
            "provider_status": "completed",
        }
    ]
    assert [c["operation"] for c in view["calls"]] == ["create", "refund"]
    assert view["notifications"] == {"made": 2, "dropped": 1, "waiting": 0}


@pytest.mark.parametrize(("locale", "lang"), [("zh_CN", "zh_CN"), ("cn_CN", "cn_CN"), (None, "en_US")])
def test_the_payment_link_carries_the_customers_locale(
    msp: MultiSafepaySandbox, locale: str | None, lang: str
) -> None:
    create(msp, customer={"locale": locale} if locale else {})
    url = msp.orders["o-1"]["_payment_url"]
    assert parse_qs(urlsplit(url).query)["lang"] == [lang]
